"""Reading counts of people from tokenised text.

A figure is a number that counts people: "40,000", "40 000", "1.2 million", "1.5m", "40k",
"forty thousand", "half a million", "tens of thousands" (an approximate lower bound), with its
qualifier ("at least", "more than", "nearly", ...). It is never a year, a date, a time, a
percentage, money, an ordinal, an age, a duration or a phone-like run of digits.

`judge_numbers` ties numbers to trigger occurrences the way reporters write them: a number
followed by a people noun ("40,000 people", "3,000 Syrian families") within a few words of the
trigger, the subject of the trigger ("2,000 are ordered to evacuate"), or a number standing
right beside it ("displaced 40,000", "40,000 displaced"); every number it does not tie comes
with the reason, for explanations. A casualty word between them ("killed 400,000 people and
displaced ...") breaks the tie, so a death toll is not read as a displacement figure; so do a
clause break (";", ":", a dash) and a capacity ("a camp built for 50,000").
"""

from __future__ import annotations

import re
from bisect import bisect_left
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
# Of a sentence's triggers, those this near (in order of occurrence) on each side of a number
# are the ones it may be tied to.
NEARBY_TRIGGERS = 4

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
# What may stand between a counted subject and its verb: auxiliaries, adverbs, and the verbs
# that hand the action on ("2,000 are ordered to evacuate", "50,000 are expected to flee").
_LINKS = _AUXILIARIES | frozenset(
    "already now reportedly also still since then recently currently feared believed thought "
    "estimated said ordered told forced urged asked advised expected likely set due about "
    "to not".split()
)
# Words that say little about what happened to a count of people ("100,000 people in a camp").
_LITTLE_WORDS = frozenset(
    "in at on of the a an who which that we they it from with by into across over this these "
    "those their there here and or but so as".split()
)
# Room for people is not people: "a camp built for 50,000", "a maximum of 50,000 refugees".
_CAPACITY = [
    tuple(p.split())
    for p in (
        "maximum of",
        "capacity of",
        "capacity for",
        "built for",
        "designed for",
        "meant for",
        "intended for",
        "room for",
        "space for",
        "beds for",
        "accommodate",
        "house up to",
    )
]
# Words that end a search for a people noun: "800 homes", "1,000 structures" count buildings.
_NOT_PEOPLE = frozenset(
    "homes home houses buildings structures dwellings properties apartments flats units "
    "animals cattle livestock head sheep acres hectares".split()
)
_CURRENCY_SIGNS = "$€£¥₹₽₺₪"


@dataclass(frozen=True, slots=True)
class NumberSpan:
    """A number expression over tokens [start, end), qualifier included; a range ("60,000 to
    70,000") is one span with both of its ends."""

    start: int
    end: int
    value: int
    text: str
    qualifier: str | None
    approximate: bool
    high: int | None = None  # the upper end of a range
    high_text: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a number counts people tied to a trigger: the trigger it is tied to, or why not."""

    number: NumberSpan
    trigger: tuple[int, int] | None
    reason: str = ""


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
        qualifier = " ".join(t.norm for t in doc.tokens[i:qualifier_end]) or None
        text = _text(doc, qualifier_end, end)
        number: NumberSpan | None = None
        high = None if approximate else _range_high(doc, qualifier_end, end, hi)
        if high is not None:  # "60,000 to 70,000", "sixty to seventy thousand", "between A and B"
            high_start, high_end, high_value = high
            low = _scaled_like(value, high_value)
            if low is not None and low < high_value:
                high_text = _text(doc, high_start, high_end)
                whole = _text(doc, qualifier_end, high_end)  # the low end is shown as the range
                number = NumberSpan(
                    i, high_end, int(low), whole, qualifier, False, high_value, high_text
                )
        if number is None and value == int(value):
            number = NumberSpan(i, end, int(value), text, qualifier, approximate)
        if number is not None and _is_count(doc, qualifier_end, number.end, hi, lo):
            found.append(number)
        i = number.end if number is not None else end
    return found


def _text(doc: Document, start: int, end: int) -> str:
    return doc.text[doc.tokens[start].start : doc.tokens[end - 1].end]


def _scaled_like(low: float, high: int) -> float | None:
    """ "Sixty to seventy thousand", "1.5 to 2 million": a low end far too small for the range
    borrows the high end's scale."""
    if low * 100 < high:
        for scale in (1_000_000_000, 1_000_000, 1_000):
            if high >= scale and low * scale <= high:
                return low * scale
    return low if low == int(low) else None


def _range_high(doc: Document, start: int, end: int, hi: int) -> tuple[int, int, int] | None:
    """(start, end, value) of the upper end when the number [start, end) opens a range:
    "A-B", "A to B", "between A and B"."""
    if end >= hi:
        return None
    before = doc.tokens[start - 1].norm if start > 0 else ""
    if before == "from":
        return None  # "rose from 20,000 to 40,000" is a change, and 40,000 the news
    joiner = doc.text[doc.tokens[end - 1].end : doc.tokens[end].start]
    after = end
    if doc.tokens[end].norm == "to" or (doc.tokens[end].norm == "and" and before == "between"):
        after = end + 1
    elif not re.fullmatch(r"\s*[-–—]\s*", joiner):
        return None
    core = _core_number(doc, after, hi)
    if core is None or core[2] or core[1] != int(core[1]):
        return None
    return after, core[0], int(core[1])


