"""The shipped rules on the seed page and on varied real-world sentences, traps included."""

import sys
import time

import pytest

from monitor.extract.article import Extracted, extract_html
from monitor.models import Article
from monitor.rules.match import MAX_FIELD_CHARS, OutOfTime, RuleSet, match_article


def seed_article(seed_html: bytes) -> Article:
    extracted = extract_html(
        seed_html, "https://www.middleeasteye.net/news/un-syria-peace-envoy-travels-moscow"
    )
    assert isinstance(extracted, Extracted)
    return Article(
        url="https://www.middleeasteye.net/news/un-syria-peace-envoy-travels-moscow",
        title=extracted.title or "",
        text=extracted.text,
        summary=extracted.description or "",
    )


def test_seed_page_gives_exactly_the_three_expected_matches(shipped_rules, seed_html):
    matches = {m.rule: m for m in match_article(seed_article(seed_html), shipped_rules)}
    assert sorted(matches) == ["ceasefire", "displacement-figures", "envoy-travel"]

    displacement = matches["displacement-figures"]
    assert [(f.value, f.text) for f in displacement.figures] == [(40000, "40,000")]
    assert any("Russian strikes have displaced 40,000 people" in s for s in displacement.snippets)

    assert matches["envoy-travel"].captures == {"destination": ("Moscow", "Washington")}

    ceasefire = matches["ceasefire"]
    assert ceasefire.snippets == (
        "Several local ceasefires were in place at the time Russia began its military strikes.",
    )
    [hit] = ceasefire.hits
    assert (hit.term, hit.text, hit.snippet) == ("ceasefire*", "ceasefires", 0)
    assert ceasefire.snippets[0][hit.start : hit.end] == "ceasefires"


def test_hits_point_at_their_words_in_the_snippets(shipped_rules, seed_html):
    for match in match_article(seed_article(seed_html), shipped_rules):
        assert match.hits
        for hit in match.hits:
            assert match.snippets[hit.snippet][hit.start : hit.end] == hit.text


def test_newsletter_and_footer_never_reach_the_text(seed_html):
    article = seed_article(seed_html)
    for boilerplate in (
        "Stay informed",
        "Sign up",
        "Middle East Eye delivers",
        "truce talks",
        "Floods displace",
    ):
        assert boilerplate not in article.text


def rules_matching(rules, text, title=""):
    return sorted(
        m.rule
        for m in match_article(Article(url="https://example.org/a", title=title, text=text), rules)
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        # displacement figures, as different outlets write them
        (
            "More than 1.5 million people have fled their homes since fighting erupted in April.",
            ["displacement-figures"],
        ),
        (
            "The UN refugee agency says at least 250,000 people were uprooted by the floods.",
            ["displacement-figures"],
        ),
        (
            "The fires forced about 30,000 residents to evacuate, officials said.",
            ["displacement-figures"],
        ),
        (
            "Tens of thousands of families have been displaced by the monsoon rains.",
            ["displacement-figures"],
        ),
        (
            "Some 3,000 households were left homeless after the earthquake.",
            ["displacement-figures"],
        ),
        # traps: sport, medicine, money, years, death tolls, a suspect who fled
        ("The midfielder was displaced from the starting line-up by the 19-year-old.", []),
        ("He displaced his shoulder in the 2015 final before 40,000 fans.", []),
        ("The suspect fled the scene; police offered a $10,000 reward.", []),
        ("The 2011 uprising displaced families across the region.", []),
        ("The quake killed 4,000 people, officials said on Tuesday.", []),
        # envoys travelling
        ("The US secretary of state will travel to Beijing next week for talks.", ["envoy-travel"]),
        ("UN special envoy Hans Grundberg arrived in Riyadh on Sunday.", ["envoy-travel"]),
        ("The Qatari mediator is heading to Cairo to revive the talks.", ["envoy-travel"]),
        ("Tourists travel to Paris every summer.", []),  # no envoy
        ("The envoy returned from Moscow on Friday.", []),  # not a destination
        # ceasefire mentioned
        ("Israel and Hamas agreed to a ceasefire after 11 days of fighting.", ["ceasefire"]),
        ("A 72-hour cease-fire took effect at midnight.", ["ceasefire"]),
        ("The parties signed a cessation of hostilities agreement in Pretoria.", ["ceasefire"]),
        ("Washington and Beijing agreed to extend their trade truce by 90 days.", []),
    ],
    ids=lambda v: v[:60] if isinstance(v, str) else None,
)
def test_real_world_sentences(shipped_rules, text, expected):
    assert rules_matching(shipped_rules, text) == expected


