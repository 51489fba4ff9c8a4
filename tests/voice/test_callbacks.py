"""Callbacks that happen: dialled by presszero when an agent is free, agent first, logged."""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from freezegun import freeze_time
from support.consoles import PASSWORD, signed_in
from support.twilio_client import BASE, Call

from presszero.cli import main
from presszero.context.demo import load_demo
from presszero.context.store import ContextStore
from presszero.voice.callbacks import DIALLING_HOLD, MAX_ATTEMPTS, RETRY_SPACING
from presszero.voice.callbacks_web import DialerThread, start_dialer

LINE = "+15550009999"  # the line's own number: callbacks call from it
CLOSED = "2026-11-23T03:00:00Z"  # Sunday 22:00 in New York: closed
OPENING = datetime.fromisoformat("2026-11-23T13:00:00+00:00")  # Monday 08:00 in New York
DANA = "+15550100002"
ANN = "+15550107001"
NOT_PLAIN = re.compile(r"cus_|after_cancellation|callback:|\bstep\b|pressed '|\{|\}")


@pytest.fixture
def app(make_app: Any, store: ContextStore, twilio_api: Any) -> Any:
    with freeze_time(CLOSED):
        load_demo(store)
    return line_app(make_app, twilio_api)


def line_app(make_app: Any, twilio_api: Any, **config: Any) -> Any:
    # the public URL is the one the test client's signed webhooks are made for
    settings = {**twilio_api.config, "PRESSZERO_PUBLIC_URL": BASE, "PRESSZERO_CALLER_ID": LINE}
    return make_app(**{**settings, **config})


def book_a_morning_callback(app: Any, caller: str = DANA) -> str:
    """Call out of hours, press 0, keep this number, choose the morning; return the handoff."""
    with freeze_time(CLOSED):
        call = Call(app.test_client(), caller=caller)
        call.start()
        call.press("0")  # a person: out of hours, a callback is offered
        call.press("1")  # on this number
        said = call.press("2")  # in the morning
    assert "tomorrow morning" in " ".join(s.text or "" for s in said.iter("Say"))
    return f"voice:{call.sid}"


def on_duty(app: Any, name: str, phone: str, queues: list[str], status: str) -> None:
    agents = app.extensions["presszero.agents"]
    agents.add(name, PASSWORD, endpoint=phone, queues=queues)
    with freeze_time(CLOSED):
        agents.set_status(name, status, datetime.fromisoformat(CLOSED))


def placed(twilio_api: Any) -> list[dict[str, str]]:
    """Return the calls presszero asked Twilio to place, oldest first."""
    return [
        s.form for s in twilio_api.seen if s.method == "POST" and s.path.endswith("/Calls.json")
    ]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def agent_leg(app: Any, twilio_api: Any, form: dict[str, str]) -> Call:
    """Return the agent's leg of a placed callback, as Twilio would post its webhooks."""
    sid = next(sid for sid, urls in twilio_api.redirects.items() if urls[:1] == [form["Url"]])
    return Call(app.test_client(), caller=LINE, sid=sid)


def take(leg: Call, form: dict[str, str]) -> ET.Element:
    """The agent answers, hears who it is, and presses 1: return the TwiML that rings the
    customer."""
    asked = leg.twiml(path_of(form["Url"]), CallStatus="in-progress").find("Gather")
    assert asked is not None, "the agent is asked for a key before the customer is rung"
    return leg.twiml(asked.get("action", ""), Digits="1")


def tick(app: Any, at: datetime) -> list[str]:
    return app.extensions["presszero.dialer"].tick(at)


def contacts(store: ContextStore, customer_id: str = "cus_1002") -> list[tuple[str, str, str]]:
    customer = store.get(customer_id)
    assert customer is not None
    tries = [c for c in customer.contacts if c.reason.startswith("callback attempt")]
    return [(c.outcome, c.reason, c.ref) for c in tries]


def heard(root: ET.Element) -> str:
    return " ".join(s.text or "" for s in root.iter("Say"))


