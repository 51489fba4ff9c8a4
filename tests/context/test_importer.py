"""JSONL import: every line checked first, nothing written unless all are good."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from support.builders import record

from presszero.context.importer import ImportRejected, export_customers, import_customers
from presszero.context.store import ContextStore


def jsonl(*records: Any) -> bytes:
    return b"".join(
        (r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records
    )


def snapshot(store: ContextStore) -> dict[bytes, Any]:
    """Return every key with its full contents, to compare before and after."""
    out: dict[bytes, Any] = {}
    for key in store.redis.scan_iter("*"):
        kind = store.redis.type(key)
        if kind == b"string":
            out[key] = store.redis.get(key)
        elif kind == b"list":
            out[key] = store.redis.lrange(key, 0, -1)
        elif kind == b"set":
            out[key] = sorted(store.redis.smembers(key))
    return out


def good_file() -> bytes:
    return jsonl(
        record(),
        record(id="cus_2002", name="Jo Park", phones=["555 010 2002"], email="jo@example.com",
               contacts=[{"at": "2026-11-20T10:00:00Z", "channel": "chat", "reason": "billing",
                          "outcome": "resolved"}]),
    )  # fmt: skip


def test_a_good_file_is_imported(store: ContextStore):
    result = import_customers(store, io.BytesIO(good_file()), source="in.jsonl")
    assert (result.customers, result.new_contacts) == (2, 1)
    found = store.lookup_by_phone("+15550102002")
    assert found is not None
    assert found.id == "cus_2002"


def test_reimporting_the_same_file_changes_nothing(store: ContextStore):
    import_customers(store, io.BytesIO(good_file()))
    before = snapshot(store)
    result = import_customers(store, io.BytesIO(good_file()))
    assert result.new_contacts == 0
    assert snapshot(store) == before


def test_export_then_import_is_a_no_op(store: ContextStore):
    import_customers(store, io.BytesIO(good_file()))
    store.record_contact("cus_2001", store.new_contact("voice", "handoff", ref="CA1"))
    out = io.StringIO()
    assert export_customers(store, out) == 2
    before = snapshot(store)
    import_customers(store, io.BytesIO(out.getvalue().encode()))
    assert snapshot(store) == before


def test_a_language_is_imported_in_its_usual_case_and_exported_back(store: ContextStore):
    import_customers(
        store,
        io.BytesIO(
            jsonl(
                record(language="es_us"),
                record(
                    id="cus_2002", name="Jo Park", phones=["555 010 2002"], email="jo@example.com"
                ),
            )
        ),
    )
    out = io.StringIO()
    export_customers(store, out)
    lucia, jo = (json.loads(line) for line in out.getvalue().splitlines())
    assert lucia["language"] == "es-US"
    assert "language" not in jo  # a record without one exports as before
    before = snapshot(store)
    import_customers(store, io.BytesIO(out.getvalue().encode()))
    assert snapshot(store) == before


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        (b'{"id": "cus_3", "name": "X"', "3: not valid JSON"),
        (b"[1, 2, 3]", "3: expected an object, got a list"),
        (json.dumps(record(id="cus_3", phones=[], email="", shoe_size=9)).encode(),
         "3: shoe_size: unknown field (allowed: id, name, phones"),
        (json.dumps(record(id="cus_3", phones=[], email="", flags="vip")).encode(),
         "3: flags: expected a list, got a string"),
        (json.dumps(record(id="cus_3", phones=[], email="", plan={"status": "gone"})).encode(),
         "3: plan.status: must be one of active, pending, cancelled, suspended, none"),
        (json.dumps(record(id="cus_2001")).encode(), "3: id: cus_2001 is already on line 1"),
        (json.dumps(record(id="cus_3", email="x@example.com")).encode(),
         "3: phone: +15550102001 is also given to cus_2001 on line 1"),
        (b"\xff\xfe{}", "3: not UTF-8 text"),
        (json.dumps(record(id="cus_3", phones=[], email="", language="fr-FR")).encode(),
         "3: language: presszero speaks en-* and es-* only, not 'fr-FR'"),
        (json.dumps(record(id="cus_3", phones=[], email="", language="Spanish")).encode(),
         "3: language: not a language tag (write e.g. en-US, es-US): 'Spanish'"),
        (json.dumps(record(id="cus_3", phones=[], email="", language=["es-US"])).encode(),
         "3: language: expected a string, got a list"),
    ],
)  # fmt: skip
def test_a_bad_line_is_reported_with_its_number_and_nothing_is_written(
    store: ContextStore, bad_line: bytes, message: str
):
    with pytest.raises(ImportRejected) as caught:
        import_customers(store, io.BytesIO(good_file() + bad_line + b"\n"), source="in.jsonl")
    lines = caught.value.lines()
    assert len(lines) == 1
    assert lines[0].startswith(f"in.jsonl:{message}")
    assert snapshot(store) == {}


def test_every_bad_line_is_listed_not_just_the_first(store: ContextStore):
    data = jsonl(b"nope", record(), b"", b"{}", record(id="cus_9", name=5))
    with pytest.raises(ImportRejected) as caught:
        import_customers(store, io.BytesIO(data), source="f")
    assert [p.line for p in caught.value.problems] == [1, 4, 4, 5]  # {}: no id, no name


def test_every_problem_of_every_line_is_listed_and_nothing_is_written(store: ContextStore):
    import_customers(store, io.BytesIO(good_file()))
    before = snapshot(store)
    many = record(
        id="cus_3001", phones=["12", "+15550102002"], email="not an email", colour="red",
        contacts=[{"at": "yesterday", "channel": "voice", "outcome": "handoff"},
                  {"at": "2026-11-20T10:00:00Z", "channel": "fax", "outcome": "handoff"}],
    )  # fmt: skip
    taken = record(id="cus_3003", email="lee@example.com")  # cus_2001's phone
    lines = jsonl(record(id="cus_3002", name=""), many, taken)
    with pytest.raises(ImportRejected) as caught:
        import_customers(store, io.BytesIO(lines), source="f")
    assert [line.split(": ")[0:2] for line in caught.value.lines()] == [
        ["f:1", "name"],
        ["f:2", "colour"],
        ["f:2", "phones[0]"],
        ["f:2", "email"],
        ["f:2", "contacts[0].at"],
        ["f:2", "contacts[1].channel"],
        ["f:3", "phone"],
    ]
    assert (
        caught.value.lines()[-1] == "f:3: phone: +15550102001 already belongs to customer cus_2001"
    )
    assert snapshot(store) == before


def test_a_phone_owned_by_a_customer_outside_the_file_is_a_conflict(store: ContextStore):
    import_customers(store, io.BytesIO(good_file()))
    newcomer = record(id="cus_3000", email="new@example.com")
    with pytest.raises(ImportRejected, match="1 problem") as caught:
        import_customers(store, io.BytesIO(jsonl(newcomer)), source="f")
    assert caught.value.lines() == ["f:1: phone: +15550102001 already belongs to customer cus_2001"]


def test_a_phone_may_move_between_customers_in_one_file(store: ContextStore):
    import_customers(store, io.BytesIO(good_file()))
    moved = jsonl(
        record(phones=[]),
        record(id="cus_2002", name="Jo Park", phones=["+15550102001"], email="jo@example.com"),
    )
    import_customers(store, io.BytesIO(moved))
    found = store.lookup_by_phone("+15550102001")
    assert found is not None
    assert found.id == "cus_2002"


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_an_empty_file_is_rejected(store: ContextStore, content: bytes):
    with pytest.raises(ImportRejected) as caught:
        import_customers(store, io.BytesIO(content), source="empty.jsonl")
    assert caught.value.lines() == ["empty.jsonl: the file has no customers"]


def test_a_10_mb_line_is_refused_without_reading_it_whole(store: ContextStore, tmp_path: Path):
    huge = json.dumps(record(id="cus_3", phones=[], email="", name="x" * 10_000_000)).encode()
    path = tmp_path / "huge.jsonl"
    path.write_bytes(good_file() + huge + b"\n" + jsonl(record(id="cus_4", phones=[], email="")))
    with path.open("rb") as stream, pytest.raises(ImportRejected) as caught:
        import_customers(store, stream, source="huge.jsonl")
    assert caught.value.lines() == ["huge.jsonl:3: line is longer than 1048576 bytes"]
    assert snapshot(store) == {}
