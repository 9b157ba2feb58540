"""Who is looking at the console, and whether a form really came from it.

- Login: a password per role, `operator` (reads and changes) or `viewer` (reads), from the
  config (`console:`), compared in constant time; five wrong ones in a row from one address
  make it wait a minute.
- Session: a cookie holding `base64url(JSON [role, expires, nonce]) "." HMAC`, signed with
  the worker's key (`http.secret_env`, else one made at start: sessions end with the
  process); `HttpOnly`, `SameSite=Strict`, `Secure` behind https, path `/console`, 12 hours.
- CSRF: every form carries `csrf`, an HMAC of the session's nonce; every POST is also
  refused when its `Origin` is another site.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from monitor.passwords import verify_password
from monitor.web.app import CONFIG

COOKIE = "monitor_session"
SESSION_SECONDS = 12 * 3600
MAX_FAILURES, LOCKOUT_SECONDS = 5, 60.0
ROLES = ("viewer", "operator")

SIGNING_KEY = web.AppKey("console_signing_key", bytes)
FAILURES = web.AppKey("console_login_failures", dict)  # address -> (count, last time)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Session:
    role: str
    expires: int
    nonce: str

    @property
    def can_change(self) -> bool:
        return self.role == "operator"


# the logged-in session of a request a page decorator let through
SESSION = web.RequestKey("console_session", Session)


def signing_key(secret: bytes | None) -> bytes:
    """The console's own key, derived from the worker's secret (so a restart keeps sessions),
    or random when there is none."""
    if secret is None:
        return os.urandom(32)
    return hmac.new(secret, b"news-monitor console v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, b"session\n" + payload, hashlib.sha256).digest()


def make_cookie(key: bytes, role: str, now: float | None = None) -> str:
    expires = int((now or time.time()) + SESSION_SECONDS)
    payload = json.dumps([role, expires, _b64(os.urandom(16))], separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_sign(key, payload))}"


def read_cookie(key: bytes, cookie: str | None, now: float | None = None) -> Session | None:
    if not cookie:
        return None
    try:
        encoded, signature = cookie.split(".")
        payload = _unb64(encoded)
        if not hmac.compare_digest(_unb64(signature), _sign(key, payload)):
            return None
        role, expires, nonce = json.loads(payload)
    except (ValueError, TypeError):
        return None
    if role not in ROLES or not isinstance(expires, int) or not isinstance(nonce, str):
        return None
    if expires < (now or time.time()):
        return None
    return Session(role, expires, nonce)


def csrf_token(key: bytes, session: Session) -> str:
    return _b64(hmac.new(key, b"csrf\n" + session.nonce.encode(), hashlib.sha256).digest())


def session_of(request: web.Request) -> Session | None:
    return read_cookie(request.app[SIGNING_KEY], request.cookies.get(COOKIE))


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        # no Origin: an old browser, or a script; SameSite=Strict and the token still hold
        return origin is None
    return urlsplit(origin).netloc == request.host


async def _checked_form(request: web.Request, session: Session) -> None:
    if not _same_origin(request):
        raise web.HTTPForbidden(text="this form did not come from the console")
    form = await request.post()
    token = str(form.get("csrf", ""))
    if not hmac.compare_digest(token, csrf_token(request.app[SIGNING_KEY], session)):
        raise web.HTTPForbidden(text="the form has expired: reload the page and try again")


def requires(role: str) -> Callable[[Handler], Handler]:
    """A console page for `role` ("viewer": anyone logged in; "operator": who may change
    things); every POST it takes must carry the session's CSRF token."""

    def wrap(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            session = session_of(request)
            if session is None:
                raise web.HTTPSeeOther(f"/console/login?next={request.path_qs}")
            if role == "operator" and not session.can_change:
                raise web.HTTPForbidden(text="this needs the operator's login (yours reads only)")
            if request.method == "POST":
                await _checked_form(request, session)
            request[SESSION] = session
            return await handler(request)

        guarded.__name__ = handler.__name__
        guarded.__doc__ = handler.__doc__
        return guarded

    return wrap


viewer = requires("viewer")
operator = requires("operator")


def role_for(request: web.Request, password: str) -> str | None:
    console = request.app[CONFIG].console
    if console is None:
        return None
    if verify_password(password, console.operator):
        return "operator"
    if console.viewer is not None and verify_password(password, console.viewer):
        return "viewer"
    return None


def locked_out(request: web.Request, now: float) -> bool:
    count, last = request.app[FAILURES].get(request.remote or "", (0, 0.0))
    return bool(count >= MAX_FAILURES and now - last < LOCKOUT_SECONDS)


def note_failure(request: web.Request, now: float) -> None:
    failures = request.app[FAILURES]
    count, last = failures.get(request.remote or "", (0, 0.0))
    if now - last >= LOCKOUT_SECONDS:
        count = 0
    failures[request.remote or ""] = (count + 1, now)


def set_session(request: web.Request, response: web.StreamResponse, role: str) -> None:
    public = request.app[CONFIG].http
    secure = bool(public and public.public_url and public.public_url.startswith("https://"))
    response.set_cookie(
        COOKIE,
        make_cookie(request.app[SIGNING_KEY], role),
        max_age=SESSION_SECONDS,
        path="/console",
        httponly=True,
        samesite="Strict",
        secure=secure,
    )


def safe_next(target: str | None) -> str:
    """Where to go after login: a console path of ours only (no open redirect)."""
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return "/console/"
