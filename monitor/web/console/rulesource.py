"""A rule's own YAML in its file, and an edited rule written back in its place.

The playground edits one rule at a time: `rule_source` cuts the rule's lines out of its file
(comments kept) and takes off the `- ` and indentation of its place under `rules:`, so the
textarea holds a plain mapping. `write_rule` puts an edited mapping back in the same lines,
indented as before, after checking that the file has not changed since it was read and that
the new file parses to exactly the edited rule; the write is atomic (a temporary file in the
same folder, then a rename), so the worker's rule watcher sees the old file or the new one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from monitor.yamlsrc import load_yaml


@dataclass(frozen=True)
class RuleSource:
    """Rule `index` of `path`: lines [start, end) of the file, its mapping at column
    `indent`; `text` the mapping alone; `digest` the whole file's, as it was read."""

    path: Path
    index: int
    start: int
    end: int
    indent: int
    prefix: str  # what comes before the mapping on its first line ("  - ")
    text: str
    digest: str


class SourceError(Exception):
    """A rule cannot be cut out of, or written back into, its file (said in the message)."""


def file_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def rule_source(path: Path, index: int) -> RuleSource:
    """The YAML of rule `index` (its place under `rules:`) of the file at `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read the rule file ({exc})") from None
    return _cut(path, text, index)


def _cut(path: Path, text: str, index: int) -> RuleSource:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise SourceError(f"{path}: invalid YAML ({exc})") from None
    items = _rule_items(root)
    if items is None or not 0 <= index < len(items):
        raise SourceError(f"{path}: no rule number {index + 1} under rules:")
    item = items[index]
    lines = text.splitlines(keepends=True)
    start, indent = item.start_mark.line, item.start_mark.column
    prefix = lines[start][:indent]
    if not isinstance(item, yaml.MappingNode) or prefix.strip() != "-":
        raise SourceError(
            f"{path}: rule {index + 1} is not written as `- key: value` lines: edit its file"
        )
    end = _end_line(item, lines)
    while end < len(lines) and _is_comment_within(lines[end], indent):
        end += 1
    body = [lines[start][indent:]] + [_dedent(line, indent) for line in lines[start + 1 : end]]
    return RuleSource(path, index, start, end, indent, prefix, "".join(body), file_digest(text))


def _rule_items(root: yaml.Node | None) -> list[yaml.Node] | None:
    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "rules":
            return list(value.value) if isinstance(value, yaml.SequenceNode) else None
    return None


def _end_line(node: yaml.Node, lines: list[str]) -> int:
    """The line after the last one holding a part of `node`."""
    end = _last_mark(node)
    before = lines[end.line][: end.column] if end.line < len(lines) else ""
    return end.line + 1 if before.strip() else end.line


def _last_mark(node: yaml.Node) -> yaml.Mark:
    marks = [node.end_mark]
    if isinstance(node, yaml.MappingNode):
        marks += [_last_mark(n) for pair in node.value for n in pair]
    elif isinstance(node, yaml.SequenceNode):
        marks += [_last_mark(n) for n in node.value]
    # a block mapping ends where the next token starts: scalars' ends are exact
    exact = [m for m in marks[1:]] or marks
    return max(exact, key=lambda m: m.index)


def _is_comment_within(line: str, indent: int) -> bool:
    stripped = line.lstrip(" ")
    return stripped.startswith("#") and len(line) - len(stripped) >= indent


def _dedent(line: str, indent: int) -> str:
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, indent) :]


def normalised(text: str) -> str:
    """A textarea's text as YAML lines: browsers send CRLF; one newline at the end."""
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip() + "\n"


def edited_file(source: RuleSource, text: str, current: str) -> str:
    """The file `current` with the rule of `source` replaced by the mapping `text`."""
    lines = current.splitlines(keepends=True)
    new = normalised(text).splitlines(keepends=True)
    placed = [source.prefix + new[0]] + [
        " " * source.indent + line if line.strip() else "\n" for line in new[1:]
    ]
    if source.end == len(lines) and lines and not lines[-1].endswith("\n"):
        placed[-1] = placed[-1].rstrip("\n")  # the file ended without a newline: so does it
    return "".join(lines[: source.start] + placed + lines[source.end :])


def write_rule(source: RuleSource, text: str) -> None:
    """Replace the rule of `source` by `text` in its file, atomically; SourceError when the
    file changed since `source` was read or the edit does not fit in its place."""
    path = source.path
    try:
        current = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read the rule file ({exc})") from None
    if file_digest(current) != source.digest:
        raise SourceError(f"{path} changed since this edit began: reload the playground")
    new_text = edited_file(source, text, current)
    wanted, _, problems = load_yaml(normalised(text), "edit")
    data, _, file_problems = load_yaml(new_text, str(path))
    rules = data.get("rules") if isinstance(data, dict) else None
    if (
        problems
        or file_problems
        or not isinstance(rules, list)
        or len(rules) <= source.index
        or rules[source.index] != wanted
    ):
        raise SourceError(f"{path}: the edit does not fit in the rule's place: edit the file")
    _replace_atomically(path, new_text)


def _replace_atomically(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o7777
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
