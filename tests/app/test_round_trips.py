"""How many times a turn waits on Redis: counted on the wire, through the real Flask app.

Every request the app sends Redis goes through a loopback relay that counts round trips (each
time the app speaks after Redis has answered) and, from Redis' own `INFO commandstats`, the
commands Redis ran (those inside server-side scripts included). The counts are exact, so a
turn that grows a round trip fails here; one that loses one needs its
figure lowered here.
"""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from support.twilio_client import Call

from presszero.chat.identity import make_token
from presszero.context.clock import FixedClock
from presszero.context.demo import load_demo
from presszero.context.embedded import EmbeddedRedis
from presszero.context.store import ContextStore

OPEN_AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York: open
SECRET = "round-trip-chat-secret-0123456789"
ANA = "+15550100001"  # cus_1001: an active plan, nothing unusual, so the main menu


class RoundTripRelay:
    """A loopback TCP relay in front of Redis that counts round trips per connection."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.round_trips = 0
        self._lock = threading.Lock()
        self._open: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _accept(self) -> None:
        while True:
            try:
                app_side, _ = self.listener.accept()
            except OSError:  # closed
                return
            redis_side = socket.create_connection(self.upstream)
            self._open += [app_side, redis_side]
            threading.Thread(target=self._relay, args=(app_side, redis_side), daemon=True).start()

    def _relay(self, app_side: socket.socket, redis_side: socket.socket) -> None:
        peer = {app_side: redis_side, redis_side: app_side}
        waiting = False  # the app has spoken and Redis has not answered yet
        with selectors.DefaultSelector() as selector:
            selector.register(app_side, selectors.EVENT_READ)
            selector.register(redis_side, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    sock: socket.socket = key.fileobj  # type: ignore[assignment]
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        return
                    if sock is app_side and not waiting:
                        waiting = True
                        with self._lock:  # counted before Redis can see it, so before any reply
                            self.round_trips += 1
                    elif sock is redis_side:
                        waiting = False
                    peer[sock].sendall(data)

    def close(self) -> None:
        for sock in self._open:
            sock.close()


@pytest.fixture
def relay(redis_server: EmbeddedRedis, redis_url: str) -> Iterator[RoundTripRelay]:
    counter = RoundTripRelay(redis_server.port or 0)
    yield counter
    counter.close()


@pytest.fixture
def app(make_app: Any, redis_client: redis.Redis, relay: RoundTripRelay) -> Any:
    clock = FixedClock(OPEN_AT)
    load_demo(ContextStore(redis_client, clock))
    return make_app(
        REDIS_URL=relay.url,
        PRESSZERO_CLOCK=clock,
        PRESSZERO_CHAT_SECRET=SECRET,
        PRESSZERO_CHAT_LIMITS="1000/60,1000/60",
    )


class Meter:
    """Round trips and Redis commands of one block of requests."""

    def __init__(self, relay: RoundTripRelay, client: redis.Redis) -> None:
        self.relay = relay
        self.client = client
        self.round_trips = 0
        self.commands: dict[str, int] = {}

    def __enter__(self) -> Meter:
        self.client.config_resetstat()
        self._start = self.relay.round_trips
        return self

    def __exit__(self, *exc: object) -> None:
        self.round_trips = self.relay.round_trips - self._start
        stats = self.client.info("commandstats")
        self.commands = {
            name.removeprefix("cmdstat_"): int(row["calls"])
            for name, row in stats.items()
            if name not in ("cmdstat_config", "cmdstat_info")  # the meter's own
        }

    def __repr__(self) -> str:
        listing = ", ".join(f"{n} {c}" for n, c in sorted(self.commands.items()))
        return f"{self.round_trips} round trips; commands: {listing}"


def chat_post(client: Any, sender: str, message: str, **metadata: str) -> Any:
    """Post as the widget does, keeping each sender's conversation token on the client."""
    tokens: dict[str, str] = client.__dict__.setdefault("conversation_tokens", {})
    if sender in tokens:
        metadata["conversation_token"] = tokens[sender]
    body = {"sender": sender, "message": message, "metadata": metadata}
    reply = client.post("/webhooks/rest/webhook", json=body)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    messages = reply.get_json()
    for m in messages:
        if "custom" in m:
            tokens[sender] = m.pop("custom")["conversation_token"]
    return messages


