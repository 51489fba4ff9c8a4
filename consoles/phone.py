"""The inbox's phone: an agent whose calls ring `client:NAME` answers them in the inbox page.

The page runs Twilio's Voice JavaScript SDK (`static/vendor/`, served from here, never from a
CDN; its README says how to update it) and `static/phone.js`. It registers as the Twilio
Client NAME with an access token made here by twilio's own `twilio.jwt.access_token`, signed
with the account's API key. The SDK's sounds (a ring, DTMF tones) are made here too, since
by default it loads them from Twilio's CDN on every page load.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import wave
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    request,
    send_from_directory,
    url_for,
)
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant
from werkzeug.security import safe_join

from presszero.consoles.inbox import agents, chat, signed_in, signed_in_agent

bp = Blueprint("phone", __name__, url_prefix="/agent", template_folder="templates")

STATIC = Path(__file__).with_name("static")
# An hour bounds what a token lifted from the page buys (Twilio allows up to 24 h); the page
# asks for a new one when the SDK says this one will expire ('tokenWillExpire'), so an agent
# who keeps the inbox open all day stays reachable.
TOKEN_TTL = 3600
TWILIO_SETTINGS = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_API_KEY",
    "TWILIO_API_SECRET",
    "PRESSZERO_TWIML_APP_SID",
)
YEAR = 365 * 24 * 3600  # an asset whose URL carries its digest never changes
SHORT = 300  # an asset asked for without its digest (or an old one) may change

# The SDK's sounds: name → (tones in Hz, seconds on, seconds of silence after). The ring is
# the North American cadence (the SDK loops it); DTMF is the standard row + column pair.
_ROWS, _COLUMNS = (697, 770, 852, 941), (1209, 1336, 1477)
SOUNDS: dict[str, tuple[tuple[int, ...], float, float]] = {
    "incoming": ((440, 480), 2.0, 4.0),
    "outgoing": ((440,), 0.3, 0.0),
    "disconnect": ((480, 620), 0.25, 0.0),
    **{
        f"dtmf{key}": ((_ROWS[i // 3], _COLUMNS[i % 3]), 0.15, 0.0)
        for i, key in enumerate("123456789s0h")  # s is *, h is #, as the SDK names them
    },
}
RATE = 8000  # samples a second: enough for tones below 1.5 kHz


@bp.get("/api/phone/token")
@signed_in("agent", "lead")
def token() -> Any:
    """Return an access token that lets this page take the signed-in agent's client: calls."""
    me = agents().get(signed_in_agent())
    endpoint = me.endpoint if me else ""
    if not endpoint.startswith("client:"):
        return jsonify(
            error="not_a_browser_phone",
            message="your calls ring your own phone, not this page; "
            "`presszero agent add NAME --phone client:NAME` makes this page your phone",
        ), 403
    config = current_app.config
    missing = [name for name in TWILIO_SETTINGS if not config[name]]
    if missing:
        return jsonify(
            error="not_configured",
            message=f"the browser phone needs {', '.join(missing)} set on the server",
            missing=missing,
        ), 503
    identity = endpoint.removeprefix("client:")
    now = int(chat().clock.now().timestamp())
    access = AccessToken(
        config["TWILIO_ACCOUNT_SID"], config["TWILIO_API_KEY"], config["TWILIO_API_SECRET"],
        identity=identity, nbf=now, valid_until=now + TOKEN_TTL,
        grants=[VoiceGrant(
            incoming_allow=True, outgoing_application_sid=config["PRESSZERO_TWIML_APP_SID"]
        )],
    )  # fmt: skip
    expires = datetime.fromtimestamp(now + TOKEN_TTL, UTC).isoformat().replace("+00:00", "Z")
    reply = jsonify(token=access.to_jwt(), identity=identity, ttl=TOKEN_TTL, expires=expires)
    reply.headers["Cache-Control"] = "no-store"
    return reply


@bp.get("/phone/static/<path:filename>")
def asset(filename: str) -> Response:
    """Serve phone.js or the vendored SDK; cached for a year when asked for by its digest."""
    found = safe_join(str(STATIC), filename)
    if found is None or not Path(found).is_file():
        abort(404)
    current = _digest(found, Path(found).stat().st_mtime)
    max_age = YEAR if request.args.get("v") == current else SHORT
    mimetype = "text/javascript" if found.endswith(".js") else None
    reply = send_from_directory(STATIC, filename, mimetype=mimetype, max_age=max_age)
    reply.headers["X-Content-Type-Options"] = "nosniff"
    if max_age == YEAR:
        reply.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return reply


@bp.get("/phone/sounds/<name>.wav")
def sound(name: str) -> Response:
    """Serve one of the SDK's sounds, made here (a tone, as WAV)."""
    if name not in SOUNDS:
        abort(404)
    reply = Response(_wav(name), mimetype="audio/wav")
    reply.headers["Cache-Control"] = "public, max-age=86400"
    return reply


@bp.app_context_processor
def phone_helpers() -> dict[str, Any]:
    """Give templates the URLs of the consoles' assets (the phone's, inbox.js) and sounds."""
    return {"phone_asset": asset_url, "console_asset": asset_url, "phone_sounds": sound_urls}


def asset_url(filename: str) -> str:
    """Return the URL of a static asset, carrying its digest (so it can be cached for good)."""
    path = STATIC / filename
    return url_for("phone.asset", filename=filename, v=_digest(str(path), path.stat().st_mtime))


def sound_urls() -> dict[str, str]:
    """Return the URL of each of the SDK's sounds, by the name the SDK gives it."""
    return {name: url_for("phone.sound", name=name) for name in SOUNDS}


@lru_cache(maxsize=16)
def _digest(path: str, mtime: float) -> str:
    """Return the start of a file's SHA-256 (cached until the file changes)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


@lru_cache(maxsize=len(SOUNDS))
def _wav(name: str) -> bytes:
    """Return the sound as 16-bit mono WAV: the tones summed, faded in and out over 5 ms."""
    tones, on, off = SOUNDS[name]
    count, fade = int(on * RATE), int(0.005 * RATE)
    amplitude = 0.4 * 32767 / len(tones)
    samples = []
    for n in range(count):
        envelope = min(1.0, n / fade, (count - n) / fade)
        value = sum(math.sin(2 * math.pi * f * n / RATE) for f in tones)
        samples.append(int(amplitude * envelope * value))
    samples.extend([0] * int(off * RATE))
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(RATE)
        file.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return out.getvalue()
