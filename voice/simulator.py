"""Play Twilio's part against a running server: signed webhooks, TwiML followed as Twilio does.

Support leads walk a flow as a caller would with `presszero call`; tests use the same class.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin

import requests

from presszero.runtime import one_line_answer

from .signature import sign

MAX_REQUESTS = 200  # a call that needs more webhooks than this is looping


class CallError(RuntimeError):
    """The server answered in a way Twilio would not accept."""


@dataclass
class CallLog:
    """Everything the simulated caller heard and where the call went."""

    heard: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    ended_with: str = ""  # dial, enqueue, record, hangup, end
    target: str = ""  # the number, client or queue the call went to
    agent_heard: list[str] = field(default_factory=list)


Input = Callable[[str], str | None]  # given the prompt, return digits/speech, or None for silence


class SimulatedCall:
    """One call, from `incoming` to the end, against `base_url`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        caller: str,
        called: str = "+15550009999",
        agent: str = "answered",  # or voicemail, busy, no-answer, failed
        session: requests.Session | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.caller = caller
        self.called = called
        self.agent = agent
        self.http = session or requests.Session()
        self.call_sid = "CA" + secrets.token_hex(16)
        self.log = CallLog()
        self.echo = echo or (lambda line: None)
        self.requests = 0

    def _say(self, line: str, heard: str | None = None) -> None:
        self.log.lines.append(line)
        if heard is not None:
            self.log.heard.append(heard)
        self.echo(line)

    def post(self, url: str, extra: dict[str, str] | None = None) -> str:
        """POST a signed webhook as Twilio would and return the body."""
        self.requests += 1
        if self.requests > MAX_REQUESTS:
            raise CallError(f"more than {MAX_REQUESTS} webhooks in one call: a loop?")
        params = {
            "CallSid": self.call_sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.caller,
            "To": self.called,
            "Direction": "inbound",
            "CallStatus": "in-progress",
            **(extra or {}),
        }
        reply = self.http.post(
            url, data=params, headers={"X-Twilio-Signature": sign(self.token, url, params)}
        )
        if not 200 <= reply.status_code < 300:
            raise CallError(f"{url} answered {one_line_answer(reply.status_code, reply.text)}")
        return reply.text

    def run(self, answer: Input) -> CallLog:
        """Place the call and follow it until it ends."""
        url = f"{self.base_url}/voice/incoming"
        body: str | None = self.post(url, {"CallStatus": "ringing"})
        try:
            while body is not None:
                body, url = self._follow(body, url, answer)
        except HangUp:
            self.log.ended_with = self.log.ended_with or "hangup"
            self._say("  ☎ (the caller hangs up)")
        self.post(
            f"{self.base_url}/voice/status", {"CallStatus": "completed", "CallDuration": "42"}
        )
        return self.log

    def _follow(self, body: str, url: str, answer: Input) -> tuple[str | None, str]:
        try:
            root = ET.fromstring(body)  # noqa: S314 - our own server's TwiML
        except ET.ParseError as exc:
            raise CallError(f"not TwiML from {url}: {exc}") from None
        if root.tag != "Response":
            raise CallError(f"TwiML from {url} has <{root.tag}> at the top, not <Response>")
        for verb in root:
            step = self._verb(verb, url, answer)
            if step is not None:
                return step
        self.log.ended_with = self.log.ended_with or "end"
        return None, url

    def _verb(self, verb: ET.Element, url: str, answer: Input) -> tuple[str | None, str] | None:
        tag = verb.tag
        if tag == "Say":
            self._say(f"  🔊 {verb.text or ''}", verb.text or "")
        elif tag == "Pause":
            self._say(f"  … ({verb.get('length', '1')} s)")
        elif tag == "Play":
            self._say("  ♪ (music)")
        elif tag == "Gather":
            return self._gather(verb, url, answer)
        elif tag == "Redirect":
            target = urljoin(url, (verb.text or "").strip())
            return self.post(target), target
        elif tag == "Dial":
            return self._dial(verb, url)
        elif tag == "Enqueue":
            return self._enqueue(verb, url)
        elif tag == "Record":
            self.log.ended_with = "record"
            self._say("  ⏺ (beep; the caller leaves a message)")
            target = urljoin(url, verb.get("action", url))
            extra = {"RecordingUrl": "https://example.invalid/rec", "RecordingDuration": "9"}
            return self.post(target, extra), target
        elif tag in ("Hangup", "Reject"):
            self.log.ended_with = self.log.ended_with or "hangup"
            self._say("  ☎ (the call ends)")
            return None, url
        else:
            raise CallError(f"unexpected TwiML verb <{tag}> from {url}")
        return None

    def _gather(self, verb: ET.Element, url: str, answer: Input) -> tuple[str | None, str] | None:
        prompt = []
        for child in verb:
            if child.tag == "Say":
                self._say(f"  🔊 {child.text or ''}", child.text or "")
                prompt.append(child.text or "")
        given = answer(" ".join(prompt))
        target = urljoin(url, verb.get("action", url))
        if given:
            self._say(f"  ☞ {given}")
            if given.replace("#", "").replace("*", "").isdigit():
                return self.post(target, {"Digits": given.rstrip("#")}), target
            return self.post(target, {"SpeechResult": given, "Confidence": "0.92"}), target
        self._say("  ☞ (silence)")
        if verb.get("actionOnEmptyResult") == "true":
            return self.post(target), target
        return None  # Twilio goes on to the next verb

    def _dial(self, verb: ET.Element, url: str) -> tuple[str | None, str]:
        """Ring what the Dial names as Twilio does: the first to answer hears the whisper."""
        self.log.ended_with = "dial"
        nouns = [c for c in verb if c.tag in ("Number", "Client", "Sip", "Queue")]
        if nouns and nouns[0].tag == "Queue":  # an agent's own call taking the next caller
            self.log.target = (nouns[0].text or "").strip()
            self._say(f"  → the next caller in {self.log.target}")
            return self._after_dial(verb, url, "completed")
        names = [(n.text or "").strip() for n in nouns] or [(verb.text or "").strip()]
        self.log.target = names[0]
        self._say(f"  → ringing {', '.join(names)}")
        if self.agent not in ("answered", "voicemail"):
            self._say(f"  ✗ {self.agent.replace('-', ' ')}")
            return self._after_dial(verb, url, self.agent)
        first = nouns[0] if nouns else None
        who = f"{names[0]}'s voicemail" if self.agent == "voicemail" else names[0]
        self._say(f"  ✓ {who} answers")
        if first is not None and first.get("url"):
            whisper = urljoin(url, first.get("url", ""))
            root = ET.fromstring(self.post(whisper))  # noqa: S314 - our own server's TwiML
            said = [s.text or "" for s in root.iter("Say")]
            gather = root.find("Gather")
            if gather is not None:  # asked for a key to take the call: the whisper, then 1
                said = [s.text or "" for s in gather.iter("Say")]
            self.log.agent_heard.extend(said)
            for text in said:
                self._say(f"    (agent hears) {text}")
            if gather is not None and self.agent == "voicemail":
                self._say("    (no key is pressed: Twilio hangs up the agent's phone)")
                self._say("  ✗ the call was not put through")
                return self._after_dial(verb, url, "completed")
            if gather is not None and gather.get("action"):
                self._say("    (agent presses 1)")
                taken = ET.fromstring(  # noqa: S314 - our own server's TwiML
                    self.post(urljoin(whisper, gather.get("action", "")), {"Digits": "1"})
                )
                if taken.find("Hangup") is not None:
                    self._say("  ✗ the call was not put through")
                    return self._after_dial(verb, url, "completed")
        self._say("  ✓ connected to a person")
        return self._after_dial(verb, url, "completed")

    def _after_dial(self, verb: ET.Element, url: str, status: str) -> tuple[str | None, str]:
        action = verb.get("action")
        if not action:
            return None, url
        target = urljoin(url, action)
        extra = {
            "DialCallStatus": status,
            "DialCallDuration": "30" if status == "completed" else "0",
        }
        return self.post(target, extra), target

    def _enqueue(self, verb: ET.Element, url: str) -> tuple[str | None, str]:
        """Wait in the queue: hear the place in line, then a person takes the call (the agent
        answers) or the caller gives up and hangs up."""
        self.log.ended_with = "enqueue"
        self.log.target = (verb.text or "").strip() or verb.get("workflowSid", "")
        self._say(f"  → queue {self.log.target}")
        wait = verb.get("waitUrl")
        if wait:
            target = urljoin(url, wait)
            extra = {"QueuePosition": "1", "QueueTime": "5", "AvgQueueTime": "60",
                     "CurrentQueueSize": "1", "QueueSid": "QU" + "0" * 32}  # fmt: skip
            root = ET.fromstring(self.post(target, extra))  # noqa: S314
            for said in root.iter("Say"):
                self._say(f"    (waiting) {said.text or ''}", said.text or "")
        answered = self.agent == "answered"
        self._say(
            "  ✓ a person takes the call" if answered else "  … no one yet; the caller hangs up"
        )
        action = verb.get("action")
        if not action:
            return None, url
        target = urljoin(url, action)
        result = {"QueueResult": "bridged" if answered else "hangup", "QueueTime": "5"}
        body = self.post(target, result)
        return (body, target) if answered else (None, url)


def scripted(inputs: list[str]) -> Input:
    """Return an answerer that gives these inputs in turn ("" or "-" is silence), then hangs up."""
    queue: Iterator[str] = iter(inputs)

    def answer(_prompt: str) -> str | None:
        try:
            given = next(queue)
        except StopIteration:
            raise HangUp from None
        return None if given.strip() in ("", "-") else given.strip()

    return answer


class HangUp(Exception):
    """The caller has no more inputs and hangs up."""
