"""Engine actions as TwiML, written as strings.

Every response ends somewhere Twilio will come back to us (a Gather with
`actionOnEmptyResult`, a Dial or Enqueue action, a Record action) or ends the call on
purpose after saying goodbye. Nothing a customer said is ever put into TwiML except as
escaped text: every value reaches the document through `_text` or `_attr`.

The documents are the ones twilio's VoiceResponse writes, byte for byte (attributes sorted by
their camelCase names, booleans as true/false, empty elements as `<Name />`), without its
ElementTree round trip on every webhook. One difference: characters XML 1.0 does not allow
(most control characters, lone surrogates, U+FFFE, U+FFFF) are dropped, where ElementTree
would write a document Twilio cannot parse.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from presszero.flows.engine.actions import Action, Callback, End, Handoff, Prompt, Say, Voicemail
from presszero.flows.language.phrases import english, phrase
from presszero.flows.language.twilio_languages import TRANSCRIBED, TRANSCRIBED_SECONDS
from presszero.flows.render.voice import VOICEMAIL, prompt_words, read_aloud

GATHER_TIMEOUT = 6  # seconds of silence before the engine hears "no input"
DIAL_TIMEOUT = 25  # seconds an agent's phone rings before we call it no-answer
MAX_NOUNS = 10  # Twilio rings at most ten numbers, clients or SIP addresses at once
MAX_HINTS = 40
VOICEMAIL_SECONDS = 120  # the longest message a caller can leave

_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Target:
    """Where a handoff goes: the agents to ring now, else the queue; or one fixed line; or Flex."""

    dial: str = ""  # one line for every handoff ("+1555…", "sip:…", "client:…"); "" for agents
    agents: tuple[tuple[str, str], ...] = ()  # (name, endpoint) of the agents to ring at once
    workflow: str = ""  # a TaskRouter workflow: hand the caller to Flex with a Task
    task: str = ""  # that Task's attributes, JSON

    def noun(self, whisper: str | None) -> str:
        """Return the Number, Sip or Client to put in a Dial; `whisper` is played to the agent."""
        return endpoint_noun(self.dial, whisper)


def endpoint_noun(endpoint: str, whisper: str | None) -> str:
    """Return the Number, Sip or Client that rings `endpoint`; `whisper` plays on answering."""
    attrs = _attrs(url=whisper)
    if endpoint.startswith("sip:"):
        return _element("Sip", attrs, _text(endpoint))
    if endpoint.startswith("client:"):
        return _element("Client", attrs, _text(endpoint.removeprefix("client:")))
    return _element("Number", attrs, _text(endpoint))


def url(path: str, **query: str | int) -> str:
    """Return a voice URL with its query (the turn token and the like)."""
    # errors="replace": a value that cannot be UTF-8 (a lone surrogate) is still a valid URL
    return f"/voice/{path}?{urlencode(query, errors='replace')}" if query else f"/voice/{path}"


def render(
    actions: Iterable[Action], *, turn: int, call: str, target: Target, language: str
) -> str:
    """Return the TwiML for one turn's actions; `turn` is the token for the next webhook."""
    next_turn = url("turn", t=turn)
    verbs: list[str] = []
    pending: list[str] = []  # says are held so a prompt can take them inside its Gather
    for action in actions:
        if isinstance(action, Say):
            pending.append(action.text)
        elif isinstance(action, Prompt):
            said = prompt_words(action, language)
            says = "".join(_say(text, language) for text in [*pending, said])
            pending = []
            if action.barge_in:  # said inside the Gather: a key or a word cuts it short
                verbs.append(f"{_gather_start(action, next_turn, language)}{says}</Gather>")
            else:  # the flow wants it heard whole (`barge_in: false`; check warns of it)
                verbs.append(f"{says}{_gather_start(action, next_turn, language)}</Gather>")
            # Twilio calls the action even on silence (actionOnEmptyResult); should it not,
            # the next verb brings the caller back to us as "no input" all the same.
            verbs.append(_redirect(next_turn))
        else:
            if isinstance(action, Voicemail):
                pending.append(action.prompt or phrase(VOICEMAIL, language))
            verbs.extend(_say(text, language) for text in pending)
            pending = []
            verbs.append(_ending(action, turn=turn, call=call, target=target, language=language))
    verbs.extend(_say(text, language) for text in pending)
    return _response("".join(verbs))


