"""CPU per turn inside one process, the least noisy figure this machine gives.

python bench/turn_cpu.py [--turns 2000] [--profile]

Starts a real Redis (the embedded one), loads the demo customers, and makes turns through
Flask's test client (no HTTP server, no gunicorn): for voice, a signed /voice/incoming from
Ana then her key 1; for chat, a first message with her signed identity then "1". Turns run in
10 batches; the figure is the cheapest batch's process CPU per request, since anything else
on the machine only ever adds. Every answer is checked to be the billing menu, never the
fail-safe. Runs against whatever presszero the Python running it imports, so the code before
a change can be measured with its own venv and this file.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import secrets
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from flask.testing import FlaskClient

from presszero.app import create_app
from presszero.chat.identity import make_token
from presszero.context.demo import load_demo
from presszero.context.embedded import EmbeddedRedis, free_port
from presszero.voice.signature import sign

TOKEN = "turn-cpu-" + secrets.token_hex(16)
SECRET = "turn-cpu-chat-" + secrets.token_hex(16)
ANA = "+15550100001"
BILLING = b"billing"  # both channels' billing menu names it
BATCHES = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=2000, help="conversations per channel")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top 30")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="presszero-turn-cpu-"))
    server = EmbeddedRedis(work, port=free_port())
    server.start()
    try:
        app = create_app({
            "REDIS_URL": server.url, "PRESSZERO_DATA_DIR": str(work),
            "TWILIO_AUTH_TOKEN": TOKEN, "PRESSZERO_CHAT_SECRET": SECRET,
            "PRESSZERO_CHAT_LIMITS": "1000000/60,1000000/60",
        })  # fmt: skip
        load_demo(app.extensions["presszero.store"])
        client = app.test_client()
        for name, conversation in (("voice", voice(client)), ("chat", chat(client))):
            cpu = measure(conversation, options.turns, options.profile)
            print(f"{name:5}  {cpu:6,.0f} µs CPU per request (cheapest of {BATCHES} batches)")
    finally:
        server.stop()


def voice(client: FlaskClient) -> Callable[[int], None]:
    def call(i: int) -> None:
        sid = f"CA{i:032x}"
        post(client, "/voice/incoming", {"CallSid": sid, "From": ANA, "To": "+15550009999"})
        post(client, "/voice/turn?t=1", {"CallSid": sid, "From": ANA, "Digits": "1"})

    return call


def post(client: FlaskClient, path: str, form: dict[str, str]) -> None:
    url = f"http://localhost{path}"
    reply = client.post(path, data=form, headers={"X-Twilio-Signature": sign(TOKEN, url, form)})
    if path.startswith("/voice/turn"):
        assert BILLING in reply.data.lower(), reply.data
    assert reply.status_code == 200, reply.data


def chat(client: FlaskClient) -> Callable[[int], None]:
    identity = make_token(SECRET, "cus_1001", datetime.now(UTC))

    def talk(i: int) -> None:
        sender = f"web-turn-cpu-{i:07d}"
        first = {"sender": sender, "message": "hi", "metadata": {"identity": identity}}
        opened = client.post("/webhooks/rest/webhook", json=first)
        assert opened.status_code == 200
        token = opened.get_json()[-1]["custom"]["conversation_token"]
        answer = {"sender": sender, "message": "1", "metadata": {"conversation_token": token}}
        reply = client.post("/webhooks/rest/webhook", json=answer)
        assert reply.status_code == 200, reply.data
        assert BILLING in reply.data.lower(), reply.data

    return talk


def measure(conversation: Callable[[int], None], turns: int, profile: bool) -> float:
    for i in range(100):  # warm up
        conversation(10_000_000 + i)
    per_batch = max(turns // BATCHES, 1)
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    cheapest = float("inf")
    for batch in range(BATCHES):
        start = time.process_time()
        for i in range(batch * per_batch, (batch + 1) * per_batch):
            conversation(i)
        cheapest = min(cheapest, time.process_time() - start)
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    return cheapest / (2 * per_batch) * 1e6


if __name__ == "__main__":
    main()
