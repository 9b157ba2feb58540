"""Silences in Debian's Chromium: an operator silences a rule for one subscription, the next
digest that subscription's webhook receives leaves the rule out (the other's keeps it), and
the preview of a second silence shows the seed story it would have hidden. Screenshots at
1280 and 390 px go to $MONITOR_SCREENSHOTS when set."""

from __future__ import annotations

import pytest

from monitor.web.app import make_app, serving
from monitor.worker.pipeline import open_runtime, run_cycle
from tests.web.console.conftest import OPERATOR_PASSWORD, console_config


@pytest.fixture
def seeded_config(tmp_path, write_config, seed_site, webhook_sink):
    wire = f"""\
  - name: wire
    webhook: {{url: "{webhook_sink.url}/hooks/wire"}}
    rules: [ceasefire, envoy-travel, displacement-figures]
allow_private_networks: true
"""
    feeds = f'[{{url: "{seed_site}/rss"}}]'
    hook = f"{webhook_sink.url}/hooks/desk"
    return console_config(tmp_path, write_config, extra=wire, feeds=feeds, hook=hook)


async def fill_silence(page, *, value: str, subscription: str, comment: str) -> None:
    await page.get_by_label("Silence a").select_option("rule")
    await page.get_by_label("Rule id, story id, feed URL or tag").fill(value)
    await page.get_by_label("For", exact=True).select_option(subscription)
    await page.get_by_label("For how long").fill("2h")
    await page.get_by_label("Author").fill("ana")
    await page.get_by_label("Comment").fill(comment)
    await page.get_by_role("button", name="Preview").click()
    await page.get_by_role("heading", name="Before you save").wait_for()


@pytest.mark.parametrize("width", [1280, 390])
async def test_a_silence_made_in_the_console_keeps_its_rule_out_of_the_next_digest(
    seeded_config, browser, screenshots, webhook_sink, width
):
    async with open_runtime(seeded_config) as rt:
        app = make_app(seeded_config, rt.store, metrics=rt.metrics)
        async with serving(app, "127.0.0.1", 0) as base:
            page = await browser.new_page(viewport={"width": width, "height": 900})
            await page.goto(f"{base}/console/silences")
            await page.get_by_label("Password").fill(OPERATOR_PASSWORD)
            await page.get_by_role("button", name="Log in").click()
            await page.get_by_role("heading", name="Silences").wait_for()

            await fill_silence(page, value="ceasefire", subscription="wire", comment="truce talks")
            assert await page.locator("#hidden-count").inner_text() == "0 alerts"
            await page.get_by_role("button", name="Save this silence").click()
            await page.get_by_role("status").filter(has_text="Silence 1 saved.").wait_for()
            row = page.locator("#silence-1")
            assert "ceasefire" in await row.inner_text() and "wire" in await row.inner_text()

            await run_cycle(rt)
            rules = {
                hook.path: sorted(a["rule"] for a in hook.json()["alerts"])
                for hook in webhook_sink.hooks
            }
            assert rules == {
                "/hooks/desk": ["ceasefire"],
                "/hooks/wire": ["displacement-figures", "envoy-travel"],
            }

            # a second silence's preview: the seed story it would have hidden, not yet saved
            await fill_silence(page, value="envoy-travel", subscription="", comment="Moscow trip")
            assert await page.locator("#hidden-count").inner_text() == "1 alert"
            preview = page.get_by_role("region", name="Preview")
            assert "UN Syria peace envoy travels to Moscow" in await preview.inner_text()
            await page.screenshot(
                path=str(screenshots / f"console-silences-preview-{width}.png"), full_page=True
            )
            assert await page.evaluate("document.documentElement.scrollWidth") <= width

            await page.goto(f"{base}/console/silences")
            await page.get_by_role("button", name="End silence 1 now").click()
            await page.get_by_role("status").filter(has_text="Silence 1 ended.").wait_for()
            await page.screenshot(
                path=str(screenshots / f"console-silences-{width}.png"), full_page=True
            )
            assert rt.store.silences("active") == []
