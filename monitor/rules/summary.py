"""A rule's `summary`: the short phrase a digest subject says for its match.

`{figure}` is the first figure as written ("at least 40,000"); `{NAME}` is the values of the
capture NAME ("Moscow, Washington"). Square brackets make a part optional: it is left out when
a placeholder inside it has no value, so "{figure} displaced[ in {place}]" reads "40,000
displaced" for an article that names no place. A placeholder without a value outside brackets
leaves the summary empty (the digest then says the rule's title).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from monitor.models import Figure
from monitor.textfmt import figure_text, one_line

MAX_SUMMARY_CHARS = 120
_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill_summary(
    template: str, figures: tuple[Figure, ...], captures: Mapping[str, tuple[str, ...]]
) -> str:
    values = {name: ", ".join(found) for name, found in captures.items() if found}
    if figures:
        values["figure"] = figure_text(figures[0])

    def fill(part: str) -> str | None:
        missing = False

        def value(m: re.Match[str]) -> str:
            nonlocal missing
            if m.group(1) not in values:
                missing = True
                return ""
            return values[m.group(1)]

        text = _PLACEHOLDER.sub(value, part)
        return None if missing else text

    whole = _OPTIONAL.sub(lambda m: fill(m.group(1)) or "", template)
    filled = fill(whole)
    return one_line(filled, MAX_SUMMARY_CHARS) if filled else ""