def judge_numbers(
    doc: Document,
    lo: int,
    hi: int,
    triggers: list[tuple[int, int]],
    within: int,
    at_least: int | None = None,
    at_most: int | None = None,
) -> list[Verdict]:
    """Every number in [lo, hi) with its verdict: tied to which trigger occurrence, or why not."""
    verdicts: list[Verdict] = []
    # a casualty word that is itself a trigger ("killed 300 people" in a death-toll rule) is fine
    trigger_tokens = {i for start, end in triggers for i in range(start, end)}
    casualties = {
        i for i in range(lo, hi) if doc.tokens[i].norm in CASUALTY_WORDS and i not in trigger_tokens
    }
    numbers = numbers_in(doc, lo, hi)
    triggers = sorted(triggers)
    trigger_starts = [start for start, _ in triggers]
    for number in numbers:
        noun_end = people_phrase_end(doc, number.end, hi)
        after = _skip_links(doc, noun_end or number.end, hi)
        reason = _not_a_count(doc, number, lo, after, at_least, at_most, casualties)
        if reason is None and not triggers:
            reason = _no_trigger(doc, noun_end, after, hi)
        if reason is not None:
            verdicts.append(Verdict(number, None, reason))
            continue
        reasons: list[tuple[int, str]] = []
        # only the triggers nearest the number can be tied to it: a sentence of thousands of
        # triggers and numbers costs no more per number than a short one
        k = bisect_left(trigger_starts, number.start)
        for trigger in triggers[max(0, k - NEARBY_TRIGGERS) : k + NEARBY_TRIGGERS]:
            why = _tied(doc, number, noun_end, trigger, within, casualties, numbers)
            if why is None:
                verdicts.append(Verdict(number, trigger))
                break
            reasons.append((_distance(number, trigger), why))
        else:
            verdicts.append(Verdict(number, None, min(reasons)[1]))
    return verdicts


def _not_a_count(
    doc: Document,
    number: NumberSpan,
    lo: int,
    after: int,
    at_least: int | None,
    at_most: int | None,
    casualties: set[int],
) -> str | None:
    """Why `number` is no count of people moved, whatever the trigger; None when it may be.
    `after` is the first token past its people phrase and auxiliaries."""
    if at_least is not None and (number.high or number.value) < at_least:
        return f"below at_least ({at_least:,})"
    if at_most is not None and number.value > at_most:
        return f"above at_most ({at_most:,})"
    capacity = _capacity_before(doc, number.start, lo)
    if capacity:
        return f"a capacity ('{capacity}'), not people moved"
    # "killed 400,000 people" (the casualty word's object), "300 were killed" (a death toll)
    for i in (number.start - 1, after):
        if i in casualties:
            return f"counts casualties ('{doc.tokens[i].norm}')"
    return None


def _distance(number: NumberSpan, trigger: tuple[int, int]) -> int:
    return max(trigger[0] - number.end, number.start - trigger[1], 0)


def _no_trigger(doc: Document, noun_end: int | None, after: int, hi: int) -> str:
    """Why a count in a sentence without triggers is none: name the word that ties it there
    (the first word after its people noun that is not a little word)."""
    if noun_end is not None:
        for i in range(after, min(after + 6, hi)):
            word = doc.tokens[i].norm
            if word.isalpha() and word not in _LITTLE_WORDS and word not in _LINKS:
                return f"'{doc.original(i)}' is not a trigger of this rule"
    return "no trigger of this rule in its sentence"


def to_figures(number: NumberSpan) -> tuple[Figure, ...]:
    low = Figure(number.value, number.text, number.qualifier, number.approximate)
    if number.high is None or number.high_text is None:
        return (low,)
    return low, Figure(number.high, number.high_text, number.qualifier, number.approximate)


def people_phrase_end(doc: Document, after: int, hi: int, modifiers: int = 2) -> int | None:
    """End of "[of] [up to `modifiers` words] people-noun" starting at token `after`, if any."""
    i = after
    if i < hi and doc.tokens[i].norm == "of":
        i += 1
    for j in range(i, min(i + 1 + modifiers, hi)):
        token = doc.tokens[j]
        if token.norm in PEOPLE_NOUNS or _is_demonym(doc, j):
            return j + 1
        if token.is_number() or token.norm in _NON_PEOPLE_UNITS or token.norm in _NOT_PEOPLE:
            return None
    return None


def _skip_links(doc: Document, i: int, hi: int) -> int:
    """Past the auxiliaries and adverbs between a subject and its verb ("have already been")."""
    while i < hi and doc.tokens[i].norm in _LINKS:
        i += 1
    return i


