"""Explanations: a rule that did not fire says which node failed and the nearest candidate."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.models import Article
from monitor.rules.explain import explain_article, passed_over
from monitor.rules.load import load_rules

RULES = """\
rules:
  - id: displaced
    match: {figure: {near: [displac*, ~flee], within: 6, at_least: 100}}
  - id: refugees
    match: {figure: {near: [refugee*], within: 6, at_least: 100}}
  - id: envoy
    match:
      place:
        near: [~meet, ~travel]
        after: true
        within: 6
        prepositions: [in, to]
        with: [envoy*]
        in: [$cities]
        unless: [cancel*]
        as: destination
  - id: truce
    match:
      any: [truce*, ceasefire*]
      none:
        - near: {terms: [[truce*], [trade]], within: 3}
  - id: recent
    max_age: 3d
    match: {any: [ceasefire*]}
  - id: tagged
    sources: {tags: [humanitarian]}
    match: {any: [ceasefire*]}
"""


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    path: Path = tmp_path_factory.mktemp("rules") / "rules.yaml"
    path.write_text(RULES)
    return load_rules([path])


def why(rules, rule, text, **article):
    [explanation] = explain_article(
        Article(url="https://news.example/a", title="", text=text, **article), rules, only=[rule]
    )
    assert explanation.match is None, "expected the rule not to fire"
    return explanation.reasons


@pytest.mark.parametrize(
    "rule, text, expected",
    [
        (
            "refugees",
            "Rescuers reached 12,000 residents fleeing the floodwaters. Aid for refugees arrived.",
            "figure 12,000 in '12,000 residents fleeing the floodwaters': 'fleeing' is not a trigger of this rule",
        ),
        (
            "displaced",
            "Some 12,000 residents, officials in the province said late on Monday evening, were displaced.",
            "figure 12,000 in 'Some 12,000 residents, officials in the': 10 words from 'displaced' (within: 6)",
        ),
        (
            "displaced",
            "The storm displaced 40 people.",
            "figure 40 in '40 people': below at_least (100)",
        ),
        (
            "displaced",
            "The war killed 400,000 people and displaced more.",
            "figure 400,000 in '400,000 people and displaced more': counts casualties ('killed')",
        ),
        (
            "displaced",
            "The camp was built for 5,000 people displaced by the quake.",
            "figure 5,000 in '5,000 people displaced by the': a capacity ('built for'), not people moved",
        ),
        ("displaced", "Nothing happened here.", "figure: none of displac*, ~flee occurs"),
        (
            "envoy",
            "The envoy met the negotiators of both warring parties for hours in Nairobi.",
            "place Nairobi: is 9 words from 'met' (within: 6)",
        ),
        (
            "envoy",
            "The envoy will travel to Paris, but the trip was cancelled.",
            "place Paris: 'cancelled' in its sentence (unless)",
        ),
        (
            "envoy",
            "Tourists travel to Paris every summer.",
            "place Paris: none of envoy* in its sentence",
        ),
        (
            "envoy",
            "The envoy returned home after she had travelled from Paris.",
            "place Paris: follows 'from' (where a journey begins)",
        ),
        (
            "truce",
            "The two countries reached a trade truce on Friday.",
            "vetoed by none: 'trade' within 3 of 'truce'",
        ),
    ],
    ids=lambda v: v[:50] if isinstance(v, str) else None,
)
def test_a_non_match_says_which_node_failed_and_the_nearest_candidate(rules, rule, text, expected):
    assert expected in why(rules, rule, text)


def test_source_guards_are_named_with_the_article_they_ruled_out(rules):
    old = datetime.now(UTC) - timedelta(days=5, hours=1)
    assert why(rules, "recent", "A ceasefire held.", published=old) == [
        "guard max_age: article is 5 days old (max_age: 3d)"
    ]
    assert why(rules, "tagged", "A ceasefire held.", tags=("sport",)) == [
        "guard sources.tags: the feed's tags (sport) include none of humanitarian"
    ]


def test_a_rule_that_fired_comes_with_its_match_and_no_reasons(rules):
    article = Article(
        url="https://news.example/a", title="", text="The envoy will travel to Paris."
    )
    [explanation] = explain_article(article, rules, only=["envoy"])
    assert explanation.reasons == [] and explanation.match is not None
    assert explanation.match.captures == {"destination": ("Paris",)}


def test_every_rule_is_explained_and_none_silently(rules):
    article = Article(url="https://news.example/a", title="", text="Markets rose on Monday.")
    explanations = explain_article(article, rules)
    assert [e.rule for e in explanations] == rules.ids
    assert all(e.reasons for e in explanations)


def test_passed_over_explains_a_figure_that_a_matching_rule_did_not_report(rules):
    article = Article(
        url="https://news.example/a",
        title="",
        text="Floods displaced 5,000 people. Another 7,000 residents took shelter in schools.",
    )
    reasons = passed_over(article, rules.by_id["displaced"])
    assert (
        "figure 7,000 in 'Another 7,000 residents took shelter in': 'took' is not a trigger of this rule"
        in reasons
    )
