"""The prefilter only ever skips rules that cannot match: results equal evaluating every rule."""

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.models import Article
from monitor.rules.compile import CompiledRule, Compiler
from monitor.rules.match import RuleSet, match_article, match_rule
from monitor.rules.prefilter import ALWAYS, Prefilter, Requirement
from monitor.rules.schema import RuleFileSpec
from monitor.yamlsrc import Locator

WORD, PREFIX = "word", "prefix"


def test_requirements_combine_as_and_or():
    a = Requirement((frozenset({(WORD, "truce")}),))
    b = Requirement((frozenset({(PREFIX, "displac")}), frozenset({(WORD, "people")})))
    assert (a & b).clauses == a.clauses + b.clauses
    assert Requirement.any_of([a, b]).clauses == (
        frozenset({(WORD, "truce"), (PREFIX, "displac")}),
    )
    assert Requirement.any_of([a, ALWAYS]) == ALWAYS


def test_candidates_need_every_clause():
    prefilter = Prefilter(
        [
            Requirement((frozenset({(WORD, "truce")}),)),
            Requirement((frozenset({(PREFIX, "displac")}), frozenset({(WORD, "people")}))),
            ALWAYS,
        ]
    )
    assert prefilter.candidates(["a", "truce"]) == [0, 2]
    assert prefilter.candidates(["displaced"]) == [2]
    assert prefilter.candidates(["displacement", "people"]) == [1, 2]
    assert prefilter.candidates(["truces"]) == [2]  # a word key is a whole word


RULES = [
    {"id": "words", "match": {"any": ["ceasefire*", "cessation of hostilities", "truce"]}},
    {"id": "phrase-slot", "match": {"any": ["on * way to", "arriv* in"]}},
    {
        "id": "combined",
        "match": {"all": [{"any": ["envoy", "mediator*"]}, "talks"], "none": ["trade"]},
    },
    {
        "id": "near",
        "match": {"near": {"terms": [["displac*"], ["people", "families"]], "within": 3}},
    },
    {"id": "figure", "match": {"figure": {"near": ["displac*", "fled"], "within": 8}}},
    {
        "id": "place",
        "match": {"place": {"near": ["visit*", "to"], "within": 4, "in": ["$capitals"]}},
    },
    {"id": "any-place", "match": {"place": {"in": ["$countries"]}}},
    {"id": "regex", "match": {"any": ["/\\bUN\\s+envoy/"]}},
    {"id": "case", "match": {"all": [{"term": "WHO", "case": True}, "warn*"]}},
    {"id": "only-none", "match": {"none": ["football"]}},
]
VOCABULARY = (
    "the envoy mediators talks trade ceasefire ceasefires cessation of hostilities truce on his way "
    "to arrived in Moscow Paris Syria displaced displacement people families fled 40,000 1.5 million "
    "UN WHO who warned football visited . , 2015"
).split()


def compiled(rules):
    spec = RuleFileSpec.model_validate({"rules": rules})
    problems = []
    compiler = Compiler({}, Locator("test"), problems)
    ruleset = RuleSet(
        tuple(CompiledRule(r, compiler.node(r.match, ()), "test") for r in spec.rules)
    )
    assert problems == []
    return ruleset


RULESET = compiled(RULES)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(VOCABULARY), max_size=40),
    st.lists(st.sampled_from(VOCABULARY), max_size=6),
)
def test_prefiltered_matching_equals_evaluating_every_rule(words, title_words):
    article = Article(
        url="https://example.org/a", title=" ".join(title_words), text=" ".join(words)
    )
    with_prefilter = match_article(article, RULESET)
    every_rule = [m for rule in RULESET.rules if (m := match_rule(rule, article)) is not None]
    assert with_prefilter == every_rule


def test_shipped_rules_match_the_same_with_and_without_prefilter(shipped_rules, seed_html):
    from tests.rules.test_match import seed_article

    article = seed_article(seed_html)
    every_rule = [m for rule in shipped_rules.rules if (m := match_rule(rule, article)) is not None]
    assert match_article(article, shipped_rules) == every_rule
