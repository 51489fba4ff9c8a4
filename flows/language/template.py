"""Prompt templates: `Hi {customer.first_name|there}.` — fields from context, never placeholders.

A field either has a fallback after `|` (which may be empty) or is certain to have a value
where it is used (for example `{cancellations.last.date}` in a greeting whose condition
checked `cancellations.last.within("30d")`). Anything else is a load error, so a customer
never hears "Hello [FirstName]", "None" or a brace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .expr import Compiled, ExprError, parse_field
from .fields import SPOKEN, Facts, speak

_SLOT = re.compile(r"\{([^{}]*)\}")
_PLACEHOLDER = re.compile(r"\[[^\]]*\]|<[^>]*>")
_LEAKY_WORDS = re.compile(r"\b(None|null|undefined|NaN)\b")


@dataclass(frozen=True, slots=True)
class Slot:
    """One `{field|fallback}` in a template; fallback None means there is none."""

    field: Compiled
    fallback: str | None


@dataclass(frozen=True, slots=True)
class Template:
    """A checked prompt: literal text and slots, rendered against customer facts."""

    source: str
    line: int
    parts: tuple[str | Slot, ...]

    @property
    def answers(self) -> frozenset[str]:
        """Return the names of saved answers this template reads."""
        names: set[str] = set()
        for part in self.parts:
            if isinstance(part, Slot):
                names |= part.field.answers
        return frozenset(names)

    def render(self, facts: Facts) -> str:
        """Return the words to say or show; missing fields use their fallback."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = speak(part.field.run(facts), part.field.type, facts)
            out.append(value if value is not None else part.fallback or "")
        return tidy("".join(out))


def tidy(text: str) -> str:
    """Return `text` with runs of spaces collapsed and no space before punctuation."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+([,.!?;:])", r"\1", text)


def parse_template(source: str, line: int, guarantees: frozenset[str] = frozenset()) -> Template:
    """Return the checked template in `source` (raise ExprError naming the first mistake).

    `guarantees` are the fields certainly present where the template is used (from the
    condition guarding it); only those, and fields always present, may go without fallback.
    """
    parts: list[str | Slot] = []
    pos = 0
    for match in _SLOT.finditer(source):
        parts.append(_literal(source[pos : match.start()]))
        parts.append(_slot(match.group(1), guarantees))
        pos = match.end()
    parts.append(_literal(source[pos:]))
    if not "".join(p for p in parts if isinstance(p, str)).strip() and not any(
        isinstance(p, Slot) for p in parts
    ):
        raise ExprError("the text is empty")
    return Template(source, line, tuple(p for p in parts if p != ""))


def _literal(text: str) -> str:
    if "{" in text or "}" in text:
        raise ExprError("a '{' or '}' is not closed; write fields as {customer.first_name|there}")
    placeholder = _PLACEHOLDER.search(text)
    if placeholder:
        raise ExprError(
            f"{placeholder.group()} looks like a placeholder; "
            "write fields as {customer.first_name|there}"
        )
    leak = _LEAKY_WORDS.search(text)
    if leak:
        raise ExprError(f"'{leak.group()}' must never be said to a customer")
    return text


def _slot(inner: str, guarantees: frozenset[str]) -> Slot:
    path, bar, fallback = inner.partition("|")
    path = path.strip()
    if not path:
        raise ExprError("{} names no field; write e.g. {customer.first_name|there}")
    field = parse_field(path)
    if field.type not in SPOKEN:
        raise ExprError(f"{{{path}}} cannot be said; name a field of it such as .date or .count")
    if bar:
        return Slot(field, _literal(fallback.strip()))
    if not _certain(field, guarantees):
        raise ExprError(
            f"{{{path}}} may have no value here; add a fallback, e.g. {{{path}|{_example(field)}}}"
        )
    return Slot(field, None)


def _certain(field: Compiled, guarantees: frozenset[str]) -> bool:
    known = "customer" in guarantees
    return all(
        name in guarantees or (attr.always and (known or not attr.personal))
        for name, attr in field.prefixes
    )


def _example(field: Compiled) -> str:
    if field.source.endswith("first_name") or field.source.endswith(".name"):
        return "there"
    return "recently" if field.type == "date" else ""
