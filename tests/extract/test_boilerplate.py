"""Link boxes, markdown link lists and post headers are not the article's own words."""

import pytest

from monitor.extract.boilerplate import split_header, strip_boilerplate
from monitor.intake.feeds import content_text
from monitor.models import Article
from monitor.rules.match import match_article


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Aid reached the town.\nRelated stories\nTruce collapses in Gaza\nEnvoy travels to Moscow\nThe roads reopened.",
            "Aid reached the town.\nThe roads reopened.",
        ),
        (
            "Aid reached the town.\nREAD MORE: Floods displace 10,000 in Chad",
            "Aid reached the town.",
        ),
        (
            "Aid arrived.\n- [Ceasefire holds](https://news.example/1)\n* [Envoy in Oslo](/2)",
            "Aid arrived.",
        ),
        (
            "See [the UN report](https://un.example/r) for details.",
            "See the UN report for details.",
        ),
        # a sentence that merely starts like a box heading is kept
        (
            "Related coverage of the war shows 5,000 fled.",
            "Related coverage of the war shows 5,000 fled.",
        ),
        ("Most read\n\nTruce agreed in Yemen\n\nThe storm passed.", "The storm passed."),
    ],
    ids=lambda v: v[:40],
)
def test_strip_boilerplate(text, expected):
    assert strip_boilerplate(text) == expected


def test_feed_content_keeps_blocks_and_marks_link_lists():
    html = (
        "<p>Fighting displaced 5,000 people in <a href='/d'>Darfur</a>.</p>"
        "<h3>Related stories</h3><ul><li><a href='/a'>Truce collapses in Gaza</a></li>"
        "<li><a href='/b'>Envoy travels to Moscow</a></li></ul>"
        "<ul><li>Aid convoys reached <a href='/c'>El Fasher</a> on Monday.</li></ul>"
    )
    text = content_text(html)
    assert text.splitlines()[0] == "Fighting displaced 5,000 people in Darfur."
    assert "- [Truce collapses in Gaza](link)" in text
    assert strip_boilerplate(text) == (
        "Fighting displaced 5,000 people in Darfur.\nAid convoys reached El Fasher on Monday."
    )


def test_a_related_links_box_never_alerts(shipped_rules):
    text = (
        "Markets rose on Monday as investors weighed new data.\n"
        "Related stories\n"
        "Ceasefire holds in Gaza as talks resume\n"
        "UN envoy travels to Moscow for talks\n"
        "- [Floods displace 40,000 people in Sudan](https://news.example/floods)\n"
        "Read more: Truce agreed after weeks of fighting\n"
    )
    article = Article(url="https://news.example/markets", title="Markets rise", text=text)
    assert match_article(article, shipped_rules) == []


@pytest.mark.parametrize(
    "text, title, body",
    [
        (
            '---\ntitle: "Envoy heads to Oslo"\ndate: 2020-01-01\n---\nBody text.',
            "Envoy heads to Oslo",
            "Body text.",
        ),
        (
            "Title: Camp overstretched\nDate: 2015-05-23\nTags: africa\n\nBody text.",
            "Camp overstretched",
            "Body text.",
        ),
        ("# Floods in the delta\nBody text.", "Floods in the delta", "Body text."),
        ("Nairobi: Kenya said on Monday.\nMore.", None, "Nairobi: Kenya said on Monday.\nMore."),
    ],
    ids=["front matter", "pelican", "markdown headline", "no header"],
)
def test_split_header(text, title, body):
    header, rest = split_header(text)
    assert header.get("title") == title and rest == body


def test_hostile_text_is_read_in_linear_time():
    # a million brackets on one line, and a million lines of a box heading's shape
    assert strip_boilerplate("[" * 1_000_000 + "](").startswith("[[[")
    assert strip_boilerplate("Related stories\n" + "a\n" * 200_000 + "The end.") == "The end."
    assert split_header("Key: value\n" * 100_000)[1] == ""
