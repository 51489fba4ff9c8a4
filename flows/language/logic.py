"""The typed, three-valued core of conditions: true, false, or missing (None).

A missing value (an unknown caller, no such record) makes a comparison neither true nor
false; `not` keeps it missing; `and` is false if either side is false; `or` is true if
either side is true. A condition holds only when it is certainly true.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .fields import ITEMS, LISTS, Attr, Facts

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}


class ExprError(ValueError):
    """A condition or template field that cannot be understood; the message says why."""


@dataclass(frozen=True, slots=True)
class Compiled:
    """A checked expression: its type, its evaluator, and what being true guarantees."""

    type: str
    run: Callable[[Facts], Any]
    source: str
    guarantees: frozenset[str] = frozenset()  # paths certainly present when this is true
    prefixes: tuple[tuple[str, Attr], ...] = ()  # for a bare path: each prefix and its field
    answers: frozenset[str] = frozenset()  # answer names read


def truth(node: Compiled) -> Compiled:
    """Return `node` as a true/false/missing test (a list is true when it has items)."""
    if node.type == "bool":
        return node
    if node.type in LISTS:
        return Compiled(
            "bool",
            lambda f: None if (v := node.run(f)) is None else bool(v),
            node.source,
            node.guarantees,
        )
    if node.type in ITEMS:
        return Compiled(
            "bool",
            lambda f: None if f.customer is None else node.run(f) is not None,
            node.source,
            node.guarantees,
        )
    raise ExprError(
        f"'{node.source}' is not a yes/no question; compare it, e.g. {node.source} == ..."
    )


def logic(op: str, left: Compiled, right: Compiled) -> Compiled:
    """Return `left and right` or `left or right` over true, false and missing."""
    if op == "and":

        def run(f: Facts) -> bool | None:
            a = left.run(f)
            if a is False:
                return False
            b = right.run(f)
            return False if b is False else (None if None in (a, b) else True)

        return Compiled("bool", run, "", left.guarantees | right.guarantees)

    def run_or(f: Facts) -> bool | None:
        a = left.run(f)
        if a is True:
            return True
        b = right.run(f)
        return True if b is True else (None if None in (a, b) else False)

    return Compiled("bool", run_or, "", left.guarantees & right.guarantees)


def compare(op: str, left: Compiled, right: Compiled) -> Compiled:
    """Return a checked comparison (enumerated texts must name an allowed value)."""
    for a, b in ((left, right), (right, left)):
        if b.type == "str!" and a.prefixes and a.prefixes[-1][1].values:
            allowed = a.prefixes[-1][1].values
            if b.run(None) not in allowed:  # type: ignore[arg-type]
                raise ExprError(f"{a.source} is one of {', '.join(allowed)}; got {b.source}")
    types = {left.type.rstrip("!"), right.type.rstrip("!")}
    if len(types) != 1 or not types <= {"str", "num"}:
        raise ExprError(
            f"cannot compare {left.source} ({left.type.rstrip('!')}) "
            f"with {right.source} ({right.type.rstrip('!')})"
        )
    if types == {"str"} and op not in {"==", "!="}:
        raise ExprError(f"texts can only be compared with == or !=, not {op}")
    fn = OPS[op]

    def run(f: Facts) -> bool | None:
        a, b = left.run(f), right.run(f)
        return None if a is None or b is None else fn(a, b)

    return Compiled("bool", run, "", left.guarantees | right.guarantees)
