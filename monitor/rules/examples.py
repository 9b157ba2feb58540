"""Running the `examples:` of rules, like unit tests (`monitor rules test`)."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.models import Article, Match
from monitor.rules.match import RuleSet, match_rule
from monitor.rules.schema import Example


@dataclass(frozen=True)
class ExampleResult:
    rule: str
    index: int
    text: str
    failures: tuple[str, ...]  # empty when the example passed

    @property
    def passed(self) -> bool:
        return not self.failures


def run_examples(rules: RuleSet) -> list[ExampleResult]:
    results: list[ExampleResult] = []
    for rule in rules.rules:
        for index, example in enumerate(rule.spec.examples):
            article = Article(url="example:", title=example.title or "", text=example.text)
            # examples test the language, not the source guards: there is no feed or age here
            found = match_rule(rule, article)
            results.append(
                ExampleResult(rule.id, index, example.text, tuple(_check(example, found)))
            )
    return results


def _check(example: Example, found: Match | None) -> list[str]:
    expect = example.expect
    if expect.match != (found is not None):
        return [
            f"expected match: {str(expect.match).lower()}, "
            f"got match: {str(found is not None).lower()}"
        ]
    failures: list[str] = []
    if found is None:
        return failures
    if expect.figures is not None:
        got = sorted(f.value for f in found.figures)
        if got != sorted(expect.figures):
            failures.append(f"expected figures {sorted(expect.figures)}, got {got}")
    for name, values in (expect.captures or {}).items():
        got_values = sorted(found.captures.get(name, ()))
        if got_values != sorted(values):
            failures.append(f"expected captures {name}: {sorted(values)}, got {got_values}")
    return failures
