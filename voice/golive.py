"""Pointing a Twilio number at this server: which of its settings must change, and to what.

`presszero twilio setup` applies the changes; `presszero doctor` only reports them. Twilio
fetches the fallback document with GET, since the static hosts that serve it (S3, GitHub Pages,
Twilio Assets) do not all answer a POST.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# The number's settings presszero owns, by twilio's attribute name, with the API's form name.
FIELDS = {
    "voice_url": "VoiceUrl",
    "voice_method": "VoiceMethod",
    "status_callback": "StatusCallback",
    "status_callback_method": "StatusCallbackMethod",
    "voice_fallback_url": "VoiceFallbackUrl",
    "voice_fallback_method": "VoiceFallbackMethod",
    # A TwiML app on the number makes Twilio ignore every voice URL: it is cleared.
    "voice_application_sid": "VoiceApplicationSid",
}


class GoLiveError(ValueError):
    """A setting or number that cannot go live; the message says which and how to fix it."""


@dataclass(frozen=True)
class Change:
    """One setting of the number: what Twilio has, and what presszero needs."""

    field: str  # twilio's attribute name (voice_url, ...)
    before: str
    after: str

    def __str__(self) -> str:
        return f"{FIELDS[self.field]}: {self.before or '(none)'} -> {self.after or '(none)'}"


def https_base(url: str, setting: str) -> str:
    """Return `url` without its trailing slash if it is an https base URL, else fail naming
    `setting`."""
    url = url.strip().rstrip("/")
    if not url:
        raise GoLiveError(f"{setting} is not set: give this server's public https address")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise GoLiveError(
            f"{setting} must be an https URL Twilio can reach (e.g. https://support.example.com),"
            f" got {url!r}"
        )
    return url


def fallback_url(url: str, public_url: str) -> str:
    """Return the fallback document's URL, checked: https, and not on presszero's own host."""
    if not url.strip():
        raise GoLiveError(
            "PRESSZERO_FALLBACK_URL is not set: host the document `presszero twilio fallback`"
            " writes somewhere other than this server and set its https URL (see the README)"
        )
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.fragment:
        raise GoLiveError(f"PRESSZERO_FALLBACK_URL must be an https URL, got {url!r}")
    if public_url and parts.hostname == urlsplit(public_url).hostname:
        raise GoLiveError(
            f"PRESSZERO_FALLBACK_URL is on {parts.hostname}, presszero's own host: when it is"
            " down the fallback is too; host the document elsewhere (a static host, Twilio Assets)"
        )
    return url


def phone_number(number: str) -> str:
    """Return `number` if it is E.164, else fail saying so."""
    number = number.strip()
    if not E164.fullmatch(number):
        raise GoLiveError(f"{number!r} is not a phone number in E.164 form (like +15550100000)")
    return number


def wanted(public_url: str, fallback: str) -> dict[str, str]:
    """Return the number's settings that send its calls here, by twilio's attribute name."""
    return {
        "voice_url": f"{public_url}/voice/incoming",
        "voice_method": "POST",
        "status_callback": f"{public_url}/voice/status",
        "status_callback_method": "POST",
        "voice_fallback_url": fallback,
        "voice_fallback_method": "GET",
        "voice_application_sid": "",
    }


def changes(number: Any, settings: Mapping[str, str]) -> list[Change]:
    """Return what must change on the number (twilio's IncomingPhoneNumber) to have `settings`."""
    out = []
    for name, after in settings.items():
        before = str(getattr(number, name, None) or "")
        same = before.upper() == after if name.endswith("_method") else before == after
        if not same:
            out.append(Change(name, before, after))
    return out


def refuse_trunked(number: Any) -> None:
    """Fail when the number's calls go to a SIP trunk, where no voice URL is ever used."""
    trunk = getattr(number, "trunk_sid", None)
    if trunk:
        raise GoLiveError(
            f"{number.phone_number} is on the Elastic SIP trunk {trunk}, so Twilio never"
            " fetches its voice URL: take it off the trunk in Twilio's console first"
        )
