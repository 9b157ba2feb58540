"""Rendering digests: pure, sandboxed, autoescaped.

Templates (shipped in `templates/`, or an operator's folder searched first) run in Jinja's
ImmutableSandboxedEnvironment, so an operator template cannot reach Python internals, and every
rendering is capped in size. The template context is declared once, in `digest_context`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from monitor import resources
from monitor.models import Digest, Hit, Message
from monitor.textfmt import figure_text, history_text, one_line, safe_url

MAX_OUTPUT_CHARS = 1_000_000
SUBJECT_MAX_CHARS = 200
# Titles and snippets shown on one line in templates (snippets are at most ~500 characters).
MAX_LINE_CHARS = 2_000


class RenderError(Exception):
    """A template failed or produced too much output."""


def make_environment(templates_dir: Path | None = None) -> ImmutableSandboxedEnvironment:
    loaders = [FileSystemLoader(str(templates_dir))] if templates_dir else []
    loaders.append(FileSystemLoader(str(resources.templates_dir())))
    env = ImmutableSandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=False
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["figure"] = figure_text
    env.filters["history"] = history_text
    env.filters["http_url"] = lambda url: safe_url(url) or ""
    env.filters["highlight"] = highlight
    env.filters["oneline"] = lambda text, limit=MAX_LINE_CHARS: one_line(text, limit)
    return env


def render_digest(env: ImmutableSandboxedEnvironment, digest: Digest) -> Message:
    context = digest_context(digest)
    subject = one_line(_render(env, "subject.txt.j2", context), SUBJECT_MAX_CHARS)
    return Message(
        subject=subject,
        text=_render(env, "digest.txt.j2", context),
        html=_render(env, "digest.html.j2", context),
    )


def digest_context(digest: Digest) -> dict[str, Any]:
    """Everything a digest template may use."""
    return {
        "subscription": digest.subscription,
        "created_at": digest.created_at,
        "alerts": digest.alerts,
        "rule_titles": list(dict.fromkeys(a.match.title for a in digest.alerts)),
    }


def _render(env: ImmutableSandboxedEnvironment, name: str, context: dict[str, Any]) -> str:
    pieces: list[str] = []
    size = 0
    try:
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
