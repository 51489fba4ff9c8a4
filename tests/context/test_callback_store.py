"""The callbacks owed and the claim that lets one dialer, and only one, make each try."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from presszero.context.callbacks import VOICEMAIL_GRACE, CallbackStore, callback_due
from presszero.context.handoffs import HandoffStore

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
ID = "voice:CA" + "1" * 32
CALLBACK = {
    "channel": "voice", "kind": "callback", "status": "callback", "queue": "support",
    "customer_id": "cus_1002", "phone": "+15550100002",
    "callback": {"number": "+15550100002", "when": "morning", "not_before": "2026-11-24T13:00:00Z"},
}  # fmt: skip


def claim(callbacks: CallbackStore, at: datetime, attempts: int = 3) -> Any:
    return callbacks.claim(ID, at, hold=120, attempts=attempts, spent="lost")


@pytest.mark.parametrize(
    ("record", "due"),
    [
        (CALLBACK, datetime(2026, 11, 24, 13, 0, tzinfo=UTC).timestamp()),
        ({**CALLBACK, "callback": {"number": "", "when": "asap"}}, None),  # no number to call
        ({"channel": "voice", "kind": "voicemail", "phone": "+15550100002"},
         NOW.timestamp() + VOICEMAIL_GRACE),
        ({"channel": "voice", "kind": "voicemail", "phone": ""}, None),
        ({"channel": "chat", "kind": "voicemail", "phone": "+15550100002"}, None),  # in chat
        ({"channel": "voice", "kind": "handoff", "phone": "+15550100002"}, None),
    ],
)  # fmt: skip
def test_a_handoff_is_a_call_owed_when_it_is_a_callback_or_a_voicemail_on_the_phone(
    record: dict[str, Any], due: float | None
):
    assert callback_due(record, NOW) == due


def test_opening_a_callback_lists_it_by_when_it_is_due_and_closing_it_takes_it_off(
    redis_client: redis.Redis,
):
    handoffs, callbacks = HandoffStore(redis_client), CallbackStore(redis_client)
    handoffs.open(ID, CALLBACK, NOW)
    assert callbacks.owed() == [(ID, datetime(2026, 11, 24, 13, 0, tzinfo=UTC).timestamp())]
    assert callbacks.due(NOW) == []
    assert callbacks.due(NOW + timedelta(days=1)) == [ID]
    handoffs.update(ID, NOW, status="resolved")
    assert callbacks.owed() == []


def test_a_try_claimed_by_one_dialer_is_refused_to_another_until_the_claim_lapses(
    redis_client: redis.Redis,
):
    first, second = CallbackStore(redis_client), CallbackStore(redis_client)
    taken = claim(first, NOW)
    assert taken.attempt == 1
    refused = claim(second, NOW + timedelta(seconds=60))
    assert (refused.attempt, refused.why, refused.look_again) == (
        0, "taken", NOW.timestamp() + 120,
    )  # fmt: skip
    assert claim(second, NOW + timedelta(seconds=121)).attempt == 2  # the first was lost
    assert first.move(ID, 1, ("dialling",), "connecting") is False  # an old try moves nothing


def test_a_failed_try_is_not_tried_again_before_its_time_and_a_given_back_one_does_not_count(
    redis_client: redis.Redis,
):
    callbacks = CallbackStore(redis_client)
    assert claim(callbacks, NOW).attempt == 1
    assert callbacks.release(ID, 1) is True
    assert claim(callbacks, NOW).attempt == 1  # given back: still the first try
    later = NOW.timestamp() + 600
    assert callbacks.move(ID, 1, ("dialling",), "owed", next_at=later, claim_until=0)
    early = claim(callbacks, NOW + timedelta(minutes=5))
    assert (early.attempt, early.why, early.look_again) == (0, "early", later)
    assert claim(callbacks, NOW + timedelta(minutes=10)).attempt == 2


def test_a_lost_last_try_is_spent_and_a_connected_call_is_never_claimed(
    redis_client: redis.Redis,
):
    callbacks = CallbackStore(redis_client)
    assert claim(callbacks, NOW, attempts=1).attempt == 1
    spent = claim(callbacks, NOW + timedelta(minutes=3), attempts=1)
    assert (spent.attempt, spent.why, spent.look_again) == (0, "spent", math.inf)
    assert callbacks.dialling(ID)["state"] == "failed"
    assert claim(callbacks, NOW + timedelta(days=1), attempts=1).why == "over"

    other = "voice:CA" + "2" * 32
    assert callbacks.claim(other, NOW, hold=120, attempts=3, spent="lost").attempt == 1
    assert callbacks.move(other, 1, ("dialling",), "connected")
    later = NOW + timedelta(hours=5)
    assert callbacks.claim(other, later, hold=120, attempts=3, spent="lost").why == "over"
