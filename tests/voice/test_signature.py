"""Our X-Twilio-Signature check accepts exactly what twilio's RequestValidator accepts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from presszero.voice.signature import matches, sign

TOKEN = "test-auth-token-0123456789abcdef"
URLS = [
    "https://support.example.com/voice/turn?t=3",
    "https://support.example.com:443/voice/turn?t=3",
    "http://127.0.0.1:8000/voice/incoming",
    "http://127.0.0.1/voice/incoming",
    "http://127.0.0.1:80/voice/incoming",
    "https://support.example.com:8443/voice/status",
    "https://support.example.com/voice/status",
]
FORM = MultiDict([("CallSid", "CA1"), ("From", "+15550100001"), ("Digits", "1")])


def twilio_says(url: str, form: MultiDict[str, str], signature: str) -> bool:
    return RequestValidator(TOKEN).validate(url, form, signature)


@pytest.mark.parametrize("seen", URLS)
@pytest.mark.parametrize("signed", URLS)
def test_a_url_signed_with_or_without_its_port_is_judged_as_twilio_judges_it(
    seen: str, signed: str
):
    signature = sign(TOKEN, signed, FORM.to_dict())
    assert matches(TOKEN, seen, FORM, signature) is twilio_says(seen, FORM, signature)


@settings(max_examples=200, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.text(max_size=12), st.text(max_size=24)), max_size=12),
    url=st.sampled_from(URLS),
    tamper=st.booleans(),
)
def test_any_form_is_judged_as_twilio_judges_it(
    pairs: list[tuple[str, str]], url: str, tamper: bool
):
    form = MultiDict(pairs)
    signature = RequestValidator(TOKEN).compute_signature(url, form)
    if tamper:
        signature = ("B" if signature[0] == "A" else "A") + signature[1:]
    assert matches(TOKEN, url, form, signature) is twilio_says(url, form, signature)
    assert matches(TOKEN, url, form, signature) is not tamper


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        ("http://127.0.0.1:8000/voice/incoming", "bm90IGEgc2lnbmF0dXJl"),
        ("http://127.0.0.1:8000/voice/incoming", "signé"),  # not ASCII: refused, no error
        ("http://forged-host:port/voice/incoming", "bm90IGEgc2lnbmF0dXJl"),  # a bad port
    ],
)
def test_a_wrong_or_malformed_signature_is_refused_without_an_error(url: str, signature: str):
    assert matches(TOKEN, url, FORM, signature) is False
