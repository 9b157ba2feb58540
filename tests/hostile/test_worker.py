"""An operator's worst day, end to end: a real `monitor run` process with hostile feeds,
operator input and stuck work beside the seed story. Each test asserts the clear error in the
log, the worker still running, and nothing lost (the seed story's alerts are delivered)."""

from __future__ import annotations

import shutil
from xml.sax.saxutils import escape

from aiohttp import web

from monitor.resources import rules_dir
from tests.hostile.worker import Worker
from tests.localhttp import local_server
from tests.worker.test_pipeline import config_text

SEED_RULES = ["ceasefire", "displacement-figures", "envoy-travel"]


def rss_item(guid: str, title: str, description: str) -> str:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        f"<item><title>{escape(title)}</title><guid>{escape(guid)}</guid>"
        f"<description>{escape(description)}</description></item></channel></rss>"
    )


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10)
    )
    + ']><rss version="2.0"><channel><title>&lol9;</title></channel></rss>'
)

HOSTILE_FEEDS = {
    "/malformed": "<rss><channel><item><title>unclosed",
    "/laughs": BILLION_LAUGHS,
    # one endless sentence of triggers, figures and places (100 KB took 40 s to match once),
    # with a script for a link
    "/endless": rss_item(
        "javascript:alert(4)",
        "Displaced\r\n<b>families</b> flee",
        "displaced 40,000 people fled to Moscow ceasefire " * 4000,
    ),
    "/not-a-feed": "<html><body>Nothing here</body></html>",
}


def seed_alerts(webhook_sink) -> dict[str, list[str]]:
    """Rule -> article URLs the webhook received."""
    alerts: dict[str, list[str]] = {}
    for hook in webhook_sink.hooks:
        for alert in hook.json()["alerts"]:
            alerts.setdefault(alert["rule"], []).append(alert["article"]["url"] or "")
    return alerts


async def test_hostile_feeds_cost_nothing_of_the_seed_story(
    seed_site, smtp_sink, webhook_sink, write_config, environ
):
    async with local_server() as server:
        for path, body in HOSTILE_FEEDS.items():
            server.routes[path] = lambda _r, body=body: _respond(body)
        feeds = [server.url(path) for path in HOSTILE_FEEDS] + [f"{seed_site}/rss"]
        worker = await Worker.start(
            write_config(config_text(feeds, smtp_sink.port, webhook_sink.url)), environ
        )
        try:
            await worker.until(lambda: smtp_sink.mails and webhook_sink.hooks)
            await worker.until(lambda: set(SEED_RULES) <= set(seed_alerts(webhook_sink)))
            assert worker.process.returncode is None  # still running
        finally:
            code = await worker.stop()
    assert code == 0, worker.log
    for rule in SEED_RULES:  # nothing lost
        assert any("un-syria-peace-envoy" in url for url in seed_alerts(webhook_sink)[rule])
    # only http(s) links leave the worker; the title is one line of plain text
    for hook in webhook_sink.hooks:
        assert "javascript:" not in hook.body.decode()
        assert "<b>" not in hook.body.decode()
    for mail in smtp_sink.mails:
        assert "javascript:" not in mail.part("text/html") + mail.part("text/plain")
        assert "\n" not in mail.message["Subject"]
    # each broken feed is named in the log, and nothing crashed
    assert server.url("/not-a-feed") in worker.log
    assert "Traceback" not in worker.log, worker.log


async def _respond(body: str) -> web.Response:
    return web.Response(text=body, content_type="application/rss+xml")


async def test_operator_mistakes_cost_nothing(
    seed_site, smtp_sink, webhook_sink, write_config, environ, tmp_path
):
    rules = tmp_path / "rules"
    shutil.copytree(rules_dir(), rules)
    templates = tmp_path / "templates"
    templates.mkdir()
    # a subject that loops without writing: no output cap would ever stop it
    (templates / "subject.txt.j2").write_text(
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    )
    text = config_text([f"{seed_site}/rss"], smtp_sink.port, webhook_sink.url)
    text = text.replace(f"rules: {rules_dir()}", f"rules: {rules}\ntemplates: {templates}")
    worker = await Worker.start(write_config(text), environ)
    try:
        await worker.logged("worker started")
        # a rule file of megabytes lands while the worker runs: refused, said once, clearly
        big = rules / "huge.yaml"
        big.write_text("rules:\n" + "# padding\n" * 150_000)
        await worker.logged(f"rules not reloaded: {big}:1:1: rule file is 1.5 MB")
        # the digest goes out with the shipped templates, the operator's error in the log
        await worker.until(lambda: smtp_sink.mails and webhook_sink.hooks)
        assert "subject.txt.j2 ran longer than 2 s" in worker.log
        assert worker.process.returncode is None
    finally:
        code = await worker.stop()
    assert code == 0, worker.log
    assert "40,000 displaced in Syria" in smtp_sink.mails[0].message["Subject"]
    assert sorted(seed_alerts(webhook_sink)) == SEED_RULES


STUCK_IN_A_THREAD = """\
import sys, threading
import monitor.worker.ingest as ingest
import monitor.worker.scheduler as scheduler

def stuck(*args, **kwargs):
    print("matching is stuck", file=sys.stderr, flush=True)
    threading.Event().wait()  # a library call that never returns and cannot be cancelled

if __name__ == "__main__":  # the extraction pool's processes import this module too
    ingest.match_article = stuck
    scheduler.EXIT_SECONDS = 3.0
    from monitor.cli import main
    main(["run", "-c", sys.argv[1]])
"""


async def test_sigterm_ends_the_worker_whatever_is_stuck(
    seed_site, write_config, environ, tmp_path
):
    path = write_config(
        f'rules: {rules_dir()}\nallow_private_networks: true\nfeeds: [{{url: "{seed_site}/rss"}}]\n'
    )
    script = tmp_path / "stuck.py"
    script.write_text(STUCK_IN_A_THREAD)
    worker = await Worker.start(path, environ, str(script), str(path))
    await worker.logged("matching is stuck")
    code = await worker.stop(timeout=30)
    assert code == 70, worker.log
    assert "did not stop within 3 s of the signal: exiting" in worker.log
