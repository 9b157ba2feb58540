"""Signed per-recipient tokens for unsubscribe links: whoever holds the link may unsubscribe
that address from that subscription, and nobody can make a link for another address.

A token is `base64url(JSON [subscription, address]) "." base64url(HMAC-SHA256)`, keyed by the
worker's secret (`http.secret_env`). It does not expire: an unsubscribe link in an old email
must keep working (RFC 8058).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

PURPOSE = b"news-monitor unsubscribe v1\n"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, PURPOSE + payload, hashlib.sha256).digest()


def make_token(secret: bytes, subscription: str, address: str) -> str:
    payload = json.dumps([subscription, address], separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def read_token(secret: bytes, token: str) -> tuple[str, str] | None:
    """(subscription, address) of a genuine token, else None."""
    try:
        encoded, signature = token.split(".")
        payload = _unb64(encoded)
        if not hmac.compare_digest(_unb64(signature), _mac(secret, payload)):
            return None
        subscription, address = json.loads(payload)
    except (ValueError, TypeError):  # malformed base64, JSON or shape
        return None
    if not isinstance(subscription, str) or not isinstance(address, str):
        return None
    return subscription, address


def unsubscribe_url(
    public_url: str, secret: bytes, subscription: str, address: str, digest: str
) -> str:
    """The one-click link of one recipient; `digest` lets its page offer muting that
    digest's rules and stories."""
    return f"{public_url}/unsubscribe/{make_token(secret, subscription, address)}?d={digest}"
