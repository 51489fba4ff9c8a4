"""Every TwiML document presszero can emit is legal where Twilio plays it.

Each document is checked twice: every element and attribute against twilio's own
`twilio.twiml.voice_response` classes (the nouns a verb may hold, the attributes each takes),
and the verbs against the rules of the place it is played, kept below as data with the page
of Twilio's docs they come from. A turn's answer may Dial or Enqueue; a queue's waitUrl and an
agent's whisper may not, and a fail-safe there must not either.
"""

from __future__ import annotations

import inspect
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from freezegun import freeze_time
from support.chat import OPEN
from support.consoles import PASSWORD
from support.twilio_client import BASE, Call
from twilio.twiml import voice_response

from presszero.context.clock import SystemClock
from presszero.context.demo import load_demo
from presszero.context.embedded import EmbeddedRedis, free_port
from presszero.context.store import ContextStore
from presszero.flows.engine.actions import (
    Callback,
    End,
    Handoff,
    Prompt,
    Say,
    Summary,
    Voicemail,
)
from presszero.flows.language.twilio_languages import GATHER, SAY
from presszero.voice import blueprint, callbacks_web, twiml
from presszero.voice.fallback import fallback_document, thanks_document
from presszero.voice.twiml import Target

# -- the rules, from Twilio's docs ---------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where a document is played, the verbs Twilio allows there, and the page that says so."""

    verbs: frozenset[str]
    source: str


ANY_VERB = frozenset(
    {"Say", "Play", "Pause", "Gather", "Redirect", "Hangup", "Dial", "Enqueue", "Record", "Leave"}
)
PLACES = {
    # a call's own webhook, or the action of its Gather, Dial, Enqueue or Record
    "answer": Place(ANY_VERB - {"Leave"}, "https://www.twilio.com/docs/voice/twiml"),
    # an Enqueue's waitUrl, and the action of a Gather played there
    "wait": Place(
        frozenset({"Play", "Say", "Pause", "Gather", "Hangup", "Redirect", "Leave"}),
        "https://www.twilio.com/docs/voice/twiml/enqueue#attributes-wait-url",
    ),
    # a Number, Client or Sip `url` (the whisper played to the answering leg), and the
    # action of a Gather played there
    "whisper": Place(
        frozenset({"Play", "Say", "Pause", "Gather", "Hangup"}),
        "https://www.twilio.com/docs/voice/twiml/number#attributes-url",
    ),
}
NESTED = {  # what a verb may hold
    "Gather": ({"Say", "Play", "Pause"}, "https://www.twilio.com/docs/voice/twiml/gather#nest-other-verbs"),
    "Dial": ({"Number", "Client", "Sip", "Queue", "Conference", "Sim", "Application"},
             "https://www.twilio.com/docs/voice/twiml/dial#nouns"),
    "Enqueue": ({"Task"}, "https://www.twilio.com/docs/voice/twiml/enqueue#nouns"),
}  # fmt: skip
RECORD_ENDS_IT = "https://www.twilio.com/docs/voice/twiml/record"  # no verb after it is run
TRANSCRIBES = ("en-US", 2, 120, "https://www.twilio.com/docs/voice/twiml/record#transcribe")
TEXT_TAGS = {"Say", "Play", "Redirect", "Enqueue", "Queue", "Number", "Client", "Sip", "Task"}

# -- checking one document -----------------------------------------------------------------------


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.title() for word in rest)


def _twilio_class(tag: str) -> Any:
    return voice_response.VoiceResponse if tag == "Response" else getattr(voice_response, tag)


def allowed_attributes(parent: str, tag: str) -> set[str] | None:
    """Return the attributes twilio's `parent` class lets `tag` have, or None if it cannot
    hold `tag` at all."""
    method = getattr(_twilio_class(parent), tag.lower(), None)
    if method is None:
        return None
    names = [n for n in inspect.signature(method).parameters if n not in ("self", "kwargs")]
    if tag in TEXT_TAGS:
        names = names[1:]  # the element's text (message, url, name, phone_number, ...)
    return {_camel(n) for n in names}


def problems_in(document: str, place: str) -> list[str]:
    """Return why `document` is not legal TwiML where it is played (none: [])."""
    root = ET.fromstring(document)
    rule = PLACES[place]
    out: list[str] = []
    if root.tag != "Response":
        return [f"the root is <{root.tag}>"]
    verbs = list(root)
    for index, verb in enumerate(verbs):
        if verb.tag not in rule.verbs:
            out.append(f"<{verb.tag}> is not allowed in a {place} document ({rule.source})")
        if verb.tag == "Record" and index != len(verbs) - 1:
            out.append(f"verbs after <Record> are never run ({RECORD_ENDS_IT})")
    spoken = {say.get("language") for say in root.iter("Say")}
    for parent in root.iter():
        for child in parent:
            out += _element_problems(parent.tag, child, spoken)
    return out


