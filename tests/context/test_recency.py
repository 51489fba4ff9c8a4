"""Recency questions are answered against the injected clock, in elapsed time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from support.builders import record

from presszero.context.clock import SystemClock
from presszero.context.models import Customer, local_day_start
from presszero.context.store import ContextStore

NEW_YORK = ZoneInfo("America/New_York")


def contact_at(at: str, ref: str) -> dict[str, str]:
    return {"at": at, "channel": "voice", "reason": "claim", "outcome": "handoff", "ref": ref}


def customer_with_contacts(*times: str) -> Customer:
    return Customer.from_dict(
        record(contacts=[contact_at(t, f"CA{i}") for i, t in enumerate(times)])
    )


@freeze_time("2026-11-23T00:30:00Z")
def test_a_window_that_straddles_midnight_counts_yesterdays_late_contacts():
    customer = customer_with_contacts("2026-11-22T23:00:00Z", "2026-11-22T21:00:00Z")
    now = SystemClock().now()
    assert len(customer.contacts_within(timedelta(hours=2), now)) == 1
    assert len(customer.contacts_within(timedelta(hours=4), now)) == 2
    # It is 19:30 on the 22nd in New York: both were "today" there, "yesterday" in UTC.
    assert len(customer.contacts_since(local_day_start(now, NEW_YORK), now)) == 2
    assert customer.contacts_since(local_day_start(now, UTC), now) == ()


@freeze_time("2026-11-02T14:30:00Z")  # 09:30 EST, the day after clocks went back
def test_a_48_hour_window_across_the_dst_change_is_48_real_hours():
    # 10:00 EDT on Oct 31 is 14:00Z: 48.5 real hours ago although the wall clocks differ by 47.5.
    customer = customer_with_contacts("2026-10-31T10:00:00-04:00", "2026-10-31T11:00:00-04:00")
    now = SystemClock().now()
    within = customer.contacts_within(timedelta(hours=48), now)
    assert [c.ref for c in within] == ["CA1"]


@freeze_time("2026-11-02T14:30:00Z")
def test_since_yesterday_is_local_midnight_even_when_that_day_had_25_hours():
    now = SystemClock().now()
    start = local_day_start(now, NEW_YORK, days_back=1)
    assert start == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # midnight EDT
    assert (local_day_start(now, NEW_YORK) - start) == timedelta(hours=25)


@pytest.mark.parametrize(
    ("cancelled_at", "within_30d"),
    [
        ("2026-11-20T15:00:00Z", True),
        ("2026-10-24T17:00:00Z", True),
        ("2026-10-24T15:59:59Z", False),
    ],
)
@freeze_time("2026-11-23T16:00:00Z")
def test_last_cancellation_is_recent_only_inside_the_window(cancelled_at: str, within_30d: bool):
    customer = Customer.from_dict(
        record(cancellations=[
            {"plan": "Gold", "at": "2025-03-01T00:00:00Z", "by": "customer"},
            {"plan": "Silver", "at": cancelled_at, "by": "company"},
        ])
    )  # fmt: skip
    assert customer.last_cancellation is not None
    assert customer.last_cancellation.plan == "Silver"
    found = customer.cancelled_within(timedelta(days=30), SystemClock().now())
    assert (found is not None) is within_30d


@freeze_time("2026-11-23T16:00:00Z")
def test_missed_appointments_since_ignores_other_statuses_and_older_ones():
    customer = Customer.from_dict(
        record(appointments=[
            {"at": "2026-11-22T15:00:00Z", "kind": "call", "status": "missed"},
            {"at": "2026-11-22T17:00:00Z", "kind": "call", "status": "completed"},
            {"at": "2026-11-10T15:00:00Z", "kind": "call", "status": "missed"},
        ])
    )  # fmt: skip
    now = SystemClock().now()
    missed = customer.missed_appointments_since(local_day_start(now, NEW_YORK, 1), now)
    assert [a.at.day for a in missed] == [22]


def test_contacts_the_store_records_are_stamped_by_its_clock(store: ContextStore):
    store.upsert([Customer.from_dict(record())])
    with freeze_time("2026-11-23T04:59:00Z"):
        store.record_contact("cus_2001", store.new_contact("chat", "resolved", ref="s1"))
    with freeze_time("2026-11-24T04:59:00Z"):
        customer = store.get("cus_2001")
        assert customer is not None
        now = store.clock.now()
        assert len(customer.contacts_within(timedelta(hours=24), now)) == 1
        assert len(customer.contacts_within(timedelta(hours=23), now)) == 0
