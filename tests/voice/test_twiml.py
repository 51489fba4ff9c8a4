"""voice/twiml.py writes the documents twilio's VoiceResponse wrote, byte for byte.

The reference below is the module as it was when it built TwiML with VoiceResponse (each
function returns the response instead of `str(response)`). The one intended difference:
characters XML 1.0 does not allow are dropped, where ElementTree wrote a document no parser
takes; so with such text the expected document is the reference's tree with them removed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.twiml import TwiML
from twilio.twiml.voice_response import Dial, Enqueue, Gather, VoiceResponse

from presszero.flows.engine.actions import (
    Action,
    Callback,
    End,
    Handoff,
    Prompt,
    Say,
    Summary,
    Voicemail,
)
from presszero.flows.language.phrases import phrase
from presszero.flows.render.voice import VOICEMAIL, prompt_words
from presszero.voice import twiml
from presszero.voice.twiml import Target

# -- the reference: voice/twiml.py as built with VoiceResponse ----------------------------------

GATHER_TIMEOUT = 6
DIAL_TIMEOUT = 25
MAX_HINTS = 40


def ref_add_to(target: Target, dial: Dial, whisper: str | None) -> None:
    if target.dial.startswith("sip:"):
        dial.sip(target.dial, url=whisper)
    elif target.dial.startswith("client:"):
        dial.client(target.dial.removeprefix("client:"), url=whisper)
    else:
        dial.number(target.dial, url=whisper)


def ref_url(path: str, **query: str | int) -> str:
    return f"/voice/{path}?{urlencode(query, errors='replace')}" if query else f"/voice/{path}"


def ref_render(
    actions: Iterable[Action], *, turn: int, call: str, target: Target, language: str
) -> VoiceResponse:
    response = VoiceResponse()
    pending: list[str] = []
    for action in actions:
        if isinstance(action, Say):
            pending.append(action.text)
        elif isinstance(action, Prompt):
            gather = ref_gather(action, turn, language)
            for text in [*pending, prompt_words(action, language)]:
                gather.say(text, language=language)
            pending = []
            response.append(gather)
            response.redirect(ref_url("turn", t=turn), method="POST")
        else:
            if isinstance(action, Voicemail):
                pending.append(action.prompt or phrase(VOICEMAIL, language))
            ref_say_all(response, pending, language)
            pending = []
            ref_ending(response, action, turn=turn, call=call, target=target, language=language)
    ref_say_all(response, pending, language)
    return response


def ref_say_all(response: VoiceResponse, texts: list[str], language: str) -> None:
    for text in texts:
        response.say(text, language=language)


def ref_gather(prompt: Prompt, turn: int, language: str) -> Gather:
    inputs = " ".join(sorted({"dtmf", *prompt.expects}, key=["dtmf", "speech"].index))
    hints = ", ".join(dict.fromkeys(h for h in prompt.hints if h))
    options: dict[str, Any] = {
        "input": inputs,
        "action": ref_url("turn", t=turn),
        "method": "POST",
        "timeout": GATHER_TIMEOUT,
        "action_on_empty_result": True,
        "language": language,
    }
    if "speech" in prompt.expects:
        options["speech_timeout"] = "auto"
        if hints:
            options["hints"] = ", ".join(hints.split(", ")[:MAX_HINTS])
    if prompt.max_digits:
        options["num_digits"] = prompt.max_digits
    else:
        options["finish_on_key"] = "#"
    return Gather(**options)


def ref_ending(
    response: VoiceResponse, action: Action, *, turn: int, call: str, target: Target, language: str
) -> None:
    if isinstance(action, Handoff):
        if target.dial:
            dial = Dial(
                action=ref_url("dial-status", t=turn), timeout=DIAL_TIMEOUT, answer_on_bridge=True
            )
            ref_add_to(target, dial, ref_url("whisper", call=call))
            response.append(dial)
        else:
            response.append(
                Enqueue(
                    action.queue,
                    action=ref_url("queue-result", t=turn),
                    wait_url=ref_url("wait", call=call, queue=action.queue),
                    wait_url_method="POST",
                )
            )
    elif isinstance(action, Voicemail):
        # Twilio runs nothing after a <Record>, and transcribes only en-US (2 to 120 s)
        english = language == "en-US"
        response.record(
            action=ref_url("recorded", t=turn),
            max_length=120,
            play_beep=True,
            timeout=5,
            finish_on_key="#",
            transcribe=True if english else None,
            transcribe_callback=ref_url("transcribed", call=call) if english else None,
        )
    elif isinstance(action, Callback | End):
        response.hangup()


def ref_failsafe(target: Target, queue: str, language: str = "en-US") -> VoiceResponse:
    response = VoiceResponse()
    response.say(
        phrase(
            "Sorry, something went wrong on our side. Let me connect you to a person now.", language
        ),
        language=language,
    )
    if target.dial:
        dial = Dial(timeout=DIAL_TIMEOUT, answer_on_bridge=True)
        ref_add_to(target, dial, None)
        response.append(dial)
    else:
        response.enqueue(queue)
    return response


def ref_goodbye(text: str, language: str = "en-US") -> VoiceResponse:
    response = VoiceResponse()
    response.say(text, language=language)
    response.hangup()
    return response


def ref_speak(texts: Iterable[str], language: str = "en-US", *, pause: int = 0) -> VoiceResponse:
    response = VoiceResponse()
    for text in texts:
        response.say(text, language=language)
    if pause:
        response.pause(length=pause)
    return response


def ref_offer_callback(words: Iterable[str], action: str, language: str = "en-US") -> VoiceResponse:
    response = VoiceResponse()
    gather = Gather(input="dtmf", num_digits=1, action=action, method="POST", timeout=15)
    for text in words:
        gather.say(text, language=language)
    gather.say(
        phrase("To get a call back instead of waiting, press 1.", language), language=language
    )
    response.append(gather)
    return response


def ref_leave_queue(text: str, language: str = "en-US") -> VoiceResponse:
    response = VoiceResponse()
    response.say(text, language=language)
    response.leave()
    return response


# -- what the new module must write -------------------------------------------------------------


def is_xml_char(c: str) -> bool:
    """Return whether XML 1.0's Char production allows `c`."""
    cp = ord(c)
    return (
        cp in (0x9, 0xA, 0xD)
        or 0x20 <= cp <= 0xD7FF
        or 0xE000 <= cp <= 0xFFFD
        or 0x10000 <= cp <= 0x10FFFF
    )