def test_fields_limit_where_a_rule_looks(shipped_rules):
    # a ceasefire mentioned only in the title still counts: default fields are title, summary, text
    assert rules_matching(
        shipped_rules, "Talks went on late.", title="Ceasefire holds in Gaza"
    ) == ["ceasefire"]


def test_a_ceasefire_only_in_the_newsletter_box_is_no_match(shipped_rules):
    from monitor.resources import seeds_dir

    page = (
        seeds_dir() / "pages" / "egypt-central-bank-holds-rates-pound-pressure.html"
    ).read_text()
    boxed = page.replace(
        "Sign up to get the latest alerts, insights and analysis, starting with Turkey Unpacked",
        "Sign up for our Gaza ceasefire briefing: every truce, cease-fire and armistice explained",
    )
    assert boxed != page
    extracted = extract_html(boxed.encode(), "https://www.middleeasteye.net/news/egypt")
    assert isinstance(extracted, Extracted) and "ceasefire" not in extracted.text
    article = Article(
        url="https://www.middleeasteye.net/news/egypt",
        title=extracted.title or "",
        text=extracted.text,
    )
    assert match_article(article, shipped_rules) == []


def test_an_endless_sentence_is_cut_around_its_hits(shipped_rules):
    filler = "and the talks went on " * 60
    text = f"{filler}until a ceasefire was agreed {filler}"
    [match] = match_article(
        Article(url="https://example.org/a", title="", text=text), shipped_rules
    )
    [snippet] = match.snippets
    assert len(snippet) <= 502 and snippet.startswith("…") and snippet.endswith("…")
    [hit] = match.hits
    assert snippet[hit.start : hit.end] == hit.text == "ceasefire"


def _lines_run(text: str, rules: RuleSet) -> int:
    """How many lines of Python matching `text` runs: work counted, not timed."""
    lines = 0

    def trace(frame, event, _arg):
        nonlocal lines
        if event == "line":
            lines += 1
        return trace

    article = Article(url="https://example.org/a", title="Envoy travels to Moscow", text=text)
    sys.settrace(trace)
    try:
        match_article(article, rules)
    finally:
        sys.settrace(None)
    return lines


@pytest.mark.parametrize(
    "unit",
    [
        "displaced 40,000 people fled to Moscow ceasefire ",  # one endless sentence
        "Foreign Minister Lavrov travels to Moscow, Paris and Rome ",
        "Foreign Minister Lavrov will not travel to Moscow, ",
        "1, 2, 3 displaced people ",
        "Moscow Paris Kenya truce ",
        "The envoy will travel to Moscow. ",
    ],
    ids=lambda unit: unit[:24],
)
def test_matching_work_grows_with_the_text_not_faster(unit, shipped_rules):
    # one sentence of thousands of triggers, numbers and places once cost each figure a scan
    # of the whole sentence: 100 KB took 40 s
    small, large = (_lines_run(unit * n, shipped_rules) for n in (150, 300))
    assert large <= 2.3 * small, (small, large)


def test_past_its_deadline_matching_says_which_rules_it_left(shipped_rules, seed_html):
    with pytest.raises(OutOfTime) as caught:
        match_article(seed_article(seed_html), shipped_rules, deadline=time.monotonic() - 1)
    assert caught.value.matches == []
    assert sorted(caught.value.unchecked) == sorted(shipped_rules.ids)
    assert "rules not checked: " in str(caught.value)


def test_rules_read_the_first_half_million_characters_of_a_field(shipped_rules):
    padding = "Nothing happened today. " * (MAX_FIELD_CHARS // 24 + 1)
    late = Article(url="https://example.org/a", title="Talks", text=padding + "A ceasefire held.")
    early = Article(url="https://example.org/a", title="Talks", text="A ceasefire held. " + padding)
    assert match_article(late, shipped_rules) == []
    assert [m.rule for m in match_article(early, shipped_rules)] == ["ceasefire"]
