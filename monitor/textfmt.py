"""Untrusted text made safe to show on one line: digest subjects and titles, chat messages,
log details. Shared by the renderer and the notifiers."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from monitor.models import Figure

# Line and paragraph separators count as line breaks for mail and chat clients too.
_BREAKS = "\u2028\u2029\u0085"
# Bidi overrides can make a title display as something else than what it says.
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_SPACES = re.compile(r"\s+")


def one_line(text: str, limit: int = 300) -> str:
    """`text` on one line: control characters (CR/LF included) and line separators become
    spaces, bidi overrides go, runs of whitespace collapse; clipped to `limit`."""
    text = str(text).translate(_BIDI)
    text = "".join(" " if ch in _BREAKS or unicodedata.category(ch) == "Cc" else ch for ch in text)
    return clip(_SPACES.sub(" ", text).strip(), limit)


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, an ellipsis marking the cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + "…"


def figure_text(figure: Figure) -> str:
    """A figure as the article wrote it: "at least 40,000", "tens of thousands"."""
    return f"{figure.qualifier} {figure.text}" if figure.qualifier else figure.text


def history_text(figures: tuple[Figure, ...] | list[Figure]) -> str:
    """Earlier figures, latest first, each with its qualifier and date: "25,000 on 2 Oct,
    some 12,000 on 28 Sep"."""
    return ", ".join(
        figure_text(f) + (f" on {f.reported.day} {f.reported:%b}" if f.reported else "")
        for f in reversed(figures)
    )


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL without whitespace, else None (shown unlinked)."""
    if not url or any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url
