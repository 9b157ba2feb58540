"""Is the worker alive, ready, and what has it done: for orchestrators and Prometheus.

- `/healthz`: the process answers (its event loop runs): 200.
- `/readyz`: the database answers and a poll pass ran recently: 200, else 503 with the reason.
- `/metrics`: Prometheus text format (`monitor.metrics`).
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from monitor.web.app import METRICS, READY_WITHIN, STORE

# a database slower than this to say "SELECT 1" is not ready
DATABASE_SECONDS = 5.0


def mount(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


def _ping(request: web.Request) -> None:
    with request.app[STORE].engine.connect() as conn:
        conn.execute(text("SELECT 1"))


async def readyz(request: web.Request) -> web.Response:
    problems = []
    try:
        await asyncio.wait_for(asyncio.to_thread(_ping, request), DATABASE_SECONDS)
    except TimeoutError:
        problems.append(f"database: no answer within {DATABASE_SECONDS:g} s")
    except Exception as exc:  # noqa: BLE001 - any failure to reach it is the answer
        problems.append(f"database: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    within = request.app[READY_WITHIN]
    if isinstance(within, float | int):
        since = request.app[METRICS].seconds_since_cycle()
        if since is None:
            problems.append("no poll pass yet")
        elif since > within:
            problems.append(f"last poll pass {since:.0f} s ago (more than {within:.0f} s)")
    if problems:
        return web.Response(status=503, text="not ready: " + "; ".join(problems) + "\n")
    return web.Response(text="ready\n")


async def metrics(request: web.Request) -> web.Response:
    body = await asyncio.to_thread(request.app[METRICS].exposition)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