def _gather_start(prompt: Prompt, action: str, language: str) -> str:
    # tuple(): the cache needs hashable keys even if a caller built the prompt with lists.
    expects, hints = tuple(prompt.expects), tuple(prompt.hints)
    options = _gather_options(expects, hints, prompt.max_digits, language)
    # `action` sorts before every other Gather attribute, so it opens the tag.
    return f'<Gather action="{_attr(action)}"{options}>'


@functools.lru_cache(maxsize=256)
def _gather_options(
    expects: tuple[str, ...], hints: tuple[str, ...], max_digits: int | None, language: str
) -> str:
    """Return a prompt's Gather attributes but `action` (the only one that changes by turn)."""
    inputs = " ".join(sorted({"dtmf", *expects}, key=["dtmf", "speech"].index))
    joined = ", ".join(dict.fromkeys(h for h in hints if h))
    options: dict[str, str | int | bool] = {
        "input": inputs,
        "method": "POST",
        "timeout": GATHER_TIMEOUT,
        "action_on_empty_result": True,
        "language": language,
    }
    if "speech" in expects:
        options["speech_timeout"] = "auto"
        if joined:
            options["hints"] = ", ".join(joined.split(", ")[:MAX_HINTS])
    if max_digits:
        options["num_digits"] = max_digits
    else:
        options["finish_on_key"] = "#"
    return _attrs(**options)


def _ending(action: Action, *, turn: int, call: str, target: Target, language: str) -> str:
    if isinstance(action, Handoff):
        if target.workflow:
            attrs = _attrs(
                action=url("queue-result", t=turn), workflow_sid=target.workflow,
                wait_url=url("wait", call=call, queue=action.queue), wait_url_method="POST",
            )  # fmt: skip
            return _element("Enqueue", attrs, _element("Task", "", _text(target.task or "{}")))
        if target.dial:
            attrs = _attrs(
                action=url("dial-status", t=turn), timeout=DIAL_TIMEOUT, answer_on_bridge=True
            )
            return _element("Dial", attrs, target.noun(url("whisper", call=call)))
        if target.agents:
            return dial_agents(target.agents, turn=turn, call=call)
        return enqueue(action.queue, turn=turn, call=call)
    if isinstance(action, Voicemail):
        return record(url("recorded", t=turn), call=call, language=language)
    if isinstance(action, Callback | End):
        return "<Hangup />"
    return ""


def record(action: str, *, call: str, language: str) -> str:
    """Return a Record for a voicemail: its action is called however it ends.

    Twilio today calls the action every time (RecordingDuration 0 when nothing was said,
    Digits=hangup when the caller hung up) and runs no verb after a <Record>, so nothing
    follows it. Transcription is asked for only where Twilio does it: en-US, 2 to 120 s.
    """
    low, high = TRANSCRIBED_SECONDS
    transcribed = language in TRANSCRIBED and low <= VOICEMAIL_SECONDS <= high
    attrs = _attrs(
        action=action,
        max_length=VOICEMAIL_SECONDS,
        play_beep=True,
        timeout=5,
        finish_on_key="#",
        transcribe=True if transcribed else None,
        transcribe_callback=url("transcribed", call=call) if transcribed else None,
    )
    return _element("Record", attrs)


def dial_agents(agents: Iterable[tuple[str, str]], *, turn: int, call: str) -> str:
    """Return a Dial that rings these agents at once; each hears the whisper on answering."""
    attrs = _attrs(action=url("dial-status", t=turn), timeout=DIAL_TIMEOUT, answer_on_bridge=True)
    nouns = "".join(
        endpoint_noun(endpoint, whisper_url(call, name, endpoint))
        for name, endpoint in list(agents)[:MAX_NOUNS]
    )
    return _element("Dial", attrs, nouns)


def whisper_url(call: str, name: str, endpoint: str) -> str:
    """Return the whisper URL for an agent's leg; a browser phone's says it was answered by a
    click (`click=1`), which the whisper's fail-safe needs when it cannot look the agent up."""
    if endpoint.startswith("client:"):
        return url("whisper", call=call, agent=name, click=1)
    return url("whisper", call=call, agent=name)


