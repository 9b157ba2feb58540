"""Reading counts of people from tokenised text.

A figure is a number that counts people: "40,000", "40 000", "1.2 million", "1.5m", "40k",
"forty thousand", "half a million", "tens of thousands" (an approximate lower bound), with its
qualifier ("at least", "more than", "nearly", ...). It is never a year, a date, a time, a
percentage, money, an ordinal, an age, a duration or a phone-like run of digits.

`figures_near` ties numbers to trigger occurrences the way reporters write them: a number
followed by a people noun ("40,000 people", "3,000 Syrian families") within a few words of the
trigger, or a number standing right beside the trigger ("displaced 40,000", "40,000 displaced").
A casualty word between them ("killed 400,000 people and displaced ...") breaks the tie, so a
death toll is not read as a displacement figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.models import Figure
from monitor.rules.text import Document

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_SUFFIX_SCALES = {"": 1, "k": 1_000, "m": 1_000_000, "mn": 1_000_000, "bn": 1_000_000_000}
# Plural vague quantities: approximate lower bounds ("tens of thousands" -> 10,000).
_VAGUE = {"dozens": 12, "tens": 10, "hundreds": 100, "thousands": 1_000, "millions": 1_000_000}

# Indexed by first word, longest first, so "more than" wins over "more".
_QUALIFIERS: dict[str, list[tuple[str, ...]]] = {}
for _phrase in (
    "at least, more than, over, nearly, almost, about, around, some, up to, approximately, "
    "roughly, an estimated, estimated, at most, fewer than, less than, upwards of, as many as, "
    "close to, just over, just under, in excess of, well over, an additional, another, a further, "
    "between"
).split(", "):
    _QUALIFIERS.setdefault(_phrase.split()[0], []).append(tuple(_phrase.split()))
for _options in _QUALIFIERS.values():
    _options.sort(key=len, reverse=True)

PEOPLE_NOUNS = frozenset(
    "people persons person civilians residents inhabitants villagers townspeople families "
    "households children kids women men girls boys refugees migrants asylum seekers "
    "individuals idps returnees evacuees survivors citizens nationals locals dwellers "
    "workers farmers students patients pilgrims minors infants babies adults elderly others".split()
)
# Words that make a nearby number a casualty count rather than the trigger's figure.
CASUALTY_WORDS = frozenset(
    "killed kill kills killing dead died die dies deaths death toll injured injuring wounded "
    "wounding hurt arrested detained jailed executed massacred slain murdered casualties "
    "fatalities".split()
)
_MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# A number followed by one of these measures something other than people.
_NON_PEOPLE_UNITS = frozenset(
    "years year months month weeks week days day hours hour minutes minute seconds am pm gmt "
    "utc percent per pc km kilometres kilometers miles metres meters feet tonnes tons kg "
    "kilograms litres liters hectares acres dollars dollar usd euros euro eur pounds gbp "
    "dinars riyals rupees yuan yen lira liras shekels francs rubles roubles points goals "
    "times votes seats degrees square cubic barrels bpd mw gw".split()
)
_YEAR_WORDS = frozenset(
    "in since by until till from during of early late mid before after around circa c "
    "spring summer autumn fall winter year".split()
)
# "The number of displaced people rose to 40,000": verbs that hand a tally its value.
_TALLY_VERBS = frozenset("to at reached hit topped exceeded passed surpassed stood".split())
_AUXILIARIES = frozenset(
    "have has had were was been are is be being got may might could would will should can".split()
)
_CURRENCY_SIGNS = "$€£¥₹₽₺₪"


@dataclass(frozen=True, slots=True)
class NumberSpan:
    """A number expression over tokens [start, end), qualifier included."""

    start: int
    end: int
    value: int
    text: str
    qualifier: str | None
    approximate: bool


def numbers_in(doc: Document, lo: int, hi: int) -> list[NumberSpan]:
    """Every count-like number expression among tokens [lo, hi) (memoised per document)."""
    key = ("numbers", lo, hi)
    if key not in doc.memo:
        doc.memo[key] = _numbers_in(doc, lo, hi)
    result: list[NumberSpan] = doc.memo[key]
    return result


def _numbers_in(doc: Document, lo: int, hi: int) -> list[NumberSpan]:
    found: list[NumberSpan] = []
    i = lo
    while i < hi:
        qualifier_end = _qualifier_end(doc, i, hi)
        core = _core_number(doc, qualifier_end, hi)
        if core is None:
            i += 1
            continue
        end, value, approximate = core
        second = _range_end(doc, qualifier_end, end, hi)
        if second is not None:  # "10,000-15,000", "between 200 and 300": the lower bound
            end, approximate = second, True
        if _is_count(doc, qualifier_end, end, hi, lo):
            text = doc.text[doc.tokens[qualifier_end].start : doc.tokens[end - 1].end]
            qualifier = " ".join(t.norm for t in doc.tokens[i:qualifier_end]) or None
            found.append(NumberSpan(i, end, value, text, qualifier, approximate))
        i = end
    return found


def _range_end(doc: Document, start: int, end: int, hi: int) -> int | None:
    """Where "A-B" or "between A and B" ends, when the number [start, end) opens a range."""
    if end >= hi:
        return None
    joiner = doc.text[doc.tokens[end - 1].end : doc.tokens[end].start]
    after = end
    before = doc.tokens[start - 1].norm if start > 0 else ""
    if before == "from":
        return None  # "rose from 20,000 to 40,000" is a change, and 40,000 the news
    if doc.tokens[end].norm == "to" or (doc.tokens[end].norm == "and" and before == "between"):
        after = end + 1
    elif not re.fullmatch(r"\s*[-–—]\s*", joiner):
        return None
    core = _core_number(doc, after, hi)
    return core[0] if core is not None else None


def figures_near(
    doc: Document,
    lo: int,
    hi: int,
    triggers: list[tuple[int, int]],
    within: int,
    at_least: int | None = None,
    at_most: int | None = None,
) -> list[tuple[NumberSpan, tuple[int, int]]]:
    """Numbers in [lo, hi) tied to a trigger occurrence (token spans), with the trigger used."""
    results: list[tuple[NumberSpan, tuple[int, int]]] = []
    # a casualty word that is itself a trigger ("killed 300 people" in a death-toll rule) is fine
    casualties = {i for i in range(lo, hi) if doc.tokens[i].norm in CASUALTY_WORDS} - {
        i for start, end in triggers for i in range(start, end)
    }
    for number in numbers_in(doc, lo, hi):
        if at_least is not None and number.value < at_least:
            continue
        if at_most is not None and number.value > at_most:
            continue
        if number.start - 1 in casualties:
            continue  # "killed 400,000 people": the number is the casualty word's object
        noun_end = people_phrase_end(doc, number.end, hi)
        if _casualty_follows(doc, noun_end or number.end, hi, casualties):
            continue  # "300 were killed", "300 people dead": a death toll
        for trigger in triggers:
            if _tied(doc, number, noun_end, trigger, within, casualties):
                results.append((number, trigger))
                break
    return results


def _casualty_follows(doc: Document, i: int, hi: int, casualties: set[int]) -> bool:
    while i < hi and doc.tokens[i].norm in _AUXILIARIES:
        i += 1
    return i in casualties


def to_figure(number: NumberSpan) -> Figure:
    return Figure(number.value, number.text, number.qualifier, number.approximate)


def people_phrase_end(doc: Document, after: int, hi: int, modifiers: int = 2) -> int | None:
    """End of "[of] [up to `modifiers` words] people-noun" starting at token `after`, if any."""
    i = after
    if i < hi and doc.tokens[i].norm == "of":
        i += 1
    for j in range(i, min(i + 1 + modifiers, hi)):
        token = doc.tokens[j]
        if token.norm in PEOPLE_NOUNS or _is_demonym(doc, j):
            return j + 1
        if token.is_number() or token.norm in _NON_PEOPLE_UNITS:
            return None
    return None


def _tied(
    doc: Document,
    number: NumberSpan,
    noun_end: int | None,
    trigger: tuple[int, int],
    within: int,
    casualties: set[int],
) -> bool:
    t_start, t_end = trigger
    if t_start <= number.start and number.end <= t_end:
        return True  # the trigger phrase holds the number: "left 5,000 people homeless"
    if t_end == number.start or t_start == number.end:
        # "displaced 40,000" / "40,000 displaced", not "displaced; 300 were..."
        left_end, right_start = (
            (t_end, number.start) if t_end == number.start else (number.end, t_start)
        )
        gap = doc.text[doc.tokens[left_end - 1].end : doc.tokens[right_start].start]
        return gap.isspace() and not _unit_follows(doc, number.end)
    if noun_end is None:
        # "2,400 had been displaced": the number is the subject of the trigger
        words = [t.norm for t in doc.tokens[number.end : t_start]]
        if 0 < len(words) <= 2 and all(word in _AUXILIARIES for word in words):
            return True
        return _tally(doc, number, trigger, within, casualties)
    if t_start >= number.start and t_end <= noun_end:
        return True  # "40,000 internally displaced people"
    if t_end <= number.start:
        gap_start, gap_end = t_end, number.start
    elif t_start >= noun_end:
        gap_start, gap_end = noun_end, t_start
    else:
        return False
    if gap_end - gap_start > within:
        return False
    return not any(k in casualties for k in range(gap_start, gap_end))


def _tally(
    doc: Document, number: NumberSpan, trigger: tuple[int, int], within: int, casualties: set[int]
) -> bool:
    """ "The number of displaced people rose to 40,000": a tally of the trigger, given a value."""
    t_start, t_end = trigger
    if t_end > number.start or number.start - t_end > within:
        return False
    if doc.tokens[number.start - 1].norm not in _TALLY_VERBS or _unit_follows(doc, number.end):
        return False
    if any(k in casualties for k in range(t_end, number.start)):
        return False
    before = [t.norm for t in doc.tokens[max(0, t_start - 3) : t_start]]
    return any(before[i : i + 2] == ["number", "of"] for i in range(len(before) - 1))


def _unit_follows(doc: Document, i: int) -> bool:
    return i < len(doc.tokens) and doc.tokens[i].norm in _NON_PEOPLE_UNITS


def _qualifier_end(doc: Document, i: int, hi: int) -> int:
    for words in _QUALIFIERS.get(doc.tokens[i].norm, ()):
        j = i + len(words)
        if j <= hi and tuple(t.norm for t in doc.tokens[i:j]) == words:
            return j
    return i


_NUMERIC_RE = re.compile(r"(\d[\d,.\u202f\u00a0\u2009 ]*)([a-z]*)")


def _core_number(doc: Document, i: int, hi: int) -> tuple[int, int, bool] | None:
    """(end, value, approximate) of the number starting at token i, or None."""
    if i >= hi:
        return None
    norm = doc.tokens[i].norm
    if norm[:1].isdigit():
        m = _NUMERIC_RE.fullmatch(norm)
        if not m or m.group(2) not in _SUFFIX_SCALES:
            return None  # ordinals ("40,000th"), times ("10am"), decades ("1990s"), units
        digits = m.group(1)
        if digits.startswith("0") and len(digits) > 1 and not digits.startswith("0."):
            return None  # phone-like / zero-padded
        value = _parse_digits(digits)
        if value is None:
            return None
        end = i + 1
        scale = _SUFFIX_SCALES[m.group(2)]
        if scale == 1 and end < hi and doc.tokens[end].norm in _SCALES:
            scale = _SCALES[doc.tokens[end].norm]
            end += 1
        total = value * scale
        if total != int(total):
            return None  # "3.5 people" is not a count
        return end, int(total), False
    if norm in _VAGUE:
        # "tens of thousands", "hundreds of thousands", "thousands", "millions"
        value, end = _VAGUE[norm], i + 1
        if end + 1 < hi and doc.tokens[end].norm == "of" and doc.tokens[end + 1].norm in _VAGUE:
            value *= _VAGUE[doc.tokens[end + 1].norm]
            end += 2
        return end, value, True
    return _number_words(doc, i, hi)


def _parse_digits(digits: str) -> float | None:
    digits = digits.strip()
    groups = re.split(r"[,\u202f\u00a0\u2009 ]", digits)
    if len(groups) > 1:
        head, *rest = groups
        last = rest[-1]
        if "." in last:
            last, decimals = last.split(".", 1)
            rest[-1] = last
        else:
            decimals = ""
        if not all(len(g) == 3 and g.isdigit() for g in rest) or not head.isdigit():
            return None
        return float("".join(groups[:-1]) + last + ("." + decimals if decimals else ""))
    try:
        return float(digits)
    except ValueError:
        return None


def _number_words(doc: Document, i: int, hi: int) -> tuple[int, int, bool] | None:
    """ "forty thousand", "two hundred and fifty", "a million", "half a million"."""
    j = i
    multiplier = 1.0
    if doc.tokens[j].norm == "half" and j + 2 < hi and doc.tokens[j + 1].norm == "a":
        multiplier, j = 0.5, j + 1
    if doc.tokens[j].norm == "a" and j + 1 < hi and doc.tokens[j + 1].norm in _SCALES:
        total, current, j = 0, 1, j + 1  # "a million" is one million
        seen = True
    else:
        total, current, seen = 0, 0, False
    while j < hi:
        word = doc.tokens[j].norm
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _SCALES and (seen or current):
            scale = _SCALES[word]
            if scale == 100:
                current = max(current, 1) * 100
            else:
                total += max(current, 1) * scale
                current = 0
        elif word == "and" and seen and j + 1 < hi and doc.tokens[j + 1].norm in _UNITS:
            pass  # "two hundred and fifty"
        else:
            break
        seen = True
        j += 1
    if not seen or j == i:
        return None
    value = int((total + current) * multiplier)
    if value == 0:
        return None
    return j, value, False


def _is_count(doc: Document, start: int, end: int, hi: int, lo: int) -> bool:
    """Reject years, dates, times, percentages, money, ages and phone-like digit runs."""
    first, last = doc.tokens[start], doc.tokens[end - 1]
    text = doc.text
    if first.is_number() and end == start + 1:
        digits = first.norm
        if digits.isdigit() and len(digits) == 4 and 1800 <= int(digits) <= 2100:
            # a year ("in 2015 people fled"), unless it plainly counts people ("2000 people")
            prev = doc.tokens[start - 1].norm if start > lo else ""
            if prev in _YEAR_WORDS or people_phrase_end(doc, end, hi, modifiers=0) is None:
                return False
    before = text[max(0, first.start - 4) : first.start]
    if any(sign in before for sign in _CURRENCY_SIGNS) or before.endswith((":", "+")):
        return False  # "$40,000", "US$ 5m", "10:30", "+44 ..." (not "Sudan: 45,000 people")
    after = text[last.end : last.end + 3]
    if after.lstrip().startswith(("%", ":")) or re.match(r"[-/.]\d", after):
        return False  # "40%", "10:30", "30/9", "555-1234"
    prev = doc.tokens[start - 1].norm if start > lo else ""
    nxt = doc.tokens[end].norm if end < hi else ""
    if (prev in _MONTHS or nxt in _MONTHS) and _day_of_month(doc, start, end, lo, hi):
        return False  # "30 September", "September 30" (not "By June, 80,000 people")
    if prev in ("aged", "age", "ages") or nxt in ("year", "years") and _old_follows(doc, end, hi):
        return False  # "aged 40", "40 years old", "40-year-old"
    if nxt in ("usd", "eur", "gbp", "dollars", "euros", "pounds") or prev in (
        "usd",
        "eur",
        "gbp",
        "us",
    ):
        return False
    if (start > lo and doc.tokens[start - 1].is_number() and _joined(doc, start - 1, start)) or (
        end < hi and doc.tokens[end].is_number() and _joined(doc, end - 1, end)
    ):
        return False  # a run of digit groups: phone numbers, codes
    return True


def _day_of_month(doc: Document, start: int, end: int, lo: int, hi: int) -> bool:
    """A plain 1-31 written right beside a month name, with nothing but a space between."""
    if end != start + 1 or not doc.tokens[start].norm.isdigit():
        return False
    if not 1 <= int(doc.tokens[start].norm) <= 31:
        return False
    neighbours = [(start - 1, start)] if start > lo else []
    neighbours += [(start, end)] if end < hi else []
    for a, b in neighbours:
        month = doc.tokens[a] if a < start else doc.tokens[b]
        if month.norm in _MONTHS and doc.text[doc.tokens[a].end : doc.tokens[b].start].isspace():
            return True
    return False


def _old_follows(doc: Document, i: int, hi: int) -> bool:
    return i + 1 < hi and doc.tokens[i + 1].norm == "old"


def _joined(doc: Document, a: int, b: int) -> bool:
    between = doc.text[doc.tokens[a].end : doc.tokens[b].start]
    return bool(re.fullmatch(r"[\s\-–/.()]*", between))


_DEMONYM_ENDINGS = ("ans", "ese", "is", "ens", "ites")


def _is_demonym(doc: Document, i: int) -> bool:
    """ "Syrians", "Sudanese", "Iraqis": a capitalised plural nationality counts people."""
    token = doc.tokens[i]
    return doc.text[token.start].isupper() and token.norm.endswith(_DEMONYM_ENDINGS)