def _tied(
    doc: Document,
    number: NumberSpan,
    noun_end: int | None,
    trigger: tuple[int, int],
    within: int,
    casualties: set[int],
    numbers: list[NumberSpan],
) -> str | None:
    """None when `number` is tied to `trigger`, else why not."""
    t_start, t_end = trigger
    word = _text(doc, t_start, t_end)
    if t_start <= number.start and number.end <= t_end:
        return None  # the trigger phrase holds the number: "left 5,000 people homeless"
    if t_end == number.start or t_start == number.end:
        # "displaced 40,000" / "40,000 displaced", not "displaced; 300 were..."
        left_end, right_start = (
            (t_end, number.start) if t_end == number.start else (number.end, t_start)
        )
        gap = doc.text[doc.tokens[left_end - 1].end : doc.tokens[right_start].start]
        if not gap.isspace():
            return f"punctuation stands between it and '{word}'"
        if _unit_follows(doc, number.end):
            return f"a unit ('{doc.tokens[number.end].norm}') follows it"
        return None
    if noun_end is not None and t_start >= number.start and t_end <= noun_end:
        return None  # "40,000 internally displaced people", "65,000 Congolese refugees"
    subject_end = noun_end or number.end
    if t_start >= subject_end and _skip_links(doc, subject_end, t_start) == t_start:
        # the count is the subject: "2,400 had been displaced", "2,000 are ordered to evacuate"
        if t_start - subject_end <= max(within, 1):
            return None
    if noun_end is None:
        if _tally(doc, number, trigger, within, casualties):
            return None
        return f"not tied to '{word}' (no people noun after it, and not the subject of '{word}')"
    if t_end <= number.start:
        gap_start, gap_end = t_end, number.start
    elif t_start >= noun_end:
        gap_start, gap_end = noun_end, t_start
    else:
        return f"not tied to '{word}'"
    if gap_end - gap_start > within:
        return f"{gap_end - gap_start} words from '{word}' (within: {within})"
    casualty = next((k for k in range(gap_start, gap_end) if k in casualties), None)
    if casualty is not None:
        return f"a casualty word ('{doc.tokens[casualty].norm}') stands between it and '{word}'"
    if _clause_break(doc, gap_start, gap_end):
        return f"a clause break stands between it and '{word}'"
    share = _share(doc, gap_start, gap_end)
    if share:
        return f"'{share}' stands between it and '{word}': a part of them, not all"
    # numbers are in text order: look only at those starting in the gap
    k = bisect_left(numbers, gap_start, key=lambda n: n.start)
    while k < len(numbers) and numbers[k].start < gap_end:
        if numbers[k] is not number and not _unit_follows(doc, numbers[k].end):
            return f"another number stands nearer to '{word}'"
        k += 1
    return None


def _clause_break(doc: Document, start: int, end: int) -> bool:
    """A semicolon, colon or dash between tokens [start - 1, end]: another clause."""
    if start >= end:
        return False
    between = doc.text[doc.tokens[start - 1].end : doc.tokens[end].start]
    return bool(re.search(r"[;:]|\s[-–—]\s|[–—]", between))


def _share(doc: Document, start: int, end: int) -> str | None:
    """ "Four million people, half of them refugees": the trigger tells of a share."""
    words = [t.norm for t in doc.tokens[start:end]]
    for i in range(len(words) - 1):
        if words[i + 1] in ("them", "whom", "those") and words[i] == "of":
            return " ".join(words[max(0, i - 1) : i + 2])
    return None


def _capacity_before(doc: Document, start: int, lo: int) -> str | None:
    """ "a camp built for 50,000", "a maximum of 50,000 refugees": room for people, not people."""
    before = tuple(t.norm for t in doc.tokens[max(lo, start - 3) : start])
    for phrase in _CAPACITY:
        if before[-len(phrase) :] == phrase:
            return " ".join(phrase)
    return None


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


def _core_number(doc: Document, i: int, hi: int) -> tuple[int, float, bool] | None:
    """(end, value, approximate) of the number starting at token i, or None; the value may
    have a fraction ("1.5" in "1.5 to 2 million"), which no count keeps."""
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
        if scale > 1 and abs(total - round(total)) < 1e-6 * scale:
            total = float(round(total))  # 8.2 * 1,000,000 is 8,200,000, not 8,199,999.99...
        return end, total, False
    if norm in _VAGUE:
        # "tens of thousands", "hundreds of thousands", "thousands", "millions"
        value, end = _VAGUE[norm], i + 1
        if end + 1 < hi and doc.tokens[end].norm == "of" and doc.tokens[end + 1].norm in _VAGUE:
            value *= _VAGUE[doc.tokens[end + 1].norm]
            end += 2
        return end, float(value), True
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


def _number_words(doc: Document, i: int, hi: int) -> tuple[int, float, bool] | None:
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
    value = (total + current) * multiplier
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
