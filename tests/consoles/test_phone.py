"""The inbox's phone: the access token a `client:` agent's page registers with, who is refused
one, and the SDK and sounds presszero serves itself."""

from __future__ import annotations

import io
import math
import re
import wave
from pathlib import Path
from typing import Any

import jwt
import pytest
from freezegun import freeze_time
from support.consoles import PASSWORD, signed_in

from presszero.consoles.phone import SOUNDS, TOKEN_TTL
from presszero.context.agents import AgentStore
from presszero.context.store import ContextStore

ACCOUNT = "AC" + "1" * 32
KEY = "SK" + "2" * 32
SECRET = "an-api-key-secret-of-32-letters!"
APP = "AP" + "3" * 32
TWILIO = {
    "TWILIO_ACCOUNT_SID": ACCOUNT,
    "TWILIO_API_KEY": KEY,
    "TWILIO_API_SECRET": SECRET,
    "PRESSZERO_TWIML_APP_SID": APP,
}
VENDOR = Path(__file__).resolve().parents[2] / "consoles" / "static" / "vendor"
SCRIPTS = re.compile(rb'<script src="(/agent/phone/static/[^"]+)"')


@pytest.fixture
def agents(store: ContextStore) -> AgentStore:
    """Cleo answers in the browser as the Twilio Client desk-7; Alex on his mobile."""
    agents = AgentStore(store.redis)
    agents.add("cleo", PASSWORD, endpoint="client:desk-7")
    agents.add("alex", PASSWORD, endpoint="+15550107001")
    return agents


@pytest.fixture
def app(make_app: Any, agents: AgentStore) -> Any:
    return make_app(**TWILIO)


def token_of(app: Any, name: str = "cleo") -> Any:
    client, _ = signed_in(app, name)
    return client.get("/agent/api/phone/token")


@freeze_time("2026-12-02T10:00:00Z")
def test_the_token_lets_a_client_agent_take_calls_for_an_hour_as_their_client_name(app: Any):
    reply = token_of(app)
    assert reply.status_code == 200
    assert reply.headers["Cache-Control"] == "no-store"
    body = reply.get_json()
    assert body["identity"] == "desk-7"  # the client name, not the agent's
    assert body["ttl"] == TOKEN_TTL == 3600
    assert body["expires"] == "2026-12-02T11:00:00Z"
    claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"])  # the secret signed it
    assert jwt.get_unverified_header(body["token"])["cty"] == "twilio-fpa;v=1"
    assert claims["iss"] == KEY
    assert claims["sub"] == ACCOUNT
    assert claims["grants"] == {
        "identity": "desk-7",
        "voice": {"incoming": {"allow": True}, "outgoing": {"application_sid": APP}},
    }
    # Twilio's access tokens carry no iat: nbf is when it was made.
    assert claims["nbf"] == 1796205600  # 2026-12-02T10:00:00Z
    assert claims["exp"] - claims["nbf"] == TOKEN_TTL


def test_the_token_needs_the_inbox_sign_in(app: Any):
    reply = app.test_client().get("/agent/api/phone/token")
    assert reply.status_code == 401
    assert reply.get_json()["error"] == "unauthorized"


def test_a_removed_agents_page_gets_no_more_tokens(app: Any, agents: AgentStore):
    client, _ = signed_in(app, "cleo")
    assert client.get("/agent/api/phone/token").status_code == 200
    agents.remove("cleo")
    reply = client.get("/agent/api/phone/token")
    assert reply.status_code == 401
    assert "token" not in reply.get_json()


@pytest.mark.parametrize("endpoint", ["+15550107001", "sip:alex@pbx.example.com", ""])
def test_an_agent_whose_calls_ring_elsewhere_is_refused_a_token(
    app: Any, agents: AgentStore, endpoint: str
):
    agents.add("alex", endpoint=endpoint)
    reply = token_of(app, "alex")
    assert reply.status_code == 403
    body = reply.get_json()
    assert body["error"] == "not_a_browser_phone"
    assert "--phone client:NAME" in body["message"]
    assert "token" not in body


@pytest.mark.parametrize(
    ("settings", "missing"),
    [
        ({}, ["TWILIO_ACCOUNT_SID", "TWILIO_API_KEY", "TWILIO_API_SECRET",
              "PRESSZERO_TWIML_APP_SID"]),
        ({**TWILIO, "PRESSZERO_TWIML_APP_SID": ""}, ["PRESSZERO_TWIML_APP_SID"]),
        ({"PRESSZERO_TWIML_APP_SID": APP}, ["TWILIO_ACCOUNT_SID", "TWILIO_API_KEY",
                                             "TWILIO_API_SECRET"]),
    ],
)  # fmt: skip
def test_without_twilio_settings_the_token_is_unavailable_and_says_which(
    make_app: Any, agents: AgentStore, settings: dict[str, str], missing: list[str]
):
    reply = token_of(make_app(**settings))
    assert reply.status_code == 503
    body = reply.get_json()
    assert body["error"] == "not_configured"
    assert body["missing"] == missing
    assert all(name in body["message"] for name in missing)


