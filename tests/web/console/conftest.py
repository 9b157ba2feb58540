"""A console on a real store: the app served on 127.0.0.1, a client that logs in the way a
browser does (the form, the cookie, the CSRF token of the page)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from monitor.config import load_config
from monitor.resources import rules_dir
from monitor.store import Store
from monitor.web.app import make_app, serving

OPERATOR_PASSWORD = "correct horse battery staple"
VIEWER_PASSWORD = "just looking around"


@dataclass
class Console:
    base: str
    store: Store
    http: aiohttp.ClientSession

    async def login(self, password: str = OPERATOR_PASSWORD) -> aiohttp.ClientResponse:
        async with self.http.post(
            f"{self.base}/console/login",
            data={"password": password, "next": "/console/"},
            allow_redirects=False,
        ) as response:
            await response.read()
            return response

    async def page(self, path: str) -> tuple[int, str]:
        async with self.http.get(self.base + path) as response:
            return response.status, await response.text()

    async def csrf(self, path: str = "/console/") -> str:
        _, html = await self.page(path)
        return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def console_config(
    tmp_path, write_config, *, extra: str = "", feeds: str | None = None, hook: str | None = None
):
    text = f"""\
database: sqlite:///{tmp_path}/monitor.db
rules: {rules_dir()}
feeds: {feeds or '[{url: "https://example.org/rss"}]'}
console: {{viewer_password_env: VIEWER_PASSWORD}}
subscriptions:
  - name: desk
    webhook: {{url: "{hook or "https://example.org/hook"}"}}
    rules: [ceasefire]
{extra}"""
    env = {"MONITOR_CONSOLE_PASSWORD": OPERATOR_PASSWORD, "VIEWER_PASSWORD": VIEWER_PASSWORD}
    return load_config(write_config(text), env)


@pytest.fixture
async def console(tmp_path, write_config) -> AsyncIterator[Console]:
    config = console_config(tmp_path, write_config)
    store = Store(config.database_url)
    app = make_app(config, store)
    async with serving(app, "127.0.0.1", 0) as base:
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            yield Console(base, store, http)
    store.close()
