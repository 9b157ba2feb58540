"""Why a rule did or did not fire on an article: pure, no I/O.

For a rule that fired, its `Match` (the hits, figures and captures). For one that did not, a
list of reasons, nearest candidates first: a source guard that ruled the article out
("guard max_age: article is 5 days old (max_age: 3d)"), or the nodes that failed with their
nearest candidates ("place Nairobi is 9 words from 'met' (within: 6)", "figure 12,000 in
'12,000 residents fleeing the floodwaters': 'fleeing' is not a trigger of this rule",
"vetoed by none: 'trade' within 3 of 'truce'"). A non-match always says why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from monitor.models import Article, Match
from monitor.rules.compile import CompiledRule
from monitor.rules.match import RuleSet, match_rule, scope_for
from monitor.rules.terms import Scope
from monitor.timeutil import utcnow


@dataclass(frozen=True)
class Explanation:
    rule: str
    match: Match | None  # the match when the rule fired
    reasons: list[str] = field(default_factory=list)  # why not, when it did not


def explain_article(
    article: Article,
    rules: RuleSet,
    *,
    only: Iterable[str] | None = None,
    now: datetime | None = None,
) -> list[Explanation]:
    """One explanation per rule of `rules` (or of the ids in `only`), in rule order."""
    now = now or utcnow()
    wanted = set(only) if only is not None else None
    scopes: dict[tuple[str, ...], Scope] = {}
    explanations: list[Explanation] = []
    for rule in rules.rules:
        if wanted is not None and rule.id not in wanted:
            continue
        guards = rule.guard_failures(article, now)
        if guards:
            explanations.append(Explanation(rule.id, None, guards))
            continue
        match = match_rule(rule, article, scopes)
        if match is not None:
            explanations.append(Explanation(rule.id, match))
            continue
        reasons = rule.node.why_not(scope_for(rule, article, scopes))
        explanations.append(Explanation(rule.id, None, reasons or ["the rule did not hold"]))
    return explanations


def passed_over(article: Article, rule: CompiledRule) -> list[str]:
    """The figures and places `rule` passed over in `article`, with why, whether or not it
    fired: what explains a labelled value that a matching rule did not report."""
    return rule.node.misses(scope_for(rule, article, {}))
