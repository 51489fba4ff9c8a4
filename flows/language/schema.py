"""Strict readers for line-aware YAML values: each mistake becomes a Problem, never a guess."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .yamlsrc import Problem, YList, YMap, YStr, line_of

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# A key such as "en-US" or "es-419": no other key of a flow file has a hyphen.
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})+$")


def is_language_map(value: Any) -> bool:
    """Return whether `value` gives a text in several languages ({en-US: ..., es-US: ...})."""
    return isinstance(value, YMap) and bool(value) and all(LANGUAGE_TAG.match(k) for k in value)


def kind_of(value: Any) -> str:
    """Return how a YAML value reads to a person ("a list", "a mapping", ...)."""
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"the text {str(value)!r}"


class Reader:
    """Collects problems while reading one file; readers return None where they fail."""

    def __init__(self, file: str, language: str = "", languages: tuple[str, ...] = ()) -> None:
        self.file = file
        self.problems: list[Problem] = []
        # The language texts are read in, of the flow's `languages`: a text written in
        # several (`{en-US: ..., es-US: ...}`) gives this one's; a flow in more than one
        # language must give every text in each.
        self.language = language
        self.languages = languages
        self._chosen = False  # inside a text already taken from its language map

    @contextmanager
    def chosen(self) -> Iterator[None]:
        """Read what is inside a text already taken in the reader's language (a prompt's
        channels under `{en-US: {voice: ..., chat: ...}}`): plain texts there are that
        language's."""
        was, self._chosen = self._chosen, True
        try:
            yield
        finally:
            self._chosen = was

    def in_language(self, value: Any, where: str, line: int) -> Any:
        """Return `value` in the reader's language: the version a language map gives, or
        `value` itself; a missing version, or a text given in one language only where the
        flow speaks several, is a problem (and None)."""
        if is_language_map(value):
            unknown = [k for k in value if k not in self.languages]
            for key in unknown:
                speaks = ", ".join(self.languages) or "en-US"
                self.problem(
                    value.line_of(key),
                    f"{where}: '{key}' is not one of the flow's languages ({speaks})",
                )
            if unknown:
                return None
            if self.language not in value:
                self.problem(value.line, f"{where} has no {self.language} version")
                return None
            return value[self.language]
        if len(self.languages) > 1 and value is not None and not self._chosen:
            self.problem(
                line_of(value, line),
                f"{where} is in one language; the flow speaks {', '.join(self.languages)}: "
                f"give it as {{{': ..., '.join(self.languages)}: ...}}",
            )
            return None
        return value

    def text(self, owner: YMap, key: str, where: str, *, default: str | None = None) -> str | None:
        """Return the words under `key` in the reader's language (see `in_language`)."""
        if key not in owner or owner[key] is None:
            return self.string(owner, key, where, default=default)
        value = self.in_language(owner[key], f"{where}.{key}", owner.line_of(key))
        if value is None:
            return None
        if not isinstance(value, YStr):
            at = line_of(value, owner.line_of(key))
            self.problem(at, f"{where}.{key} must be text, not {kind_of(value)}")
            return None
        return value

    def texts(self, owner: YMap, key: str, where: str) -> list[YStr]:
        """Return the list of texts under `key` in the reader's language (see `in_language`)."""
        if key not in owner or owner[key] is None:
            return []
        value = self.in_language(owner[key], f"{where}.{key}", owner.line_of(key))
        if value is None:
            return []
        holder = YMap(owner.line)
        holder[key], holder.key_lines[key] = value, line_of(value, owner.line_of(key))
        return self.strings(holder, key, where)

    def problem(self, line: int, message: str) -> None:
        """Record that something at `line` is wrong."""
        self.problems.append(Problem(self.file, line, message))

    def mapping(
        self,
        value: Any,
        where: str,
        line: int,
        allowed: Iterable[str],
        required: Iterable[str] = (),
    ) -> YMap | None:
        """Return `value` if it is a mapping with only `allowed` keys and every `required` one."""
        allowed = tuple(allowed)
        if not isinstance(value, YMap):
            self.problem(line_of(value, line), f"{where} must be a mapping, not {kind_of(value)}")
            return None
        ok = True
        for key in value:
            if key not in allowed:
                self.problem(
                    value.line_of(key),
                    f"unknown key '{key}' in {where} (allowed: {', '.join(allowed)})",
                )
                ok = False
        for key in required if ok else ():  # after a misspelt key, "needs" would only repeat it
            if key not in value:
                self.problem(value.line, f"{where} needs '{key}'")
                ok = False
        return value if ok else None

    def string(
        self, owner: YMap, key: str, where: str, *, default: str | None = None
    ) -> str | None:
        """Return the text under `key`; a missing key gives `default` (None means required)."""
        if key not in owner or owner[key] is None:
            if default is None:
                self.problem(owner.line_of(key), f"{where} needs '{key}'")
            return default
        value = owner[key]
        if not isinstance(value, YStr):
            self.problem(owner.line_of(key), f"{where}.{key} must be text, not {kind_of(value)}")
            return None
        return str(value)

    def name(self, owner: YMap, key: str, where: str, *, required: bool = True) -> str | None:
        """Return an identifier (lower case, digits, _) under `key`."""
        value = self.string(owner, key, where, default=None if required else "")
        if value and not _NAME.match(value):
            self.problem(
                owner.line_of(key),
                f"{where}.{key}: {value!r} is not a name (use lower case letters, digits and _)",
            )
            return None
        return value

    def integer(self, owner: YMap, key: str, where: str, default: int, low: int, high: int) -> int:
        """Return a whole number in [low, high] under `key`, or `default` when absent."""
        text = self.string(owner, key, where, default="")
        if not text:
            return default
        try:
            number = int(text)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            self.problem(owner.line_of(key), f"{where}.{key} must be a whole number {low}-{high}")
            return default
        return number

    def number(self, owner: YMap, key: str, where: str, default: float) -> float:
        """Return a number between 0 and 1 under `key`, or `default` when absent."""
        text = self.string(owner, key, where, default="")
        if not text:
            return default
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is None or not 0.0 <= number <= 1.0:
            self.problem(owner.line_of(key), f"{where}.{key} must be a number from 0 to 1")
            return default
        return number

    def strings(self, owner: YMap, key: str, where: str) -> list[YStr]:
        """Return the list of texts under `key` (a single text counts as a list of one)."""
        value = owner.get(key)
        if value is None:
            return []
        if isinstance(value, YStr):
            return [value]
        if not isinstance(value, YList):
            self.problem(owner.line_of(key), f"{where}.{key} must be a list, not {kind_of(value)}")
            return []
        out: list[YStr] = []
        for item in value:
            if isinstance(item, YStr):
                out.append(item)
            else:
                self.problem(
                    line_of(item, value.line),
                    f"{where}.{key} items must be text, not {kind_of(item)}",
                )
        return out

    def flag(self, owner: YMap, key: str, where: str, *, default: bool) -> bool:
        """Return true/false under `key`, or `default` when absent."""
        value = self.string(owner, key, where, default="")
        if not value:
            return default
        if value not in ("true", "false"):
            self.problem(owner.line_of(key), f"{where}.{key} must be true or false; got {value!r}")
            return default
        return value == "true"

    def choice(
        self, owner: YMap, key: str, where: str, allowed: tuple[str, ...], default: str
    ) -> str:
        """Return one of `allowed` under `key`, or `default` when absent."""
        value = self.string(owner, key, where, default=default)
        if value is None or value not in allowed:
            if value is not None:
                self.problem(
                    owner.line_of(key),
                    f"{where}.{key} must be one of {', '.join(allowed)}; got {value!r}",
                )
            return default
        return value
