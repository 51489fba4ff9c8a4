"""YAML read into plain values that remember their line, and the problems found in them.

Every scalar stays a string (so `key: 0` is "0" and `yes`/`no`/`on`/`off` never become
booleans); the schema readers convert where a number or true/false is wanted. Mappings and
lists keep the line of each key and item so every error can say `file:line`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
# libyaml composes ten times faster than the pure-Python parser, with the same marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One thing wrong with a flow or scenario file, and where."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """Return the problem as JSON-ready data."""
        return {"file": self.file, "line": self.line, "message": self.message}


class FlowError(Exception):
    """A flow or scenario file that cannot be used; `problems` says every reason and where."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class YStr(str):
    """A string scalar from YAML, with the line it was written on."""

    line: int

    def __new__(cls, value: str, line: int) -> YStr:
        self = super().__new__(cls, value)
        self.line = line
        return self


class YMap(dict[str, Any]):
    """A YAML mapping; `line` is where it starts, `key_lines` where each key was written."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}

    def line_of(self, key: str) -> int:
        """Return the line of `key`, or of the mapping when the key is absent."""
        return self.key_lines.get(key, self.line)


class YList(list[Any]):
    """A YAML sequence with the line it starts on."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line


def line_of(value: Any, default: int) -> int:
    """Return the line `value` was written on, or `default` for values that do not know."""
    return getattr(value, "line", default)


def read_yaml(path: Path, display: str | None = None) -> tuple[Any, list[Problem]]:
    """Return the document in `path` as line-aware values, and any problems reading it."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(name, 1, f"cannot read the file: {exc}")]
    return parse_yaml(text, name)


def parse_yaml(text: str, file: str) -> tuple[Any, list[Problem]]:
    """Return the YAML document in `text` as line-aware values, and any problems."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        return None, [Problem(file, line, f"not valid YAML: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return None, [Problem(file, 1, f"not valid YAML: {exc}")]
    problems: list[Problem] = []
    if node is None:
        return None, [Problem(file, 1, "the file is empty")]
    return _convert(node, file, problems), problems


def _convert(node: yaml.Node, file: str, problems: list[Problem]) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        if not node.style and node.value in _NULLS:  # plain: None in Python, "" in libyaml
            return None
        return YStr(node.value, line)
    if isinstance(node, yaml.SequenceNode):
        items = YList(line)
        items.extend(_convert(child, file, problems) for child in node.value)
        return items
    mapping = YMap(line)
    for key_node, value_node in node.value:
        key_line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(Problem(file, key_line, "a key must be a plain word"))
            continue
        key = key_node.value
        if key in mapping.key_lines:
            first = mapping.key_lines[key]
            problems.append(
                Problem(file, key_line, f"'{key}' is given twice (first on line {first})")
            )
            continue
        mapping.key_lines[key] = key_line
        mapping[key] = _convert(value_node, file, problems)
    return mapping
