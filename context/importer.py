"""JSONL import and export: every line is checked before anything is written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from .models import Customer
from .store import ContextStore

MAX_LINE_BYTES = 1024 * 1024  # one customer is a few KiB; a larger line is a mistake
MAX_REPORTED = 200  # problems listed before the rest are summed up


@dataclass(frozen=True, slots=True)
class LineProblem:
    line: int
    message: str


class ImportRejected(ValueError):
    """The file has problems; nothing was written."""

    def __init__(self, source: str, problems: list[LineProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s); nothing was imported")

    def lines(self) -> list[str]:
        """Return one `FILE:LINE: message` per problem (the first few hundred)."""
        out = [
            f"{self.source}:{p.line}: {p.message}" if p.line else f"{self.source}: {p.message}"
            for p in self.problems[:MAX_REPORTED]
        ]
        if len(self.problems) > MAX_REPORTED:
            out.append(f"{self.source}: ... and {len(self.problems) - MAX_REPORTED} more")
        return out


@dataclass(frozen=True, slots=True)
class ImportResult:
    customers: int
    new_contacts: int


def _raw_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """Yield (line number, bytes) with None for a line over the size limit (skipped whole)."""
    number = 0
    while True:
        chunk = stream.readline(MAX_LINE_BYTES + 1)
        if not chunk:
            return
        number += 1
        if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):
                chunk = stream.readline(MAX_LINE_BYTES)
            yield number, None
            continue
        yield number, chunk


def parse_customers(
    stream: IO[bytes], *, region: str = "US"
) -> tuple[list[tuple[int, Customer]], list[LineProblem]]:
    """Parse every line; return the customers with their line numbers and the problems."""
    customers: list[tuple[int, Customer]] = []
    problems: list[LineProblem] = []
    for number, raw in _raw_lines(stream):
        if raw is None:
            problems.append(LineProblem(number, f"line is longer than {MAX_LINE_BYTES} bytes"))
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(LineProblem(number, f"not UTF-8 text (byte {exc.start + 1})"))
            continue
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(LineProblem(number, f"not valid JSON: {exc.msg} (column {exc.colno})"))
            continue
        customer, wrong = Customer.checked(data, region=region)
        if customer is not None:
            customers.append((number, customer))
        problems += [LineProblem(number, str(exc)) for exc in wrong]
    return customers, problems


def _conflicts(store: ContextStore, customers: list[tuple[int, Customer]]) -> list[LineProblem]:
    """Return duplicate ids, and phones or emails that two customers would share."""
    problems: list[LineProblem] = []
    first_line: dict[str, int] = {}
    claimed: dict[str, tuple[str, int]] = {}  # "phone:+1..." -> (customer id, line)
    for number, customer in customers:
        if customer.id in first_line:
            problems.append(
                LineProblem(
                    number, f"id: {customer.id} is already on line {first_line[customer.id]}"
                )
            )
            continue
        first_line[customer.id] = number
        names = [f"phone:{p}" for p in customer.phones]
        names += [f"email:{customer.email}"] if customer.email else []
        for name in names:
            owner = claimed.get(name)
            if owner and owner[0] != customer.id:
                kind, value = name.split(":", 1)
                problems.append(
                    LineProblem(
                        number, f"{kind}: {value} is also given to {owner[0]} on line {owner[1]}"
                    )
                )
            claimed.setdefault(name, (customer.id, number))
    phones = [n.split(":", 1)[1] for n in claimed if n.startswith("phone:")]
    emails = [n.split(":", 1)[1] for n in claimed if n.startswith("email:")]
    for name, owner_id in store.owners(phones, emails).items():
        holder, number = claimed[name]
        if owner_id != holder and owner_id not in first_line:
            kind, value = name.split(":", 1)
            problems.append(
                LineProblem(number, f"{kind}: {value} already belongs to customer {owner_id}")
            )
    return sorted(problems, key=lambda p: p.line)


def import_customers(
    store: ContextStore, stream: IO[bytes], *, source: str = "<stdin>"
) -> ImportResult:
    """Validate the whole file, then upsert it; raise ImportRejected and write nothing on error."""
    customers, problems = parse_customers(stream, region=store.region)
    problems = sorted(problems + _conflicts(store, customers), key=lambda p: p.line)
    if not problems and not customers:
        problems = [LineProblem(0, "the file has no customers")]
    if problems:
        raise ImportRejected(source, problems)
    new_contacts = store.upsert(c for _, c in customers)
    return ImportResult(customers=len(customers), new_contacts=new_contacts)


def export_customers(store: ContextStore, out: IO[str]) -> int:
    """Write every customer as one JSONL line; return how many."""
    count = 0
    for customer in store.export():
        out.write(json.dumps(customer.to_dict(), ensure_ascii=False) + "\n")
        count += 1
    return count