def test_a_callback_booked_out_of_hours_rings_the_agent_at_opening_then_the_customer(
    app: Any, twilio_api: Any, store: ContextStore
):
    handoff_id = book_a_morning_callback(app)
    on_duty(app, "ann", ANN, ["support"], "available")
    with freeze_time(OPENING - timedelta(minutes=1)) as frozen:
        assert tick(app, OPENING - timedelta(minutes=1)) == []
        assert placed(twilio_api) == []  # not before opening time
        frozen.move_to(OPENING)
        assert tick(app, OPENING) == [handoff_id]
        [form] = placed(twilio_api)
        assert (form["To"], form["From"]) == (ANN, LINE)  # the agent first, from the line
        assert query(form["Url"]) == {"cb": handoff_id, "n": "1"}
        agents = app.extensions["presszero.agents"]
        assert (agents.get("ann").status, agents.get("ann").busy_with) == ("busy", handoff_id)

        leg = agent_leg(app, twilio_api, form)
        briefed = leg.twiml(path_of(form["Url"]), CallStatus="in-progress")
        whisper = heard(briefed)
        assert whisper.startswith("A call back to Dana Reyes.")
        assert "Silver Health plan was cancelled by us" in whisper
        assert "It's about: question about a plan we cancelled." in whisper
        assert "To call them now, press 1." in whisper
        assert not NOT_PLAIN.search(whisper), whisper
        assert briefed.find("Dial") is None  # no one is rung before the agent's key
        asked = briefed.find("Gather")
        assert asked is not None
        answered = leg.twiml(asked.get("action", ""), Digits="1")
        assert "ending in 0 0 0 2" in heard(answered)
        dial = answered.find("Dial")
        assert dial is not None
        assert dial.get("callerId") == LINE
        [number] = list(dial)
        assert (number.tag, number.text) == ("Number", DANA)

        greeting = leg.twiml(number.get("url", ""))
        assert "the call back you asked for" in heard(greeting)
        bye = leg.twiml(dial.get("action", ""), DialCallStatus="completed", DialCallDuration="240")
        assert bye.find("Hangup") is not None
        ended = leg.post(path_of(form["StatusCallback"]), CallStatus="completed")
        assert ended.status_code == 204

        assert agents.get("ann").status == "available"
        record = app.extensions["presszero.handoffs"].get(handoff_id)
        assert (record["status"], record["agent"]) == ("resolved", "ann")
        assert store.redis.zscore("pz:callbacks", handoff_id) is None
        assert contacts(store) == [
            ("callback", "callback attempt 1 of 3: talked with ann", leg.sid)
        ]
        frozen.move_to(OPENING + timedelta(hours=1))
        assert tick(app, OPENING + timedelta(hours=1)) == []
        assert len(placed(twilio_api)) == 1  # dialled once


@freeze_time(OPENING)
def test_nobody_is_dialled_while_every_agent_of_its_queue_is_away(app: Any, twilio_api: Any):
    handoff_id = book_a_morning_callback(app)
    on_duty(app, "ann", ANN, ["support"], "away")
    on_duty(app, "bob", "+15550107002", ["billing"], "available")  # not the callback's queue
    assert tick(app, OPENING) == []
    assert placed(twilio_api) == []
    app.extensions["presszero.agents"].set_status("ann", "available", OPENING)
    later = OPENING + timedelta(minutes=5)
    assert tick(app, later) == [handoff_id]
    assert [f["To"] for f in placed(twilio_api)] == [ANN]