def _element_problems(parent: str, child: ET.Element, spoken: set[str | None]) -> list[str]:
    out: list[str] = []
    allowed = allowed_attributes(parent, child.tag)
    if allowed is None:
        return [f"twilio's {parent} cannot hold <{child.tag}>"]
    if parent in NESTED and child.tag not in NESTED[parent][0]:
        out.append(f"<{parent}> may not hold <{child.tag}> ({NESTED[parent][1]})")
    for name, value in child.attrib.items():
        if name not in allowed:
            out.append(f"<{child.tag}> has no attribute {name} in twilio's classes")
        if value in ("True", "False", "None", ""):
            out.append(f"<{child.tag} {name}={value!r}>: not a value Twilio reads")
    language = child.get("language")
    if child.tag == "Say" and language is not None and language not in SAY:
        out.append(f"<Say language={language!r}> is not in Twilio's Say.LanguageEnum")
    if child.tag == "Gather" and language is not None and language not in GATHER:
        out.append(f"<Gather language={language!r}> is not in Twilio's Gather.LanguageEnum")
    if child.tag == "Say" and not (child.text or "").strip():
        out.append("an empty <Say>")
    if child.tag == "Record" and child.get("transcribe") == "true":
        english, low, high, source = TRANSCRIBES
        seconds = int(child.get("maxLength", "3600"))
        if spoken - {english} or not low <= seconds <= high:
            out.append(f"transcription asked where Twilio does not transcribe ({source})")
    return out


def check(document: str, place: str) -> None:
    assert problems_in(document, place) == [], document


# -- every document, rendered directly -------------------------------------------------------------

SUMMARY = Summary(
    who="Dana Reyes (cus_1002)", customer_id="cus_1002", phone="+15550109999", plan="",
    flags=(), recent_contacts=(), said=(), answers={}, reason="asked for a person",
    why="pressed 0", escape="key0", channel="voice", step="menu",
)  # fmt: skip
TARGETS = {
    "queue": Target(),
    "number": Target(dial="+15550001111"),
    "sip": Target(dial="sip:desk@example.com"),
    "client": Target(dial="client:desk"),
    "agents": Target(agents=(("ann", "+15550107001"), ("bo", "client:bo"), ("cy", "sip:c@x.io"))),
    "flex": Target(workflow="WW" + "0" * 32, task='{"queue": "support"}'),
}
ENDINGS = {
    "handoff": Handoff("support", "asked for a person", SUMMARY),
    "voicemail": Voicemail("support", "after hours", SUMMARY),
    "callback": Callback("support", "", "asap", "2026-11-05T15:00:00Z", "asked", SUMMARY),
    "end": End("resolved"),
}
MENU = Prompt("What can I help you with?", "main", hints=("billing", "plan"))
DIGITS = Prompt("Enter your account number.", "account", expects=("dtmf",), max_digits=8)


