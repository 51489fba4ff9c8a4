from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from support.builders import record

from presszero.context.models import Customer, RecordError, parse_window
from presszero.context.phones import PhoneError, normalise_phone


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+15550100002", "US", "+15550100002"),
        ("(555) 010-0002", "US", "+15550100002"),
        ("555.010.0002", "US", "+15550100002"),
        ("1-555-010-0002", "US", "+15550100002"),
        ("  555 010 0002 ", "US", "+15550100002"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 20 7946 0958", "US", "+442079460958"),
    ],
)
def test_phones_in_national_formats_are_stored_in_e164(raw: str, region: str, expected: str):
    assert normalise_phone(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "   ", "12", "call me", "+1 555 010 0002 9999 1234 55"])
def test_strings_that_are_not_phone_numbers_are_rejected(raw: str):
    with pytest.raises(PhoneError):
        normalise_phone(raw, "US")


def test_a_full_record_round_trips_through_its_wire_form():
    data = record(
        phones=["(555) 010-2001"],
        email="Robin@Example.com",
        cancellations=[
            {"plan": "Gold", "at": "2026-11-02T15:00:00Z", "reason": "moved", "by": "customer"}
        ],
        contacts=[
            {"at": "2026-11-20T10:00:00+01:00", "channel": "voice", "reason": "billing",
             "outcome": "handoff", "ref": "CA123"}
        ],
        appointments=[{"at": "2026-11-21T15:00:00Z", "kind": "call", "status": "missed"}],
        flags=["VIP"],
    )  # fmt: skip
    customer = Customer.from_dict(data)
    assert customer.phones == ("+15550102001",)
    assert customer.email == "robin@example.com"
    assert customer.contacts[0].at == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert customer.has_flag("vip")
    assert customer.first_name == "Robin"
    assert Customer.from_dict(customer.to_dict()) == customer


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"nickname": "Rob"}, "nickname", "unknown field"),
        ({"id": ...}, "id", "required"),
        ({"id": 2001}, "id", "expected a string, got a number"),
        ({"id": "cus 2001"}, "id", "letters, digits"),
        ({"name": ""}, "name", "must not be empty"),
        ({"phones": "+15550102001"}, "phones", "expected a list"),
        ({"phones": [5550102001]}, "phones[0]", "expected a string"),
        ({"phones": ["not a phone"]}, "phones[0]", "not a phone number"),
        ({"email": "robin-at-example"}, "email", "not an email"),
        ({"plan": {"name": "Gold", "status": "lapsed"}}, "plan.status", "must be one of"),
        ({"plan": {"name": "Gold", "status": "active", "tier": 2}}, "plan.tier", "unknown field"),
        ({"plan": "Gold"}, "plan", "expected an object"),
        ({"contacts": [{"at": "yesterday", "channel": "voice", "outcome": "resolved"}]},
         "contacts[0].at", "not an ISO 8601 time"),
        ({"contacts": [{"at": "2026-11-20T10:00:00", "channel": "voice", "outcome": "resolved"}]},
         "contacts[0].at", "no zone"),
        ({"contacts": [{"at": "2026-11-20T10:00:00Z", "channel": "fax", "outcome": "resolved"}]},
         "contacts[0].channel", "must be one of"),
        ({"contacts": [{"at": "2026-11-20T10:00:00Z", "channel": "voice", "outcome": "ok"}]},
         "contacts[0].outcome", "must be one of"),
        ({"cancellations": [{"plan": "Gold", "at": "2026-11-02T15:00:00Z"}]},
         "cancellations[0].by", "required"),
        ({"appointments": [{"at": "2026-11-21T15:00:00Z", "status": "late"}]},
         "appointments[0].status", "must be one of"),
        ({"flags": [True]}, "flags[0]", "non-empty string"),
    ],
)  # fmt: skip
def test_bad_records_name_the_field_that_is_wrong(changes: dict[str, Any], field: str, words: str):
    with pytest.raises(RecordError) as caught:
        Customer.from_dict(record(**changes))
    assert caught.value.field == field
    assert words in caught.value.message


def test_yaml_style_booleans_are_not_accepted_as_statuses():
    with pytest.raises(RecordError, match="must be one of"):
        Customer.from_dict(record(plan={"name": "Gold", "status": True}))


@pytest.mark.parametrize(
    ("text", "hours"), [("90m", 1.5), ("48h", 48), ("30d", 720), ("2w", 336), (" 1 d ", 24)]
)
def test_windows_are_read_as_elapsed_time(text: str, hours: float):
    assert parse_window(text).total_seconds() == hours * 3600


@pytest.mark.parametrize("text", ["", "48", "h", "1y", "-3d", "two days"])
def test_unreadable_windows_are_rejected(text: str):
    with pytest.raises(ValueError, match="not a time window"):
        parse_window(text)


def test_the_customer_types_import_without_the_redis_store(tmp_path: Path):
    """Code that only reads customers (the engine, a report) needs no Redis client."""
    code = (
        "import sys, presszero.context.models as m; "
        "assert m.Customer; "
        "print(sorted(n for n in sys.modules if n == 'redis' or n.startswith('redis.')))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert found.stdout.strip() == "[]"