def test_no_answer_is_tried_again_ten_minutes_later_three_times_then_a_person_has_it(
    app: Any, twilio_api: Any, store: ContextStore
):
    handoff_id = book_a_morning_callback(app)
    on_duty(app, "ann", ANN, ["support"], "available")
    spacing = timedelta(seconds=RETRY_SPACING)
    with freeze_time(OPENING) as frozen:
        # 1: ann answers, Dana does not
        assert tick(app, OPENING) == [handoff_id]
        form = placed(twilio_api)[-1]
        leg = agent_leg(app, twilio_api, form)
        dial = take(leg, form).find("Dial")
        assert dial is not None
        told = heard(leg.twiml(dial.get("action", ""), DialCallStatus="no-answer"))
        assert "try again in 10 minutes" in told
        leg.post(path_of(form["StatusCallback"]), CallStatus="completed")
        first = leg.sid
        inbox, _ = signed_in(app, "ann")
        page = inbox.get(f"/agent/conversations/{handoff_id}").get_data(as_text=True)
        assert (
            "try 1 of 3: no answer; next try after "
            '<time datetime="2026-11-23T13:10:00Z" data-local="time">13:10 UTC</time>'
        ) in page

        frozen.move_to(OPENING + spacing - timedelta(seconds=30))
        assert tick(app, OPENING + spacing - timedelta(seconds=30)) == []  # not yet
        # 2: ann's phone is not answered
        frozen.move_to(OPENING + spacing)
        assert tick(app, OPENING + spacing) == [handoff_id]
        form = placed(twilio_api)[-1]
        assert query(form["Url"])["n"] == "2"
        leg = agent_leg(app, twilio_api, form)
        leg.post(path_of(form["StatusCallback"]), CallStatus="no-answer")
        second = leg.sid

        # 3: Dana's line is busy: the last try
        frozen.move_to(OPENING + 2 * spacing)
        assert tick(app, OPENING + 2 * spacing) == [handoff_id]
        form = placed(twilio_api)[-1]
        leg = agent_leg(app, twilio_api, form)
        dial = take(leg, form).find("Dial")
        assert dial is not None
        told = heard(leg.twiml(dial.get("action", ""), DialCallStatus="busy"))
        assert "in the inbox for a person" in told
        leg.post(path_of(form["StatusCallback"]), CallStatus="completed")

        frozen.move_to(OPENING + 5 * spacing)
        assert tick(app, OPENING + 5 * spacing) == []
    assert len(placed(twilio_api)) == MAX_ATTEMPTS
    assert contacts(store) == [
        ("missed", "callback attempt 1 of 3: no answer", first),
        ("missed", "callback attempt 2 of 3: our agent did not answer", second),
        ("missed", "callback attempt 3 of 3: their line was busy; handed to a person", leg.sid),
    ]
    handoffs = app.extensions["presszero.handoffs"]
    record = handoffs.get(handoff_id)
    assert record["status"] == "callback"  # still owed, by a person now
    assert record["dial"]["failed"] is True
    assert record["dial"]["attempts"] == 3
    assert handoff_id in [r["id"] for r in handoffs.waiting()]
    assert app.extensions["presszero.agents"].get("ann").status == "available"
    with freeze_time(OPENING + 5 * spacing):
        page = inbox.get("/agent").get_data(as_text=True)
    assert "3 tries, no one reached (their line was busy): call them yourself" in page


def test_an_agents_voicemail_answering_never_rings_the_customer_and_the_try_is_made_again(
    app: Any, twilio_api: Any, store: ContextStore
):
    handoff_id = book_a_morning_callback(app)
    on_duty(app, "ann", ANN, ["support"], "available")
    with freeze_time(OPENING):
        assert tick(app, OPENING) == [handoff_id]
        [form] = placed(twilio_api)
        leg = agent_leg(app, twilio_api, form)
        briefed = leg.twiml(path_of(form["Url"]), CallStatus="in-progress")
        # a recording presses no key: Twilio goes past the Gather to the Hangup
        assert briefed.find("Dial") is None
        assert [child.tag for child in briefed] == ["Gather", "Say", "Hangup"]
        leg.post(path_of(form["StatusCallback"]), CallStatus="completed", CallDuration="12")
    assert contacts(store) == [
        ("missed", "callback attempt 1 of 3: our agent did not take the call", leg.sid)
    ]
    assert app.extensions["presszero.agents"].get("ann").status == "available"
    later = OPENING + timedelta(seconds=RETRY_SPACING)
    with freeze_time(later):
        assert tick(app, later) == [handoff_id]
    assert [f["To"] for f in placed(twilio_api)] == [ANN, ANN]  # never Dana's number


def test_an_agent_on_the_browser_phone_answered_by_a_click_rings_the_customer_at_once(
    app: Any, twilio_api: Any
):
    handoff_id = book_a_morning_callback(app)
    on_duty(app, "cleo", "client:cleo", ["support"], "available")
    with freeze_time(OPENING):
        assert tick(app, OPENING) == [handoff_id]
        [form] = placed(twilio_api)
        assert form["To"] == "client:cleo"
        answered = agent_leg(app, twilio_api, form).twiml(path_of(form["Url"]))
    assert answered.find("Gather") is None
    assert heard(answered).startswith("A call back to Dana Reyes.")
    dial = answered.find("Dial")
    assert dial is not None
    assert [(n.tag, n.text) for n in dial] == [("Number", DANA)]


