"""The worker honours silences, against real servers on 127.0.0.1: a silenced rule's alerts
are left out of the next digest that reaches the SMTP server and the webhook receiver, and
are not sent once the silence ends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.config import load_config
from monitor.timeutil import utcnow
from monitor.worker.pipeline import open_runtime, run_cycle
from tests.worker.test_pipeline import config_text


@pytest.fixture
def config(seed_site, smtp_sink, webhook_sink, write_config, environ):
    return load_config(
        write_config(config_text([f"{seed_site}/rss"], smtp_sink.port, webhook_sink.url)), environ
    )


def silence(rt, scope, value, subscription=None):
    return rt.store.add_silence(
        scope,
        value,
        ends_at=utcnow() + timedelta(hours=2),
        comment="truce talks: too noisy",
        author="ana",
        subscription=subscription,
    )


async def test_a_silenced_rule_is_left_out_of_every_digest(config, smtp_sink, webhook_sink, caplog):
    caplog.set_level("INFO", logger="monitor.worker.deliver")
    async with open_runtime(config) as rt:
        silenced = silence(rt, "rule", "ceasefire")
        report = await run_cycle(rt)
        assert (report.alerts, report.digests, report.delivered) == (3, 2, 2)

        [mail] = smtp_sink.mails
        assert mail.message["Subject"] == (
            "1 story: at least 40,000 displaced in Syria; envoy travel to Moscow, Washington"
        )
        for part in (mail.part("text/plain"), mail.part("text/html")):
            assert "New displacement figures" in part and "Ceasefire mentioned" not in part
        [hook] = webhook_sink.hooks
        assert sorted(a["rule"] for a in hook.json()["alerts"]) == [
            "displacement-figures",
            "envoy-travel",
        ]
        said = [r for r in caplog.records if r.getMessage().startswith("silenced: 1 alert (ids ")]
        assert {r.subscription for r in said} == {"humanitarian-desk", "case-system"}

        # ended early, the silence lets nothing through afterwards: the alert was passed over
        rt.store.expire_silence(silenced.id)
        again = await run_cycle(rt, poll_all=True)
        assert (again.digests, again.delivered) == (0, 0)
        assert len(smtp_sink.mails) == 1 and len(webhook_sink.hooks) == 1


async def test_a_silence_of_one_subscription_leaves_the_others_alone(
    config, smtp_sink, webhook_sink
):
    async with open_runtime(config) as rt:
        silence(rt, "rule", "ceasefire", subscription="case-system")
        await run_cycle(rt)
    [mail] = smtp_sink.mails
    assert "ceasefire mentioned" in mail.message["Subject"]
    [hook] = webhook_sink.hooks
    assert "ceasefire" not in {a["rule"] for a in hook.json()["alerts"]}


async def test_a_silenced_feed_sends_nothing_and_moves_on(config, smtp_sink, webhook_sink):
    [feed] = config.feeds
    async with open_runtime(config) as rt:
        silence(rt, "feed", feed.url)
        report = await run_cycle(rt)
        assert (report.alerts, report.delivered) == (3, 0)
        # every alert was passed over: the subscriptions' cursors are past them all
        last = max(a.id for a in rt.store.alerts_after(0))
        for name in ("humanitarian-desk", "case-system"):
            assert rt.store.peek_subscription(name)[0] == last
    assert smtp_sink.mails == [] and webhook_sink.hooks == []