def without_invalid(text: str) -> str:
    return "".join(c for c in text if is_xml_char(c))


def expected(reference: TwiML) -> str:
    """Return the reference's document with the characters XML cannot carry dropped."""
    root = reference.xml()
    for element in root.iter():
        if element.text is not None:
            element.text = without_invalid(element.text)
        for name, value in element.attrib.items():
            element.set(name, without_invalid(value))
    body = ET.tostring(root, encoding="utf-8").decode("utf-8")
    return f'<?xml version="1.0" encoding="UTF-8"?>{body}'


def hex_id(c: str) -> str:
    return f"U+{ord(c):04X}"


def check(written: str, reference: TwiML) -> None:
    """Assert `written` is the reference's document (less invalid characters) and parses."""
    assert written == expected(reference)
    ET.fromstring(written)


# -- strategies ---------------------------------------------------------------------------------

AWKWARD = "&<>\"'\t\n\r ;#=?%+, é€😀\x7f\x85\u2028"
NOT_XML = "\x00\x01\x08\x0b\x0c\x1f\ud800\udbff\udc00\udfff\ufffe\uffff"

valid_text = st.text(st.one_of(st.sampled_from(AWKWARD), st.characters().filter(is_xml_char)))
any_text = st.text(st.one_of(st.sampled_from(AWKWARD + NOT_XML), st.characters()))
# a CallSid is urlencoded into URLs, which cannot encode lone surrogates (then and now)
calls = st.one_of(st.just("CA0123456789abcdef"), st.text(st.characters(codec="utf-8")))
turns = st.integers()

SUMMARY = Summary(
    who="Dana Reyes (cus_1002)",
    customer_id="cus_1002",
    phone="+15550109999",
    plan="",
    flags=(),
    recent_contacts=(),
    said=(),
    answers={},
    reason="asked for a person",
    why="pressed 0",
    escape="key0",
    channel="voice",
    step="menu",
)


def languages(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(["en-US", "es-MX"]), text)


def targets(text: st.SearchStrategy[str]) -> st.SearchStrategy[Target]:
    known = ["", "+15550001111", "sip:desk@pbx.example.com", "client:agent1", "client:", "sip:"]
    made = st.one_of(text, text.map("sip:".__add__), text.map("client:".__add__))
    return st.builds(Target, st.one_of(st.sampled_from(known), made))


