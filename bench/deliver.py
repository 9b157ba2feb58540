"""Email delivery throughput: messages/s to a local SMTP server, one connection each vs reused.

The digest is realistic: the seed article (seeds/mee-syria-envoy.html) extracted and matched
with the shipped rules gives three alerts (displacement figures, envoy travel, ceasefire) on
one story. The planner (`monitor.digest.plan.plan_subscription`) makes them one digest per
address of a subscription with DIGESTS addresses; each is rendered with the shipped templates
and composed into the exact email bytes (`monitor.channels.email.compose`: MIME, CSS inlined,
List-Unsubscribe), as the worker's `render_plan` writes them to the outbox. The receiver is
`monitor.demo.sinks.SmtpSink`, a real aiosmtpd server on 127.0.0.1 (ephemeral port) running
in this process's event loop, so its work (SMTP parsing, re-parsing each message into an
EmailMessage) is charged to every sending row alike; the rows compare like with like.

Rows, all measured in this run, DIGESTS messages each, sent one after another (the worker
also runs a few connections at once; this measures one):
- one connection per message: `send_batch(settings, [one])` per message, the baseline
  (connect, EHLO, MAIL, RCPT, DATA, QUIT every time);
- connection reused: `send_batch` over batches of SMTP_BATCH (what the worker sends over one
  connection), and one `send_batch` of all DIGESTS;
- render only: the templates and `compose` for each message, nothing sent.

Each row runs ROUNDS times, the modes in a rotating order, and reports the median. Every
sending run checks that each send succeeded, that the server received exactly DIGESTS
messages, one per address, and that their Message-IDs are the ones composed, all distinct
(across every run too). Only 127.0.0.1 is contacted; the whole run is capped at DEADLINE
seconds.

Prints a table, then one JSON line: {"bench": "deliver", "digests": 500, "rows": [...],
"speedup_reused_vs_per_digest": S}, S being batches of SMTP_BATCH over one connection per
message.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.channels.base import Envelope  # noqa: E402
from monitor.channels.email import SmtpSettings, compose, message_id  # noqa: E402
from monitor.channels.smtp import send_batch  # noqa: E402
from monitor.demo.sinks import SmtpSink  # noqa: E402
from monitor.digest.plan import DigestPlan, plan_subscription  # noqa: E402
from monitor.digest.render import BoundedEnvironment, make_environment, render_digest  # noqa: E402
from monitor.extract.article import Extracted, extract_html  # noqa: E402
from monitor.models import Alert  # noqa: E402
from monitor.resources import rules_dir, seeds_dir  # noqa: E402
from monitor.rules.load import load_rules  # noqa: E402
from monitor.rules.match import match_article  # noqa: E402
from monitor.web.tokens import unsubscribe_url  # noqa: E402
from monitor.worker.deliver import SMTP_BATCH  # noqa: E402

DIGESTS = 500
ROUNDS = 3
DEADLINE = 120.0  # seconds for the whole run
SEED_URL = "https://www.middleeasteye.net/news/un-syria-peace-envoy-travels-moscow"
SUBSCRIPTION = "humanitarian-desk"
RULES = ("displacement-figures", "envoy-travel", "ceasefire")
ZONE = ZoneInfo("Europe/Berlin")
PUBLIC_URL = "https://monitor.example.org"
SECRET = b"bench-deliver-unsubscribe-secret"
UNSUBSCRIBE_MAILTO = "unsubscribe@example.org"


def seed_alerts() -> list[Alert]:
    """The seed article's three alerts, as the pipeline would record them: one story."""
    extracted = extract_html((seeds_dir() / "mee-syria-envoy.html").read_bytes(), SEED_URL)
    assert isinstance(extracted, Extracted), extracted
    article = extracted.as_article(SEED_URL)
    rules = load_rules([rules_dir()])
    matches = match_article(article, rules)
    assert sorted(m.rule for m in matches) == sorted(RULES), [m.rule for m in matches]
    assert article.published is not None
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
                story_id=1,
                created_at=article.published + timedelta(minutes=10),
            )
        )
    return alerts


