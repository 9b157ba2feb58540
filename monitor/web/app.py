"""The worker's web endpoint: one aiohttp application that each feature mounts its routes on
(health and metrics, the unsubscribe pages, the digest pages), with the headers every
response carries.

`monitor run` serves it when the config has an `http:` section, on `http.listen`
(127.0.0.1:8080 unless told otherwise: loopback, so nothing is exposed by accident).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from monitor.config import Config, HttpConfig
from monitor.digest.render import highlight
from monitor.metrics import Metrics
from monitor.status import utc_text
from monitor.store import Store

__all__ = ["CONFIG", "METRICS", "PAGES", "READY_WITHIN", "STORE", "make_app", "page", "serving"]

CONFIG = web.AppKey("config", Config)
STORE = web.AppKey("store", Store)
PAGES = web.AppKey("pages", Environment)
METRICS = web.AppKey("metrics", Metrics)
READY_WITHIN = web.AppKey("ready_within", object)  # float | None

# Nothing we accept is larger than a short form; a bigger body is refused before it is read.
MAX_BODY_BYTES = 16 * 1024

# Every response: no scripts, frames or foreign forms; no URL (which may hold a token) leaks
# through a Referer header, nor into a cache.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# The console's URLs hold no secret, and its forms are checked by their Origin, which a
# browser sends as "null" under no-referrer: within the site, the console says same-origin.
CONSOLE_HEADERS = {**SECURITY_HEADERS, "Referrer-Policy": "same-origin"}


@web.middleware
async def _security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    headers = CONSOLE_HEADERS if request.path.startswith("/console") else SECURITY_HEADERS
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # 404, 405, 413...: the same headers
        exc.headers.update(headers)
        raise
    for name, value in headers.items():  # a page may be stricter (a sandboxed preview)
        response.headers.setdefault(name, value)
    return response


def make_app(
    config: Config,
    store: Store,
    *,
    metrics: Metrics | None = None,
    ready_within: float | None = None,
) -> web.Application:
    """The application with every feature mounted; the caller owns `store`. `metrics` are
    the running worker's (a fresh set otherwise); `/readyz` fails when its last poll pass is
    older than `ready_within` seconds."""
    from monitor.web import digest, health, unsubscribe

    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_security_headers])
    app[CONFIG] = config
    app[STORE] = store
    if metrics is None:
        metrics = Metrics()
        metrics.watch(store)
    app[METRICS] = metrics
    app[READY_WITHIN] = ready_within
    app[PAGES] = Environment(
        loader=PackageLoader("monitor.web", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    app[PAGES].filters["utc"] = utc_text
    app[PAGES].filters["highlight"] = highlight  # a match's hits in its snippets, <mark>ed
    health.mount(app)
    unsubscribe.mount(app)
    digest.mount(app)
    if config.console is not None:
        from monitor.web import console

        console.mount(app)
    return app


def listening_on(config: Config, listen: str) -> Config:
    """`config` serving its web endpoint on `listen` ("HOST:PORT", as `monitor run --http`
    says), whatever `http.listen` says; without an `http:` section, health and metrics only
    (no public URL or key: no unsubscribe links)."""
    host, _, port = listen.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--http {listen}: say HOST:PORT, e.g. 127.0.0.1:8080")
    host = host.strip("[]") or "127.0.0.1"
    if config.http is None:
        return replace(config, http=HttpConfig(host, int(port), None, None))
    return replace(config, http=replace(config.http, host=host, port=int(port)))


def page(request: web.Request, template: str, status: int = 200, **context: object) -> web.Response:
    """An HTML page rendered from `monitor/web/templates`."""
    html = request.app[PAGES].get_template(template).render(**context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


@asynccontextmanager
async def serving(app: web.Application, host: str, port: int) -> AsyncIterator[str]:
    """Serve `app` on host:port (0 picks a free port) until the block ends; yields its URL."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        yield f"http://{shown}:{bound_port}"
    finally:
        await runner.cleanup()
