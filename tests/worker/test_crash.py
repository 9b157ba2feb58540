"""A worker killed between storing an article and storing its alerts loses no alert: the
article, its alerts and their figure history are one transaction, so after the restart the
entry is new again and alerted."""

import asyncio
import json
import sys

from monitor.store import Store
from tests.worker.test_pipeline import config_text

# Runs one cycle in which the process dies (os._exit: no cleanup, no commit, like kill -9)
# at its first alert, right after the article was written in the same transaction.
CRASH_AT_FIRST_ALERT = """\
import os, sys
import monitor.worker.ingest as ingest

def die(*args, **kwargs):
    os._exit(9)

if __name__ == "__main__":  # the extraction pool's processes import this module too
    ingest.record_alert = die
    from monitor.cli import main
    main(["once", "--all", "-c", sys.argv[1]])
"""


async def run(*args, env):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode, out.decode(), err.decode()


async def test_a_kill_between_article_and_alerts_loses_no_alert(
    seed_site, smtp_sink, webhook_sink, write_config, environ
):
    path = write_config(config_text([f"{seed_site}/rss"], smtp_sink.port, webhook_sink.url))
    crash = path.parent / "crash_at_first_alert.py"
    crash.write_text(CRASH_AT_FIRST_ALERT)
    # `run` reads the killed process's output to its end: it ends only once the extraction
    # pool's processes, which share it, have exited with their worker (no orphans)
    code, _, err = await run(str(crash), str(path), env=environ)
    assert code == 9, err
    assert webhook_sink.hooks == [] and smtp_sink.mails == []
    store = Store(f"sqlite:///{path.parent / 'monitor.db'}")
    assert store.alerts_after(0) == []  # the article was not kept without its alerts
    store.close()

    # the restarted worker takes over the killed one's feed lease at once
    code, out, err = await run("-m", "monitor", "once", "--all", "-c", str(path), env=environ)
    assert code == 0, err
    assert "3 alerts" in out
    [hook] = webhook_sink.hooks
    rules = sorted(alert["rule"] for alert in json.loads(hook.body)["alerts"])
    assert rules == ["ceasefire", "displacement-figures", "envoy-travel"]
    assert len(smtp_sink.mails) == 1

    # and nothing is repeated: a third cycle alerts nothing
    code, out, _ = await run("-m", "monitor", "once", "--all", "-c", str(path), env=environ)
    assert code == 0 and "0 alerts" in out and len(webhook_sink.hooks) == 1
