"""JSON forms of matches and figures: one shape for the store, `replay --json` and webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.models import Figure, Hit, Match


def figure_to_json(f: Figure) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "value": f.value,
        "text": f.text,
        "qualifier": f.qualifier,
        "approximate": f.approximate,
    }
    if f.reported is not None:  # figures of history say when they were reported
        shape["reported"] = f.reported.isoformat()
    return shape


def figure_from_json(d: dict[str, Any]) -> Figure:
    reported = datetime.fromisoformat(d["reported"]) if d.get("reported") else None
    return Figure(d["value"], d["text"], d.get("qualifier"), d.get("approximate", False), reported)


def hit_to_json(h: Hit) -> dict[str, Any]:
    return {"term": h.term, "text": h.text, "snippet": h.snippet, "start": h.start, "end": h.end}


def match_to_json(m: Match) -> dict[str, Any]:
    return {
        "rule": m.rule,
        "title": m.title,
        "severity": m.severity,
        "figures": [figure_to_json(f) for f in m.figures],
        "captures": {k: list(v) for k, v in m.captures.items()},
        "snippets": list(m.snippets),
        "hits": [hit_to_json(h) for h in m.hits],
        "summary": m.summary,
    }


def match_from_json(d: dict[str, Any]) -> Match:
    return Match(
        rule=d["rule"],
        title=d["title"],
        severity=d["severity"],
        figures=tuple(figure_from_json(f) for f in d["figures"]),
        captures={k: tuple(v) for k, v in d["captures"].items()},
        snippets=tuple(d["snippets"]),
        hits=tuple(Hit(**h) for h in d["hits"]),
        summary=d.get("summary", ""),
    )
