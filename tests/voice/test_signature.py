"""Our X-Twilio-Signature check accepts exactly what twilio's RequestValidator accepts."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

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


# -- the URL signed, and bodies no webhook has ----------------------------------------------------

CALL = {"CallSid": "CA" + "1" * 32, "From": "+15550109999", "To": "+15550009999"}


def post_signed(
    client: Any, token: str, signed_url: str, host: str, data: dict[str, str] | None = None
) -> Any:
    """POST /voice/incoming with Host `host`, signed with `token` for `signed_url`."""
    data = data or CALL
    return client.post(
        "/voice/incoming", data=data, base_url=f"http://{host}",
        headers={"X-Twilio-Signature": sign(token, signed_url, data)},
    )  # fmt: skip


def test_with_a_real_token_a_signature_for_another_deployments_host_is_refused(make_app: Any):
    client = make_app().test_client()  # TWILIO_AUTH_TOKEN set, no PRESSZERO_PUBLIC_URL
    other = "http://support-b.example.com/voice/incoming"
    assert post_signed(client, TOKEN, other, "support-b.example.com").status_code == 403
    here = "http://localhost/voice/incoming"  # this machine's own name still works
    assert post_signed(client, TOKEN, here, "localhost").status_code == 200


def test_with_a_public_url_only_signatures_for_it_pass_whatever_the_host(make_app: Any):
    client = make_app(PRESSZERO_PUBLIC_URL="https://support-a.example.com").test_client()
    mine = "https://support-a.example.com/voice/incoming"
    assert post_signed(client, TOKEN, mine, "support-b.example.com").status_code == 200
    other = "http://support-b.example.com/voice/incoming"
    assert post_signed(client, TOKEN, other, "support-b.example.com").status_code == 403


def test_with_the_development_token_any_host_is_signed_for(make_app: Any):
    app = make_app(TWILIO_AUTH_TOKEN="")
    dev = app.config["PRESSZERO_VOICE_TOKEN"]
    assert len(dev) >= 32
    assert dev != TOKEN
    url = "http://192.168.1.20:8000/voice/incoming"  # `presszero call` from another machine
    assert post_signed(app.test_client(), dev, url, "192.168.1.20:8000").status_code == 200


def test_a_form_of_a_hundred_thousand_fields_is_refused_before_it_is_parsed(make_app: Any):
    client = make_app().test_client()
    body = urlencode({**CALL, **{f"f{i}": "x" for i in range(100_000)}})
    started = time.process_time()
    reply = client.post(
        "/voice/incoming", data=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"},
    )  # fmt: skip
    assert reply.status_code == 403
    assert time.process_time() - started < 0.25


@pytest.mark.parametrize(("fields", "size", "status"), [
    (250, 10, 403),  # more fields than any webhook
    (1, 70_000, 403),  # larger than any webhook, though signed
    (150, 10, 200),
    (1, 8_000, 200),  # a long SpeechResult
])  # fmt: skip
def test_a_signed_body_is_judged_by_its_size_and_fields(
    make_app: Any, fields: int, size: int, status: int
):
    client = make_app().test_client()
    data = {**CALL, **{f"Extra{i}": "y" * size for i in range(fields)}}
    url = "http://localhost/voice/incoming"
    assert post_signed(client, TOKEN, url, "localhost", data).status_code == status
