"""The console as an operator uses it, in Debian's Chromium: log in, read the overview of a
worker that has polled the seed site, search the alerts, run the playground on the seed page
(silences: tests/web/console/test_silences_browser.py). Screenshots at 1280 and
390 px go to $MONITOR_SCREENSHOTS when set."""

from __future__ import annotations

import re

import pytest

from monitor.web.app import make_app, serving
from monitor.worker.pipeline import open_runtime, run_cycle
from tests.web.console.conftest import OPERATOR_PASSWORD, console_config


@pytest.fixture
def seeded_config(tmp_path, write_config, seed_site, webhook_sink):
    feeds = f'[{{url: "{seed_site}/rss"}}]'
    extra = "allow_private_networks: true\n"
    hook = f"{webhook_sink.url}/hooks/desk"
    return console_config(tmp_path, write_config, extra=extra, feeds=feeds, hook=hook)


async def log_in(page, base: str) -> None:
    await page.goto(f"{base}/console/")
    assert page.url.endswith("/console/login?next=/console/")
    await page.get_by_label("Password").fill(OPERATOR_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("heading", name="Overview").wait_for()


@pytest.mark.parametrize("width", [1280, 390])
async def test_an_operator_logs_in_and_reads_the_overview(
    seeded_config, browser, screenshots, width
):
    async with open_runtime(seeded_config) as rt:
        await run_cycle(rt)
        async with serving(
            make_app(seeded_config, rt.store, metrics=rt.metrics), "127.0.0.1", 0
        ) as base:
            page = await browser.new_page(viewport={"width": width, "height": 900})
            await log_in(page, base)
            # the seed story's three alerts in the last hours, one healthy feed, one worker
            assert await page.locator(".stat").nth(3).inner_text() == "3"
            feeds = page.locator("section", has=page.get_by_role("heading", name="Feeds"))
            assert "1 healthy." in await feeds.inner_text()  # healthy feeds are counted
            chart = page.get_by_role("img", name=re.compile("Alerts per hour"))
            assert await chart.is_visible()
            await page.screenshot(
                path=str(screenshots / f"console-overview-{width}.png"), full_page=True
            )
            # nothing wider than the window but the tables, which scroll in their cards
            assert await page.evaluate("document.documentElement.scrollWidth") <= width

            # the alerts history: a search finds the seed story with its hits marked
            await page.get_by_role("link", name="Alerts").click()
            await page.get_by_label("Search").fill("displaced")
            await page.get_by_role("button", name="Show").click()
            found = page.get_by_role("region", name="Alerts found")
            await found.wait_for()
            assert "UN Syria peace envoy travels to Moscow" in await found.inner_text()
            marks = [m.lower() for m in await found.locator("mark").all_inner_texts()]
            assert "displaced" in marks, marks
            await page.screenshot(
                path=str(screenshots / f"console-alerts-{width}.png"), full_page=True
            )
            await page.get_by_role("button", name="Log out").click()
            await page.get_by_label("Password").wait_for()


@pytest.mark.parametrize("width", [1280, 390])
async def test_the_playground_runs_the_shipped_rules_on_the_seed_page(
    seeded_config, seed_site, browser, screenshots, width
):
    from monitor.store import Store

    store = Store(seeded_config.database_url)
    async with serving(make_app(seeded_config, store), "127.0.0.1", 0) as base:
        page = await browser.new_page(viewport={"width": width, "height": 900})
        await log_in(page, base)
        await page.get_by_role("link", name="Rules").click()
        await page.goto(f"{base}/console/rules/playground")
        await page.get_by_label("A page or feed URL").fill(
            f"{seed_site}/news/un-syria-peace-envoy-travels-moscow"
        )
        await page.get_by_role("button", name="Run").click()
        results = page.get_by_role("region", name="Results")
        await results.wait_for()
        fired = results.locator("tr.fired")
        assert sorted(await fired.evaluate_all("rows => rows.map(r => r.dataset.rule)")) == [
            "ceasefire",
            "displacement-figures",
            "envoy-travel",
        ]
        marked = await fired.locator("mark").all_inner_texts()
        assert any(m.lower().startswith("displac") for m in marked), marked
        assert "Moscow" in await fired.filter(has_text="envoy").inner_text()
        await page.screenshot(
            path=str(screenshots / f"console-playground-{width}.png"), full_page=True
        )
        assert await page.evaluate("document.documentElement.scrollWidth") <= width
    store.close()
