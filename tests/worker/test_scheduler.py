"""`monitor run`: the worker delivers on its own, stops cleanly on SIGTERM, reloads rules."""

import asyncio
import logging
import shutil
import signal
import sys
from types import SimpleNamespace

from monitor.metrics import Metrics
from monitor.resources import rules_dir
from monitor.rules.load import load_rules
from monitor.worker.scheduler import RuleWatcher
from tests.worker.test_pipeline import config_text


async def start_worker(path, environ):
    """`monitor run -c PATH` as its own process, as an operator starts it."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        "run",
        "-c",
        str(path),
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_worker_delivers_then_stops_on_sigterm(
    seed_site, smtp_sink, webhook_sink, write_config, environ
):
    path = write_config(config_text([f"{seed_site}/rss"], smtp_sink.port, webhook_sink.url))
    worker = await start_worker(path, environ)
    try:
        await asyncio.wait_for(smtp_sink.arrived.wait(), timeout=60)
        for _ in range(100):  # bounded: the webhook digest follows the email within the same cycle
            if webhook_sink.hooks:
                break
            await asyncio.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(worker.communicate(), timeout=30)
    assert worker.returncode == 0, stderr.decode()
    assert len(smtp_sink.mails) == 1 and len(webhook_sink.hooks) == 1
    log = stderr.decode()
    assert "worker started" in log and "worker stopped" in log


def test_rule_watcher_applies_valid_changes_and_keeps_the_last_good_set(tmp_path, caplog):
    folder = tmp_path / "rules"
    shutil.copytree(rules_dir(), folder)
    runtime = SimpleNamespace(rules=load_rules([folder]), config=SimpleNamespace(subscriptions=()))
    metrics = Metrics()
    watcher = RuleWatcher((folder,), metrics)
    assert watcher.check(runtime) is False

    extra = folder / "extra.yaml"
    extra.write_text("rules:\n  - id: quake\n    match: {any: [earthquake*]}\n")
    assert watcher.check(runtime) is True
    assert "quake" in runtime.rules.ids

    good = runtime.rules
    with caplog.at_level(logging.ERROR, logger="monitor.worker.scheduler"):
        extra.write_text("rules:\n  - id: quake\n    match: {any: [earthquake*]}\n    oops: 1\n")
        assert watcher.check(runtime) is False
    assert runtime.rules is good
    assert f"{extra}:4:5: unknown key 'oops' in rules.0" in caplog.text
    reloads = metrics.exposition().decode()
    assert 'monitor_rule_reloads_total{outcome="ok"} 1.0' in reloads
    assert 'monitor_rule_reloads_total{outcome="failed"} 1.0' in reloads


def test_a_reload_that_drops_a_subscribed_rule_is_refused(tmp_path, write_config, caplog):
    from monitor.config import load_config

    folder = tmp_path / "rules"
    shutil.copytree(rules_dir(), folder)
    config = load_config(
        write_config(
            f"rules: {folder}\nfeeds: [{{url: 'https://example.org/rss'}}]\n"
            "subscriptions:\n  - name: desk\n    webhook: {url: 'https://example.org/h'}\n"
            "    rules: [envoy-travel]\n"
        ),
        {},
    )
    runtime = SimpleNamespace(rules=load_rules([folder]), config=config)
    watcher = RuleWatcher((folder,), Metrics())
    (folder / "diplomacy.yaml").unlink()
    with caplog.at_level(logging.ERROR, logger="monitor.worker.scheduler"):
        assert watcher.check(runtime) is False
    assert "envoy-travel" in runtime.rules.ids
    assert "subscription 'desk': unknown rule 'envoy-travel'" in caplog.text


async def test_sigterm_during_a_poll_stops_without_a_traceback(write_config, environ):
    from tests.localhttp import local_server

    async with local_server() as server:
        arrived = asyncio.Event()

        async def slow_feed(_request):
            arrived.set()
            await server.hang()  # the poll is still running when SIGTERM comes
            raise AssertionError("unreachable: the worker stopped first")

        server.routes["/slow"] = slow_feed
        path = write_config(
            f'rules: {rules_dir()}\nallow_private_networks: true\nfeeds: [{{url: "{server.url("/slow")}"}}]\n'
        )
        worker = await start_worker(path, environ)
        try:
            await asyncio.wait_for(arrived.wait(), timeout=60)
        finally:
            worker.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(worker.communicate(), timeout=30)
    log = stderr.decode()
    assert worker.returncode == 0, log
    assert "worker stopped" in log
    assert "Traceback" not in log and "raised an exception" not in log, log