def enqueue(queue: str, *, turn: int, call: str) -> str:
    """Return an Enqueue that holds the caller in `queue`, hearing where they are in line."""
    attrs = _attrs(
        action=url("queue-result", t=turn),
        wait_url=url("wait", call=call, queue=queue),
        wait_url_method="POST",
    )
    return _element("Enqueue", attrs, _text(queue))


def connect_to(name: str, endpoint: str, *, turn: int, call: str, language: str) -> str:
    """Return TwiML that tells a waiting caller who they are being put through to, and rings
    that agent (who hears the whisper first)."""
    attrs = _attrs(action=url("dial-status", t=turn), timeout=DIAL_TIMEOUT, answer_on_bridge=True)
    noun = endpoint_noun(endpoint, whisper_url(call, name, endpoint))
    thanks = phrase("Thanks for waiting. Putting you through to {name} now.", language)
    said = _say(thanks.format(name=name.title()), language)
    return _response(said + _element("Dial", attrs, noun))


def take_from_queue(whisper: str, queue: str, *, agent: str, language: str) -> str:
    """Return TwiML for an agent who called in: who is next, then the longest-waiting caller."""
    attrs = _attrs(action=url("agent-done", agent=agent))
    return _response(
        _say(whisper, language) + _element("Dial", attrs, _element("Queue", "", _text(queue)))
    )


def queue_again(words: Iterable[str], queue: str, *, turn: int, call: str, language: str) -> str:
    """Return TwiML that says `words` and puts the caller back in `queue`."""
    says = "".join(_say(text, language) for text in words)
    return _response(says + enqueue(queue, turn=turn, call=call))


def failsafe(target: Target, queue: str, language: str = "en-US") -> str:
    """Return the TwiML for when anything on our side failed: apologise once, reach a person."""
    sorry = _say(
        phrase(
            "Sorry, something went wrong on our side. Let me connect you to a person now.", language
        ),
        language,
    )
    if target.dial:
        attrs = _attrs(timeout=DIAL_TIMEOUT, answer_on_bridge=True)
        return _response(sorry + _element("Dial", attrs, target.noun(None)))
    return _response(sorry + _element("Enqueue", "", _text(queue)))


SORRY = english("Sorry, something went wrong on our side.")
STAY = english(
    "Please stay on the line: you keep your place, and the next person free will answer."
)
UNBRIEFED = "Sorry, we could not load who is calling. A customer is waiting for a person."
UNBRIEFED_CLICKED = f"{UNBRIEFED} Putting them through to you now."


def failsafe_waiting(language: str = "en-US") -> str:
    """Return the fail-safe for a caller in the queue (an Enqueue's waitUrl): they stay in line.

    A waitUrl may only Play, Say, Pause, Gather, Hangup, Redirect or Leave; Twilio fetches it
    again when this ends, so the caller keeps their place and hears it again in a while.
    """
    return speak([phrase(SORRY, language), phrase(STAY, language)], language, pause=WAIT_PAUSE)


def failsafe_wait_choice(wants_callback: bool, language: str = "en-US") -> str:
    """Return the fail-safe for a key pressed in the queue: 1 leaves for the Enqueue's action
    (which arranges the callback asked for), anything else keeps the caller in line."""
    if wants_callback:
        sorry = phrase(
            "Sorry, something went wrong on our side. Let's arrange your call back.", language
        )
        return leave_queue(sorry, language)
    return failsafe_waiting(language)


def failsafe_whisper(action: str, language: str = "en-US", *, by_click: bool = False) -> str:
    """Return the fail-safe for an agent's leg (a Number, Client or Sip `url`): the agent hears
    that a customer is waiting, and only a key pressed (a person, not a voicemail) puts the
    caller through; otherwise the leg hangs up and the caller goes back in line. A browser
    phone was answered by a click, by a person: it is put through at once."""
    if by_click:
        return speak([UNBRIEFED_CLICKED], language)
    return screen([UNBRIEFED], action, language)


def failsafe_whisper_accept(pressed: bool, language: str = "en-US") -> str:
    """Return the fail-safe for the agent's key after a whisper: a key was pressed by a person,
    so put the caller through (an empty answer bridges); none, end the agent's leg."""
    return speak([]) if pressed else goodbye(NOT_TAKEN, language)


