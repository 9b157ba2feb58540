"""Safe YAML loading that remembers where every value came from.

Config and rule errors must point at `path:line:col`. PyYAML's composed node tree carries those
marks; we build plain Python data from it and keep a `Locator` mapping each data path (a tuple
of keys and indexes, like pydantic's error `loc`) to the mark of its key and of its value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from monitor.errors import Problem

PathKey = tuple[str | int, ...]


@dataclass
class Locator:
    """Maps data paths to 1-based (line, col) positions in one YAML file."""

    path: str
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def position(self, loc: tuple[Any, ...], *, key: bool = False) -> tuple[int, int]:
        """The position of the deepest known prefix of `loc` (the key's own mark if `key`)."""
        parts: list[str | int] = [p for p in loc if isinstance(p, (str, int))]
        while parts:
            candidate = tuple(parts)
            if key and candidate in self.keys:
                return self.keys[candidate]
            if candidate in self.values:
                return self.values[candidate]
            parts.pop()
        return self.values.get((), (1, 1))

    def problem(self, loc: tuple[Any, ...], message: str, *, key: bool = False) -> Problem:
        line, col = self.position(loc, key=key)
        return Problem(self.path, line, col, message)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_yaml(text: str, path: str) -> tuple[Any, Locator, list[Problem]]:
    """Parse `text` safely; returns (data, locator, problems). Data is None on a syntax error."""
    locator = Locator(path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, locator, [Problem(path, line, col, f"invalid YAML: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return None, locator, [Problem(path, 1, 1, f"invalid YAML: {exc}")]
    except RecursionError:
        return None, locator, [Problem(path, 1, 1, "invalid YAML: nested too deeply")]
    if node is None:
        return None, locator, []
    problems: list[Problem] = []
    try:
        data = _build(node, (), locator, problems, set())
    except RecursionError:
        return None, locator, [Problem(path, 1, 1, "invalid YAML: nested too deeply")]
    # an alias used many times (a "billion laughs" bomb) is one problem, said once
    return data, locator, list(dict.fromkeys(problems))


def _build(
    node: yaml.Node, at: PathKey, locator: Locator, problems: list[Problem], seen: set[int]
) -> Any:
    locator.values[at] = _mark(node)
    if isinstance(node, yaml.CollectionNode):
        # an alias is the same node met twice: refused, since nested aliases expand
        # exponentially ("billion laughs") and plain config and rules never need them
        if id(node) in seen:
            line, col = _mark(node)
            problems.append(
                Problem(
                    locator.path,
                    line,
                    col,
                    "YAML anchors and aliases (&name, *name) are not supported",
                )
            )
            return None
        seen.add(id(node))
    if node.tag not in _SAFE_TAGS:
        line, col = _mark(node)
        problems.append(Problem(locator.path, line, col, f"unsupported YAML tag {node.tag}"))
        return None
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if not isinstance(key, (str, int)):
                line, col = _mark(key_node)
                problems.append(Problem(locator.path, line, col, "keys must be plain strings"))
                continue
            if key in result:
                line, col = _mark(key_node)
                problems.append(Problem(locator.path, line, col, f"duplicate key '{key}'"))
            locator.keys[at + (key,)] = _mark(key_node)
            result[key] = _build(value_node, at + (key,), locator, problems, seen)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, at + (i,), locator, problems, seen) for i, item in enumerate(node.value)
        ]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        return None
    # SafeConstructor turns the resolved tag (int, bool, null, timestamp...) into a value safely
    return _SAFE_CONSTRUCTOR.construct_object(node, deep=True)


_SAFE_CONSTRUCTOR = yaml.SafeLoader("")
# Plain data only: no python/* tags, no custom tags.
_SAFE_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
)


class StrictModel(BaseModel):
    """Base of the config and rule models: an unknown key is an error, never ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def data_loc(loc: tuple[int | str, ...]) -> PathKey:
    """A pydantic error's `loc` as a path into the data: the union branch tags of the rule
    schema ("str", "term", "node") are not part of it."""
    return tuple(p for p in loc if isinstance(p, int) or p not in ("str", "term", "node"))


def located_errors(exc: ValidationError, locator: Locator) -> list[Problem]:
    """pydantic errors as `path:line:col: message`, naming the offending key or value."""
    problems: list[Problem] = []
    for error in exc.errors():
        loc = data_loc(error["loc"])
        where = ".".join(str(p) for p in loc) or "top level"
        kind = error["type"]
        if kind == "extra_forbidden":
            message = f"unknown key '{loc[-1]}' in {'.'.join(map(str, loc[:-1])) or 'top level'}"
            problems.append(locator.problem(loc, message, key=True))
            continue
        if kind == "missing":
            message = (
                f"missing required key '{loc[-1]}' in {'.'.join(map(str, loc[:-1])) or 'top level'}"
            )
            problems.append(locator.problem(loc[:-1], message))
            continue
        message = error["msg"].removeprefix("Value error, ")
        problems.append(locator.problem(loc, f"{where}: {message}"))
    return problems
