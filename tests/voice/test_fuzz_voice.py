"""Bad input, generated, against the signed Twilio voice webhooks.

With a valid signature, whatever the parameters — missing CallSid, huge Digits, Unicode,
XML metacharacters in SpeechResult, negative, NaN or infinite Confidence, random turn
tokens — every webhook answers 200 with well-formed TwiML (`/voice/status` and
`/voice/transcribed` may answer 204, empty); every turn reaches a person or asks again; and
what the caller said is only ever text inside `<Say>`, never markup. Without a valid
signature: 403.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.twilio_client import BASE, TOKEN, Call, reaches_a_person

from presszero.context.clock import FixedClock
from presszero.context.demo import load_demo
from presszero.context.store import ContextStore
from presszero.voice.signature import sign

OPEN = "2026-11-23T15:00:00Z"  # Monday 10:00 in New York: the line is open
OPEN_AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
AGENT = "+15551112222"
INJECTED = "+15550000000"
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Every element our TwiML may hold; an injected element would show up as something else.
VERBS = {"Response", "Say", "Gather", "Redirect", "Dial", "Number", "Sip", "Client",
         "Enqueue", "Record", "Hangup", "Pause", "Leave"}  # fmt: skip
URL_ATTRIBUTES = {"action", "url", "waitUrl", "transcribeCallback"}
# Markup a caller's words might carry into TwiML if they were ever pasted in unescaped: each
# would add an element (one we never write, or a Dial to INJECTED).
PAYLOADS = [
    f"</Say><Dial>{INJECTED}</Dial><Say>",
    f"</Say></Gather><Dial><Number>{INJECTED}</Number></Dial><Gather><Say>",
    '"/><Canary/><Say x="',
    "<Canary>&amp;</Canary>",
    "<![CDATA[<Canary/>]]>",
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>&e;',
    "&lt;Canary/&gt; &#60;Canary/&#62; &",
    "\x00\x01\x08\x0b\x0c\x1b\x7f\ud7ff\ufffe\uffff",
    "\u202eCanary\u202c \ufeff",
]
text = st.text(max_size=80)
hostile = st.one_of(
    st.sampled_from(PAYLOADS),
    st.builds(lambda a, p, b: a + p + b, text, st.sampled_from(PAYLOADS), text),
    text,
    st.text(alphabet=st.sampled_from("<>&\"'/=;![]{}? agentbilng0123\x00\x0b\r\n\t"), max_size=60),
    st.text(min_size=2000, max_size=6000, alphabet="9<&"),
)
numbers = st.one_of(
    st.sampled_from(["NaN", "nan", "-nan", "inf", "-inf", "Infinity", "-1", "-0.0", "1e309",
                     "-1e309", "0x1", "", " ", "0.9", "2", "1_0", "\u0663", "1" * 5000]),
    st.floats().map(str),
    st.integers().map(str),
    text,
)  # fmt: skip
digits = st.one_of(
    st.text(alphabet="0123456789*#", max_size=12),
    st.sampled_from(["0", "0#", "#", "1", "2", "9" * 10_000, "0" * 65, "٣", "1 2", "*0"]),
    text,
)
phones = st.one_of(
    st.sampled_from(["+15550100001", "+15550100002", "+15550100005", "+15550109999",
                     "client:anonymous", "anonymous", "", "+1", "266696687"]),
    text,
)  # fmt: skip
call_sids = st.one_of(st.from_regex(r"CA[0-9a-f]{32}", fullmatch=True), text)
CALL_STATUSES = ["ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled"]
QUEUE_RESULTS = ["bridged", "bridging-in-process", "hangup", "leave", "error", "queue-full",
                 "system-error"]  # fmt: skip
# What Twilio sends (and some of what it never would), each key optional: a missing CallSid,
# From or Digits is part of what is generated.
twilio_params = st.fixed_dictionaries(
    {},
    optional={
        "CallSid": call_sids,
        "AccountSid": text,
        "From": phones,
        "To": phones,
        "CallStatus": st.one_of(st.sampled_from(CALL_STATUSES), text),
        "Digits": digits,
        "SpeechResult": hostile,
        "Confidence": numbers,
        "DialCallStatus": st.one_of(
            st.sampled_from(["completed", "busy", "no-answer", "failed", "canceled"]), text
        ),
        "QueueResult": st.one_of(st.sampled_from(QUEUE_RESULTS), text),
        "QueuePosition": numbers,
        "AvgQueueTime": numbers,
        "QueueTime": numbers,
        "RecordingUrl": hostile,
        "RecordingDuration": numbers,
        "TranscriptionText": hostile,
    },
)
extra_params = st.dictionaries(st.text(min_size=1, max_size=12), hostile, max_size=3)
tokens = st.one_of(
    st.integers(min_value=-3, max_value=6).map(str),
    numbers,
    st.just("1&t=2"),
)
ROUTES = {  # path: the query parameter it reads
    "/voice/incoming": None,
    "/voice/turn": "t",
    "/voice/dial-status": "t",
    "/voice/queue-result": "t",
    "/voice/recorded": "t",
    "/voice/wait": "call",
    "/voice/wait-choice": None,
    "/voice/whisper": "call",
    "/voice/transcribed": "call",
    "/voice/status": None,
}
TURN_ROUTES = ["/voice/turn", "/voice/dial-status", "/voice/queue-result"]
CALLBACKS = {"/voice/status", "/voice/transcribed"}  # status callbacks: 204 with no TwiML


@pytest.fixture
def lines(make_app: Any, store: ContextStore) -> dict[str, Any]:
    """Two apps on one Redis: handoffs queue the caller, or Dial an agent's number."""
    with freeze_time(OPEN):
        load_demo(store)
    clock = FixedClock(OPEN_AT)
    return {
        "queue": make_app(PRESSZERO_CLOCK=clock),
        "dial": make_app(PRESSZERO_CLOCK=clock, PRESSZERO_AGENT_NUMBER=AGENT),
    }


