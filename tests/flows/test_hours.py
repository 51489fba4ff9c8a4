"""Business hours: open or not in the flow's timezone, and said the way a person says them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from presszero.flows import shipped_flow

HOURS = shipped_flow().hours


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        ("2026-11-05T15:00:00Z", True),  # Thursday 10:00 New York
        ("2026-11-05T12:59:00Z", False),  # Thursday 07:59
        ("2026-11-05T13:00:00Z", True),  # Thursday 08:00
        ("2026-11-06T00:59:00Z", True),  # Thursday 19:59
        ("2026-11-06T01:00:00Z", False),  # Thursday 20:00
        ("2026-11-07T15:00:00Z", True),  # Saturday 10:00
        ("2026-11-07T18:00:00Z", False),  # Saturday 13:00
        ("2026-11-08T15:00:00Z", False),  # Sunday
        ("2026-12-25T16:00:00Z", False),  # Christmas, a Friday
        ("2026-07-01T12:30:00Z", True),  # Wednesday 08:30 in summer time (EDT)
        ("2026-07-01T11:30:00Z", False),  # Wednesday 07:30 EDT
    ],
)
def test_open_hours_are_read_in_the_flows_timezone(moment: str, open_: bool):
    now = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    assert HOURS.is_open(now) is open_


def test_the_hours_are_said_in_words_with_the_timezone():
    assert HOURS.describe() == (
        "Monday to Friday, 8 AM to 8 PM, and Saturday, 9 AM to 1 PM, New York time"
    )


def test_the_next_opening_skips_sundays_and_closed_dates():
    christmas_eve_night = datetime(2026, 12, 25, 2, 0, tzinfo=UTC)  # Thu 21:00 NY
    assert HOURS.next_open(christmas_eve_night) == datetime(2026, 12, 26, 14, 0, tzinfo=UTC)


def test_the_next_afternoon_opening_is_after_noon_local_time():
    thursday_morning = datetime(2026, 11, 5, 14, 0, tzinfo=UTC)  # 09:00 NY
    assert HOURS.next_open(thursday_morning, (720, 1440)) == datetime(
        2026, 11, 5, 17, 0, tzinfo=UTC
    )


def test_while_open_the_next_opening_is_now():
    now = datetime(2026, 11, 5, 15, 0, tzinfo=UTC)
    assert HOURS.next_open(now) == now
