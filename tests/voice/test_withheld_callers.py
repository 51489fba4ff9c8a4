"""A caller whose number cannot be called back is asked for one, through the real webhooks."""

from __future__ import annotations

from typing import Any

import pytest
from freezegun import freeze_time
from support.twilio_client import Call

from presszero.context.demo import load_demo
from presszero.context.store import ContextStore

CLOSED = "2026-11-23T03:00:00Z"  # Sunday night 22:00 in New York: 0 offers a callback


def spoken(root: Any) -> str:
    return " ".join(s.text or "" for s in root.iter("Say"))


@freeze_time(CLOSED)
@pytest.mark.parametrize("caller", ["anonymous", "client:alice", "sip:alice@pbx.example.com"])
def test_a_withheld_caller_is_asked_for_a_number_never_told_the_ending_of_theirs(
    make_app: Any, store: ContextStore, caller: str
):
    load_demo(store)
    c = Call(make_app().test_client(), caller=caller)
    c.start()
    offer = spoken(c.press("0"))
    assert "ending in" not in offer
    assert "Enter the number to call, then press pound." in offer
    again = spoken(c.press("5551234#"))
    assert "Sorry, that doesn't look like a full phone number." in again
    taken = spoken(c.press("4155550123#"))
    assert "Got it: the number ending in 0 1 2 3. If that's right, press 1." in taken
    confirmed = spoken(c.press("1"))
    assert "When should we call" in confirmed
    booked = spoken(c.press("2"))
    assert "We'll call you on the number ending in 0 1 2 3" in booked