def rendered() -> Iterator[tuple[str, str, str]]:
    """Yield (name, place, document) for every shape of document the voice line writes."""
    for language in ("en-US", "es-US", "fr-CA"):
        for prompt in (MENU, DIGITS):
            actions = [Say("Hello."), prompt]
            yield (
                f"turn-prompt-{prompt.step}-{language}",
                "answer",
                twiml.render(actions, turn=2, call="CA1", target=Target(), language=language),
            )
        for ending, action in ENDINGS.items():
            for target_name, target in TARGETS.items():
                doc = twiml.render(
                    [Say("One moment."), action], turn=3, call="CA1", target=target,
                    language=language,
                )  # fmt: skip
                yield f"turn-{ending}-{target_name}-{language}", "answer", doc
            yield (
                f"failsafe-turn-{ending}-{language}",
                "answer",
                twiml.failsafe(
                    TARGETS["number"] if ending == "handoff" else Target(), "support", language
                ),
            )
        yield (
            f"connect-{language}",
            "answer",
            twiml.connect_to("ann", "+15550107001", turn=4, call="CA1", language=language),
        )
        yield (
            f"agent-calls-in-{language}",
            "answer",
            twiml.take_from_queue("A call from Dana.", "support", agent="ann", language=language),
        )
        yield (
            f"dial-status-back-in-line-{language}",
            "answer",
            twiml.queue_again(
                ["Sorry, no one could pick up."], "support", turn=5, call="CA1", language=language
            ),
        )
        yield f"goodbye-{language}", "answer", twiml.goodbye("Goodbye.", language)
        yield (
            f"wait-short-{language}",
            "wait",
            twiml.speak(["You're number 1."], language, pause=20),
        )
        yield (
            f"wait-long-{language}",
            "wait",
            twiml.offer_callback(["You're number 4."], "/voice/wait-choice?call=CA1", language),
        )
        yield f"wait-choice-leave-{language}", "wait", twiml.leave_queue("OK.", language)
        yield f"wait-choice-stay-{language}", "wait", twiml.speak(["OK."], language)
        yield (
            f"whisper-{language}",
            "whisper",
            twiml.screen(
                ["A call from Dana."], "/voice/whisper-accept?call=CA1&agent=ann", language
            ),
        )
        yield f"whisper-browser-{language}", "whisper", twiml.speak(["A call from Dana."], language)
        yield f"whisper-accept-{language}", "whisper", twiml.speak([])
        yield f"whisper-refused-{language}", "whisper", twiml.goodbye(twiml.NOT_TAKEN, language)
        yield f"failsafe-wait-{language}", "wait", twiml.failsafe_waiting(language)
        for wants in (True, False):
            yield (
                f"failsafe-wait-choice-{wants}-{language}",
                "wait",
                twiml.failsafe_wait_choice(wants, language),
            )
            yield (
                f"failsafe-whisper-accept-{wants}-{language}",
                "whisper",
                (twiml.failsafe_whisper_accept(wants, language)),
            )
        yield (
            f"failsafe-whisper-{language}",
            "whisper",
            twiml.failsafe_whisper(
                "/voice/whisper-accept?call=CA1&agent=ann&unbriefed=1", language
            ),
        )
        record = {"id": "H1", "summary": {}, "number": "+15550100002", "transcription": "Hi."}
        for briefed in (True, False):
            yield (
                f"callbacks-agent-accept-{briefed}-{language}",
                "answer",
                (
                    callbacks_web.call_the_customer(
                        record, 1, "+15550000000", language, briefed=briefed
                    )
                ),
            )
        yield (
            f"callbacks-agent-{language}",
            "answer",
            twiml.screen(
                callbacks_web.briefing(record), "/voice/callbacks/agent-accept?cb=H1&n=1", language
            ),
        )
    yield "callbacks-customer", "whisper", twiml.speak([callbacks_web.GREETING])
    yield "callbacks-result", "answer", twiml.goodbye("Thanks. Goodbye.")
    yield "callbacks-failsafe", "answer", twiml.goodbye(callbacks_web.SORRY)
    yield "failsafe-static", "answer", blueprint.STATIC_FAILSAFE
    for backup in ("+15550001111", ""):  # the number's fallback URL, presszero down
        yield f"fallback-{backup or 'record'}", "answer", fallback_document(backup, "t.xml")
    yield "fallback-thanks", "answer", thanks_document()


RENDERED = list(rendered())


@pytest.mark.parametrize(
    ("place", "document"), [r[1:] for r in RENDERED], ids=[r[0] for r in RENDERED]
)
def test_every_document_is_legal_twiml_where_it_is_played(place: str, document: str):
    check(document, place)


def test_the_checker_refuses_what_twilio_refuses():
    dial = twiml.failsafe(Target(), "support")
    assert any("<Enqueue> is not allowed in a wait" in p for p in problems_in(dial, "wait"))
    assert any("<Enqueue> is not allowed in a whisper" in p for p in problems_in(dial, "whisper"))
    after = '<Response><Record action="/r" /><Redirect>/x</Redirect></Response>'
    assert any("after <Record>" in p for p in problems_in(after, "answer"))
    odd = (
        '<Response><Say language="en-US" colour="red">Hi.</Say><Gather><Dial /></Gather></Response>'
    )
    found = problems_in(odd, "answer")
    assert any("no attribute colour" in p for p in found), found
    assert any("cannot hold <Dial>" in p for p in found), found
    welsh = '<Response><Gather language="cy-GB"><Say language="cy-GB">Hi.</Say></Gather></Response>'
    assert any("Gather.LanguageEnum" in p for p in problems_in(welsh, "answer"))


# -- every document, as the webhooks answer it -----------------------------------------------------