def plan_digests(alerts: list[Alert]) -> tuple[DigestPlan, ...]:
    """One digest per address: the subscription has DIGESTS of them."""
    addresses = [f"desk-{i:04d}@example.org" for i in range(DIGESTS)]
    created = max(a.created_at for a in alerts if a.created_at) + timedelta(hours=1)
    plan = plan_subscription(
        SUBSCRIPTION, addresses, lambda rule, _tags: rule in RULES, alerts, 0, created
    )
    assert len(plan.digests) == DIGESTS, len(plan.digests)
    assert plan.cursor == len(alerts) and len(plan.alert_ids) == len(alerts)
    for digest in plan.digests:
        [story] = digest.stories
        assert sorted(story.rules) == sorted(RULES), story.rules
    return plan.digests


@dataclass(frozen=True)
class Rendered:
    messages: list[tuple[str, bytes]]  # (recipient, email bytes), as the outbox holds them
    message_ids: set[str]
    templates_s: float
    compose_s: float

    @property
    def per_s(self) -> float:
        return len(self.messages) / (self.templates_s + self.compose_s)


def render(
    env: BoundedEnvironment, settings: SmtpSettings, digests: tuple[DigestPlan, ...], tag: str
) -> Rendered:
    """Each digest's email, as the worker's `render_plan` builds it; keys unique per `tag`."""
    messages: list[tuple[str, bytes]] = []
    ids: set[str] = set()
    templates_s = compose_s = 0.0
    for i, digest in enumerate(digests):
        key = f"msg_bench-{tag}-{i}"
        start = time.perf_counter()
        message = render_digest(env, digest, zone=ZONE)
        middle = time.perf_counter()
        subject = quote(f"unsubscribe {SUBSCRIPTION} {digest.target}")
        envelope = Envelope(
            key,
            unsubscribe_url=unsubscribe_url(
                PUBLIC_URL, SECRET, SUBSCRIPTION, digest.target, f"dig_bench-{tag}"
            ),
            unsubscribe_mailto=f"mailto:{UNSUBSCRIBE_MAILTO}?subject={subject}",
        )
        payload = compose(digest, envelope, message, settings=settings, recipient=digest.target)
        end = time.perf_counter()
        templates_s += middle - start
        compose_s += end - middle
        messages.append((digest.target, payload.body))
        ids.add(message_id(key))
    return Rendered(messages, ids, templates_s, compose_s)


async def send(
    sink: SmtpSink, settings: SmtpSettings, rendered: Rendered, batch: int
) -> tuple[float, set[str]]:
    """Send every message, `batch` per connection; (messages/s, the Message-IDs received)."""
    sink.mails.clear()
    messages = rendered.messages
    start = time.perf_counter()
    results = []
    for i in range(0, len(messages), batch):
        results += await send_batch(settings, messages[i : i + batch])
    elapsed = time.perf_counter() - start
    failed = [r.detail for r in results if not r.ok]
    assert len(results) == len(messages), f"{len(results)} results for {len(messages)} messages"
    assert not failed, f"{len(failed)} sends failed, first: {failed[0]}"
    received = sink.mails
    assert len(received) == len(messages), f"server received {len(received)} of {len(messages)}"
    recipients = sorted(r for mail in received for r in mail.recipients)
    assert recipients == sorted(to for to, _ in messages), "recipients differ from the digests'"
    ids = {str(mail.message["Message-ID"]) for mail in received}
    assert ids == rendered.message_ids, f"{len(ids)} distinct Message-IDs, not those composed"
    return len(messages) / elapsed, ids


