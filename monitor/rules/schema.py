"""The shape of a rule file, validated before any rule is compiled.

pydantic models with `extra="forbid"`, so a misspelt key is an error that names the key; the
loader turns each validation error into `path:line:col: message`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from monitor.timeutil import parse_duration
from monitor.yamlsrc import StrictModel

RULE_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Severity = Literal["info", "low", "medium", "high", "critical"]
FieldName = Literal["title", "summary", "text"]


class TermSpec(StrictModel):
    """`{term: WHO, case: true}`: a term with options."""

    term: str = Field(min_length=1)
    case: bool = False


def _kind(value: Any) -> str:
    """Which model a list item is, so that errors speak of one model, not of each guess."""
    if isinstance(value, str):
        return "str"
    if isinstance(value, dict) and "term" in value:
        return "term"
    if isinstance(value, dict):
        return "node"
    return "str"  # reported as "Input should be a valid string"


TermLike = Annotated[
    Annotated[str, Tag("str")] | Annotated[TermSpec, Tag("term")], Discriminator(_kind)
]


class NearSpec(StrictModel):
    """`near: {terms: [[...], [...]], within: N}`: terms of each group within N words."""

    terms: list[list[TermLike]] = Field(min_length=2)
    within: int = Field(5, ge=0, le=100)
    same_sentence: bool = True


class FigureSpec(StrictModel):
    """`figure: {near: [...], within, at_least, at_most, as, unless}`: a count of people;
    `unless` terms in a sentence rule out its counts ("displaced his shoulder"); `where`
    gazetteers capture the place written nearest each figure in its sentence as `place`."""

    near: list[TermLike] = Field(min_length=1)
    within: int = Field(8, ge=0, le=100)
    at_least: int | None = Field(None, ge=0)
    at_most: int | None = Field(None, ge=0)
    as_: str = Field("figures", alias="as", pattern=r"^[a-z][a-z0-9_]*$")
    same_sentence: bool = True
    unless: list[TermLike] = []
    where: list[str] = []


class PlaceSpec(StrictModel):
    """`place: {near: [...], within, in: [...], as}`: a place name, optionally near terms;
    `after` (the place follows its trigger), `prepositions` (the word before the place, unless
    it follows the trigger itself) and `unless` (terms whose presence in the sentence rules the
    place out) narrow which names count, and `negations` make a trigger right after one no
    trigger ("would not travel"); `with` terms must be in the place's sentence too
    (who travels), and with `names` the name written after one ("Secretary of State John
    Kerry") stands for it later in the text ("Kerry arrived in Oslo"). With `dateline` the
    only candidate is the place of the text's dateline ("GENEVA (Reuters) -"), for sentences
    with a trigger that name no place of their own ("Kerry told the conference")."""

    near: list[TermLike] | None = None
    within: int = Field(6, ge=0, le=100)
    in_: list[str] = Field(alias="in", min_length=1)
    as_: str = Field("places", alias="as", pattern=r"^[a-z][a-z0-9_]*$")
    same_sentence: bool = True
    after: bool = False
    prepositions: list[str] | None = Field(None, min_length=1)
    unless: list[TermLike] = []
    negations: list[TermLike] = []
    with_: list[TermLike] = Field([], alias="with")
    names: bool = False
    dateline: bool = False


class NodeSpec(StrictModel):
    """A node: every key present must hold (several keys in one mapping are ANDed)."""

    any: list[Item] | None = Field(None, min_length=1)
    all: list[Item] | None = Field(None, min_length=1)
    none: list[Item] | None = Field(None, min_length=1)
    near: NearSpec | None = None
    figure: FigureSpec | None = None
    place: PlaceSpec | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> NodeSpec:
        if not self.model_fields_set:
            raise ValueError("a node needs one of any, all, none, near, figure, place")
        return self


Item = Annotated[
    Annotated[str, Tag("str")]
    | Annotated[TermSpec, Tag("term")]
    | Annotated[NodeSpec, Tag("node")],
    Discriminator(_kind),
]
NodeSpec.model_rebuild()


class Expectation(StrictModel):
    match: bool
    figures: list[int] | None = None
    captures: dict[str, list[str]] | None = None


class Example(StrictModel):
    text: str
    title: str | None = None
    expect: Expectation


class SourceSpec(StrictModel):
    tags: list[str] = []
    domains: list[str] = []
    exclude_domains: list[str] = []


class RuleSpec(StrictModel):
    id: str = Field(pattern=RULE_ID_PATTERN)
    title: str | None = None
    description: str | None = None
    tags: list[str] = []
    severity: Severity = "medium"
    # a short phrase for digest subjects: "{figure} displaced[ in {place}]" (see rules/summary.py)
    summary: str | None = Field(None, max_length=200)
    fields: list[FieldName] = Field(["title", "summary", "text"], min_length=1)
    match: NodeSpec
    alert: Literal["every", "new-figure", "once-per-story"] = "every"
    key: str | None = None
    sources: SourceSpec | None = None
    languages: list[str] | None = None
    max_age: str | None = None
    examples: list[Example] = []

    @field_validator("max_age")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @property
    def display_title(self) -> str:
        return self.title or re.sub(r"-", " ", self.id).capitalize()


class RuleFileSpec(StrictModel):
    lists: dict[str, list[str]] = {}
    rules: list[RuleSpec] = []
