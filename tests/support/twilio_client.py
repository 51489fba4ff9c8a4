"""Drive the voice webhooks as Twilio does: signed form posts, TwiML parsed and checked."""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from flask.testing import FlaskClient

from presszero.voice.signature import sign

TOKEN = "test-auth-token-0123456789abcdef"
BASE = "http://localhost"
LEAKS = re.compile(r"[{}\[\]]|\bNone\b|\bnull\b|\bundefined\b")


def assert_no_placeholders(root: ET.Element) -> None:
    """Fail if any <Say> could show a customer a template placeholder."""
    for say in root.iter("Say"):
        text = say.text or ""
        assert text.strip(), "an empty <Say>"
        assert not LEAKS.search(text), f"placeholder leaked into speech: {text!r}"


LANGUAGE_CHOICE = "For English, press 1. Para español, oprima 2."


@dataclass
class Call:
    """One call's webhooks against the test client."""

    client: FlaskClient
    caller: str = "+15550109999"
    sid: str = field(default_factory=lambda: "CA" + secrets.token_hex(16))
    token: str = TOKEN
    last: ET.Element | None = None
    said: list[str] = field(default_factory=list)
    # The key this caller presses if the line asks which language to go on in (an unknown
    # caller of a flow in several languages): "1", English, unless a test makes the choice.
    choose: str = "1"

    def post(self, path: str, headers: dict[str, str] | None = None, **params: str) -> Any:
        """POST a signed webhook; return the raw response."""
        data = {"CallSid": self.sid, "From": self.caller, "To": "+15550009999",
                "AccountSid": "AC" + "0" * 32, **params}  # fmt: skip
        url = urljoin(BASE + "/", path.lstrip("/"))
        signature = sign(self.token, url, data)
        return self.client.post(
            path, data=data, headers={"X-Twilio-Signature": signature, **(headers or {})}
        )

    def twiml(self, path: str, **params: str) -> ET.Element:
        """POST a signed webhook and return its TwiML, checked for validity and leaks."""
        reply = self.post(path, **params)
        assert reply.status_code == 200, reply.get_data(as_text=True)
        assert reply.mimetype in ("text/xml", "application/xml")
        root = ET.fromstring(reply.get_data(as_text=True))
        assert root.tag == "Response"
        assert_no_placeholders(root)
        self.last = root
        self.said.extend(s.text or "" for s in root.iter("Say"))
        return root

    def start(self) -> ET.Element:
        root = self.twiml("/voice/incoming", CallStatus="ringing")
        said = next(root.iter("Say"), None)
        if self.choose and said is not None and (said.text or "").startswith(LANGUAGE_CHOICE):
            root = self.press(self.choose)
        return root

    def gather_action(self) -> str:
        assert self.last is not None
        gather = self.last.find("Gather")
        assert gather is not None, f"no <Gather> in {ET.tostring(self.last).decode()}"
        return gather.get("action", "")

    def press(self, digits: str) -> ET.Element:
        return self.twiml(self.gather_action(), Digits=digits)

    def speak(self, words: str, confidence: float = 0.9) -> ET.Element:
        return self.twiml(self.gather_action(), SpeechResult=words, Confidence=str(confidence))

    def silence(self) -> ET.Element:
        return self.twiml(self.gather_action())


def first_say(root: ET.Element) -> str:
    say = next(root.iter("Say"), None)
    assert say is not None
    return say.text or ""


def reaches_a_person(root: ET.Element) -> bool:
    """Return True when this TwiML connects the caller to a person (Dial or Enqueue)."""
    return root.find("Dial") is not None or root.find("Enqueue") is not None
