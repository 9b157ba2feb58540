"""`monitor demo`: the whole pipeline once on the seed story, against servers it starts itself
on 127.0.0.1 (the seed publisher's site, an SMTP server, a webhook receiver). No internet."""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from monitor import resources
from monitor.config import load_config
from monitor.demo.seedsite import start_seed_site
from monitor.demo.sinks import SmtpSink, WebhookSink
from monitor.worker.pipeline import CycleReport, open_runtime, run_cycle

DEMO_RULES = ["displacement-figures", "envoy-travel", "ceasefire"]


@dataclass
class DemoResult:
    report: CycleReport
    smtp: SmtpSink
    webhook: WebhookSink


def demo_config(feed_url: str, smtp_port: int, webhook_url: str, rules: Path) -> str:
    return f"""\
database: sqlite:///demo.db
rules: {rules}
allow_private_networks: true     # the demo's servers live on 127.0.0.1
feeds:
  - url: {feed_url}
    tags: [mideast]
smtp: {{host: 127.0.0.1, port: {smtp_port}, from: "News Monitor <alerts@news-monitor.example>"}}
subscriptions:
  - name: humanitarian-desk
    email: desk@example.org
    rules: [{", ".join(DEMO_RULES)}]
    schedule: immediate
  - name: case-system
    webhook: {{url: {webhook_url}/hooks/news, format: generic, secret_env: DEMO_WEBHOOK_SECRET}}
    rules: [{", ".join(DEMO_RULES)}]
    schedule: immediate
"""


async def run_demo(workdir: Path | None = None, rules: Path | None = None) -> DemoResult:
    """Start the local servers, run one cycle over every feed, return what they received."""
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    site_runner, site_url = await start_seed_site()
    smtp = await SmtpSink().start()
    webhook = await WebhookSink(secret=secret).start()
    try:
        with tempfile.TemporaryDirectory(prefix="monitor-demo-") as tmp:
            folder = workdir or Path(tmp)
            path = folder / "monitor.yaml"
            path.write_text(
                demo_config(
                    f"{site_url}/rss", smtp.port, webhook.url, rules or resources.rules_dir()
                )
            )
            config = load_config(path, {**os.environ, "DEMO_WEBHOOK_SECRET": secret})
            async with open_runtime(config) as rt:
                report = await run_cycle(rt, poll_all=True)
    finally:
        await webhook.stop()
        await smtp.stop()
        await site_runner.cleanup()
    return DemoResult(report, smtp, webhook)


def describe(result: DemoResult) -> str:
    """What the demo prints: the email digest as received, then the webhook's summary."""
    lines: list[str] = []
    for mail in result.smtp.mails:
        lines += [
            f"=== email received by the SMTP server for {', '.join(mail.recipients)} ===",
            f"Subject: {mail.message['Subject']}",
            f"Message-ID: {mail.message['Message-ID']}",
            "",
            mail.part("text/plain").rstrip(),
            "",
        ]
    for hook in result.webhook.hooks:
        payload = hook.json()
        signed = "valid" if hook.signature_valid else "INVALID"
        lines.append(
            f"=== webhook received on {hook.path} "
            f"(signature {signed}, webhook-id {hook.headers.get('webhook-id')}) ==="
        )
        for alert in payload.get("alerts", []):
            figures = ", ".join(f["text"] for f in alert.get("figures", []))
            captures = "; ".join(
                f"{k}: {', '.join(v)}" for k, v in alert.get("captures", {}).items()
            )
            detail = " | ".join(x for x in (figures, captures) if x)
            lines.append(
                f"- {alert['rule']}: {alert['article']['title']}{' | ' + detail if detail else ''}"
            )
        lines.append("")
    if not result.smtp.mails and not result.webhook.hooks:
        lines.append("demo: no digest was received (see the log above)")
    return "\n".join(lines)
