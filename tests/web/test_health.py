"""A worker you can see: `monitor run --http` answers /healthz, /readyz and /metrics while it
polls the seed site and mails the seed story; SIGHUP reloads its config (a broken one is
refused, the worker goes on); SIGTERM says what it did since it started."""

from __future__ import annotations

import asyncio
import inspect
import re
import signal

import aiohttp
import pytest
from sqlalchemy import create_engine

from monitor.metrics import Metrics, fetch_error_kind
from monitor.store import Store
from monitor.web.app import make_app, serving
from tests.hostile.worker import Worker
from tests.web.test_unsubscribe import free_port
from tests.worker.test_pipeline import config_text


def sample(metrics_text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of the Prometheus text, or None if it is absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}{re.escape('{' + wanted + '}') if labels else ''} (\S+)$"
    found = re.search(pattern, metrics_text, re.M)
    return float(found.group(1)) if found else None


async def until(condition, what: str, seconds: float = 60) -> None:
    """Wait (bounded) for `condition()`, a bool or an awaitable of one."""
    for _ in range(int(seconds * 10)):
        holds = condition()
        if await holds if inspect.isawaitable(holds) else holds:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never: {what}")


async def test_a_running_worker_is_seen_over_http_and_reloads_on_sighup(
    seed_site, smtp_sink, webhook_sink, write_config, environ, tmp_path
):
    port = free_port()
    text = config_text([f"{seed_site}/rss"], smtp_sink.port, webhook_sink.url)
    path = write_config(text)
    worker = await Worker.start(
        path, environ, "-m", "monitor", "run", "-c", str(path), "--http", f"127.0.0.1:{port}"
    )
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:

        async def status(route: str) -> int:
            try:
                async with http.get(base + route) as response:
                    return response.status
            except aiohttp.ClientConnectionError:
                return 0

        async def metrics() -> str:
            async with http.get(base + "/metrics") as response:
                assert response.headers["Content-Type"].startswith("text/plain; version=")
                return await response.text()

        try:
            await worker.logged(f"serving {base}")
            assert await status("/healthz") == 200
            await until(lambda: _ready(status), "ready")
            await until(lambda: bool(smtp_sink.mails), "the seed story mailed")

            async def delivered() -> bool:
                return (
                    sample(
                        await metrics(), "monitor_deliveries_total", channel="email", status="sent"
                    )
                    == 1
                )

            await until(delivered, "the delivery counted")
            seen = await metrics()
            assert sample(seen, "monitor_polls_total", outcome="ok") >= 1
            assert sample(seen, "monitor_articles_total") == 1
            for rule in ("displacement-figures", "envoy-travel", "ceasefire"):
                assert sample(seen, "monitor_matches_total", rule=rule) == 1
                assert sample(seen, "monitor_alerts_total", rule=rule) == 1
            assert sample(seen, "monitor_extraction_seconds_count") == 1
            assert sample(seen, "monitor_outbox_rows", status="sent") == 2
            assert sample(seen, "monitor_outbox_oldest_pending_seconds") == 0
            assert sample(seen, "monitor_last_cycle_timestamp_seconds") > 1.7e9

            # SIGHUP: a second feed, applied without a restart
            path.write_text(
                config_text(
                    [f"{seed_site}/rss", f"{seed_site}/rss?again=1"],
                    smtp_sink.port,
                    webhook_sink.url,
                )
            )
            worker.process.send_signal(signal.SIGHUP)
            await worker.logged("config reloaded: 2 feeds, 3 rules, 2 subscriptions")
            # a broken config is refused with its place, and the worker goes on
            path.write_text(text.replace("feeds:", "feeds: oops\nfeeds:"))
            worker.process.send_signal(signal.SIGHUP)
            await worker.logged("config not reloaded: ")
            assert re.search(rf"config not reloaded: {re.escape(str(path))}:\d+:\d+: ", worker.log)
            assert await status("/healthz") == 200
        finally:
            code = await worker.stop()
    assert code == 0, worker.log
    assert re.search(
        r"since start: polled \d+ feeds \(0 failed\), 1 new articles, 3 alerts", worker.log
    )
    assert "Traceback" not in worker.log
    assert "maximum number of running instances" not in worker.log


async def _ready(status) -> bool:
    return await status("/readyz") == 200


async def test_readyz_says_why_it_is_not_ready(tmp_path, write_config):
    path = write_config("feeds: [{url: 'https://example.org/rss'}]\n")
    from monitor.config import load_config

    config = load_config(path, {})
    store = Store(f"sqlite:///{tmp_path}/monitor.db")
    metrics = Metrics()
    app = make_app(config, store, metrics=metrics, ready_within=30.0)
    async with serving(app, "127.0.0.1", 0) as base, aiohttp.ClientSession() as http:

        async def readyz() -> tuple[int, str]:
            async with http.get(f"{base}/readyz") as response:
                return response.status, await response.text()

        assert await readyz() == (503, "not ready: no poll pass yet\n")
        metrics.cycle_done()
        assert await readyz() == (200, "ready\n")
        # a database that does not answer: a real PostgreSQL URL where nothing listens
        store.engine = create_engine("postgresql+psycopg://monitor@127.0.0.1:1/monitor")
        status, body = await readyz()
        assert status == 503 and body.startswith("not ready: database: OperationalError: ")
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200  # alive all the same
    store.close()


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        ("fetch: timed out after 10s", None, "timeout"),
        ("fetch: status 503 (server error)", 503, "http_5xx"),
        ("fetch: status 404 (not found)", 404, "http_4xx"),
        ("fetch: refused http://10.0.0.1/ (private address)", None, "refused"),
        ("fetch: cannot resolve host (x.invalid: Name or service not known)", None, "dns"),
        ("fetch: connection refused (127.0.0.1:1)", None, "connection"),
        ("fetch: body larger than 10485760 bytes", None, "too_large"),
        ("feed: malformed XML (not well-formed), no entries", None, "not_a_feed"),
        ("something new", None, "other"),
    ],
)
def test_fetch_errors_are_counted_by_a_few_kinds(error, status, kind):
    assert fetch_error_kind(error, status) == kind


async def test_the_docker_healthcheck_command_passes_against_healthz(tmp_path, write_config):
    import json
    import subprocess
    import sys

    from monitor.config import load_config
    from tests.conftest import REPO

    dockerfile = (REPO / "Dockerfile").read_text()
    [command] = re.findall(r"^\s+CMD (\[.*\])$", dockerfile, re.M)
    argv = json.loads(command)
    assert "http://127.0.0.1:8080/healthz" in argv[-1]
    assert '"--http", "0.0.0.0:8080"' in dockerfile  # what the healthcheck reaches
    config = load_config(write_config("feeds: [{url: 'https://example.org/rss'}]\n"), {})
    store = Store(f"sqlite:///{tmp_path}/monitor.db")
    async with serving(make_app(config, store), "127.0.0.1", 0) as base:
        argv[-1] = argv[-1].replace("http://127.0.0.1:8080", base)
        checked = await asyncio.to_thread(
            subprocess.run, [sys.executable, *argv[1:]], capture_output=True, timeout=30
        )
    store.close()
    assert checked.returncode == 0, checked.stderr