def actions(text: st.SearchStrategy[str]) -> st.SearchStrategy[list[Action]]:
    says = st.builds(Say, text)
    prompts = st.builds(
        Prompt,
        text=text,
        step=st.just("menu"),
        expects=st.lists(st.sampled_from(["dtmf", "speech"]), max_size=2, unique=True).map(tuple),
        hints=st.lists(
            st.one_of(st.sampled_from(["billing", "Billing", "", "a, b", "a"]), text), max_size=12
        ).map(tuple),
        max_digits=st.one_of(st.none(), st.integers(0, 12)),
    )
    endings = st.one_of(
        st.builds(Handoff, text, st.just("asked for a person"), st.just(SUMMARY)),
        st.builds(Voicemail, text, st.just("after hours"), st.just(SUMMARY)),
        st.builds(
            Callback,
            text,
            st.sampled_from(["", "+15550102001"]),
            st.sampled_from(["asap", "morning"]),
            st.just("2025-01-01T09:00:00Z"),
            st.just("busy"),
            st.just(SUMMARY),
        ),
        st.builds(End, st.sampled_from(["resolved", "abandoned"])),
    )
    # what the engine yields: says, then a prompt or an ending; and any mix of them
    turn_of_engine = st.tuples(st.lists(says, max_size=3), st.one_of(prompts, endings)).map(
        lambda t: [*t[0], t[1]]
    )
    mixed = st.lists(st.one_of(says, prompts, endings), max_size=6)
    return st.one_of(turn_of_engine, mixed)


PROPERTY = settings(max_examples=300, deadline=None)

# -- tests --------------------------------------------------------------------------------------


@PROPERTY
@given(actions(valid_text), turns, calls, targets(valid_text), languages(valid_text))
def test_render_writes_exactly_what_voiceresponse_wrote(
    steps: list[Action], turn: int, call: str, target: Target, language: str
):
    kwargs: dict[str, Any] = {"turn": turn, "call": call, "target": target, "language": language}
    written = twiml.render(steps, **kwargs)
    assert written == str(ref_render(steps, **kwargs))
    ET.fromstring(written)


@PROPERTY
@given(actions(any_text), turns, calls, targets(any_text), languages(any_text))
def test_render_of_any_text_is_the_reference_less_what_xml_cannot_carry(
    steps: list[Action], turn: int, call: str, target: Target, language: str
):
    kwargs: dict[str, Any] = {"turn": turn, "call": call, "target": target, "language": language}
    check(twiml.render(steps, **kwargs), ref_render(steps, **kwargs))


@PROPERTY
@given(targets(any_text), any_text, languages(any_text))
def test_failsafe_dials_or_queues_as_before(target: Target, queue: str, language: str):
    check(twiml.failsafe(target, queue, language), ref_failsafe(target, queue, language))


@PROPERTY
@given(any_text, languages(any_text))
def test_goodbye_says_and_hangs_up_as_before(text: str, language: str):
    check(twiml.goodbye(text, language), ref_goodbye(text, language))


@PROPERTY
@given(st.lists(any_text, max_size=4), languages(any_text), st.integers(-5, 600))
def test_speak_says_and_pauses_as_before(texts: list[str], language: str, pause: int):
    check(twiml.speak(texts, language, pause=pause), ref_speak(texts, language, pause=pause))


@PROPERTY
@given(st.lists(any_text, max_size=4), any_text, languages(any_text))
def test_offer_callback_gathers_one_key_as_before(words: list[str], action: str, language: str):
    check(
        twiml.offer_callback(words, action, language), ref_offer_callback(words, action, language)
    )


@PROPERTY
@given(any_text, languages(any_text))
def test_leave_queue_says_and_leaves_as_before(text: str, language: str):
    check(twiml.leave_queue(text, language), ref_leave_queue(text, language))


def test_a_menu_prompt_is_written_as_twilio_writes_it():
    steps = [
        Say("Hi Dana & co."),
        Say('Press 1 for "billing".'),
        Prompt("Or say <what you need>.", "menu", hints=("billing", "claims", "billing")),
    ]
    written = twiml.render(steps, turn=7, call="CA1", target=Target(), language="en-US")
    assert written == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Gather action="/voice/turn?t=7" actionOnEmptyResult="true" hints="billing, claims"'
        ' input="dtmf speech" language="en-US" method="POST" numDigits="1" speechTimeout="auto"'
        ' timeout="6">'
        '<Say language="en-US">Hi Dana &amp; co.</Say>'
        '<Say language="en-US">Press 1 for "billing".</Say>'
        '<Say language="en-US">Or say &lt;what you need&gt;. For a person, press 0 at any time.'
        '</Say></Gather><Redirect method="POST">/voice/turn?t=7</Redirect></Response>'
    )


