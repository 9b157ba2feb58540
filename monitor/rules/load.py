"""Loading rule files: YAML -> validated specs -> one compiled `RuleSet`.

Every problem found, in every file, is reported at once as `path:line:col: message`, so an
operator fixes a whole file in one pass. `lists:` are shared by all files of a rule set.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from monitor.errors import Problem, RuleError
from monitor.rules.compile import CompiledRule, Compiler
from monitor.rules.match import RuleSet
from monitor.rules.places import BUILTIN_GAZETTEERS
from monitor.rules.schema import RuleFileSpec
from monitor.rules.terms import Term
from monitor.yamlsrc import Locator, load_yaml, located_errors

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


ParsedFile = tuple[Path, RuleFileSpec, Locator]


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
        spec = validate(data, locator, problems)
        if spec is not None:
            parsed.append((file, spec, locator))
    return parsed


def compile_rule_files(parsed: list[ParsedFile], problems: list[Problem]) -> RuleSet:
    """One rule set from parsed files; raise RuleError with `problems` and every new one."""
    lists: dict[str, list[str]] = {}
    where: dict[str, Locator] = {}
    for _, spec, locator in parsed:
        for name, terms in spec.lists.items():
            if name in lists:
                problems.append(
                    locator.problem(("lists", name), f"list '{name}' is defined twice", key=True)
                )
            lists[name] = terms
            where[name] = locator
    lists = {name: _expand_list(name, lists, where, problems, ()) for name in lists}

    compiled: list[CompiledRule] = []
    seen: dict[str, str] = {}
    interned: dict[tuple[str, bool], Term] = {}
    for file, spec, locator in parsed:
        compiler = Compiler(lists, locator, problems, interned)
        for index, rule in enumerate(spec.rules):
            loc = ("rules", index)
            if rule.id in seen:
                problems.append(
                    locator.problem(
                        loc + ("id",),
                        f"duplicate rule id '{rule.id}' (first defined in {seen[rule.id]})",
                    )
                )
                continue
            seen[rule.id] = str(file)
            if rule.key is not None and rule.alert != "new-figure":
                problems.append(
                    locator.problem(
                        loc + ("key",), "key: only applies with alert: new-figure", key=True
                    )
                )
            try:
                node = compiler.node(rule.match, loc + ("match",))
            except RecursionError:
                problems.append(locator.problem(loc + ("match",), "rule nests nodes too deeply"))
                continue
            compiled.append(CompiledRule(rule, node, str(file)))
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
