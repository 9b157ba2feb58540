"""Console passwords: kept as scrypt hashes (the standard library's), compared in constant time.

A hash reads `scrypt$N$r$p$SALT$KEY` (SALT and KEY base64); `monitor console-password` makes
one from a password typed on stdin, for the config's `console.password_hash`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

PREFIX = "scrypt"
# RFC 7914's interactive-login parameters: about 50 ms and 16 MB per check
N, R, P = 2**14, 8, 1


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    parts = (PREFIX, str(N), str(R), str(P), _b64(salt), _b64(key))
    return "$".join(parts)


def is_hash(text: str) -> bool:
    try:
        _parse(text)
    except ValueError:
        return False
    return True


def verify_password(password: str, expected: str) -> bool:
    """Whether `password` is the one behind `expected`: a hash, or the password itself (from
    the environment), compared in constant time either way."""
    if not expected.startswith(PREFIX + "$"):
        return hmac.compare_digest(password.encode(), expected.encode())
    n, r, p, salt, key = _parse(expected)
    found = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=len(key))
    return hmac.compare_digest(found, key)


def _parse(text: str) -> tuple[int, int, int, bytes, bytes]:
    parts = text.split("$")
    if len(parts) != 6 or parts[0] != PREFIX:
        raise ValueError("not a scrypt$N$r$p$SALT$KEY hash")
    try:
        n, r, p = (int(v) for v in parts[1:4])
        salt, key = (
            base64.b64decode(parts[4], validate=True),
            base64.b64decode(parts[5], validate=True),
        )
    except ValueError as exc:
        raise ValueError(f"not a scrypt$N$r$p$SALT$KEY hash ({exc})") from exc
    if n < 2 or n & (n - 1) or not (0 < r <= 64 and 0 < p <= 16) or len(key) < 16:
        raise ValueError("scrypt parameters out of range")
    return n, r, p, salt, key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