def test_a_caller_who_waited_in_the_queue_then_asked_for_a_call_back_keeps_their_place(
    app: Any, twilio_api: Any
):
    handoffs = app.extensions["presszero.handoffs"]

    def record(who: str, phone: str, callback: dict[str, str] | None) -> dict[str, Any]:
        owed = {"kind": "callback", "status": "callback", "callback": callback} if callback else {}
        return {"channel": "voice", "kind": "handoff", "queue": "support", "phone": phone,
                "reason": "a question", "summary": {"who": who}, **owed}  # fmt: skip

    def asap(at: datetime, phone: str) -> dict[str, str]:
        return {"number": phone, "when": "asap", "not_before": at.isoformat()}

    first, second = OPENING + timedelta(minutes=20), OPENING + timedelta(minutes=10)
    # Kim waits in the queue from opening; Lee asks for a call back ten minutes later; then
    # Kim, tired of waiting, presses 1 for a call back too
    handoffs.open("voice:CAkim", record("Kim", "+15550107101", None), OPENING)
    handoffs.open("voice:CAlee", record("Lee", "+15550107102", asap(second, "+15550107102")),
                  second)  # fmt: skip
    handoffs.open("voice:CAkim", record("Kim", "+15550107101", asap(first, "+15550107101")),
                  first)  # fmt: skip
    on_duty(app, "ann", ANN, ["support"], "available")  # one agent: one call at a time
    later = OPENING + timedelta(minutes=25)
    with freeze_time(later):
        assert tick(app, later) == ["voice:CAkim"]


