"""A small, safe condition language over customer context (no eval, checked at load).

    plan.status == "cancelled" and cancellations.last.within("30d")
    contacts.within("48h").count >= 2 or has_flag("vip")
    not customer.known

Grammar: or → and ("or" and)*; and → not ("and" not)*; not → "not" not | cmp;
cmp → value (op value)?; value → literal | "(" or ")" | name "(" args ")" | path;
path → name ("." name ("(" args ")")?)*. Missing values (an unknown caller, no such
record) make a comparison neither true nor false, so a condition never holds on them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .fields import METHODS, ROOTS, TYPES, Attr, Facts, Method, answer_attr, has_flag
from .fields import parse_arg as _parse_arg
from .logic import OPS, Compiled, ExprError, compare, logic, truth

__all__ = ["Compiled", "Condition", "ExprError", "parse_condition", "parse_field", "tokenize"]

_TOKEN = re.compile(
    r"""\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>"[^"]*"|'[^']*')|(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op>==|!=|>=|<=|>|<|\(|\)|\.|,))""",
    re.X,
)
_KEYWORDS = {"and", "or", "not", "true", "false"}
FUNCTIONS = ("has_flag",)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # num, str, name, op, end
    text: str
    column: int


def tokenize(source: str) -> list[Token]:
    """Return the tokens of `source`, ending with an `end` token."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        if source[pos:].strip() == "":
            break
        match = _TOKEN.match(source, pos)
        if not match or match.end() == pos:
            column = len(source) - len(source[pos:].lstrip()) + 1
            raise ExprError(f"unexpected {source[column - 1]!r} at column {column}")
        kind = match.lastgroup or "op"
        tokens.append(Token(kind, match.group(kind), match.start(kind) + 1))
        pos = match.end()
    tokens.append(Token("end", "", len(source) + 1))
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self, kind: str, text: str | None = None) -> Token | None:
        tok = self.tok
        if tok.kind == kind and (text is None or tok.text == text):
            self.i += 1
            return tok
        return None

    def expect(self, kind: str, text: str, what: str) -> Token:
        tok = self.take(kind, text)
        if tok is None:
            raise self.error(f"expected {what}")
        return tok

    def error(self, message: str) -> ExprError:
        tok = self.tok
        found = "the end" if tok.kind == "end" else repr(tok.text)
        return ExprError(f"{message} at column {tok.column}, found {found}")

    def parse(self) -> Compiled:
        node = self.or_()
        if self.tok.kind != "end":
            raise self.error("expected and/or or the end of the condition")
        return node

    def or_(self) -> Compiled:
        left = self.and_()
        while self.take("name", "or"):
            left = logic("or", truth(left), truth(self.and_()))
        return left

    def and_(self) -> Compiled:
        left = self.not_()
        while self.take("name", "and"):
            left = logic("and", truth(left), truth(self.not_()))
        return left

    def not_(self) -> Compiled:
        if self.take("name", "not"):
            inner = truth(self.not_())
            return Compiled("bool", lambda f: None if (v := inner.run(f)) is None else not v, "")
        return self.cmp()

    def cmp(self) -> Compiled:
        left = self.value()
        tok = self.tok
        if tok.kind == "op" and tok.text in OPS:
            self.i += 1
            return compare(tok.text, left, self.value())
        return left

    def value(self) -> Compiled:
        tok = self.tok
        if self.take("num"):
            number = float(tok.text) if "." in tok.text else int(tok.text)
            return Compiled("num", lambda f: number, tok.text)
        if self.take("str"):
            text = tok.text[1:-1]
            return Compiled("str!", lambda f: text, tok.text)
        if self.take("op", "("):
            inner = self.or_()
            self.expect("op", ")", "')'")
            return inner
        if tok.kind != "name" or tok.text in {"and", "or", "not"}:
            raise self.error("expected a field, a number or a quoted text")
        self.i += 1
        if tok.text in {"true", "false"}:
            flag = tok.text == "true"
            return Compiled("bool", lambda f: flag, tok.text)
        if self.tok.kind == "op" and self.tok.text == "(":
            return self.call(tok)
        return self.path(tok)

    def arg(self, what: str) -> str:
        self.expect("op", "(", "'('")
        tok = self.take("str")
        if tok is None:
            raise self.error(f"{what} takes one quoted text")
        self.expect("op", ")", "')'")
        return tok.text[1:-1]

    def call(self, tok: Token) -> Compiled:
        if tok.text not in FUNCTIONS:
            raise ExprError(f"unknown function '{tok.text}' (known: {', '.join(FUNCTIONS)})")
        flag = self.arg(tok.text).strip().lower()
        return Compiled(
            "bool", lambda f: has_flag(flag, f), f'has_flag("{flag}")', frozenset({"customer"})
        )

    def path(self, tok: Token) -> Compiled:
        if tok.text not in ROOTS:
            raise ExprError(f"unknown field '{tok.text}' (known: {', '.join(ROOTS)}, has_flag)")
        attr = ROOTS[tok.text]
        name = tok.text
        steps: list[Callable[[Any, Facts], Any]] = []
        prefixes: list[tuple[str, Attr]] = [(name, attr)]
        answers: set[str] = set()
        kind = attr.type
        while self.take("op", "."):
            seg = self.take("name")
            if seg is None:
                raise self.error("expected a field name after '.'")
            if self.tok.kind == "op" and self.tok.text == "(":
                method = METHODS.get(kind, {}).get(seg.text)
                if method is None:
                    raise ExprError(_unknown(f"{name}.{seg.text}", kind, methods=True))
                raw = self.arg(seg.text)
                try:
                    parsed = _parse_arg(method.arg, raw)
                except ValueError as exc:
                    raise ExprError(f"{name}.{seg.text}: {exc}") from None
                steps.append(_call(method, parsed))
                name = f'{name}.{seg.text}("{raw}")'
                attr = Attr(method.type, lambda v, f: v, always=True)
            else:
                if kind == "answers":
                    attr = answer_attr(seg.text)
                    answers.add(seg.text)
                elif seg.text in TYPES.get(kind, {}):
                    attr = TYPES[kind][seg.text]
                else:
                    raise ExprError(_unknown(f"{name}.{seg.text}", kind))
                steps.append(attr.get)
                name = f"{name}.{seg.text}"
            prefixes.append((name, attr))
            kind = attr.type
        root = ROOTS[tok.text].get

        def run(facts: Facts) -> Any:
            value = root(facts, facts)
            for step in steps:
                if value is None:
                    return None
                value = step(value, facts)
            return value

        return Compiled(kind, run, name, _present(prefixes), tuple(prefixes), frozenset(answers))


def _call(method: Method, arg: Any) -> Callable[[Any, Facts], Any]:
    """Return a path step that applies `method` with its argument read at load time."""
    return lambda value, facts: method.apply(value, arg, facts)


def _unknown(path: str, kind: str, methods: bool = False) -> str:
    known = [*TYPES.get(kind, {}), *(f"{m}(...)" for m in METHODS.get(kind, {}))]
    has = f" ({kind} has: {', '.join(known)})" if known else ""
    return f"unknown {'call' if methods else 'field'} '{path}'{has}"


def _present(prefixes: list[tuple[str, Attr]]) -> frozenset[str]:
    names = {name for name, _ in prefixes}
    if any(attr.personal for _, attr in prefixes):
        names.add("customer")
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class Condition:
    """A checked condition from a flow file."""

    source: str
    line: int
    compiled: Compiled

    def holds(self, facts: Facts) -> bool:
        """Return True only when the condition is certainly true for these facts."""
        return self.compiled.run(facts) is True

    @property
    def guarantees(self) -> frozenset[str]:
        return self.compiled.guarantees


def parse_condition(source: str, line: int) -> Condition:
    """Return the checked condition written in `source` (raise ExprError if it is wrong)."""
    if not source.strip():
        raise ExprError("the condition is empty")
    compiled = truth(_Parser(source).parse())
    return Condition(source, line, compiled)


def parse_field(source: str) -> Compiled:
    """Return a checked field path for a template, such as `customer.first_name`."""
    parser = _Parser(source)
    tok = parser.take("name")
    if tok is None or tok.text in _KEYWORDS:
        raise ExprError(f"'{source}' is not a field")
    if tok.text in FUNCTIONS:
        raise ExprError(f"'{source}' is a yes/no question, not something to say")
    node = parser.path(tok)
    if parser.tok.kind != "end":
        raise parser.error("expected the end of the field")
    return node
