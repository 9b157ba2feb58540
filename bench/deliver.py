"""Email delivery throughput: digests/s to a local SMTP server, one connection each vs reused.

The digest is realistic: the seed article (seeds/mee-syria-envoy.html) extracted and matched
with the shipped rules gives three alerts (displacement figures, envoy travel, ceasefire), which
are rendered once with the shipped templates. The receiver is `monitor.demo.sinks.SmtpSink`, a real
aiosmtpd server on 127.0.0.1 (ephemeral port) running in this process's event loop, so its
work (SMTP parsing, re-parsing each message into an EmailMessage) is charged to the
measurement as well; the rows compare like with like.

Rows, all measured in this run with DIGESTS digests each, sent one after another:
- one connection per digest: `EmailNotifier.send` per digest, the baseline (connect, EHLO,
  MAIL, RCPT, DATA, QUIT every time);
- connection reused: one `EmailNotifier.send_many` call with every digest;
- render only: `render_digest` of the same digest, no email built or sent.

Every mode checks that each send succeeded, that the server received exactly DIGESTS messages
and that their Message-IDs are distinct. Only 127.0.0.1 is contacted; the whole run is capped
at DEADLINE seconds.

Prints a table, then one JSON line: {"bench": "deliver", "digests": 500, "rows": [...],
"speedup_reused_vs_per_digest": S}.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.channels.email import EmailNotifier, SmtpSettings  # noqa: E402
from monitor.demo.sinks import SmtpSink  # noqa: E402
from monitor.digest.render import make_environment, render_digest  # noqa: E402
from monitor.extract.article import Extracted, extract_html  # noqa: E402
from monitor.models import Alert, Digest, Message  # noqa: E402
from monitor.resources import rules_dir, seeds_dir  # noqa: E402
from monitor.rules.load import load_rules  # noqa: E402
from monitor.rules.match import match_article  # noqa: E402

DIGESTS = 500
DEADLINE = 120.0  # seconds for the whole run
SEED_URL = "https://www.middleeasteye.net/news/un-syria-peace-envoy-travels-moscow"
TO = ["desk@example.org"]


def seed_digest() -> Digest:
    """The seed article's three alerts, as the pipeline would record them."""
    extracted = extract_html((seeds_dir() / "mee-syria-envoy.html").read_bytes(), SEED_URL)
    assert isinstance(extracted, Extracted), extracted
    article = extracted.as_article(SEED_URL)
    rules = load_rules([rules_dir()])
    matches = match_article(article, rules)
    assert len(matches) == 3, [m.rule for m in matches]
    alerts = []
    for i, match in enumerate(matches, start=1):
        rule = rules.get(match.rule)
        assert rule is not None
        alerts.append(
            Alert(
                id=i,
                article_url=article.url,
                article_title=article.title,
                published=article.published,
                site_name=article.site_name,
                match=match,
                tags=tuple(rule.spec.tags),
            )
        )
    return Digest("humanitarian-desk", tuple(alerts), datetime(2015, 10, 20, 7, 30, tzinfo=UTC))


async def deliver(
    sink: SmtpSink, notifier: EmailNotifier, message: Message, digest: Digest, reuse: bool
) -> tuple[float, set[str]]:
    """Send DIGESTS digests; (digests/s, their Message-IDs as the server received them)."""
    before = len(sink.mails)
    prefix = "reused" if reuse else "per-digest"
    keys = [f"bench-{prefix}-{i}" for i in range(DIGESTS)]
    start = time.perf_counter()
    if reuse:
        results = await notifier.send_many([(message, digest, key) for key in keys])
    else:
        results = [await notifier.send(message, digest, idempotency_key=key) for key in keys]
    elapsed = time.perf_counter() - start
    failed = [r.detail for r in results if not r.ok]
    assert not failed, f"{len(failed)} sends failed, first: {failed[0]}"
    received = sink.mails[before:]
    assert len(received) == DIGESTS, f"server received {len(received)} of {DIGESTS}"
    ids = {str(mail.message["Message-ID"]) for mail in received}
    assert len(ids) == DIGESTS, f"only {len(ids)} distinct Message-IDs in {DIGESTS} messages"
    return DIGESTS / elapsed, ids


def per_second(fn, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        fn()
    return count / (time.perf_counter() - start)


ROW = "{:<28} {:>10} {:>10}"


async def run() -> None:
    digest = seed_digest()
    env = make_environment()
    message = render_digest(env, digest)
    sink = await SmtpSink().start()
    settings = SmtpSettings(host="127.0.0.1", port=sink.port, timeout=10.0)
    notifier = EmailNotifier(settings, TO)
    try:
        # one untimed send: imports, template and connection code paths warm
        warm = await notifier.send(message, digest, idempotency_key="bench-warm-up")
        assert warm.ok, warm.detail
        sink.mails.clear()
        per_digest, ids_a = await deliver(sink, notifier, message, digest, reuse=False)
        reused, ids_b = await deliver(sink, notifier, message, digest, reuse=True)
    finally:
        await sink.stop()
    assert not ids_a & ids_b, "Message-IDs repeat across modes"
    renders = per_second(lambda: render_digest(env, digest), DIGESTS)

    # where the time of one delivery goes, besides the network round trips
    built = notifier.compose(message, digest, idempotency_key="bench-cost")
    raw = built.as_bytes(policy=email.policy.SMTP)
    composes = per_second(
        lambda: notifier.compose(message, digest, idempotency_key="bench-cost").as_bytes(
            policy=email.policy.SMTP
        ),
        DIGESTS,
    )
    parses = per_second(lambda: email.message_from_bytes(raw, policy=email.policy.default), DIGESTS)

    print(
        f"{DIGESTS} digests of {len(digest.alerts)} alerts to 127.0.0.1:{settings.port} "
        f"(in-process aiosmtpd), {len(raw):,} bytes each, subject {message.subject!r}"
    )
    print(ROW.format("mode", "per s", "ms each"))
    for mode, rate in (
        ("one connection per digest", per_digest),
        ("connection reused", reused),
        ("render only", renders),
        ("compose + serialise only", composes),
        ("server-side re-parse only", parses),
    ):
        print(ROW.format(mode, f"{rate:.1f}", f"{1000 / rate:.2f}"))
    speedup = reused / per_digest
    print(f"connection reused vs one per digest: {speedup:.2f}x; Message-IDs all distinct")
    rows = [
        {"mode": "one connection per digest", "digests_per_s": round(per_digest, 1)},
        {"mode": "connection reused", "digests_per_s": round(reused, 1)},
        {"mode": "render only", "renders_per_s": round(renders, 1)},
    ]
    print(
        json.dumps(
            {
                "bench": "deliver",
                "digests": DIGESTS,
                "rows": rows,
                "speedup_reused_vs_per_digest": round(speedup, 2),
            }
        )
    )


def main() -> None:
    asyncio.run(asyncio.wait_for(run(), DEADLINE))


if __name__ == "__main__":
    main()