def warm_up(client: Any) -> None:
    """Take one call and one chat first: connections made, scripts loaded, as in service."""
    call = Call(client, caller=ANA)
    call.start()
    call.press("1")
    chat_post(client, "warm-up-0001", "hi")


def test_a_voice_turn_costs_these_round_trips(
    app: Any, relay: RoundTripRelay, redis_client: redis.Redis
):
    client = app.test_client()
    warm_up(client)
    call = Call(client, caller=ANA)
    with Meter(relay, redis_client) as incoming:
        greeting = call.start()
    with Meter(relay, redis_client) as menu:
        billing = call.press("1")
    print(f"\nvoice incoming (identified caller): {incoming}\nvoice menu turn: {menu}")
    assert "Hi Ana" in "".join(s.text or "" for s in greeting.iter("Say"))
    assert "For paying or updating my card, press 1." in "".join(
        s.text or "" for s in billing.iter("Say")
    )
    # one pipeline: the script that reads the conversation and finds the caller (with the
    # language remembered for the number), and whether the number is an agent's own phone;
    # one script commits the turn and, having won it, writes the customer's linked keys, the
    # event and the tallies
    assert incoming.round_trips == 2, incoming
    assert incoming.commands == {
        "eval": 1, "evalsha": 1, "hmget": 1, "get": 3, "lrange": 1, "hget": 2, "hset": 3,
        "expire": 2, "zadd": 1, "zremrangebyscore": 1, "xadd": 1, "hincrby": 2,
    }, incoming  # fmt: skip
    # the conversation read, the commit script
    assert menu.round_trips == 2, menu
    assert menu.commands == {
        "hmget": 1, "evalsha": 1, "hget": 1, "hset": 1, "expire": 2, "xadd": 1, "hincrby": 1,
    }, menu  # fmt: skip


def test_a_chat_turn_costs_these_round_trips(
    app: Any, relay: RoundTripRelay, redis_client: redis.Redis
):
    client = app.test_client()
    warm_up(client)
    identity = make_token(SECRET, "cus_1001", OPEN_AT)
    with Meter(relay, redis_client) as first:
        greeting = chat_post(client, "visitor-0001", "hi", identity=identity)
    with Meter(relay, redis_client) as menu:
        billing = chat_post(client, "visitor-0001", "1")
    print(f"\nchat first message (identified): {first}\nchat menu answer: {menu}")
    assert greeting[0]["text"].startswith("Hi Ana")
    assert billing[0]["text"] == "What is your billing question about?"
    # one pipeline: the conversation token claimed (is the conversation new? SET NX, and what
    # is kept if another was first), the rate
    # limits, the script that reads the conversation and finds the customer, and how many
    # agents are in (the engine's "is anyone there?"); then the commit script, which writes
    # the visitor's line, then (having won) the two bot messages, the linked keys, the event
    # and the tallies
    assert first.round_trips == 2, first
    assert first.commands == {
        "exists": 1, "set": 1, "get": 2,
        "incrby": 2, "expire": 7, "eval": 1, "hmget": 1, "lrange": 1, "evalsha": 1,
        "hget": 1, "hset": 3, "rpush": 3, "ltrim": 3, "zadd": 1, "zremrangebyscore": 1,
        "xadd": 1, "hincrby": 2, "zcount": 1,
    }, first  # fmt: skip
    # the same without the lookup, and one bot message; the token is read (and kept alive)
    assert menu.round_trips == 2, menu
    assert menu.commands == {
        "get": 1, "expire": 7,
        "incrby": 2, "hmget": 1, "evalsha": 1, "hget": 1, "hset": 1, "rpush": 2,
        "ltrim": 2, "xadd": 1, "hincrby": 1, "zcount": 1,
    }, menu  # fmt: skip