PER_MESSAGE = "one connection per message"
BATCHED = f"reused, batches of {SMTP_BATCH}"
ONE_BATCH = f"reused, one batch of {DIGESTS}"
MODES = {PER_MESSAGE: 1, BATCHED: SMTP_BATCH, ONE_BATCH: DIGESTS}
ROW = "{:<30} {:>10} {:>10} {:>9} {:>15}"


async def run() -> None:
    digests = plan_digests(seed_alerts())
    env = make_environment()
    sink = await SmtpSink().start()
    settings = SmtpSettings(
        host="127.0.0.1", port=sink.port, timeout=10.0, unsubscribe_mailto=UNSUBSCRIBE_MAILTO
    )
    rates: dict[str, list[float]] = {mode: [] for mode in MODES}
    renders: list[Rendered] = []
    seen: set[str] = set()
    try:
        # untimed: imports, templates, CSS inliner and connection code paths warm
        await send(sink, settings, render(env, settings, digests[:SMTP_BATCH], "warm"), 5)
        for r in range(ROUNDS):
            order = list(MODES)[r % len(MODES) :] + list(MODES)[: r % len(MODES)]
            for mode in order:
                rendered = render(env, settings, digests, f"r{r}-b{MODES[mode]}")
                renders.append(rendered)
                rate, ids = await send(sink, settings, rendered, MODES[mode])
                assert not ids & seen, "Message-IDs repeat across runs"
                seen |= ids
                rates[mode].append(rate)
    finally:
        await sink.stop()
    assert len(seen) == ROUNDS * len(MODES) * DIGESTS

    median = {mode: statistics.median(values) for mode, values in rates.items()}
    render_rate = statistics.median(r.per_s for r in renders)
    templates_ms = statistics.median(1000 * r.templates_s / DIGESTS for r in renders)
    compose_ms = statistics.median(1000 * r.compose_s / DIGESTS for r in renders)
    size = statistics.median(len(data) for r in renders for _, data in r.messages)
    baseline = median[PER_MESSAGE]

    story = digests[0].stories[0]
    print(
        f"{DIGESTS} digests (1 story, {len(story.matches)} rules) to 127.0.0.1:{settings.port} "
        f"(in-process aiosmtpd), {size:,.0f} bytes each, median of {ROUNDS} rounds"
    )
    print(f"subject {digests[0].subject!r}")
    print(ROW.format("mode", "per s", "ms each", "speedup", "rounds per s"))
    for mode, rate in median.items():
        spread = f"{min(rates[mode]):.0f}-{max(rates[mode]):.0f}"
        speed = f"{rate / baseline:.2f}x"
        print(ROW.format(mode, f"{rate:.1f}", f"{1000 / rate:.2f}", speed, spread))
    render_ms = f"{1000 / render_rate:.2f}"
    print(ROW.format("render only (no send)", f"{render_rate:.1f}", render_ms, "", ""))
    print(ROW.format("  of which templates", "", f"{templates_ms:.2f}", "", ""))
    print(ROW.format("  of which compose", "", f"{compose_ms:.2f}", "", ""))
    speedup = median[BATCHED] / baseline
    print(
        f"{BATCHED} vs {PER_MESSAGE}: {speedup:.2f}x; every send ok, {DIGESTS} received per run, "
        f"{len(seen)} Message-IDs all distinct"
    )
    rows: list[dict[str, object]] = [
        {"mode": mode, "batch": MODES[mode], "messages_per_s": round(rate, 1)}
        for mode, rate in median.items()
    ]
    rows.append(
        {
            "mode": "render only",
            "renders_per_s": round(render_rate, 1),
            "templates_ms": round(templates_ms, 3),
            "compose_ms": round(compose_ms, 3),
            "bytes": int(size),
        }
    )
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
    try:
        asyncio.run(asyncio.wait_for(run(), DEADLINE))
    except TimeoutError:
        sys.exit(f"bench/deliver.py: not done within the {DEADLINE:g} s deadline")


if __name__ == "__main__":
    main()
