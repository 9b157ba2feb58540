"""Lint: rules that load but probably do not do what their author meant.

Separate from validation (which refuses a rule set) because these are judgement calls: a
warning names the place and the reason, and `monitor rules check` still exits 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import re2

from monitor.errors import Problem
from monitor.rules.load import ParsedFile
from monitor.rules.nodes import PLACE_CAPTURE
from monitor.rules.schema import NodeSpec, RuleSpec, TermSpec
from monitor.rules.terms import RE2_OPTIONS

Loc = tuple[str | int, ...]


def lint_rules(parsed: Iterable[ParsedFile]) -> list[Problem]:
    """Warnings for parsed rule files (see `parse_rule_files`)."""
    warnings: list[Problem] = []
    for file in parsed:
        for index, rule in file.valid_rules():
            for loc, message in _rule_warnings(rule, ("rules", index)):
                warnings.append(file.locator.problem(loc, f"warning: {message}"))
    return warnings


def _rule_warnings(rule: RuleSpec, at: Loc) -> Iterator[tuple[Loc, str]]:
    if not rule.examples:
        yield (
            at + ("id",),
            f"rule '{rule.id}' has no examples: `monitor rules test` cannot check it",
        )
    nodes = list(_nodes(rule.match, at + ("match",)))
    figure_names = {node.figure.as_ for node, _ in nodes if node.figure}
    captured = {node.place.as_ for node, _ in nodes if node.place} | (figure_names - {"figures"})
    if any(node.figure.where for node, _ in nodes if node.figure):
        captured.add(PLACE_CAPTURE)  # figure: {where: ...} captures the place beside a figure
    if rule.alert == "new-figure" and not figure_names:
        yield at + ("alert",), "alert: new-figure, but the rule has no figure: every match alerts"
    if rule.key is not None and rule.key not in captured:
        yield (
            at + ("key",),
            f"key: '{rule.key}' is not the `as` of any place or figure in this rule",
        )
    for node, loc in nodes:
        yield from _node_warnings(node, loc)


def _nodes(node: NodeSpec, loc: Loc) -> Iterator[tuple[NodeSpec, Loc]]:
    yield node, loc
    for key in ("any", "all", "none"):
        for index, item in enumerate(getattr(node, key) or ()):
            if isinstance(item, NodeSpec):
                yield from _nodes(item, loc + (key, index))


def _node_warnings(node: NodeSpec, loc: Loc) -> Iterator[tuple[Loc, str]]:
    required = {
        _text(t)
        for key in ("any", "all")
        for t in getattr(node, key) or ()
        if not isinstance(t, NodeSpec)
    }
    for index, item in enumerate(node.none or ()):
        if not isinstance(item, NodeSpec) and _text(item) in required:
            yield (
                loc + ("none", index),
                f"'{_text(item)}' is both required and excluded: the node never holds",
            )
    for key in ("any", "all", "none"):
        for index, item in enumerate(getattr(node, key) or ()):
            text = "" if isinstance(item, NodeSpec) else _text(item)
            if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
                if re2.compile(text[1:-1], RE2_OPTIONS).search("") is not None:
                    yield loc + (key, index), f"{text} matches the empty string, so every document"


def _text(term: str | TermSpec) -> str:
    return term.term if isinstance(term, TermSpec) else term
