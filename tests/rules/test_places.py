"""Places as destinations: prepositions, the traveller's name, lists of places, and the
gazetteer's own names before alternate ones."""

import pytest

from monitor.models import Article
from monitor.rules.load import load_rules
from monitor.rules.match import match_article
from monitor.rules.places import builtin_gazetteer

RULES = """\
rules:
  - id: trip
    match:
      place:
        near: [~travel, ~visit, ~arrive, ~be in, ~leave for, ~leave * * for]
        after: true
        within: 8
        prepositions: [to, in, for]
        with: [envoy*, foreign minister*]
        names: true
        negations: [not, might]
        in: [$cities, $countries]
        as: destination
"""


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    path = tmp_path_factory.mktemp("rules") / "trip.yaml"
    path.write_text(RULES)
    return load_rules([path])


def destinations(rules, text, title=""):
    matches = match_article(Article(url="https://news.example/a", title=title, text=text), rules)
    return list(matches[0].captures["destination"]) if matches else []


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "The envoy will visit Kenya, Uganda and the Philippines next month.",
            ["Kenya", "Uganda", "Philippines"],
        ),
        ("The envoy will leave on Sunday for Qatar.", ["Qatar"]),
        ("The envoy arrived in Oslo from Moscow.", ["Oslo"]),
        ("The envoy flew from London and arrived in Vienna.", ["Vienna"]),
        # the first place after a trigger is its destination; later ones are elsewhere in the story
        ('"I will travel to Moscow," the envoy told reporters in Geneva.', ["Moscow"]),
        ("The envoy to Syria arrived in Geneva.", ["Geneva"]),
        # metonyms, possessives, negations, hedges
        ("The envoy said Washington was ready to talk.", []),
        ("Moscow's envoy will travel soon.", []),
        ("The envoy will not travel to Beijing.", []),
        ("The envoy might be in Cuba next week.", []),
        # a title word is no destination of its own: "visit, the US ambassador"
        ("Before the envoy's arrival, the US ambassador spoke.", []),
        # the traveller is named once, then by surname
        ("Foreign Minister Ana Lopez spoke first. Later Lopez was in Madrid.", ["Madrid"]),
        ("Foreign Minister Wang Yi praised the deal. Wang will travel to Cairo.", ["Cairo"]),
    ],
    ids=lambda v: v[:50] if isinstance(v, str) else None,
)
def test_destinations(rules, text, expected):
    assert destinations(rules, text) == expected


def test_a_headline_in_title_case_names_nobody(rules):
    # "Envoy Travels To Moscow" must not make Moscow stand for the envoy
    assert destinations(rules, "Moscow is in Russia.", title="Envoy Travels To Moscow") == []


def test_a_place_s_own_name_beats_another_place_s_alternate_name():
    cities = builtin_gazetteer("cities")
    assert cities.names[("islamabad",)] == "Islamabad"
