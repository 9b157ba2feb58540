"""Delivery state is per target: one address the SMTP server refuses, or one webhook endpoint
that fails, is retried (or dead-lettered) alone; every other target gets its copy in the
first pass and never again. Counted at real receivers on 127.0.0.1 and in the outbox rows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.config import load_config
from monitor.demo.sinks import WebhookSink
from monitor.store import LEASE
from monitor.timeutil import utcnow
from monitor.worker.pipeline import open_runtime, run_cycle
from tests.conftest import WEBHOOK_SECRET
from tests.worker.receivers import (
    RecipientSmtpSink,
    hook_ids,
    mails_by_address,
    outbox_rows,
    states,
)
from tests.worker.test_pipeline import RULES, seed_feed_config

ADDRESSES = ("a@example.org", "b@example.org", "c@example.org")
REFUSED = "b@example.org"
# each retry pass runs this long after the one before: past any backoff of a first few tries
LATER = timedelta(hours=2)


def email_config(seed_site: str, smtp_port: int) -> str:
    return f"""{seed_feed_config(seed_site)}
smtp: {{host: 127.0.0.1, port: {smtp_port}, from: "News Monitor <alerts@example.org>"}}
subscriptions:
  - name: desk
    email: [{", ".join(ADDRESSES)}]
    rules: {RULES}
"""


def webhook_config(seed_site: str, **urls: str) -> str:
    """One webhook subscription per keyword: its name (underscores as dashes) and URL."""
    subscriptions = "".join(
        f"""  - name: {name.replace("_", "-")}
    webhook: {{url: "{url}/hooks/news", secret_env: CASES_WEBHOOK_SECRET}}
    rules: {RULES}
"""
        for name, url in urls.items()
    )
    return f"{seed_feed_config(seed_site)}\nsubscriptions:\n{subscriptions}"


@pytest.mark.parametrize(
    ("replies", "after_first", "final"),
    [
        # deferred twice, then accepted on the third attempt
        (["450 4.2.1 mailbox busy", "451 4.3.0 try again later"], "pending", ("sent", 3)),
        (["550 5.1.1 no such user"], "dead", ("dead", 1)),
    ],
    ids=["4xx-retried-until-accepted", "5xx-dead-lettered"],
)
async def test_a_refused_address_is_retried_alone(
    seed_site, write_config, environ, replies, after_first, final
):
    sink = await RecipientSmtpSink(refuse={REFUSED: list(replies)}).start()
    try:
        config = load_config(write_config(email_config(seed_site, sink.port)), environ)
        async with open_runtime(config) as rt:
            first = await run_cycle(rt)
            # the others are delivered in the first pass, over the same connection
            assert (first.delivered, first.delivery_failures) == (2, 1)
            assert mails_by_address(sink.mails) == {"a@example.org": 1, "c@example.org": 1}
            assert states(rt.store, "desk") == {
                "a@example.org": ("sent", 1),
                REFUSED: (after_first, 1),
                "c@example.org": ("sent", 1),
            }
            [refused] = [r for r in outbox_rows(rt.store) if r["target"] == REFUSED]
            assert replies[0].split()[0] in refused["last_error"]

            start = utcnow()
            for n in range(1, 4):  # passes later on: each one past the row's backoff
                await run_cycle(rt, now=start + LATER * n)
            assert states(rt.store, "desk") == {
                "a@example.org": ("sent", 1),
                REFUSED: final,
                "c@example.org": ("sent", 1),
            }
            rows = outbox_rows(rt.store)
    finally:
        await sink.stop()
    # only the refused address was tried again: once per attempt the outbox counted
    assert sorted(sink.rcpts) == sorted(["a@example.org", "c@example.org"] + [REFUSED] * final[1])
    delivered = 1 if final[0] == "sent" else 0
    assert mails_by_address(sink.mails) == {
        "a@example.org": 1,
        "c@example.org": 1,
        **({REFUSED: 1} if delivered else {}),
    }
    # each address got its own copy, carrying its own row's key as Message-ID
    for mail in sink.mails:
        [row] = [r for r in rows if r["target"] == mail.recipients[0]]
        assert mail.message["Message-ID"] == f"<{row['key']}@news-monitor>"
    assert len({row["digest"] for row in rows}) == 1  # three copies of one digest


@pytest.mark.parametrize(
    ("status", "final"),
    [
        # fails twice, then the receiver recovers
        (500, ("sent", 3)),
        (410, ("dead", 1)),
    ],
    ids=["500-retried-until-delivered", "410-dead-lettered"],
)
async def test_a_failing_endpoint_is_retried_alone(seed_site, write_config, environ, status, final):
    ok = await WebhookSink(secret=WEBHOOK_SECRET).start()
    failing = await WebhookSink(secret=WEBHOOK_SECRET, status=status).start()
    try:
        text = webhook_config(seed_site, cases_ok=ok.url, cases_failing=failing.url)
        async with open_runtime(load_config(write_config(text), environ)) as rt:
            first = await run_cycle(rt)
            assert (first.delivered, first.delivery_failures) == (1, 1)
            assert (len(ok.hooks), len(failing.hooks)) == (1, 1)
            assert states(rt.store, "cases-ok") == {"webhook": ("sent", 1)}
            retryable = status >= 500
            assert states(rt.store, "cases-failing") == {
                "webhook": ("pending" if retryable else "dead", 1)
            }

            start = utcnow()
            await run_cycle(rt, now=start + LATER)  # still failing
            failing.status = 200  # the receiver recovers
            for n in range(2, 4):
                await run_cycle(rt, now=start + LATER * n)
            assert states(rt.store, "cases-ok") == {"webhook": ("sent", 1)}
            assert states(rt.store, "cases-failing") == {"webhook": final}
            keys = {r["subscription"]: r["key"] for r in outbox_rows(rt.store)}
    finally:
        await ok.stop()
        await failing.stop()
    # the healthy endpoint got its digest once; the retries hit only the failing one, each
    # with the same webhook-id, body and a valid signature
    assert hook_ids(ok.hooks) == {keys["cases-ok"]: 1}
    assert hook_ids(failing.hooks) == {keys["cases-failing"]: final[1]}
    assert len({hook.body for hook in failing.hooks}) == 1
    assert all(hook.signature_valid for hook in [*ok.hooks, *failing.hooks])


async def test_a_send_whose_outcome_was_not_stored_is_retried_after_its_lease(
    seed_site, webhook_sink, write_config, environ, monkeypatch
):
    text = webhook_config(seed_site, cases=webhook_sink.url)
    async with open_runtime(load_config(write_config(text), environ)) as rt:

        def store_fails(*_args, **_kwargs):
            raise RuntimeError("store: database is locked")

        with monkeypatch.context() as patch:  # sent, but the store fails to say so
            patch.setattr(rt.store, "mark_sent", store_fails)
            start = utcnow()
            first = await run_cycle(rt, now=start)
        assert first.delivered == 0 and len(webhook_sink.hooks) == 1
        # the worker lives on, and its heartbeat renews what it holds: not this row any more
        rt.store.heartbeat(start + LEASE / 2)
        again = await run_cycle(rt, now=start + LEASE + timedelta(seconds=1))
        assert again.delivered == 1
        assert states(rt.store, "cases") == {"webhook": ("sent", 1)}
        [row] = outbox_rows(rt.store)
    # at least once: the repeat carries the same webhook-id, for the receiver to drop
    assert hook_ids(webhook_sink.hooks) == {row["key"]: 2}
