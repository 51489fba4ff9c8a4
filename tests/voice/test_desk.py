"""A person answers: agents rung with a whisper, callers held and answered, the truth kept."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from freezegun import freeze_time
from support.chat import OPEN
from support.consoles import PASSWORD, signed_in
from support.twilio_client import BASE, Call

from presszero.context.clock import SystemClock
from presszero.context.demo import load_demo
from presszero.context.importer import import_customers
from presszero.context.store import ContextStore
from presszero.flows.engine.actions import Handoff, Summary

JO = {
    "id": "cus_2040", "name": "Jo Marsh", "phones": ["+15550102040"],
    "plan": {"name": "Gold Care", "status": "active"},
    "cancellations": [{"plan": "Silver Health", "at": "2026-11-20T15:00:00Z",
                       "reason": "non-payment", "by": "company"}],
}  # fmt: skip
NOT_PLAIN = re.compile(r"cus_|billing_agent|\bmain\b|has_flag|==|\bstep\b|\{|\}")


@pytest.fixture
def app(make_app: Any, store: ContextStore, twilio_api: Any) -> Any:
    with freeze_time(OPEN):
        load_demo(store)
        import_customers(store, io.BytesIO(json.dumps(JO).encode() + b"\n"), source="test")
    # the public URL is the one the test client's signed webhooks are made for
    return make_app(**{**twilio_api.config, "PRESSZERO_PUBLIC_URL": BASE})


@pytest.fixture
def agents(app: Any) -> Any:
    return app.extensions["presszero.agents"]


def on_duty(agents: Any, name: str, phone: str, queues: list[str], status: str) -> None:
    agents.add(name, PASSWORD, endpoint=phone, queues=queues)
    agents.set_status(name, status, SystemClock().now())


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def to_billing_and_press_0(app: Any, caller: str = "+15550102040") -> Call:
    call = Call(app.test_client(), caller=caller)
    call.start()
    call.press("1")  # billing
    call.press("0")  # a person
    return call


@freeze_time(OPEN)
def test_pressing_0_in_billing_rings_only_the_available_billing_agent_with_a_plain_whisper(
    app: Any, agents: Any
):
    on_duty(agents, "ann", "+15550107001", ["billing"], "available")
    on_duty(agents, "bob", "+15550107002", ["billing"], "away")
    on_duty(agents, "cat", "+15550107003", ["plans"], "available")
    call = to_billing_and_press_0(app)
    dial = call.last.find("Dial") if call.last is not None else None
    assert dial is not None, ET.tostring(call.last).decode() if call.last is not None else ""
    assert [n.text for n in dial] == ["+15550107001"]  # Ann only: Bob is away, Cat is plans
    whisper = dial[0].get("url", "")
    assert query(whisper)["agent"] == "ann"
    briefed = call.twiml(whisper)
    heard = " ".join(s.text or "" for s in briefed.iter("Say"))
    assert heard.startswith("A call from Jo Marsh.")
    assert "Their Silver Health plan was cancelled by us 3 days ago (non-payment)." in heard
    assert "They chose billing." in heard
    assert "They pressed 0 for a person." in heard
    assert "To take this call, press 1." in heard
    assert not NOT_PLAIN.search(heard), heard
    ann = agents.get("ann")
    assert (ann.status, ann.busy_with) == ("busy", f"voice:{call.sid}")
    asked = briefed.find("Gather")
    assert asked is not None
    taken = call.twiml(asked.get("action", ""), Digits="1")
    assert list(taken) == []  # an empty answer: Twilio puts the caller through
    handoffs = app.extensions["presszero.handoffs"]
    assert handoffs.get(f"voice:{call.sid}")["status"] == "connected"
    bye = call.twiml(dial.get("action", ""), DialCallStatus="completed", DialCallDuration="95")
    assert bye.find("Hangup") is not None
    assert agents.get("ann").status == "available"
    assert handoffs.handle_times("billing") == [95]
    assert handoffs.get(f"voice:{call.sid}")["agent"] == "ann"


@freeze_time(OPEN)
def test_a_voicemail_that_answers_an_agents_phone_never_gets_the_caller(app: Any, agents: Any):
    on_duty(agents, "ann", "+15550107001", ["billing"], "available")
    call = to_billing_and_press_0(app)
    dial = call.last.find("Dial") if call.last is not None else None
    assert dial is not None
    briefed = call.twiml(dial[0].get("url", ""))  # the recording "answers": the whisper plays
    assert [child.tag for child in briefed] == ["Gather", "Say", "Hangup"]  # no key: hang up
    hid = f"voice:{call.sid}"
    assert app.extensions["presszero.handoffs"].get(hid)["status"] == "offered"
    # Twilio ends the agent's leg; the Dial reports it as it ended (completed, a few seconds)
    back = call.twiml(dial.get("action", ""), DialCallStatus="completed", DialCallDuration="9")
    assert back.find("Enqueue") is not None  # in line for the next person, not hung up
    assert "no one could pick up" in " ".join(s.text or "" for s in back.iter("Say"))
    record = app.extensions["presszero.handoffs"].get(hid)
    assert (record["status"], record.get("agent")) == ("waiting", None)
    assert agents.get("ann").status == "available"
    assert app.extensions["presszero.handoffs"].handle_times("billing") == []


@freeze_time(OPEN)
def test_a_browser_phone_answered_by_a_click_is_put_through_without_a_key(app: Any, agents: Any):
    on_duty(agents, "cleo", "client:cleo", ["billing"], "available")
    call = to_billing_and_press_0(app)
    dial = call.last.find("Dial") if call.last is not None else None
    assert dial is not None
    assert [(n.tag, n.text) for n in dial] == [("Client", "cleo")]
    assert query(dial[0].get("url", "")).get("click") == "1"  # even a fail-safe puts them through
    briefed = call.twiml(dial[0].get("url", ""))
    assert briefed.find("Gather") is None
    assert " ".join(s.text or "" for s in briefed.iter("Say")).startswith("A call from Jo Marsh.")
    record = app.extensions["presszero.handoffs"].get(f"voice:{call.sid}")
    assert (record["status"], record["agent"]) == ("connected", "cleo")


@freeze_time(OPEN)
def test_when_no_one_answers_the_caller_waits_in_line_instead(app: Any, agents: Any):
    on_duty(agents, "ann", "+15550107001", ["billing"], "available")
    call = to_billing_and_press_0(app)
    dial = call.last.find("Dial") if call.last is not None else None
    assert dial is not None
    back = call.twiml(dial.get("action", ""), DialCallStatus="no-answer")
    enqueue = back.find("Enqueue")
    assert enqueue is not None
    assert enqueue.text == "billing"
    assert "in line for the next person" in " ".join(s.text or "" for s in back.iter("Say"))
    assert agents.get("ann").status == "available"  # never answered: never busy
    record = app.extensions["presszero.handoffs"].get(f"voice:{call.sid}")
    assert record["status"] == "waiting"


@freeze_time(OPEN)
def test_with_nobody_available_an_agent_answers_from_the_inbox_and_is_busy_until_the_call_ends(
    app: Any, agents: Any, twilio_api: Any
):
    on_duty(agents, "alex", "+15550107001", [], "away")
    call = to_billing_and_press_0(app)
    assert call.last is not None
    assert call.last.find("Enqueue") is not None
    twilio_api.incoming(call.sid, call.caller)
    client, csrf = signed_in(app, "alex")
    inbox = client.get("/agent").get_data(as_text=True)
    assert "Callers on hold" in inbox
    assert "Jo Marsh" in inbox
    reply = client.post(f"/agent/conversations/voice:{call.sid}/answer", data={"csrf": csrf})
    assert reply.status_code == 302
    seen = twilio_api.wait_for(lambda r: r.path.endswith(f"/Calls/{call.sid}.json"))
    assert seen.method == "POST"
    assert seen.form["Method"] == "POST"
    connect = seen.form["Url"]
    assert connect.startswith(f"{BASE}/voice/connect?")
    assert query(connect) == {"call": call.sid, "agent": "alex"}
    assert (
        "Jo Marsh"
        not in client.get("/agent")
        .get_data(as_text=True)
        .split("Callers on hold")[1]
        .split("</section>")[0]
    )
    assert agents.get("alex").status == "busy"
    # Twilio follows the redirect: the caller hears who they get, and Alex's phone rings
    ring = call.twiml(urlsplit(connect).path + "?" + urlsplit(connect).query)
    assert "Putting you through to Alex" in " ".join(s.text or "" for s in ring.iter("Say"))
    dial = ring.find("Dial")
    assert dial is not None
    assert [n.text for n in dial] == ["+15550107001"]
    call.twiml(dial[0].get("url", ""))  # Alex answers and hears the whisper
    call.post("/voice/status", CallStatus="completed", CallDuration="120")
    assert agents.get("alex").status == "away"  # back to what they were before the call


@freeze_time(OPEN)
def test_a_second_agent_is_told_who_has_the_caller(app: Any, agents: Any, twilio_api: Any):
    on_duty(agents, "alex", "+15550107001", [], "away")
    on_duty(agents, "bo", "+15550107002", [], "away")
    call = to_billing_and_press_0(app)
    twilio_api.incoming(call.sid, call.caller)
    alex, alex_csrf = signed_in(app, "alex")
    bo, bo_csrf = signed_in(app, "bo")
    alex.post(f"/agent/conversations/voice:{call.sid}/answer", data={"csrf": alex_csrf})
    page = bo.post(
        f"/agent/conversations/voice:{call.sid}/answer", data={"csrf": bo_csrf},
        follow_redirects=True,
    ).get_data(as_text=True)  # fmt: skip
    assert "alex has this call" in page
    assert len(twilio_api.redirects[call.sid]) == 1
    assert agents.get("bo").status == "away"


@freeze_time(OPEN)
def test_twilio_refusing_the_redirect_leaves_the_caller_waiting_and_the_agent_free(
    app: Any, agents: Any, twilio_api: Any
):
    on_duty(agents, "alex", "+15550107001", [], "available")
    agents.mark_busy("alex", "voice:CAother", SystemClock().now())
    call = to_billing_and_press_0(app)
    agents.mark_free("alex", SystemClock().now(), conversation_id="voice:CAother")
    twilio_api.incoming(call.sid, call.caller)
    twilio_api.fail_next(503)
    client, csrf = signed_in(app, "alex")
    page = client.post(
        f"/agent/conversations/voice:{call.sid}/answer", data={"csrf": csrf},
        follow_redirects=True,
    ).get_data(as_text=True)  # fmt: skip
    assert "Could not put the call through" in page
    assert app.extensions["presszero.handoffs"].get(f"voice:{call.sid}")["status"] == "waiting"
    assert agents.get("alex").status == "available"


def test_a_caller_who_hangs_up_in_the_queue_leaves_the_inbox_and_everyones_place_at_once(
    app: Any, agents: Any
):
    with freeze_time(OPEN) as clock:
        first = to_billing_and_press_0(app, "+15550102040")
        clock.tick(30)  # the second caller joins the line half a minute later
        second = to_billing_and_press_0(app, "+15550100001")
    handoffs = app.extensions["presszero.handoffs"]
    assert handoffs.position(f"voice:{second.sid}") == 2
    first.post("/voice/status", CallStatus="completed", CallDuration="30")
    assert handoffs.position(f"voice:{first.sid}") is None
    assert handoffs.position(f"voice:{second.sid}") == 1
    assert [r["id"] for r in handoffs.waiting()] == [f"voice:{second.sid}"]
    on_duty(agents, "alex", "+15550107001", [], "away")
    client, _ = signed_in(app, "alex")
    held = client.get("/agent").get_data(as_text=True).split("Callers on hold")[1]
    assert "Jo Marsh" not in held
    assert "Ana Lima" in held


@freeze_time(OPEN)
def test_the_queue_result_of_a_hang_up_closes_the_entry_too(app: Any):
    call = to_billing_and_press_0(app)
    enqueue = call.last.find("Enqueue") if call.last is not None else None
    assert enqueue is not None
    call.twiml(enqueue.get("action", ""), QueueResult="hangup", QueueTime="40")
    record = app.extensions["presszero.handoffs"].get(f"voice:{call.sid}")
    assert record["status"] == "abandoned"


@freeze_time(OPEN)
def test_an_agent_calling_from_their_phone_gets_the_longest_waiting_caller_priority_first(
    app: Any, agents: Any
):
    billing = to_billing_and_press_0(app, "+15550102040")
    vip = Call(app.test_client(), caller="+15550100005")  # Kim, a VIP: the priority queue
    vip.start()
    on_duty(agents, "alex", "+15550107001", ["billing", "priority"], "away")
    agent_call = Call(app.test_client(), caller="+15550107001")
    root = agent_call.start()
    heard = " ".join(s.text or "" for s in root.iter("Say"))
    assert heard.startswith("A call from Kim Park.")
    queue = root.find("Dial/Queue")
    assert queue is not None
    assert queue.text == "priority"
    assert agents.get("alex").status == "busy"
    handoffs = app.extensions["presszero.handoffs"]
    assert handoffs.get(f"voice:{vip.sid}")["agent"] == "alex"
    assert handoffs.get(f"voice:{billing.sid}")["status"] == "waiting"
    agent_call.post("/voice/status", CallStatus="completed", CallDuration="300")
    assert agents.get("alex").status == "away"
    customers = app.extensions["presszero.store"]
    assert customers.lookup_by_phone("+15550107001") is None  # no contact log for an agent


@freeze_time(OPEN)
def test_with_flex_a_handoff_is_a_task_with_the_context_the_whisper_speaks(
    make_app: Any, store: ContextStore
):
    import_customers(store, io.BytesIO(json.dumps(JO).encode() + b"\n"), source="test")
    app = make_app(PRESSZERO_TASKROUTER_WORKFLOW_SID="WW" + "1" * 32)
    call = to_billing_and_press_0(app)
    enqueue = call.last.find("Enqueue") if call.last is not None else None
    assert enqueue is not None
    assert enqueue.get("workflowSid") == "WW" + "1" * 32
    task = json.loads(enqueue.findtext("Task") or "")
    assert task["name"] == "Jo Marsh"
    assert task["queue"] == "billing"
    assert (
        "their Silver Health plan was cancelled by us 3 days ago (non-payment)" in task["situation"]
    )
    assert task["whisper"].startswith("A call from Jo Marsh.")


def handoff_in(language: str, queue: str = "billing") -> Handoff:
    summary = Summary(
        who="Lucía Gómez", customer_id="cus_1006", phone="+15550100006", plan="", flags=(),
        recent_contacts=(), said=(), answers={}, reason="asked for a person",
        why="They pressed 0 for a person.", escape="key0", channel="voice", step="main",
        language=language,
    )  # fmt: skip
    return Handoff(queue, "asked for a person", summary)


@freeze_time(OPEN)
def test_a_handoff_in_spanish_rings_the_agents_who_speak_it_first(app: Any, agents: Any):
    on_duty(agents, "ann", "+15550107001", ["billing"], "available")  # the team's: English
    on_duty(agents, "eva", "+15550107002", ["billing"], "available")
    on_duty(agents, "rio", "+15550107003", ["billing"], "available")
    on_duty(agents, "sol", "+15550107004", ["billing"], "away")
    on_duty(agents, "tom", "+15550107005", ["plans"], "available")
    agents.add("eva", languages=["es-MX"])
    agents.add("rio", languages=["en-US", "es-US"])
    agents.add("sol", languages=["es-US"])
    agents.add("tom", languages=["es-US"])
    desk = app.extensions["presszero.voice"].desk
    rung = {name for name, _ in desk.target_for([handoff_in("es-US")]).agents}
    assert rung == {"eva", "rio"}  # not Ann (English only), Sol (away), Tom (plans)
    assert {n for n, _ in desk.target_for([handoff_in("en-US")]).agents} == {"ann", "rio"}
    assert {n for n, _ in desk.target_for([handoff_in("")]).agents} == {"ann", "eva", "rio"}


@freeze_time(OPEN)
def test_with_no_one_free_who_speaks_it_the_others_ring_all_the_same(app: Any, agents: Any):
    on_duty(agents, "ann", "+15550107001", ["billing"], "available")
    on_duty(agents, "bea", "+15550107002", ["billing"], "available")
    on_duty(agents, "eva", "+15550107003", ["billing"], "away")
    agents.add("eva", languages=["es-US"])
    agents.add("bea", languages=["en-GB"])
    desk = app.extensions["presszero.voice"].desk
    rung = {name for name, _ in desk.target_for([handoff_in("es-US")]).agents}
    assert rung == {"ann", "bea"}  # a person must answer; the whisper says the language


@freeze_time(OPEN)
def test_the_whisper_says_early_that_the_caller_speaks_spanish(app: Any, agents: Any):
    on_duty(agents, "ann", "+15550107001", ["billing"], "available")
    call = to_billing_and_press_0(app)
    dial = call.last.find("Dial") if call.last is not None else None
    assert dial is not None
    handoffs = app.extensions["presszero.handoffs"]
    # What the flow records for a call held in Spanish (the caller chose it at the start).
    handoffs.change(
        f"voice:{call.sid}",
        SystemClock().now(),
        lambda record: {"summary": {**record["summary"], "language": "es-US"}},
    )
    heard = " ".join(s.text or "" for s in call.twiml(dial[0].get("url", "")).iter("Say"))
    assert heard.startswith("A call from Jo Marsh. They speak Spanish. Their Silver Health")
    assert heard.count("Spanish") == 1
    assert not NOT_PLAIN.search(heard), heard
