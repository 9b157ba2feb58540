"""The console's doors: a login per role, signed session cookies, CSRF tokens on every form,
a wait after wrong passwords, and nothing readable without a login."""

from __future__ import annotations

import pytest

from monitor.passwords import hash_password, is_hash, verify_password
from monitor.web.console.auth import COOKIE, make_cookie, read_cookie, safe_next
from tests.web.console.conftest import VIEWER_PASSWORD


async def test_nothing_is_shown_before_a_login(console):
    async with console.http.get(console.base + "/console/", allow_redirects=False) as response:
        assert response.status == 303
        assert response.headers["Location"] == "/console/login?next=/console/"
    status, html = await console.page("/console/login")
    assert status == 200 and 'type="password"' in html


async def test_a_login_sets_a_strict_http_only_cookie_and_opens_the_overview(console):
    response = await console.login()
    assert response.status == 303 and response.headers["Location"] == "/console/"
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/console"
    status, html = await console.page("/console/")
    assert status == 200 and "<h1>Overview</h1>" in html and ">operator<" in html


async def test_a_wrong_password_is_refused_and_five_make_it_wait(console):
    for _ in range(5):
        assert (await console.login("wrong")).status == 401
    assert (await console.login()).status == 429  # even the right one, for a minute
    assert COOKIE not in console.http.cookie_jar.filter_cookies(console.base)


async def test_a_form_without_its_token_or_from_another_site_is_refused(console):
    await console.login()
    async with console.http.post(console.base + "/console/logout", data={}) as response:
        assert response.status == 403
    token = await console.csrf()
    async with console.http.post(
        console.base + "/console/logout",
        data={"csrf": token},
        headers={"Origin": "https://evil.example"},
    ) as response:
        assert response.status == 403
    async with console.http.post(
        console.base + "/console/logout", data={"csrf": token}, allow_redirects=False
    ) as response:
        assert response.status == 303
    assert (await console.page("/console/"))[1].count('type="password"') == 1  # logged out


async def test_the_viewer_reads_but_cannot_change(console):
    await console.login(VIEWER_PASSWORD)
    status, html = await console.page("/console/")
    assert status == 200 and ">viewer<" in html


def test_cookies_are_signed_and_expire():
    key = b"k" * 32
    cookie = make_cookie(key, "viewer", now=1000.0)
    assert read_cookie(key, cookie, now=1001.0).role == "viewer"
    assert read_cookie(b"x" * 32, cookie, now=1001.0) is None
    assert read_cookie(key, cookie, now=1000.0 + 13 * 3600) is None
    payload, signature = cookie.split(".")
    forged = make_cookie(key, "operator").split(".")[0] + "." + signature
    assert read_cookie(key, forged) is None
    assert read_cookie(key, "garbage") is None


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/console/alerts?rule=x", "/console/alerts?rule=x"),
        ("https://evil.example/", "/console/"),
        ("//evil.example/console", "/console/"),
        ("/elsewhere", "/console/"),
        (None, "/console/"),
    ],
)
def test_after_login_only_console_pages(target, expected):
    assert safe_next(target) == expected


def test_password_hashes():
    hashed = hash_password("s3cret")
    assert is_hash(hashed) and hashed.startswith("scrypt$16384$8$1$")
    assert verify_password("s3cret", hashed) and not verify_password("s3cre", hashed)
    assert verify_password("plain", "plain") and not verify_password("plain", "plainer")
    assert not is_hash("scrypt$3$8$1$AA==$AA==")


def test_console_password_prints_a_hash_the_config_accepts(tmp_path, write_config):
    import subprocess
    import sys

    from monitor.config import load_config
    from monitor.resources import rules_dir

    made = subprocess.run(
        [sys.executable, "-m", "monitor", "console-password"],
        input="a long enough secret\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    hashed = made.stdout.strip()
    assert verify_password("a long enough secret", hashed)
    path = write_config(
        f"rules: {rules_dir()}\nfeeds: [{{url: 'https://example.org/rss'}}]\n"
        f"console: {{password_hash: '{hashed}'}}\n"
    )
    assert load_config(path, {}).console.operator == hashed
    short = subprocess.run(
        [sys.executable, "-m", "monitor", "console-password"],
        input="short\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert short.returncode == 2 and "at least 12 characters" in short.stderr


def test_a_console_without_a_password_fails_at_start(write_config):
    from monitor.config import load_config
    from monitor.errors import ConfigError
    from monitor.resources import rules_dir

    path = write_config(
        f"rules: {rules_dir()}\nfeeds: [{{url: 'https://example.org/rss'}}]\nconsole: {{}}\n"
    )
    with pytest.raises(
        ConfigError, match="the console needs a password: set MONITOR_CONSOLE_PASSWORD"
    ):
        load_config(path, {})
    bad = write_config(
        f"rules: {rules_dir()}\nfeeds: [{{url: 'https://example.org/rss'}}]\n"
        "console: {password_hash: 'scrypt$nope'}\n"
    )
    with pytest.raises(ConfigError, match=r"monitor.yaml:3:\d+: .*not a scrypt hash"):
        load_config(bad, {})
