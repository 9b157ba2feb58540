"""The digest email as a reader sees it: its HTML part, exactly as sent (CSS inlined), opened
in headless Chromium at a phone's width (390 px) and a desktop's (800 px), light and dark.

Screenshots go to $MONITOR_SCREENSHOTS when set (to look at them), else to the test's tmp dir.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser

import pytest

from monitor.channels.base import Envelope
from monitor.channels.email import SmtpSettings, compose
from monitor.digest.plan import DigestPlan, group_stories
from monitor.digest.render import make_environment, render_digest
from monitor.models import Alert, Figure, Match

WIDTHS = (390, 800)
SEVERITIES = ("critical", "high", "medium", "low")


def four_stories() -> DigestPlan:
    """Four stories, one of each severity, with long unbroken words and figures."""
    published = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
    alerts = []
    for i, severity in enumerate(SEVERITIES, start=1):
        match = Match(
            rule=f"rule-{severity}",
            title=f"A {severity} rule with a title long enough to wrap on a phone",
            severity=severity,
            figures=(Figure(40000 * i, f"{40000 * i:,}", "at least"),),
            captures={"destination": ("Moscow", "Washington")},
            snippets=(
                f"Fighting has displaced at least {40000 * i:,} people, the agency "
                "said, in what officials called https://example.org/an/unbroken/path/"
                "that/should/not/widen/the/page/at/all/ever",
            ),
        )
        alerts.append(
            Alert(
                i,
                f"https://news{i}.example.org/story/{i}",
                f"Story {i}: thousands flee as fighting spreads across the northern province",
                published - timedelta(hours=i),
                f"Outlet {i}",
                match,
                story_id=i,
            )
        )
    return DigestPlan(
        "humanitarian-desk",
        "desk@example.org",
        datetime(2026, 11, 28, 7, 30, tzinfo=UTC),
        tuple(group_stories(alerts)),
    )


def html_part(plan: DigestPlan) -> str:
    message = render_digest(
        make_environment(), plan, unsubscribe_url="https://monitor.example.org/unsubscribe/t"
    )
    payload = compose(
        plan,
        Envelope("msg_1", unsubscribe_url="https://monitor.example.org/unsubscribe/t"),
        message,
        settings=SmtpSettings("127.0.0.1"),
        recipient=plan.target,
    )
    email = BytesParser(policy=policy.default).parsebytes(payload.body)
    html = email.get_body(("html",))
    assert html is not None
    return str(html.get_content())


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_the_digest_reads_well_at_phone_and_desktop_widths(browser, screenshots, scheme):
    html = html_part(four_stories())
    # inlined: every card carries its own style, as mail clients that drop <style> need
    assert 'class="story" style="' in html
    for width in WIDTHS:
        page = await browser.new_page(viewport={"width": width, "height": 900})
        await page.emulate_media(color_scheme=scheme)
        await page.set_content(html)
        shot = screenshots / f"digest-{width}-{scheme}.png"
        await page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000

        # nothing forces sideways scrolling, not even a long URL in a snippet
        assert await page.evaluate("document.documentElement.scrollWidth") <= width
        # cards in order of severity, every headline visible
        headlines = await page.locator(".story h2").all_inner_texts()
        assert [h.split(":")[0] for h in headlines] == ["Story 1", "Story 2", "Story 3", "Story 4"]
        # four severities, four different pill colours, each readable (white on dark)
        colours = [
            await page.locator(f".sev-{s}").first.evaluate(
                "e => getComputedStyle(e).backgroundColor"
            )
            for s in SEVERITIES
        ]
        assert len(set(colours)) == 4, colours
        # dates carry their time zone; the unsubscribe link is there to click
        assert await page.get_by_text("28 Nov 2026, 07:30 UTC").count() >= 1
        assert await page.get_by_role("link", name="Unsubscribe or mute").is_visible()
        background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        dark = background == "rgb(21, 24, 28)"
        assert dark == (scheme == "dark"), background
        await page.close()
