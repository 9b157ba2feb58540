"""Every console page: the shared frame (navigation, who is logged in, the CSRF token) around
a template of `monitor/web/templates/console/`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from monitor.web.app import PAGES
from monitor.web.console.auth import SESSION, SIGNING_KEY, csrf_token

# (path, label) of the navigation, in order
NAVIGATION = (
    ("/console/", "Overview"),
    ("/console/alerts", "Alerts"),
    ("/console/rules", "Rules"),
    ("/console/silences", "Silences"),
    ("/console/subscriptions", "Subscriptions"),
)


def render(
    request: web.Request, template: str, *, title: str, code: int = 200, **context: Any
) -> web.Response:
    """`template` in the console's frame; `session` and `csrf_token` are in its context."""
    session = request[SESSION]
    html = (
        request.app[PAGES]
        .get_template(template)
        .render(
            title=title,
            navigation=NAVIGATION,
            here=request.path,
            session=session,
            csrf_token=csrf_token(request.app[SIGNING_KEY], session),
            **context,
        )
    )
    return web.Response(text=html, status=code, content_type="text/html", charset="utf-8")
