"""Shared fixtures: real servers on 127.0.0.1 (the seed publisher's site, an SMTP server, a
webhook receiver), the shipped rules, and a config writer."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from monitor.demo.seedsite import start_seed_site
from monitor.demo.sinks import SmtpSink, WebhookSink
from monitor.resources import rules_dir, seeds_dir
from monitor.rules.load import load_rules
from monitor.rules.match import RuleSet

REPO = Path(__file__).resolve().parent.parent
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture(scope="session")
def shipped_rules() -> RuleSet:
    return load_rules([rules_dir()])


@pytest.fixture(scope="session")
def seed_html() -> bytes:
    return (seeds_dir() / "mee-syria-envoy.html").read_bytes()


@pytest.fixture
async def seed_site() -> AsyncIterator[str]:
    runner, base_url = await start_seed_site()
    yield base_url
    await runner.cleanup()


@pytest.fixture
async def smtp_sink() -> AsyncIterator[SmtpSink]:
    sink = await SmtpSink().start()
    yield sink
    await sink.stop()


@pytest.fixture
async def webhook_sink() -> AsyncIterator[WebhookSink]:
    sink = await WebhookSink(secret=WEBHOOK_SECRET).start()
    yield sink
    await sink.stop()


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "monitor.yaml"
        path.write_text(text)
        return path

    return write


@pytest.fixture
def environ() -> dict[str, str]:
    return {**os.environ, "CASES_WEBHOOK_SECRET": WEBHOOK_SECRET}


POSTGRES_URL = os.environ.get(
    "MONITOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_unreachable() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None when they can."""
    import psycopg

    try:
        psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {POSTGRES_URL} ({str(exc).strip().splitlines()[0]})"
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs against SQLite and against the machine's PostgreSQL (emptied first)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/monitor.db"
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    reset_postgres()
    return POSTGRES_URL


def reset_postgres() -> None:
    """Empty the test database: every table in it (tables of older schema versions too)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def queue_digest(
    store,
    subscription,
    alert_ids=(),
    cursor=0,
    now=None,
    *,
    expected=None,
    subject="s",
    target="desk@example.org",
):
    """Queue one email delivery as the worker would (its body is a stand-in); returns its
    key, or None when another worker moved the cursor first."""
    import uuid

    from monitor.store import NewDelivery

    key = f"msg_{uuid.uuid4().hex}"
    row = NewDelivery(
        key,
        f"dig_{uuid.uuid4().hex}",
        "email",
        target,
        subject,
        b"Subject: s\r\n\r\nt\r\n",
        "message/rfc822",
        tuple(alert_ids),
        (),
    )
    queued = store.enqueue_digests(subscription, [row], cursor, now, expected=expected)
    return key if queued else None


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where browser tests save what they saw: $MONITOR_SCREENSHOTS (to look at), else tmp."""
    folder = Path(os.environ.get("MONITOR_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
async def browser():
    """Debian's headless Chromium driven by Playwright (nothing downloads a browser)."""
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's Chromium: apt-get install chromium")
    playwright_api = pytest.importorskip("playwright.async_api", reason="pip install playwright")
    async with playwright_api.async_playwright() as p:
        chromium = await p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="session")
def dkim_private_key(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PEM RSA key, made by openssl for this test run."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("DKIM tests need openssl to make a key")
    path = tmp_path_factory.mktemp("dkim") / "key.pem"
    subprocess.run(
        ["openssl", "genrsa", "-traditional", "-out", str(path), "2048"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return path.read_text()