def test_two_dialers_ticking_at_once_dial_each_callback_once(
    make_app: Any, store: ContextStore, twilio_api: Any
):
    with freeze_time(CLOSED):
        load_demo(store)
    first, second = line_app(make_app, twilio_api), line_app(make_app, twilio_api)
    assert (
        first.extensions["presszero.store"].redis is not second.extensions["presszero.store"].redis
    )
    owed = {book_a_morning_callback(first, f"+1555010990{n}") for n in (1, 2, 3)}
    for n in range(1, 5):
        on_duty(first, f"agent{n}", f"+155501070{n:02d}", [], "available")
    dialers = [first.extensions["presszero.dialer"], second.extensions["presszero.dialer"]] * 2
    start = threading.Barrier(len(dialers))
    dialled: list[str] = []

    def run(dialer: Any) -> None:
        start.wait()
        dialled.extend(dialer.tick(OPENING))

    with freeze_time(OPENING):
        threads = [threading.Thread(target=run, args=(d,)) for d in dialers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert sorted(dialled) == sorted(owed)
    calls = placed(twilio_api)
    assert sorted(query(f["Url"])["cb"] for f in calls) == sorted(owed)  # once each
    assert len({f["To"] for f in calls}) == 3  # three different agents


@freeze_time(OPENING)
def test_while_twilio_is_down_nothing_is_lost_and_the_next_tick_dials(
    app: Any, twilio_api: Any, store: ContextStore
):
    handoff_id = book_a_morning_callback(app)
    on_duty(app, "ann", ANN, ["support"], "available")
    twilio_api.fail_next(503)
    assert tick(app, OPENING) == []
    assert [s.status for s in twilio_api.seen] == [503]
    assert app.extensions["presszero.agents"].get("ann").status == "available"
    assert contacts(store) == []
    assert tick(app, OPENING + timedelta(seconds=15)) == [handoff_id]
    assert query(placed(twilio_api)[-1]["Url"])["n"] == "1"  # the failed request was no try


@freeze_time(OPENING)
def test_a_late_webhook_of_an_old_try_changes_nothing(app: Any, twilio_api: Any):
    handoff_id = book_a_morning_callback(app)
    on_duty(app, "ann", ANN, ["support"], "available")
    tick(app, OPENING)
    form = placed(twilio_api)[-1]
    leg = agent_leg(app, twilio_api, form)
    stale = leg.twiml(path_of(form["Url"]).replace("n=1", "n=7"))
    assert "no longer needed" in heard(stale)
    assert stale.find("Dial") is None
    assert app.extensions["presszero.dialer"].callbacks.dialling(handoff_id)["state"] == "dialling"
    unsigned = app.test_client().post(path_of(form["Url"]), data={"CallSid": leg.sid})
    assert unsigned.status_code == 403


def test_callbacks_list_shows_when_to_whom_masked_tries_and_why_nothing_is_dialled(
    make_app: Any, store: ContextStore, twilio_api: Any, redis_url: str, monkeypatch: Any
):
    with freeze_time(CLOSED):
        load_demo(store)
    app = line_app(make_app, twilio_api, PRESSZERO_CALLER_ID="")
    book_a_morning_callback(app)
    on_duty(app, "ann", ANN, ["support"], "available")
    with freeze_time(OPENING):
        assert tick(app, OPENING) == []  # no caller id: nothing is dialled
    assert placed(twilio_api) == []
    monkeypatch.setenv("REDIS_URL", redis_url)
    for key, value in twilio_api.config.items():
        monkeypatch.setenv(key, value)
    with freeze_time(CLOSED):
        result = CliRunner().invoke(main, ["callbacks", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Callbacks owed (1), times in New York time:"
    assert lines[1].split() == ["WHEN", "TO", "QUEUE", "TRIES", "OUTCOME"]
    assert lines[2].split() == [
        "Mon", "23", "Nov", "08:00", "(morning)", "…0002", "support", "0/3",
        "not", "tried", "yet;", "next", "try", "Mon", "08:00",
    ]  # fmt: skip
    assert DANA not in result.output
    assert lines[3] == (
        "Nothing is being dialled: PRESSZERO_CALLER_ID is not set"
        " (the line's own number, that callbacks call from)."
    )


def test_callbacks_list_after_the_tries_failed_says_a_person_has_it(
    app: Any, twilio_api: Any, redis_url: str, monkeypatch: Any
):
    book_a_morning_callback(app)
    on_duty(app, "ann", ANN, ["support"], "available")
    spacing = timedelta(seconds=RETRY_SPACING)
    with freeze_time(OPENING) as frozen:
        for n in range(MAX_ATTEMPTS):
            at = OPENING + n * spacing
            frozen.move_to(at)
            tick(app, at)
            form = placed(twilio_api)[-1]
            leg = agent_leg(app, twilio_api, form)
            leg.post(path_of(form["StatusCallback"]), CallStatus="busy")
    for key, value in {**twilio_api.config, "REDIS_URL": redis_url}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PRESSZERO_CALLER_ID", LINE)
    with freeze_time(OPENING + 3 * spacing):
        result = CliRunner().invoke(main, ["callbacks", "list"])
    assert result.exit_code == 0, result.output
    row = result.output.splitlines()[2]
    assert "3/3" in row
    assert "calls failed (our agent's line was busy); in the inbox for a person" in row
    assert "Nothing is being dialled" not in result.output


@freeze_time(OPENING)
def test_the_dialer_thread_dials_on_its_own_and_stops_cleanly(app: Any, twilio_api: Any):
    handoff_id = book_a_morning_callback(app)
    on_duty(app, "ann", ANN, ["support"], "available")
    assert start_dialer(line_app_off(app)) is None  # PRESSZERO_DIALER=0: not started
    thread = DialerThread(app.extensions["presszero.dialer"], every=0.05).start()
    try:
        for _ in range(100):  # up to 5 s of real time (the clock is frozen)
            if placed(twilio_api) or threading.Event().wait(0.05):
                break
    finally:
        thread.stop()
    assert [query(f["Url"])["cb"] for f in placed(twilio_api)] == [handoff_id]
    assert not thread.running


def line_app_off(app: Any) -> Any:
    app.config["PRESSZERO_DIALER"] = False
    return app


def test_a_voicemail_left_at_night_is_called_back_at_opening_with_its_message_whispered(
    app: Any, twilio_api: Any
):
    night = datetime.fromisoformat(CLOSED)
    handoff_id = "voice:CA" + "5" * 32
    record = {
        "channel": "voice", "kind": "voicemail", "status": "callback", "queue": "support",
        "reason": "left a message", "customer_id": "cus_1001", "phone": "+15550100001",
        "summary": {"who": "Ana Lima (cus_1001)", "customer_id": "cus_1001",
                    "reason": "a question about a bill"},
    }  # fmt: skip
    handoffs = app.extensions["presszero.handoffs"]
    handoffs.open(handoff_id, record, night)
    handoffs.update(handoff_id, night, transcription="Please call me about my last bill.")
    on_duty(app, "ann", ANN, [], "available")  # available, but the line is closed
    with freeze_time(night + timedelta(minutes=5)):
        assert tick(app, night + timedelta(minutes=5)) == []
    assert placed(twilio_api) == []
    score = app.extensions["presszero.store"].redis.zscore("pz:callbacks", handoff_id)
    assert score == OPENING.timestamp()  # looked at again when the line opens
    with freeze_time(OPENING):
        assert tick(app, OPENING) == [handoff_id]
        form = placed(twilio_api)[-1]
        whisper = heard(agent_leg(app, twilio_api, form).twiml(path_of(form["Url"])))
    assert whisper.startswith("A call back to Ana Lima.")
    assert "Their message: Please call me about my last bill." in whisper
    assert not NOT_PLAIN.search(whisper), whisper


def test_a_morning_callback_not_made_by_noon_waits_for_the_next_morning(app: Any, twilio_api: Any):
    handoff_id = book_a_morning_callback(app)
    on_duty(app, "ann", ANN, ["support"], "away")
    afternoon = OPENING + timedelta(hours=4, minutes=30)  # Monday 12:30 in New York
    with freeze_time(afternoon):
        app.extensions["presszero.agents"].set_status("ann", "available", afternoon)
        assert tick(app, afternoon) == []
    assert placed(twilio_api) == []
    score = app.extensions["presszero.store"].redis.zscore("pz:callbacks", handoff_id)
    assert score == (OPENING + timedelta(days=1)).timestamp()  # Tuesday 08:00


def test_a_try_whose_dialer_died_is_taken_over_once_its_claim_lapses(
    make_app: Any, store: ContextStore, twilio_api: Any
):
    with freeze_time(CLOSED):
        load_demo(store)
    crashed, other = line_app(make_app, twilio_api), line_app(make_app, twilio_api)
    handoff_id = book_a_morning_callback(crashed)
    on_duty(crashed, "ann", ANN, ["support"], "available")
    with freeze_time(OPENING) as frozen:
        assert tick(crashed, OPENING) == [handoff_id]  # then nothing more is heard of it
        lost = agent_leg(crashed, twilio_api, placed(twilio_api)[-1]).sid
        held = OPENING + timedelta(seconds=DIALLING_HOLD - 1)
        frozen.move_to(held)
        assert tick(other, held) == []  # still held: the ringing may be going on
        lapsed = OPENING + timedelta(seconds=DIALLING_HOLD + 1)
        frozen.move_to(lapsed)
        assert tick(other, lapsed) == [handoff_id]
    assert [query(f["Url"])["n"] for f in placed(twilio_api)] == ["1", "2"]
    ann = other.extensions["presszero.agents"].get("ann")
    assert (ann.status, ann.busy_with) == ("busy", handoff_id)  # freed, then rung again
    assert contacts(store) == [
        ("missed", "callback attempt 1 of 3: we lost track of the call", lost)
    ]


def test_a_callback_to_a_spanish_speaker_dials_the_free_agent_who_speaks_it_first(
    app: Any, twilio_api: Any
):
    handoff_id = book_a_morning_callback(app)
    # What the flow records for a call held in Spanish (the caller chose it at the start).
    app.extensions["presszero.handoffs"].change(
        handoff_id,
        datetime.fromisoformat(CLOSED),
        lambda record: {"summary": {**record["summary"], "language": "es-US"}},
    )
    on_duty(app, "ann", ANN, ["support"], "available")  # free as long: ann comes first by name
    on_duty(app, "eva", "+15550107002", ["support"], "available")
    app.extensions["presszero.agents"].add("eva", languages=["es-US"])
    with freeze_time(OPENING):
        assert tick(app, OPENING) == [handoff_id]
    [form] = placed(twilio_api)
    assert form["To"] == "+15550107002"