@pytest.fixture
def app(make_app: Any, store: ContextStore, twilio_api: Any) -> Any:
    with freeze_time(OPEN):
        load_demo(store)
    return make_app(**{**twilio_api.config, "PRESSZERO_PUBLIC_URL": BASE})


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _xml(root: ET.Element) -> str:
    return ET.tostring(root, encoding="unicode")


@freeze_time(OPEN)
def test_a_call_through_menu_queue_whisper_and_voicemail_answers_legal_twiml_each_time(app: Any):
    agents = app.extensions["presszero.agents"]
    call = Call(app.test_client(), caller="+15550100001")
    check(_xml(call.start()), "answer")
    queued = call.press("0")  # nobody on duty: the queue
    check(_xml(queued), "answer")
    enqueue = queued.find("Enqueue")
    assert enqueue is not None
    for position, waited in (("1", "10"), ("3", "900")):
        check(_xml(call.twiml(enqueue.get("waitUrl", ""), QueuePosition=position,
                              QueueTime=waited)), "wait")  # fmt: skip
    choice = twiml.url("wait-choice", call=call.sid)
    for digits in ("1", "2"):
        check(_xml(call.twiml(choice, Digits=digits)), "wait")
    after = call.twiml(enqueue.get("action", ""), QueueResult="leave")
    check(_xml(after), "answer")
    agents.add("ann", PASSWORD, endpoint="+15550107001", queues=[])
    agents.set_status("ann", "available", SystemClock().now())
    rung = Call(app.test_client(), caller="+15550100002")
    rung.start()
    dialled = rung.press("0")
    check(_xml(dialled), "answer")
    dial = dialled.find("Dial")
    assert dial is not None
    whisper = dial[0].get("url", "")
    check(_xml(rung.twiml(whisper)), "whisper")
    accept = twiml.url("whisper-accept", **_query(whisper))
    for digits in ("1", ""):
        check(_xml(rung.twiml(accept, Digits=digits)), "whisper")
    check(_xml(rung.twiml(dial.get("action", ""), DialCallStatus="no-answer")), "answer")
    recorded = twiml.url("recorded", t=9)
    for form in ({"RecordingUrl": "https://api.twilio.com/r/RE1", "RecordingDuration": "7"},
                 {"RecordingUrl": "https://api.twilio.com/r/RE2", "RecordingDuration": "0"},
                 {"RecordingDuration": "4", "Digits": "hangup",
                  "RecordingUrl": "https://api.twilio.com/r/RE3"}):  # fmt: skip
        check(_xml(rung.twiml(recorded, **form)), "answer")


# -- the fail-safes, with Redis gone ---------------------------------------------------------------

SORRY = "went wrong"
FAILSAFE_PLACES = [  # (path, form, place, words the caller or agent hears: "" for none)
    ("/voice/incoming", {}, "answer", SORRY),
    ("/voice/turn?t=1", {"Digits": "1"}, "answer", SORRY),
    ("/voice/dial-status?t=2", {"DialCallStatus": "busy"}, "answer", SORRY),
    ("/voice/queue-result?t=2", {"QueueResult": "leave"}, "answer", SORRY),
    ("/voice/connect?call=CA9&agent=ann", {}, "answer", SORRY),
    ("/voice/recorded?t=3", {"RecordingDuration": "0"}, "answer", SORRY),
    ("/voice/agent-done?agent=ann", {"DialCallStatus": "completed"}, "answer", SORRY),
    ("/voice/wait?call=CA9&queue=support", {"QueuePosition": "2"}, "wait", "keep your place"),
    ("/voice/wait-choice?call=CA9", {"Digits": "1"}, "wait", "call back"),
    ("/voice/wait-choice?call=CA9", {"Digits": "2"}, "wait", "keep your place"),
    ("/voice/whisper?call=CA9&agent=ann", {}, "whisper", "could not load who is calling"),
    ("/voice/whisper?call=CA9", {}, "whisper", "could not load who is calling"),
    ("/voice/whisper?call=CA9&agent=cleo&click=1", {}, "whisper", "Putting them through"),
    ("/voice/whisper-accept?call=CA9&agent=ann", {"Digits": "1"}, "whisper", ""),
    ("/voice/whisper-accept?call=CA9&agent=ann", {}, "whisper", "not put through"),
    ("/voice/whisper-accept?call=CA9&agent=ann&unbriefed=1", {"Digits": "1"}, "whisper", ""),
    ("/voice/callbacks/agent?cb=H1&n=1", {}, "answer", SORRY),
    ("/voice/callbacks/agent-accept?cb=H1&n=1", {"Digits": "1"}, "answer", SORRY),
    ("/voice/callbacks/customer?cb=H1&n=1", {}, "whisper", ""),
    ("/voice/callbacks/result?cb=H1&n=1", {"DialCallStatus": "completed"}, "answer", SORRY),
]