def test_a_client_agents_inbox_has_the_phone_panel_and_the_sdk_served_here(app: Any):
    client, _ = signed_in(app, "cleo")
    page = client.get("/agent").data
    assert b'role="status"' in page
    assert b"Phone: starting" in page
    sources = [s.decode() for s in SCRIPTS.findall(page)]
    assert [s.split("?")[0] for s in sources] == [
        "/agent/phone/static/vendor/twilio.min.js",
        "/agent/phone/static/phone.js",
        "/agent/phone/static/inbox.js",  # every console page's own script
    ]
    assert b"twilio.com" not in page  # never a CDN
    with client.get(sources[0]) as sdk:  # a file sent is open until the reply is closed
        assert sdk.status_code == 200
        assert sdk.mimetype == "text/javascript"
        assert sdk.headers["X-Content-Type-Options"] == "nosniff"
        assert sdk.data == (VENDOR / "twilio.min.js").read_bytes()
        assert sdk.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_an_inbox_without_a_browser_phone_has_no_panel_and_loads_no_sdk(app: Any):
    client, _ = signed_in(app, "alex")
    page = client.get("/agent")
    assert page.status_code == 200
    assert b"Waiting for a person" in page.data
    assert b'id="phone"' not in page.data
    assert [s.split(b"?")[0] for s in SCRIPTS.findall(page.data)] == [
        b"/agent/phone/static/inbox.js"
    ]


def test_an_asset_asked_for_without_its_digest_is_cached_briefly(app: Any):
    client = app.test_client()
    for path in ("vendor/twilio.min.js", "phone.js"):
        with client.get(f"/agent/phone/static/{path}?v=an-old-digest") as reply:
            assert reply.status_code == 200
            assert reply.mimetype == "text/javascript"
            assert "max-age=300" in reply.headers["Cache-Control"]
            assert "immutable" not in reply.headers["Cache-Control"]


@pytest.mark.parametrize("path", ["../phone.py", "..%2Fphone.py", "nothing.js", "vendor"])
def test_only_files_in_the_static_folder_are_served(app: Any, path: str):
    assert app.test_client().get(f"/agent/phone/static/{path}").status_code == 404


def test_the_vendored_sdk_is_the_browser_bundle_with_its_licence_and_version_noted():
    bundle = (VENDOR / "twilio.min.js").read_text()
    assert "Twilio.Device=Twilio.Device||Voice.Device" in bundle  # the script-tag global
    assert "Licensed under the Apache License, Version 2.0" in (VENDOR / "LICENSE.md").read_text()
    version = re.search(r'RELEASE_VERSION="([0-9.]+)"', bundle)
    assert version is not None
    readme = (VENDOR / "README.md").read_text()
    assert f"npm pack @twilio/voice-sdk@{version.group(1)}" in readme


def test_presszero_makes_every_sound_the_sdk_would_fetch_from_twilio():
    bundle = (VENDOR / "twilio.min.js").read_text()
    table = re.search(r"_defaultSounds=\{(.*?)\}\}", bundle)
    assert table is not None, "the SDK's sound table has moved: see static/vendor/README.md"
    assert set(re.findall(r"(\w+):\{filename:", table.group(1))) == set(SOUNDS)


def power(samples: list[int], frequency: float, rate: int) -> float:
    """Return the power of one frequency in the samples (Goertzel)."""
    coefficient = 2 * math.cos(2 * math.pi * frequency / rate)
    before = earlier = 0.0
    for sample in samples:
        before, earlier = sample + coefficient * before - earlier, before
    return before**2 + earlier**2 - coefficient * before * earlier


@pytest.mark.parametrize(
    ("name", "tones"),
    [("dtmf1", (697, 1209)), ("dtmf5", (770, 1336)), ("dtmf0", (941, 1336)),
     ("dtmfs", (941, 1209)), ("dtmfh", (941, 1477)), ("incoming", (440, 480))],
)  # fmt: skip
def test_each_sound_is_a_wav_of_its_own_tones(app: Any, name: str, tones: tuple[int, int]):
    reply = app.test_client().get(f"/agent/phone/sounds/{name}.wav")
    assert reply.status_code == 200
    assert reply.mimetype == "audio/wav"
    with wave.open(io.BytesIO(reply.data)) as file:
        rate, frames = file.getframerate(), file.readframes(file.getnframes())
    samples = [int.from_bytes(frames[i : i + 2], "little", signed=True) for i in range(0, 2400, 2)]
    others = [f for f in (697, 770, 852, 941, 1209, 1336, 1477, 440, 480, 620) if f not in tones]
    weakest = min(power(samples, f, rate) for f in tones)
    assert weakest > 100 * max(power(samples, f, rate) for f in others)


def test_an_unknown_sound_is_not_found(app: Any):
    assert app.test_client().get("/agent/phone/sounds/fanfare.wav").status_code == 404
