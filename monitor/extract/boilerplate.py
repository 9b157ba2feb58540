"""What is not the article's own words: related-link lists, "Read more" boxes, markdown link
lists and the header block of a markdown post. Pure text in, text out.

trafilatura drops most boilerplate from pages, but feeds carry full content with their "Related
stories" lists, and scraped or syndicated text arrives as markdown. A headline in a related-links
box is another story: matching it would alert on news the article does not report.
"""

from __future__ import annotations

import re

# A line that opens a box of links to other stories.
_BOX_HEADING = re.compile(
    r"^\W*(?:read (?:more|also|next)|also read|see also|related(?: articles| stories| coverage"
    r"| content| news| links)?|more on this(?: story| topic)?|more from [\w .]+|recommended"
    r"(?: for you| stories)?|you (?:may|might) also (?:like|be interested in)|most (?:read|popular"
    r"|viewed)|trending(?: now)?|top stories|latest (?:news|stories)|further reading"
    r"|what to read next|editor'?s picks)\b\s*(?:(?P<sep>[:|»>–—-])\s*(?P<rest>.*)|\W*)$",
    re.IGNORECASE,
)
# A markdown link alone on a line (a list item or not): "- [Title](https://...)".
_LINK_LINE = re.compile(r"^\s*(?:[-*+•]|\d+[.)])?\s*\[[^\]\n]*\]\([^)\n]*\)\s*$")
# An inline markdown link keeps its words: "[the report](https://...)" -> "the report".
# Bounded, so that a line of a million "[" costs a linear scan, not a quadratic one.
_INLINE_LINK = re.compile(r"!?\[([^\[\]\n]{0,300})\]\([^()\s]{0,2000}\)")
# A headline-like line of a box: short, with no full stop at its end.
_MAX_BOX_LINE_WORDS = 16
# A header line of a markdown post: "Title: ...", "Date: ...", "tags: [...]".
_HEADER_LINE = re.compile(r"^(?P<key>[A-Za-z][\w-]{1,20}):\s*(?P<value>.*)$")


def strip_boilerplate(text: str) -> str:
    """`text` without link boxes and markdown link lists; inline links keep their words."""
    if not text:
        return text
    kept: list[str] = []
    in_box = False
    for line in text.splitlines():
        stripped = line.strip()
        if _LINK_LINE.match(stripped):
            continue
        heading = _BOX_HEADING.match(stripped) if len(stripped.split()) <= 12 else None
        if heading is not None:
            # "Read more: Floods displace 10,000" is a link too; a heading opens a box
            in_box = not heading.group("sep")
            continue
        if in_box:
            if _headline_like(stripped):
                continue
            in_box = False
        kept.append(_INLINE_LINK.sub(r"\1", line))
    return "\n".join(kept).strip()


def _headline_like(line: str) -> bool:
    """A line of a link box: a bullet, or a short line that does not end a sentence."""
    if not line:
        return True  # blank lines inside a box
    words = line.lstrip("-*+•").split()
    return len(words) <= _MAX_BOX_LINE_WORDS and not line.rstrip("\"'”’)").endswith((".", "!", "?"))


def split_header(text: str) -> tuple[dict[str, str], str]:
    """A markdown post's header and its body: YAML front matter between `---` lines, a block
    of `Key: value` lines at the top (Pelican), or a `# Headline` first line. The header's
    `title` is the post's headline; the rest of the header is not the article's words."""
    lines = text.lstrip("\ufeff").splitlines()
    header: dict[str, str] = {}
    body_start = 0
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, min(len(lines), 60)) if lines[i].strip() == "---"), None)
        if end is not None:
            header = _header_values(lines[1:end])
            body_start = end + 1
    else:
        block = 0
        while block < len(lines) and _HEADER_LINE.match(lines[block].strip()):
            block += 1
        if block >= 2 and (block == len(lines) or not lines[block].strip()):
            header = _header_values(lines[:block])
            body_start = block
    rest = lines[body_start:]
    while rest and not rest[0].strip():
        rest = rest[1:]
    if "title" not in header and rest and rest[0].startswith("# "):
        header["title"] = rest[0][2:].strip()
        rest = rest[1:]
    return header, "\n".join(rest)


def _header_values(lines: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in lines:
        m = _HEADER_LINE.match(line.strip())
        if m:
            values[m.group("key").casefold()] = m.group("value").strip().strip("\"'")
    return values