FAILSAFE_IDS = [f"{path}-{'-'.join(form.values())}" for path, form, _, _ in FAILSAFE_PLACES]


@pytest.mark.parametrize(("path", "form", "place", "heard"), FAILSAFE_PLACES, ids=FAILSAFE_IDS)
def test_the_fail_safe_is_legal_twiml_where_it_is_played(
    make_app: Any, path: str, form: dict[str, str], place: str, heard: str
):
    with tempfile.TemporaryDirectory() as data:
        server = EmbeddedRedis(data, port=free_port())
        server.start()
        app = make_app(REDIS_URL=server.url, PRESSZERO_PUBLIC_URL=BASE)
        server.kill()
        root = Call(app.test_client(), sid="CA9").twiml(path, **form)
    check(_xml(root), place)
    said = " ".join(s.text or "" for s in root.iter("Say"))
    assert heard in said if heard else list(root) == [], _xml(root)


def test_a_browser_phone_answered_by_a_click_is_put_through_by_the_whisper_fail_safe(
    make_app: Any,
):
    with tempfile.TemporaryDirectory() as data:
        server = EmbeddedRedis(data, port=free_port())
        server.start()
        app = make_app(REDIS_URL=server.url, PRESSZERO_PUBLIC_URL=BASE)
        server.kill()
        call = Call(app.test_client(), sid="CA9")
        clicked = call.twiml("/voice/whisper?call=CA9&agent=cleo&click=1")
        phone = call.twiml("/voice/whisper?call=CA9&agent=ann")
    assert clicked.find("Gather") is None  # a click was a person: no key to ask for
    assert [child.tag for child in clicked] == ["Say"]
    assert phone.find("Gather") is not None  # a phone may be its voicemail: a key first


# -- voicemail, as Twilio ends a recording today ------------------------------------------------


@freeze_time(OPEN)
def test_a_caller_who_hangs_up_after_a_message_gets_no_more_twiml_and_the_message_is_kept(
    app: Any,
):
    call = Call(app.test_client(), caller="+15550100001")
    call.start()
    call.press("0")
    form = {"RecordingUrl": "https://api.twilio.com/r/RE1", "RecordingDuration": "6"}
    root = call.twiml(twiml.url("recorded", t=3), Digits="hangup", **form)
    assert list(root) == []  # the caller is gone: nothing to say
    record = app.extensions["presszero.handoffs"].get(f"voice:{call.sid}")
    assert (record["status"], record["recording_seconds"]) == ("voicemail", 6)


@freeze_time(OPEN)
@pytest.mark.parametrize(
    "form",
    [
        {"RecordingUrl": "https://api.twilio.com/r/RE1", "RecordingDuration": "0"},
        {"RecordingUrl": "https://api.twilio.com/r/RE1", "RecordingDuration": "0", "Digits": "#"},
        {"RecordingUrl": "https://api.twilio.com/r/RE1", "RecordingDuration": "0",
         "Digits": "hangup"},
    ],
)  # fmt: skip
def test_an_empty_or_hung_up_recording_becomes_a_callback(app: Any, form: dict[str, str]):
    call = Call(app.test_client(), caller="+15550100001")
    call.start()
    call.press("0")
    root = call.twiml(twiml.url("recorded", t=3), **form)
    gone = form.get("Digits") == "hangup"
    assert (list(root) == []) is gone
    if not gone:
        assert "call you back" in " ".join(s.text or "" for s in root.iter("Say"))
    record = app.extensions["presszero.handoffs"].get(f"voice:{call.sid}")
    assert record["status"] == "callback"


@freeze_time(OPEN)
def test_an_agent_who_presses_a_key_after_the_fail_safe_whisper_is_put_through(app: Any):
    agents = app.extensions["presszero.agents"]
    agents.add("ann", PASSWORD, endpoint="+15550107001", queues=[])
    agents.set_status("ann", "available", SystemClock().now())
    call = Call(app.test_client(), caller="+15550100002")
    call.start()
    call.press("0")
    accept = twiml.url("whisper-accept", call=call.sid, agent="ann", unbriefed=1)
    root = call.twiml(accept, Digits="1")
    assert list(root) == []  # an empty answer: Twilio bridges the caller
    record = app.extensions["presszero.handoffs"].get(f"voice:{call.sid}")
    assert (record["status"], record["agent"]) == ("connected", "ann")
    assert agents.get("ann").status == "busy"
