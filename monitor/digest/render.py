"""Rendering digests: pure, sandboxed, autoescaped.

Templates (shipped in `templates/`, or an operator's folder searched first) run in Jinja's
ImmutableSandboxedEnvironment, so an operator template cannot reach Python internals, and every
rendering is capped in size and in time. The template context is declared once, in
`digest_context`.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from types import FrameType
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from monitor import resources
from monitor.digest.plan import DigestPlan, figures_line
from monitor.models import Hit, Message
from monitor.textfmt import figure_text, history_text, one_line, safe_url

MAX_OUTPUT_CHARS = 1_000_000
# A template renders in milliseconds; one running this long is stopped (a loop that writes
# nothing is never stopped by the output cap).
RENDER_SECONDS = 2.0
# Template files end so (their compiled code is named after the file).
TEMPLATE_SUFFIX = ".j2"
# `**` with a larger exponent makes numbers of millions of digits.
MAX_EXPONENT = 64
SUBJECT_MAX_CHARS = 200
# Titles and snippets shown on one line in templates (snippets are at most ~500 characters).
MAX_LINE_CHARS = 2_000


class RenderError(Exception):
    """A template failed or produced too much output."""


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, where `*` and `**` cannot build a string, list or number beyond the output
    cap in one step (a single such operation could not be stopped by the time budget)."""

    intercepted_binops = frozenset({"*", "**"})
    # how long a template may run; None for the shipped templates alone, which are ours
    render_seconds: float | None = None

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponent {right} is above {MAX_EXPONENT}")
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, str | list | tuple) and isinstance(times, int):
                    if len(sequence) * times > MAX_OUTPUT_CHARS:
                        raise SecurityError(f"repeating that {times} times is too large")
        return super().call_binop(context, operator, left, right)


def make_environment(templates_dir: Path | None = None) -> BoundedEnvironment:
    loaders = [FileSystemLoader(str(templates_dir))] if templates_dir else []
    loaders.append(FileSystemLoader(str(resources.templates_dir())))
    env = BoundedEnvironment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=False
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.render_seconds = RENDER_SECONDS if templates_dir else None
    env.filters["figure"] = figure_text
    env.filters["history"] = history_text
    env.filters["http_url"] = lambda url: safe_url(url) or ""
    env.filters["highlight"] = highlight
    env.filters["oneline"] = lambda text, limit=MAX_LINE_CHARS: one_line(text, limit)
    env.filters["figures"] = figures_line
    env.filters["when"] = when
    return env


def render_digest(
    env: BoundedEnvironment, plan: DigestPlan, *, zone: tzinfo = UTC, **links: str | None
) -> Message:
    """The subject, text and HTML of one digest for one target. `links` are the
    envelope's (`unsubscribe_url`, `more_url`), shown when set."""
    context = digest_context(plan, zone, links)
    subject = one_line(_render(env, "subject.txt.j2", context), SUBJECT_MAX_CHARS)
    return Message(
        subject=subject or plan.subject,
        text=_render(env, "digest.txt.j2", context),
        html=_render(env, "digest.html.j2", context),
    )


def digest_context(
    plan: DigestPlan, zone: tzinfo = UTC, links: dict[str, str | None] | None = None
) -> dict[str, Any]:
    """Everything a digest template may use."""
    links = links or {}
    return {
        "subscription": plan.subscription,
        "created_at": plan.created_at.astimezone(zone),
        "subject": plan.subject,
        "stories": plan.stories,
        "part": plan.part,
        "parts": plan.parts,
        # the alerts one by one, for templates written before stories
        "alerts": [a for s in plan.stories for a in s.alerts],
        "rule_titles": list(dict.fromkeys(m.title for s in plan.stories for m in s.matches)),
        "unsubscribe_url": links.get("unsubscribe_url"),
        "more_url": links.get("more_url"),
        "zone": zone,
    }


def _render(env: BoundedEnvironment, name: str, context: dict[str, Any]) -> str:
    pieces: list[str] = []
    size = 0
    try:
        seconds = env.render_seconds
        with _time_budget(seconds, name) if seconds else contextlib.nullcontext():
            # streamed, so a runaway template is stopped at the cap instead of filling memory
            for piece in env.get_template(name).generate(context):
                size += len(piece)
                if size > MAX_OUTPUT_CHARS:
                    raise RenderError(
                        f"render: template {name} produced more than {MAX_OUTPUT_CHARS} characters"
                    )
                pieces.append(piece)
    except RenderError:
        raise
    except Exception as exc:  # a broken operator template must not take the worker down
        raise RenderError(f"render: template {name} failed ({type(exc).__name__}: {exc})") from exc
    return "".join(pieces)


@contextmanager
def _time_budget(seconds: float, name: str) -> Iterator[None]:
    """Stop a template once it has run `seconds`: a trace function in this thread looks at
    the clock on every call, and on every line of template code (not on the lines of Jinja's
    own code or of filters). It makes rendering about three times slower, so the shipped
    templates alone run without it."""
    deadline = time.monotonic() + seconds

    def check(frame: FrameType, _event: str, _arg: Any) -> Any:
        if time.monotonic() > deadline:
            raise RenderError(f"render: template {name} ran longer than {seconds:g} s")
        return check if frame.f_code.co_filename.endswith(TEMPLATE_SUFFIX) else None

    previous = sys.gettrace()
    sys.settrace(check)
    try:
        yield
    finally:
        sys.settrace(previous)


def highlight(
    snippet: str, hits: tuple[Hit, ...], index: int, *, mark: str = "html"
) -> Markup | str:
    """Mark the hit spans of snippet `index`: <mark> in HTML (the rest escaped), **..** in text."""
    spans = sorted({(h.start, h.end) for h in hits if h.snippet == index})
    pieces: list[str] = []
    cursor = 0
    for start, end in spans:
        if start < cursor:
            continue  # overlapping hits: keep the first
        pieces.append(
            str(escape(snippet[cursor:start])) if mark == "html" else snippet[cursor:start]
        )
        word = snippet[start:end]
        pieces.append(f"<mark>{escape(word)}</mark>" if mark == "html" else f"**{word}**")
        cursor = end
    pieces.append(str(escape(snippet[cursor:])) if mark == "html" else snippet[cursor:])
    return Markup("".join(pieces)) if mark == "html" else "".join(pieces)


def when(value: datetime | None, zone: tzinfo = UTC) -> str:
    """A date and time in the digest's zone, with the zone: "2 Dec 2026, 07:30 CET"."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(zone)
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname() or ''}".rstrip()
