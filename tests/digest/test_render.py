from datetime import UTC, datetime

import pytest

from monitor.digest import render
from monitor.digest.plan import DigestPlan, group_stories
from monitor.digest.render import RenderError, make_environment, render_digest
from monitor.models import Alert, Figure, Hit, Match

HOSTILE = 'Envoy <script>alert("x")</script>\r\nBcc: victim@example.org travels'


def digest(title=HOSTILE, url="https://example.org/a?x=1&y=2"):
    match = Match(
        rule="displacement-figures",
        title="New displacement figures",
        severity="high",
        figures=(Figure(40000, "40,000", "at least"),),
        snippets=("Strikes have displaced 40,000 <b>people</b>.",),
        hits=(Hit("displac*", "displaced", 0, 13, 22),),
    )
    alert = Alert(
        1,
        url,
        title,
        None,
        "Example",
        match,
        previous_figures=(Figure(12000, "12,000"),),
    )
    [story] = group_stories([alert])
    return DigestPlan(
        "desk", "desk@example.org", datetime(2026, 11, 28, 7, 30, tzinfo=UTC), (story,)
    )


def test_subject_is_one_line_naming_the_alerts():
    message = render_digest(make_environment(), digest())
    assert message.subject == "1 story: New displacement figures (at least 40,000)"


def test_html_is_escaped_and_marks_hits():
    html = render_digest(make_environment(), digest()).html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>people</b>" not in html
    assert "Strikes have <mark>displaced</mark> 40,000 &lt;b&gt;people&lt;/b&gt;." in html
    assert "28 Nov 2026, 07:30 UTC" in html  # dates with times and zone
    assert 'href="https://example.org/a?x=1&amp;y=2"' in html
    assert "up from 12,000" in html


def test_text_part_keeps_titles_on_one_line():
    text = render_digest(make_environment(), digest()).text
    assert '== Envoy <script>alert("x")</script> Bcc: victim@example.org travels ==\n' in text
    assert "Figures: at least 40,000 (up from 12,000)" in text


def test_operator_templates_override_and_are_sandboxed(tmp_path):
    (tmp_path / "subject.txt.j2").write_text("Desk: {{ stories|length }} new")
    assert render_digest(make_environment(tmp_path), digest()).subject == "Desk: 1 new"

    (tmp_path / "subject.txt.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(RenderError, match="subject.txt.j2 failed"):
        render_digest(make_environment(tmp_path), digest())


def test_runaway_template_output_is_capped(tmp_path):
    (tmp_path / "digest.txt.j2").write_text(
        "{% for i in range(90000) %}{% for j in range(90000) %}{{ 'x' * 1000 }}{% endfor %}"
        "{% endfor %}"
    )
    with pytest.raises(RenderError, match="more than"):
        render_digest(make_environment(tmp_path), digest())


def test_a_template_that_writes_nothing_forever_is_stopped_in_time(tmp_path, monkeypatch):
    monkeypatch.setattr(render, "RENDER_SECONDS", 0.2)
    # 10^10 empty iterations: no output cap would ever stop it
    (tmp_path / "subject.txt.j2").write_text(
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    )
    with pytest.raises(RenderError, match="subject.txt.j2 ran longer than 0.2 s"):
        render_digest(make_environment(tmp_path), digest())


@pytest.mark.parametrize(
    "expression", ["'x' * 100000000", "100000000 * [1]", "2 ** 100000000", "(9 ** 9) ** 99"]
)
def test_one_operation_cannot_build_something_huge(tmp_path, expression):
    (tmp_path / "subject.txt.j2").write_text("{{ " + expression + " }}")
    with pytest.raises(RenderError, match="SecurityError"):
        render_digest(make_environment(tmp_path), digest())


def test_small_repeats_and_powers_are_fine(tmp_path):
    (tmp_path / "subject.txt.j2").write_text("{{ '=' * 3 }} {{ 2 ** 10 }}")
    assert render_digest(make_environment(tmp_path), digest()).subject == "=== 1024"


@pytest.mark.parametrize("url", ["javascript:alert(4)", "data:text/html,x", "urn:uuid:1", ""])
def test_only_http_links_are_ever_emitted(url):
    from monitor.channels.webhook import digest_payload

    message = render_digest(make_environment(), digest(url=url))
    assert "href" not in message.html.split("<h2", 1)[1].split("</h2>", 1)[0]
    if url:
        assert url not in message.html and url not in message.text
    body = digest_payload(digest(url=url))
    assert body["alerts"][0]["article"]["url"] is None and body["stories"][0]["url"] is None