DIAL = '<Dial action="/voice/dial-status?t=3" answerOnBridge="true" timeout="25">'
ENQUEUE = (
    '<Enqueue action="/voice/queue-result?t=3" waitUrl="/voice/wait?call=CA1&amp;queue=support"'
    ' waitUrlMethod="POST"'
)
WHISPER = 'url="/voice/whisper?call=CA1"'


@pytest.mark.parametrize(
    ("dial", "queue", "verb"),
    [
        ("+15550001111", "support", f"{DIAL}<Number {WHISPER}>+15550001111</Number></Dial>"),
        ("sip:desk@pbx.test", "support", f"{DIAL}<Sip {WHISPER}>sip:desk@pbx.test</Sip></Dial>"),
        ("client:agent1", "support", f"{DIAL}<Client {WHISPER}>agent1</Client></Dial>"),
        ("client:", "support", f"{DIAL}<Client {WHISPER} /></Dial>"),
        ("", "support", f"{ENQUEUE}>support</Enqueue>"),
        ("", "", f"{ENQUEUE.replace('queue=support', 'queue=')} />"),
    ],
)  # fmt: skip
def test_a_handoff_dials_the_target_or_queues_after_the_pending_says(
    dial: str, queue: str, verb: str
):
    steps = [Say("Connecting you."), Handoff(queue, "asked", SUMMARY)]
    kwargs: dict[str, Any] = {"turn": 3, "call": "CA1", "target": Target(dial), "language": "en-US"}
    written = twiml.render(steps, **kwargs)
    assert written == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        f'<Say language="en-US">Connecting you.</Say>{verb}</Response>'
    )
    assert written == str(ref_render(steps, **kwargs))


def test_a_voicemail_records_last_and_is_transcribed_in_us_english():
    steps = [Say("Leave a message."), Voicemail("support", "after hours", SUMMARY)]
    written = twiml.render(steps, turn=4, call="CA1", target=Target(), language="en-US")
    assert written.endswith(
        '<Record action="/voice/recorded?t=4" finishOnKey="#" maxLength="120" playBeep="true"'
        ' timeout="5" transcribe="true" transcribeCallback="/voice/transcribed?call=CA1" />'
        "</Response>"
    )


@pytest.mark.parametrize("language", ["en-GB", "es-US", "fr-CA"])
def test_a_voicemail_in_another_language_is_not_sent_for_transcription(language: str):
    steps = [Voicemail("support", "after hours", SUMMARY)]
    written = twiml.render(steps, turn=4, call="CA1", target=Target(), language=language)
    assert written.endswith(
        '<Record action="/voice/recorded?t=4" finishOnKey="#" maxLength="120" playBeep="true"'
        ' timeout="5" /></Response>'
    )


def test_more_than_forty_hints_are_cut_to_forty_as_before():
    prompt = Prompt("Say a word.", "menu", hints=tuple(f"word{i}" for i in range(50)))
    kwargs: dict[str, Any] = {"turn": 1, "call": "CA1", "target": Target(), "language": "en-US"}
    written = twiml.render([prompt], **kwargs)
    assert written == str(ref_render([prompt], **kwargs))
    hints = ET.fromstring(written).find("Gather").get("hints")  # type: ignore[union-attr]
    assert hints == ", ".join(f"word{i}" for i in range(40))


@pytest.mark.parametrize(
    "bad", [chr(c) for c in (0x0, 0x1, 0x1F, 0xD800, 0xDFFF, 0xFFFE, 0xFFFF)], ids=hex_id
)
def test_characters_xml_cannot_carry_are_dropped_where_voiceresponse_broke_the_document(bad: str):
    before = str(ref_goodbye(f"a{bad}b", f"en-US{bad}"))
    with pytest.raises(ET.ParseError):
        ET.fromstring(before)
    root = ET.fromstring(twiml.goodbye(f"a{bad}b", f"en-US{bad}"))
    say = root.find("Say")
    assert say is not None
    assert (say.text, say.get("language")) == ("ab", "en-US")


def test_text_of_nothing_but_invalid_characters_is_an_empty_say():
    assert twiml.goodbye("\x01\ud800") == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-US" /><Hangup />'
        "</Response>"
    )


@pytest.mark.parametrize("value", ["a\tb", "a\nb", "a\rb", 'say "hi" & <go>'])
def test_attribute_values_survive_a_parse_unchanged(value: str):
    root = ET.fromstring(twiml.offer_callback([], f"/voice/wait-choice?x={value}", value))
    gather = root.find("Gather")
    assert gather is not None
    assert gather.get("action") == f"/voice/wait-choice?x={value}"
    assert [say.get("language") for say in gather] == [value]
