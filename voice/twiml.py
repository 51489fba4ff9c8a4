"""Engine actions as TwiML, built with twilio's VoiceResponse.

Every response ends somewhere Twilio will come back to us (a Gather with
`actionOnEmptyResult`, a Dial or Enqueue action, a Record action) or ends the call on
purpose after saying goodbye. Nothing a customer said is ever put into TwiML except as
escaped text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from twilio.twiml.voice_response import Dial, Enqueue, Gather, VoiceResponse

from presszero.flows.actions import Action, Callback, End, Handoff, Prompt, Say, Voicemail

GATHER_TIMEOUT = 6  # seconds of silence before the engine hears "no input"
DIAL_TIMEOUT = 25  # seconds an agent's phone rings before we call it no-answer
MAX_HINTS = 40


@dataclass(frozen=True, slots=True)
class Target:
    """Where handoffs go: a number, SIP URI or client to Dial, or a queue to Enqueue."""

    dial: str = ""  # "+15550001111", "sip:desk@pbx.example.com", "client:agent1"; "" to queue

    def add_to(self, dial: Dial, whisper: str | None) -> None:
        if self.dial.startswith("sip:"):
            dial.sip(self.dial, url=whisper)
        elif self.dial.startswith("client:"):
            dial.client(self.dial.removeprefix("client:"), url=whisper)
        else:
            dial.number(self.dial, url=whisper)


def url(path: str, **query: str | int) -> str:
    """Return a voice URL with its query (the turn token and the like)."""
    return f"/voice/{path}?{urlencode(query)}" if query else f"/voice/{path}"


def render(
    actions: Iterable[Action], *, turn: int, call: str, target: Target, language: str
) -> str:
    """Return the TwiML for one turn's actions; `turn` is the token for the next webhook."""
    response = VoiceResponse()
    pending: list[str] = []  # says are held so a prompt can take them inside its Gather
    for action in actions:
        if isinstance(action, Say):
            pending.append(action.text)
        elif isinstance(action, Prompt):
            gather = _gather(action, turn, language)
            for text in [*pending, action.text]:
                gather.say(text, language=language)
            pending = []
            response.append(gather)
            # Twilio calls the action even on silence (actionOnEmptyResult); should it not,
            # the next verb brings the caller back to us as "no input" all the same.
            response.redirect(url("turn", t=turn), method="POST")
        else:
            _say_all(response, pending, language)
            pending = []
            _ending(response, action, turn=turn, call=call, target=target, language=language)
    _say_all(response, pending, language)
    return str(response)


def _say_all(response: VoiceResponse, texts: list[str], language: str) -> None:
    for text in texts:
        response.say(text, language=language)


def _gather(prompt: Prompt, turn: int, language: str) -> Gather:
    inputs = " ".join(sorted({"dtmf", *prompt.expects}, key=["dtmf", "speech"].index))
    hints = ", ".join(dict.fromkeys(h for h in prompt.hints if h))
    options = {
        "input": inputs,
        "action": url("turn", t=turn),
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


def _ending(
    response: VoiceResponse, action: Action, *, turn: int, call: str, target: Target, language: str
) -> None:
    if isinstance(action, Handoff):
        if target.dial:
            dial = Dial(
                action=url("dial-status", t=turn), timeout=DIAL_TIMEOUT, answer_on_bridge=True
            )
            target.add_to(dial, url("whisper", call=call))
            response.append(dial)
        else:
            response.append(
                Enqueue(
                    action.queue,
                    action=url("queue-result", t=turn),
                    wait_url=url("wait", call=call),
                    wait_url_method="POST",
                )
            )
    elif isinstance(action, Voicemail):
        response.record(
            action=url("recorded", t=turn),
            max_length=120,
            play_beep=True,
            timeout=5,
            finish_on_key="#",
            transcribe=True,
            transcribe_callback=url("transcribed", call=call),
        )
        # Twilio skips the action when nothing was recorded; then we arrange a callback.
        response.redirect(url("recorded", t=turn, empty=1), method="POST")
    elif isinstance(action, Callback | End):
        response.hangup()


def failsafe(target: Target, queue: str, language: str = "en-US") -> str:
    """Return the TwiML for when anything on our side failed: apologise once, reach a person."""
    response = VoiceResponse()
    response.say(
        "Sorry, something went wrong on our side. Let me connect you to a person now.",
        language=language,
    )
    if target.dial:
        dial = Dial(timeout=DIAL_TIMEOUT, answer_on_bridge=True)
        target.add_to(dial, None)
        response.append(dial)
    else:
        response.enqueue(queue)
    return str(response)


def goodbye(text: str, language: str = "en-US") -> str:
    """Return TwiML that says `text` and ends the call."""
    response = VoiceResponse()
    response.say(text, language=language)
    response.hangup()
    return str(response)


def speak(texts: Iterable[str], language: str = "en-US", *, pause: int = 0) -> str:
    """Return TwiML that only speaks (a whisper to an agent, a queue announcement)."""
    response = VoiceResponse()
    for text in texts:
        response.say(text, language=language)
    if pause:
        response.pause(length=pause)
    return str(response)


def offer_callback(words: Iterable[str], action: str, language: str = "en-US") -> str:
    """Return queue-wait TwiML that offers a callback on key 1 while the caller waits."""
    response = VoiceResponse()
    gather = Gather(input="dtmf", num_digits=1, action=action, method="POST", timeout=15)
    for text in words:
        gather.say(text, language=language)
    gather.say("To get a call back instead of waiting, press 1.", language=language)
    response.append(gather)
    return str(response)


def leave_queue(text: str, language: str = "en-US") -> str:
    """Return TwiML that takes the caller out of the queue (on to the Enqueue action)."""
    response = VoiceResponse()
    response.say(text, language=language)
    response.leave()
    return str(response)