def goodbye(text: str, language: str = "en-US") -> str:
    """Return TwiML that says `text` and ends the call."""
    return _response(_say(text, language) + "<Hangup />")


def speak(texts: Iterable[str], language: str = "en-US", *, pause: int = 0) -> str:
    """Return TwiML that only speaks (a whisper to an agent, a queue announcement)."""
    says = "".join(_say(text, language) for text in texts)
    if pause:
        says += _element("Pause", _attrs(length=pause))
    return _response(says)


WAIT_PAUSE = 20  # seconds of quiet between a queue's announcements
ACCEPT_SECONDS = 8  # how long an agent has to press a key after the whisper
TAKE_IT = "To take this call, press 1."
NOT_TAKEN = "No key was pressed, so the call was not put through. Goodbye."


def screen(
    texts: Iterable[str], action: str, language: str = "en-US", *, ask: str = TAKE_IT
) -> str:
    """Return an agent leg's TwiML: the whisper, then a key to take the call.

    A phone can be answered by its voicemail; a machine presses no key, so the leg hangs up
    and the caller is never put through to a recording (Twilio's <Number url> may run only
    Say, Play, Pause, Gather and Hangup).
    """
    says = "".join(_say(text, language) for text in [*texts, ask])
    attrs = _attrs(action=action, input="dtmf", method="POST", num_digits=1,
                   timeout=ACCEPT_SECONDS)  # fmt: skip
    return _response(_element("Gather", attrs, says) + _say(NOT_TAKEN, language) + "<Hangup />")


def offer_callback(words: Iterable[str], action: str, language: str = "en-US") -> str:
    """Return queue-wait TwiML that offers a callback on key 1 while the caller waits."""
    says = [_say(text, language) for text in words]
    says.append(_say(phrase("To get a call back instead of waiting, press 1.", language), language))
    attrs = _attrs(input="dtmf", num_digits=1, action=action, method="POST", timeout=15)
    return _response(_element("Gather", attrs, "".join(says)))


def leave_queue(text: str, language: str = "en-US") -> str:
    """Return TwiML that takes the caller out of the queue (on to the Enqueue action)."""
    return _response(_say(text, language) + "<Leave />")


# -- writing XML ------------------------------------------------------------------------------


def _response(verbs: str) -> str:
    return f"{_DECLARATION}<Response>{verbs}</Response>" if verbs else f"{_DECLARATION}<Response />"


def _element(name: str, attrs: str, inner: str = "") -> str:
    """Return an element from its written attributes and contents (`<Name />` when empty)."""
    return f"<{name}{attrs}>{inner}</{name}>" if inner else f"<{name}{attrs} />"


def _say(text: str, language: str) -> str:
    start, empty = _say_tags(language)
    text = _text(read_aloud(text))
    return f"{start}{text}</Say>" if text else empty


@functools.lru_cache(maxsize=32)
def _say_tags(language: str) -> tuple[str, str]:
    """Return the start of a Say in `language`, and an empty one."""
    attrs = _attrs(language=language)
    return f"<Say{attrs}>", f"<Say{attrs} />"


def _redirect(to: str) -> str:
    return f'<Redirect method="POST">{_text(to)}</Redirect>'


def _attrs(**options: str | int | bool | None) -> str:
    """Return attributes as twilio writes them: camelCase names sorted, None left out."""
    named = sorted((_camel(name), value) for name, value in options.items() if value is not None)
    return "".join(f' {name}="{_value(value)}"' for name, value in named)


def _value(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _attr(str(value))


@functools.cache
def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.title() for word in rest)


def _text(value: str) -> str:
    """Return element text escaped as ElementTree escapes it, less what XML cannot carry."""
    if not (value.isascii() and value.isprintable()):
        value = _NOT_XML.sub("", value)
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    return value


def _attr(value: str) -> str:
    """Return an attribute value escaped as ElementTree escapes it, less what XML cannot carry."""
    value = _text(value)
    if '"' in value:
        value = value.replace('"', "&quot;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    if "\n" in value:
        value = value.replace("\n", "&#10;")
    if "\t" in value:
        value = value.replace("\t", "&#09;")
    return value
