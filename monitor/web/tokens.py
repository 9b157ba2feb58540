"""Signed tokens for the links the worker sends out: whoever holds a link may do what it was
made for, and nobody can make one for anything else.

- unsubscribe: one address of one subscription (`/unsubscribe/{token}`);
- digest: one delivery, to read all of a digest that a chat message had no room for
  (`/digest/{token}`).

A token is `base64url(JSON [fields...]) "." base64url(HMAC-SHA256)`, keyed by the worker's
secret (`http.secret_env`) and its purpose, so a token for one purpose is worthless for the
other. Tokens do not expire: a link in an old email must keep working (RFC 8058).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

UNSUBSCRIBE = b"news-monitor unsubscribe v1\n"
DIGEST = b"news-monitor digest v1\n"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, purpose: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, purpose + payload, hashlib.sha256).digest()


def sign(secret: bytes, purpose: bytes, *fields: str) -> str:
    payload = json.dumps(list(fields), separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, purpose, payload))}"


def verify(secret: bytes, purpose: bytes, token: str, count: int) -> tuple[str, ...] | None:
    """The `count` fields of a genuine token for `purpose`, else None."""
    try:
        encoded, signature = token.split(".")
        payload = _unb64(encoded)
        if not hmac.compare_digest(_unb64(signature), _mac(secret, purpose, payload)):
            return None
        fields = json.loads(payload)
    except (ValueError, TypeError):  # malformed base64, JSON or shape
        return None
    if not isinstance(fields, list) or len(fields) != count:
        return None
    if not all(isinstance(field, str) for field in fields):
        return None
    return tuple(fields)


def make_token(secret: bytes, subscription: str, address: str) -> str:
    return sign(secret, UNSUBSCRIBE, subscription, address)


def read_token(secret: bytes, token: str) -> tuple[str, str] | None:
    """(subscription, address) of a genuine unsubscribe token, else None."""
    fields = verify(secret, UNSUBSCRIBE, token, 2)
    return (fields[0], fields[1]) if fields else None


def unsubscribe_url(
    public_url: str, secret: bytes, subscription: str, address: str, digest: str
) -> str:
    """The one-click link of one recipient; `digest` lets its page offer muting that
    digest's rules and stories."""
    return f"{public_url}/unsubscribe/{make_token(secret, subscription, address)}?d={digest}"


def digest_url(public_url: str, secret: bytes, key: str) -> str:
    """The page showing the whole of the delivery `key` (where "…and N more" links to)."""
    return f"{public_url}/digest/{sign(secret, DIGEST, key)}"
