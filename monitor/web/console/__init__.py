"""The operator's console at `/console/`: server-rendered pages behind a login, on the
worker's web endpoint. Each page module has `routes(app)`; this package adds the login."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from monitor.web.app import CONFIG, page
from monitor.web.console import alerts, auth, overview, rules, silences, story, subscriptions


def mount(app: web.Application) -> None:
    http = app[CONFIG].http
    app[auth.SIGNING_KEY] = auth.signing_key(http.secret if http is not None else None)
    app[auth.FAILURES] = {}
    app.router.add_get("/console", _to_console)
    app.router.add_get("/console/login", login_page)
    app.router.add_post("/console/login", login)
    app.router.add_post("/console/logout", logout)
    for module in (overview, subscriptions, rules, silences, alerts, story):
        module.routes(app)


async def _to_console(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently("/console/")


async def login_page(request: web.Request) -> web.Response:
    if auth.session_of(request) is not None:
        raise web.HTTPSeeOther(auth.safe_next(request.query.get("next")))
    return page(request, "console/login.html.j2", next=auth.safe_next(request.query.get("next")))


async def login(request: web.Request) -> web.StreamResponse:
    if not auth._same_origin(request):
        raise web.HTTPForbidden(text="this form did not come from the console")
    form = await request.post()
    target = auth.safe_next(str(form.get("next", "")))
    now = time.monotonic()
    if auth.locked_out(request, now):
        problem = "Too many wrong passwords: wait a minute."
        return page(request, "console/login.html.j2", status=429, next=target, problem=problem)
    # scrypt takes tens of milliseconds: not on the event loop
    role = await asyncio.to_thread(auth.role_for, request, str(form.get("password", "")))
    if role is None:
        auth.note_failure(request, now)
        problem = "Wrong password."
        return page(request, "console/login.html.j2", status=401, next=target, problem=problem)
    response = web.HTTPSeeOther(target)
    auth.set_session(request, response, role)
    raise response


@auth.viewer
async def logout(request: web.Request) -> web.StreamResponse:
    response = web.HTTPSeeOther("/console/login")
    response.del_cookie(auth.COOKIE, path="/console")
    raise response