def path_with(route: str, query: dict[str, str] | None) -> str:
    return f"{route}?{urlencode(query)}" if query else route


def signed_post(client: Any, path: str, params: dict[str, str], token: str = TOKEN) -> Any:
    """POST `params` to `path` signed as Twilio signs (for `token`), whatever they hold."""
    signature = sign(token, BASE + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def valid_twiml(reply: Any, sent: dict[str, str]) -> ET.Element:
    """Return the reply's TwiML after checking it is well formed and carries no injection."""
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert reply.mimetype in ("text/xml", "application/xml")
    body = reply.get_data(as_text=True)
    root = ET.fromstring(body)  # raises on anything that is not well-formed XML
    assert root.tag == "Response"
    for element in root.iter():
        assert element.tag in VERBS, f"unexpected <{element.tag}> in {body}"
        for name in URL_ATTRIBUTES & set(element.attrib):
            assert re.fullmatch(r"/voice/[a-z-]+(\?[\w%.~+=&-]*)?", element.attrib[name]), body
        if element.tag == "Say":
            assert len(element) == 0, f"markup inside <Say>: {body}"
        if element.tag == "Redirect":
            assert re.fullmatch(r"/voice/[a-z-]+(\?[\w%.~+=&-]*)?", element.text or ""), body
        elif INJECTED in (element.text or ""):
            raise AssertionError(f"the caller's {INJECTED} became <{element.tag}>: {body}")
        if element.tag in ("Number", "Redirect", "Enqueue", "Sip", "Client"):
            assert (element.text or "").strip(), f"an empty <{element.tag}>"
    for value in sent.values():
        if re.search(r"[<>&]", value) and len(value) > 3:
            assert all(value not in (v or "") for e in root.iter() for v in e.attrib.values())
    return root


def asks_again(root: ET.Element) -> bool:
    gather = root.find("Gather")
    return gather is not None and gather.find("Say") is not None


def goes_on(root: ET.Element, route: str, sent: dict[str, str]) -> bool:
    """Return True when a turn's TwiML reaches a person or asks again, or ends the call only
    because Twilio told us the caller was connected, hung up, or left a message."""
    if reaches_a_person(root) or asks_again(root) or root.find("Record") is not None:
        return True
    if route == "/voice/recorded":
        return root.find("Hangup") is not None
    if route == "/voice/dial-status" and sent.get("DialCallStatus") == "completed":
        return root.find("Hangup") is not None
    if route == "/voice/queue-result":
        if sent.get("QueueResult") in ("bridged", "bridging-in-process"):
            return root.find("Hangup") is not None
        return sent.get("QueueResult") == "hangup" and len(root) == 0  # they hung up
    return False


def started(client: Any, caller: str = "+15550109999") -> Call:
    """Return a fresh call past /voice/incoming, at its first prompt."""
    call = Call(client, caller=caller)
    call.start()
    return call


# -- any parameters, any route -------------------------------------------------------------


@settings(FUZZ, max_examples=150)
@given(
    route=st.sampled_from(sorted(ROUTES)),
    params=twilio_params,
    extra=extra_params,
    query=st.one_of(tokens, call_sids),
    target=st.sampled_from(["queue", "dial"]),
)
def test_any_signed_parameters_on_any_voice_route_get_valid_twiml(
    lines: dict[str, Any], route: str, params: dict, extra: dict, query: str, target: str
):
    sent = {**extra, **params}
    name = ROUTES[route]
    path = path_with(route, {name: query} if name else None)
    reply = signed_post(lines[target].test_client(), path, sent)
    if route in CALLBACKS and reply.status_code == 204:
        assert reply.get_data() == b""
        return
    root = valid_twiml(reply, sent)
    if route in TURN_ROUTES or route == "/voice/recorded":
        assert goes_on(root, route, sent), ET.tostring(root).decode()


@settings(FUZZ, max_examples=80)
@given(
    caller=phones.filter(lambda p: p not in ("+15550100004", "+15550100005")),  # no prompt
    params=twilio_params,
    extra=extra_params,
    target=st.sampled_from(["queue", "dial"]),
)
def test_whatever_a_caller_sends_at_a_prompt_they_reach_a_person_or_are_asked_again(
    lines: dict[str, Any], caller: str, params: dict, extra: dict, target: str
):
    call = started(lines[target].test_client(), caller if caller.isprintable() else "")
    sent = {**extra, **params, "CallSid": call.sid, "From": call.caller}
    for key in ("DialCallStatus", "QueueResult", "CallStatus"):
        sent.pop(key, None)
    root = valid_twiml(signed_post(call.client, call.gather_action(), sent), sent)
    assert reaches_a_person(root) or asks_again(root), ET.tostring(root).decode()
    if target == "dial" and root.find("Dial") is not None:
        assert [n.text for n in root.iter("Number")] == [AGENT]


@settings(FUZZ, max_examples=60)
@given(
    route=st.sampled_from([*TURN_ROUTES, "/voice/recorded"]),
    token=tokens,
    sid=st.one_of(st.none(), call_sids, st.just("the live call")),
    params=twilio_params,
)
def test_a_random_turn_token_or_call_sid_still_reaches_a_person(
    lines: dict[str, Any], route: str, token: str, sid: str | None, params: dict
):
    call = started(lines["queue"].test_client())
    sent = {k: v for k, v in params.items() if k != "CallSid"}
    if sid is not None:
        sent["CallSid"] = call.sid if sid == "the live call" else sid
    root = valid_twiml(signed_post(call.client, path_with(route, {"t": token}), sent), sent)
    assert goes_on(root, route, sent), ET.tostring(root).decode()


@settings(FUZZ, max_examples=40)
@given(
    status=st.one_of(
        st.sampled_from(["busy", "no-answer", "failed", "canceled", "completed"]), text
    ),
    params=twilio_params,
)
def test_after_an_agent_who_does_not_answer_the_caller_is_never_dropped(
    lines: dict[str, Any], status: str, params: dict
):
    call = started(lines["dial"].test_client())
    dial = call.press("0").find("Dial")
    assert dial is not None
    sent = {**params, "CallSid": call.sid, "DialCallStatus": status}
    root = valid_twiml(signed_post(call.client, dial.get("action", ""), sent), sent)
    if status == "completed":
        assert root.find("Hangup") is not None
    else:  # a callback offer or voicemail: a way on, never a hang-up
        assert asks_again(root) or root.find("Record") is not None or reaches_a_person(root)


# -- what the caller said, in TwiML and in the inbox ----------------------------------------


@pytest.mark.parametrize("target", ["queue", "dial"])
@pytest.mark.parametrize("payload", PAYLOADS[:3])
def test_speech_carrying_a_dial_never_dials_the_callers_number(
    lines: dict[str, Any], target: str, payload: str
):
    call = started(lines[target].test_client())
    call.speak(payload)
    handoff = call.speak(payload)  # the second miss ends at a person
    assert reaches_a_person(handoff)
    whisper = call.twiml(f"/voice/whisper?call={call.sid}")
    for root in (handoff, whisper):
        for element in root.iter():
            assert element.tag == "Say" or INJECTED not in (element.text or ""), element.tag
        assert not [e.tag for e in root.iter() if e.tag not in VERBS]
    assert {e.tag for e in whisper.iter()} == {"Response", "Say"}
    assert [n.text for n in handoff.iter("Number")] == ([AGENT] if target == "dial" else [])
    words = " ".join(s.text or "" for s in whisper.iter("Say"))
    assert " ".join(payload.split()) in words  # what they said, as words for the agent


class SaidList(HTMLParser):
    """The inbox page's "What they told the bot" list: its lines, and any tag inside it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # > 0 inside <ul class="log">
        self.lines: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth:
            self.tags.append(tag)
            self.depth += 1
            self.lines += [""] if tag == "li" else []
        elif tag == "ul" and ("class", "log") in attrs:
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        self.depth = max(self.depth - 1, 0)

    def handle_data(self, data: str) -> None:
        if self.depth > 1:
            self.lines[-1] += data


@settings(FUZZ, max_examples=15)
@given(said=st.lists(hostile.filter(lambda s: bool(s.split())), min_size=2, max_size=2))
def test_what_a_caller_said_reaches_the_inbox_as_text_never_as_markup(
    lines: dict[str, Any], said: list[str]
):
    app = lines["queue"]
    call = started(app.test_client())
    for words in said:
        if not reaches_a_person(call.last):
            call.speak(words)
    if not reaches_a_person(call.last):
        call.press("0")
    agent = app.test_client()
    agents = app.extensions["presszero.agents"]
    if agents.get("alex") is None:
        agents.add("alex", "correct horse battery")
    with agent.session_transaction() as session:  # signed in, as the inbox's sign-in does
        session["sid"] = agents.open_session(agents.get("alex"), datetime.now(UTC)).sid
    page = agent.get(f"/agent/conversations/voice:{call.sid}")
    assert page.status_code == 200
    found = SaidList()
    found.feed(page.get_data(as_text=True))
    found.close()
    assert set(found.tags) == {"li"}, "markup from the caller reached the page"
    assert 1 <= len(found.lines) <= len(said) + 1


# -- signatures -----------------------------------------------------------------------------


@settings(FUZZ, max_examples=60)
@given(
    route=st.sampled_from(sorted(ROUTES)),
    params=twilio_params,
    forgery=st.sampled_from(["none", "garbage", "other token", "other url", "other params"]),
    garbage=st.text(st.characters(min_codepoint=32, max_codepoint=255), min_size=1, max_size=60),
)
def test_an_unsigned_or_forged_webhook_is_refused_whatever_it_carries(
    lines: dict[str, Any], route: str, params: dict, forgery: str, garbage: str
):
    client = lines["queue"].test_client()
    signature = {
        "none": "",
        "garbage": garbage,
        "other token": sign("not-the-token", BASE + route, params),
        "other url": sign(TOKEN, BASE + "/voice/elsewhere", params),
        "other params": sign(TOKEN, BASE + route, {**params, "Forged": "1"}),
    }[forgery]
    headers = {"X-Twilio-Signature": signature} if signature else {}
    reply = client.post(route, data=params, headers=headers)
    assert reply.status_code == 403
    assert reply.get_json()["error"] == "forbidden"


def test_an_oversized_body_with_a_forged_signature_is_refused(lines: dict[str, Any]):
    client = lines["queue"].test_client()
    big = {"CallSid": "CA" + "0" * 32, "SpeechResult": "x" * (2 * 1024 * 1024)}
    reply = client.post("/voice/incoming", data=big, headers={"X-Twilio-Signature": "forged"})
    assert reply.status_code == 403


def test_an_oversized_signed_webhook_is_refused_or_reaches_a_person(lines: dict[str, Any]):
    call = started(lines["queue"].test_client())
    sent = {"CallSid": call.sid, "SpeechResult": "agent " * 400_000}  # over MAX_CONTENT_LENGTH
    reply = signed_post(call.client, call.gather_action(), sent)
    assert reply.status_code == 403 or reaches_a_person(valid_twiml(reply, sent))
