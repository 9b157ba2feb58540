"""Loading rule files: YAML -> validated specs -> one compiled `RuleSet`.

Every problem found, in every file, is reported at once as `path:line:col: message`, so an
operator fixes a whole file in one pass: a rule that fails validation (an unknown key, a bad
severity) is still compiled as far as it can be, without the parts in error, so that its bad
regular expression, unknown list or duplicate id show up in the same run. `lists:` are shared
by all files of a rule set.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from monitor.errors import Problem, RuleError
from monitor.rules.compile import CompiledRule, Compiler
from monitor.rules.match import RuleSet
from monitor.rules.places import BUILTIN_GAZETTEERS
from monitor.rules.schema import RULE_ID_PATTERN, NodeSpec, RuleFileSpec, RuleSpec
from monitor.rules.terms import Term
from monitor.yamlsrc import Locator, data_loc, load_yaml, located_errors

RULE_SUFFIXES = (".yaml", ".yml")
# The shipped rule files are a few kilobytes; reading a 10 MB one took 2 GB and two minutes.
MAX_RULE_FILE_BYTES = 1_000_000


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """The rule files named, folders expanded to their *.yaml/*.yml files (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file())
            )
        else:
            files.append(path)
    return files


@dataclass(frozen=True)
class ParsedRule:
    """One rule of a file; `index` is its place under `rules:`. A rule that failed validation
    is kept (`valid` False) with what could be salvaged of it: its id and match when they
    validate, its spec when it validates without the parts in error."""

    index: int
    id: str | None
    match: NodeSpec | None
    spec: RuleSpec | None
    valid: bool

    @classmethod
    def of(cls, index: int, spec: RuleSpec, *, valid: bool = True) -> ParsedRule:
        return cls(index, spec.id, spec.match, spec, valid)


@dataclass(frozen=True)
class ParsedFile:
    path: Path
    locator: Locator
    lists: dict[str, list[str]]
    rules: tuple[ParsedRule, ...]

    def valid_rules(self) -> Iterator[tuple[int, RuleSpec]]:
        """(index, spec) of each rule that validated."""
        for rule in self.rules:
            if rule.valid and rule.spec is not None:
                yield rule.index, rule.spec


def load_rules(paths: Iterable[Path]) -> RuleSet:
    """Load and compile every rule in `paths`; raise RuleError listing every problem."""
    problems: list[Problem] = []
    return compile_rule_files(parse_rule_files(paths, problems), problems)


def parse_rule_files(paths: Iterable[Path], problems: list[Problem]) -> list[ParsedFile]:
    """Read and validate the rule files in `paths`, collecting located problems."""
    parsed: list[ParsedFile] = []
    for file in rule_files(paths):
        try:
            size = file.stat().st_size
            if size > MAX_RULE_FILE_BYTES:  # a rule file is kilobytes: this is no rule file
                limit = MAX_RULE_FILE_BYTES / 1e6
                message = f"rule file is {size / 1e6:.1f} MB, above the limit of {limit:g} MB"
                problems.append(Problem(str(file), 1, 1, message))
                continue
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(file), 1, 1, f"cannot read rule file ({exc})"))
            continue
        data, locator, yaml_problems = load_yaml(text, str(file))
        problems.extend(yaml_problems)
        if data is None or yaml_problems:
            continue
        found = validate_file(file, data, locator, problems)
        if found is not None:
            parsed.append(found)
    return parsed


def compile_rule_files(parsed: list[ParsedFile], problems: list[Problem]) -> RuleSet:
    """One rule set from parsed files; raise RuleError with `problems` and every new one."""
    lists: dict[str, list[str]] = {}
    where: dict[str, Locator] = {}
    for file in parsed:
        for name, terms in file.lists.items():
            if name in lists:
                problems.append(
                    file.locator.problem(
                        ("lists", name), f"list '{name}' is defined twice", key=True
                    )
                )
            lists[name] = terms
            where[name] = file.locator
    lists = {name: _expand_list(name, lists, where, problems, ()) for name in lists}

    compiled: list[CompiledRule] = []
    seen: dict[str, str] = {}
    interned: dict[tuple[str, bool], Term] = {}
    for file in parsed:
        locator = file.locator
        compiler = Compiler(lists, locator, problems, interned)
        for rule in file.rules:
            loc = ("rules", rule.index)
            duplicate = rule.id is not None and rule.id in seen
            if duplicate:
                problems.append(
                    locator.problem(
                        loc + ("id",),
                        f"duplicate rule id '{rule.id}' (first defined in {seen[rule.id or '']})",
                    )
                )
            elif rule.id is not None:
                seen[rule.id] = str(file.path)
            spec = rule.spec
            if spec is not None and spec.key is not None and spec.alert != "new-figure":
                problems.append(
                    locator.problem(
                        loc + ("key",), "key: only applies with alert: new-figure", key=True
                    )
                )
            if rule.match is None:
                continue
            try:
                node = compiler.node(rule.match, loc + ("match",))
            except RecursionError:
                problems.append(locator.problem(loc + ("match",), "rule nests nodes too deeply"))
                continue
            if rule.valid and spec is not None and not duplicate:
                compiled.append(CompiledRule(spec, node, str(file.path)))
    if problems:
        raise RuleError(problems)
    return RuleSet(tuple(compiled))


def _expand_list(
    name: str,
    lists: dict[str, list[str]],
    where: dict[str, Locator],
    problems: list[Problem],
    outer: tuple[str, ...],
) -> list[str]:
    """The terms of list `name` with the `$other` lists it names replaced by their terms."""
    terms: list[str] = []
    for index, term in enumerate(lists[name]):
        ref = term[1:] if term.startswith("$") else None
        if ref is None or ref in BUILTIN_GAZETTEERS:
            terms.append(term)
        elif ref in outer + (name,):
            cycle = " -> ".join((*outer, name, ref))
            problems.append(
                where[name].problem(
                    ("lists", name, index), f"lists refer to each other in a cycle ({cycle})"
                )
            )
        elif ref not in lists:
            problems.append(where[name].problem(("lists", name, index), f"unknown list '{term}'"))
        else:
            terms.extend(_expand_list(ref, lists, where, problems, outer + (name,)))
    return terms


def validate(data: Any, locator: Locator, problems: list[Problem]) -> RuleFileSpec | None:
    """Validate parsed YAML against the rule file schema, collecting located problems."""
    if not isinstance(data, dict):
        problems.append(
            locator.problem((), "a rule file is a mapping with 'rules:' (and optionally 'lists:')")
        )
        return None
    try:
        return RuleFileSpec.model_validate(data)
    except ValidationError as exc:
        problems.extend(located_errors(exc, locator))
        return None


def validate_file(
    path: Path, data: Any, locator: Locator, problems: list[Problem]
) -> ParsedFile | None:
    """A rule file's lists and rules, validated; on schema errors, what can be salvaged of
    each rule (see `_salvage`) so that compiling still finds the problems beyond them."""
    if not isinstance(data, dict):
        validate(data, locator, problems)
        return None
    try:
        spec = RuleFileSpec.model_validate(data)
    except ValidationError as exc:
        problems.extend(located_errors(exc, locator))
        return _salvage(path, data, locator, exc)
    return ParsedFile(
        path,
        locator,
        dict(spec.lists),
        tuple(ParsedRule.of(index, rule) for index, rule in enumerate(spec.rules)),
    )


def _salvage(
    path: Path, data: dict[Any, Any], locator: Locator, exc: ValidationError
) -> ParsedFile:
    """The parts of an invalid rule file that validate once unknown keys are dropped, and
    any optional rule field in error reset to its default; a rule whose id or match is in
    error keeps what validates of them. Problems have been reported already."""
    data = copy.deepcopy(data)
    broken: dict[int, set[Any]] = {}  # rule index -> its fields in error (other than keys)
    for error in exc.errors():
        loc = data_loc(error["loc"])
        in_rule = len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int)
        fields = broken.setdefault(int(loc[1]), set()) if in_rule else set()
        if error["type"] == "extra_forbidden":
            _drop(data, loc)
        elif len(loc) >= 3:
            fields.add(loc[2])
    raw_lists = data.get("lists")
    lists = {
        str(name): [t for t in terms if isinstance(t, str)]
        for name, terms in (raw_lists.items() if isinstance(raw_lists, dict) else ())
        if isinstance(terms, list)
    }
    raw_rules = data.get("rules")
    rules: list[ParsedRule] = []
    for index, raw in enumerate(raw_rules if isinstance(raw_rules, list) else ()):
        if not isinstance(raw, dict):
            continue
        in_error = broken.get(index)
        kept = {k: v for k, v in raw.items() if k in ("id", "match") or k not in (in_error or ())}
        try:
            spec = RuleSpec.model_validate(kept)
            rules.append(ParsedRule.of(index, spec, valid=in_error is None))
            continue
        except ValidationError:
            pass
        rule_id = kept.get("id")
        match: NodeSpec | None = None
        try:
            match = NodeSpec.model_validate(kept.get("match"))
        except ValidationError:
            pass
        if not (isinstance(rule_id, str) and re.fullmatch(RULE_ID_PATTERN, rule_id)):
            rule_id = None
        rules.append(ParsedRule(index, rule_id, match, None, valid=False))
    return ParsedFile(path, locator, lists, tuple(rules))


def _drop(data: Any, loc: tuple[str | int, ...]) -> None:
    """Remove the key at `loc` from nested data (nothing when the path is not there)."""
    for part in loc[:-1]:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return
    if isinstance(data, dict):
        data.pop(loc[-1], None)
