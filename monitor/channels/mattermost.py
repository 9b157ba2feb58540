"""Mattermost incoming-webhook body: `{"text": ...}` in Mattermost's markdown.

Mattermost pings on `@channel`, `@all`, `@here` and `@username` written in plain text, so the
zero-width space `plain` puts after every `@` matters here; markdown punctuation is escaped so a
title cannot become a link, an image or a heading.

A post holds at most 16,383 characters (attachments 7,900 each; none are used): stories are
added while they fit, then "and N more" links to the whole digest.
"""

from __future__ import annotations

from monitor.channels.base import (
    Envelope,
    Payload,
    StoryView,
    json_payload,
    md_escape,
    md_link,
    more_note,
    plain,
    rule_lines,
    shortened,
    story_view,
)
from monitor.digest.plan import DigestPlan

TEXT_LIMIT = 16_000


def story_markdown(view: StoryView) -> str:
    """One story: linked headline and outlets, then each rule's reasons."""
    lines = [f"**{md_link(view.url, view.headline)}**"]
    if view.outlets:
        lines[0] += f" ({md_escape(view.outlets)})"
    lines += rule_lines(view, md_escape, "**", "> ")
    # two trailing spaces keep each line a line inside one paragraph; a quote ends with a
    # blank line, or the lines after it would continue it (markdown's "lazy" continuation)
    text = lines[0]
    for before, line in zip(lines, lines[1:], strict=False):
        text += ("\n\n" if before.startswith("> ") else "  \n") + line
    return text


def render(plan: DigestPlan, envelope: Envelope) -> Payload:
    parts = [f"#### {md_escape(plain(plan.subject, 300))}"]
    used = len(parts[0])
    shown = 0
    room = TEXT_LIMIT - 400  # keep room for the "more" note
    for story in plan.stories:
        view = story_view(story)
        if not shown:  # the first story is shown, cut short if need be
            view = shortened(view, lambda v: len(story_markdown(v)) + 2, room - used)
        block = story_markdown(view)
        if used + len(block) + 2 > room:
            break
        parts.append(block)
        used += len(block) + 2
        shown += 1
    if shown < len(plan.stories):
        parts.append(f"_{md_link(envelope.more_url, more_note(plan, shown))}_")
    return json_payload(plan.subject, {"text": "\n\n".join(parts)})
