"""Soak the server: hundreds of concurrent calls and chats, with Redis killed once midway.

python bench/soak.py [--duration 60] [--concurrency 200] [--workers 4] [--fsync always]

Starts a real Redis (append-only file on) and `presszero serve --demo` under gunicorn, both
on 127.0.0.1, then keeps `--concurrency` simulated callers and chat visitors busy for
`--duration` seconds. Redis is killed (kill -9) at 40% of the run and restarted on the same
port and data dir `--outage` seconds later. At the end every contact a status callback
acknowledged and every handoff our TwiML announced is looked up in Redis. Exit 1 if a target
is missed: a 5xx (or no answer at all), a lost record, or a 0 that did not reach a person.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
import requests

from presszero.config import DEFAULTS
from presszero.context.embedded import EmbeddedRedis, free_port
from presszero.context.handoffs import HandoffStore
from presszero.context.store import PREFIX, ContextStore
from presszero.flows.language.files import library_dir
from presszero.flows.language.loader import read_flow
from presszero.voice.simulator import CallError, SimulatedCall, scripted

PRESSZERO = str(Path(sys.executable).with_name("presszero"))
TOKEN = "soak-" + secrets.token_hex(16)
DEMO_PHONES = [f"+1555010000{i}" for i in range(1, 6)]
CALL_SCRIPTS = [["0"], ["1", "0"], ["9", "9"], ["2", "1", "0"], ["4", "0"], ["-", "-"],
                ["1", "1"], ["billing", "talk to a person"]]  # fmt: skip
CHAT_SCRIPTS = [["hi", "agent"], ["hi", "1", "3"], ["hi", "flibber", "jabber"], ["hi", "2", "0"]]
FAILSAFE_WORDS = ("something went wrong on our side", "our chat is having trouble")


@dataclass(frozen=True, slots=True)
class Reply:
    """One request as the client saw it; times are seconds since the load began."""

    route: str
    started: float
    ended: float
    status: int  # 0: no HTTP answer at all (refused, reset, timed out)
    failsafe: bool  # the voice fail-safe TwiML, or chat's "having trouble" reply
    error: str = ""  # why there was no answer


class MeteredSession(requests.Session):
    """A session that notes every request's route, status, time and fail-safe answer."""

    def __init__(self, replies: list[Reply], origin: float) -> None:
        super().__init__()
        self.replies = replies
        self.origin = origin
        self.last: Reply | None = None
        # A new connection per request, as Twilio's webhooks arrive. Reusing one the server has
        # just closed (gunicorn's 2 s keep-alive) fails on the client's side, not the server's.
        self.headers["Connection"] = "close"

    def request(  # type: ignore[override]
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> Any:
        kwargs.setdefault("timeout", 30)
        started = time.monotonic() - self.origin
        status, text, error = 0, "", ""
        try:
            response = super().request(method, url, *args, **kwargs)
            status, text = response.status_code, response.text
            return response
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            failsafe = any(words in text for words in FAILSAFE_WORDS)
            ended = time.monotonic() - self.origin
            self.last = Reply(urlsplit(str(url)).path, started, ended, status, failsafe, error)
            self.replies.append(self.last)


def reaches_person(body: str) -> bool:
    """Return whether this TwiML puts the caller through to a person (Dial or Enqueue)."""
    try:
        root = ET.fromstring(body)  # noqa: S314 - our own server's TwiML
    except ET.ParseError:
        return False
    return any(verb.tag in ("Dial", "Enqueue") for verb in root)


@dataclass
class CallOutcome:
    sid: str
    caller: str
    pressed_zero: bool = False
    zero_reached: bool = False
    zero_reply: Reply | None = None
    status_reply: Reply | None = None
    announced_handoff: bool = False  # a committed turn's TwiML (not the fail-safe) put it through
    error: str = ""


class SoakCall(SimulatedCall):
    """A simulated call that notes its 0, its handoff and its status callback."""

    def __init__(self, base_url: str, session: MeteredSession, caller: str) -> None:
        super().__init__(base_url, TOKEN, caller=caller, session=session)
        self.metered = session
        self.outcome = CallOutcome(self.call_sid, caller)

    def post(self, url: str, extra: dict[str, str] | None = None) -> str:
        zero = (extra or {}).get("Digits") == "0"
        self.outcome.pressed_zero |= zero
        try:
            body = super().post(url, extra)
        finally:
            if zero:
                self.outcome.zero_reply = self.metered.last
            if urlsplit(url).path == "/voice/status":
                self.outcome.status_reply = self.metered.last
        person, last = reaches_person(body), self.metered.last
        self.outcome.zero_reached |= zero and person
        self.outcome.announced_handoff |= person and last is not None and not last.failsafe
        return body

    def place(self, script: list[str]) -> CallOutcome:
        """Play the call to its end; like Twilio, post the status callback even after a failure."""
        try:
            self.run(scripted(script))
        except (CallError, requests.RequestException) as exc:
            self.outcome.error = type(exc).__name__
            if self.outcome.status_reply is None:
                with contextlib.suppress(CallError, requests.RequestException):
                    self.post(f"{self.base_url}/voice/status", {"CallStatus": "completed"})
        return self.outcome


@dataclass
class Worker:
    """What one client thread did (merged after the threads have stopped)."""

    replies: list[Reply] = field(default_factory=list)
    calls: list[CallOutcome] = field(default_factory=list)
    chats: int = 0


def call_loop(base: str, origin: float, stop: threading.Event, out: Worker) -> None:
    session, rng = MeteredSession(out.replies, origin), random.Random()
    while not stop.is_set():
        known = rng.random() < 0.25  # the rest call from numbers no customer has
        caller = rng.choice(DEMO_PHONES) if known else f"+1555020{rng.randrange(10**4):04d}"
        out.calls.append(SoakCall(base, session, caller).place(rng.choice(CALL_SCRIPTS)))


def chat_loop(base: str, origin: float, stop: threading.Event, out: Worker) -> None:
    session, rng = MeteredSession(out.replies, origin), random.Random()
    while not stop.is_set():
        sender, token = "soak-" + secrets.token_hex(8), ""
        with contextlib.suppress(requests.RequestException, ValueError):
            for message in rng.choice(CHAT_SCRIPTS):
                body = {"sender": sender, "message": message,
                        "metadata": {"conversation_token": token}}  # fmt: skip
                reply = session.post(f"{base}/webhooks/rest/webhook", json=body)
                token = token or conversation_token(reply)
            session.get(f"{base}/chat/poll", params={"sender": sender, "after": -1},
                        headers={"X-Presszero-Conversation": token})  # fmt: skip
        out.chats += 1


def conversation_token(reply: requests.Response) -> str:
    """Return the conversation token a first answer carries ('' for an error or a fail-safe)."""
    if reply.status_code != 200:
        return ""
    return next((m["custom"]["conversation_token"] for m in reply.json() if "custom" in m), "")


def flows_for(folder: Path, seconds: float) -> tuple[Path | None, str]:
    """Return PRESSZERO_FLOWS for the run (None: the shipped flows) and what it is."""
    shipped = library_dir() / "support.yaml"
    flow, _ = read_flow(shipped)
    now = datetime.now(UTC)
    if flow and all(flow.hours.is_open(now + timedelta(seconds=s)) for s in (0, seconds + 120)):
        return None, "the shipped flows, in the support line's hours"
    # Out of hours 0 offers a callback, by design; this run is about load and faults.
    text = shipped.read_text()
    for key, value in (("open", '{mon-sun: "00:00-24:00"}'), ("closed_dates", "[]")):
        pattern, replacement = rf"^(\s+){key}: .*$", r"\1" + f"{key}: {value}"
        text, found = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
        if not found:
            raise SystemExit(f"soak: no hours.{key} in {shipped}; run in the line's hours")
    folder.mkdir()
    (folder / "support.yaml").write_text(text)
    return folder, "the shipped flows, open around the clock for this run (it is out of hours)"


def start_server(
    folder: Path, redis_url: str, port: int, args: argparse.Namespace, flows: Path | None
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRESSZERO_", "REDIS_URL"))}
    env |= {
        "REDIS_URL": redis_url,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PRESSZERO_DATA_DIR": str(folder / "app"),
        "PRESSZERO_CHAT_LIMITS": "30/60,1000000/60",  # every visitor comes from 127.0.0.1
        "PRESSZERO_CHAT_POLL_LIMITS": "120/60,1000000/60",
    }
    if flows:
        env["PRESSZERO_FLOWS"] = str(flows)
    if args.agent_number:
        env["PRESSZERO_AGENT_NUMBER"] = args.agent_number
    command = [PRESSZERO, "serve", "--demo", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(args.workers)]  # fmt: skip
    with (folder / "server.log").open("wb") as log:
        # A session of its own: Ctrl-C reaches the soak, which then stops the server itself.
        return subprocess.Popen(  # noqa: S603 - our own command
            command, env=env, cwd=folder, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def wait_until_up(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while server.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"soak: the server did not come up; see {log} (--keep keeps it)")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def check_records(
    redis_url: str, calls: list[CallOutcome], up: Callable[[Reply], bool]
) -> tuple[int, int, int, int]:
    """Return (contacts checked, contacts missing, handoffs checked, handoffs missing).

    A contact is checked when its status callback got a 2xx, unless that was the fail-safe
    answer while Redis was down; a handoff when a committed turn's TwiML put the call through.
    """
    client = redis.Redis.from_url(redis_url)
    store, handoffs = ContextStore(client), HandoffStore(client)
    acked = [
        c for c in calls
        if c.status_reply and 200 <= c.status_reply.status < 300
        and not (c.status_reply.failsafe and not up(c.status_reply))
    ]  # fmt: skip
    refs: set[str] = set()
    for phone in DEMO_PHONES:
        customer = store.lookup_by_phone(phone)
        if customer is not None:
            log = client.lrange(store.customer_key(customer.id) + ":log", 0, -1)
            refs |= {json.loads(entry).get("ref", "") for entry in log}
    strangers = [f"voice:{c.sid}" for c in acked if c.caller not in DEMO_PHONES]
    kept = client.hmget(f"{PREFIX}:contacts:unattributed", strangers) if strangers else []
    missing = sum(c.caller in DEMO_PHONES and c.sid not in refs for c in acked)
    missing += sum(entry is None for entry in kept)
    announced = [c.sid for c in calls if c.announced_handoff]
    pipe = client.pipeline(transaction=False)
    for sid in announced:
        pipe.exists(handoffs.key(f"voice:{sid}"))
    lost_handoffs = sum(not found for found in pipe.execute())
    client.close()
    return len(acked), missing, len(announced), lost_handoffs


@dataclass(frozen=True, slots=True)
class Timeline:
    killed: float  # seconds into the load when Redis was killed
    back: float  # when the restarted Redis answered again
    ran: float  # how long the load lasted, the calls in flight at the end included

    def up(self, reply: Reply) -> bool:
        """Return whether Redis was up for the whole of this request."""
        return reply.ended < self.killed or reply.started > self.back


def soak(args: argparse.Namespace) -> int:
    folder = Path(tempfile.mkdtemp(prefix="presszero-soak-"))
    port, redis_port = free_port(), free_port()
    store = EmbeddedRedis(folder / "redis", appendfsync=args.fsync, port=redis_port)
    server = None
    stop = threading.Event()
    workers = [Worker() for _ in range(args.concurrency)]
    callers = round(args.concurrency * (1 - args.chat_share))
    load_before = os.getloadavg()[0]  # other work on the machine skews every figure
    try:
        flows, flows_note = flows_for(folder / "flows", args.duration)
        redis_url = store.start()
        server = start_server(folder, redis_url, port, args, flows)
        wait_until_up(server, port, folder / "server.log")
        base, origin = f"http://127.0.0.1:{port}", time.monotonic()
        loops = [call_loop if i < callers else chat_loop for i in range(args.concurrency)]
        threads = [
            threading.Thread(target=loop, args=(base, origin, stop, w), daemon=True)
            for loop, w in zip(loops, workers, strict=True)
        ]
        for thread in threads:
            thread.start()
        time.sleep(max(0.0, origin + args.duration * 0.4 - time.monotonic()))
        store.kill()
        killed = time.monotonic() - origin
        time.sleep(args.outage)
        store = EmbeddedRedis(folder / "redis", appendfsync=args.fsync, port=redis_port)
        store.start()  # replays the append-only file
        back = time.monotonic() - origin
        time.sleep(max(0.0, origin + args.duration - time.monotonic()))
        stop.set()
        for thread in threads:
            thread.join(60)
        timeline = Timeline(killed, back, time.monotonic() - origin)
        print(f"presszero soak, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, loopback")
        setup = f"gunicorn {args.workers} workers x 4 threads, Redis appendfsync {args.fsync}"
        show("setup", f"{setup}, {os.cpu_count()} cores (load {load_before:.1f} before)")
        show("flows", flows_note)
        chatters = args.concurrency - callers
        show(
            "load", f"{callers} callers and {chatters} chat visitors at once, {timeline.ran:.1f} s"
        )
        show("Redis", f"kill -9 at {killed:.1f} s, answering again at {back:.1f} s")
        server_log = (folder / "server.log").read_text(errors="replace")
        return summarise(workers, timeline, redis_url, server_log)
    finally:
        stop.set()
        if server is not None:
            stop_server(server)
        store.stop()
        if args.keep:
            show("kept", f"{folder} (server.log, the Redis data)")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def show(label: str, value: object) -> None:
    print(f"{label + ':':<20}{value}")


def by_route(replies: list[Reply]) -> str:
    counts = Counter(r.route for r in replies).most_common()
    return f"{len(replies)} ({', '.join(f'{k} {n}' for k, n in counts)})" if counts else "0"


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def summarise(workers: list[Worker], timeline: Timeline, redis_url: str, server_log: str) -> int:
    """Print the figures and the targets; return the exit status (1: a target missed)."""
    up = timeline.up
    replies = [r for w in workers for r in w.replies]
    calls = [c for w in workers for c in w.calls]
    checked, lost_contacts, announced, lost_handoffs = check_records(redis_url, calls, up)
    lost = lost_contacts + lost_handoffs
    errors = [r for r in replies if r.status >= 500]
    silent = [r for r in replies if r.status == 0]
    zeros = [c for c in calls if c.pressed_zero]
    reached = sum(c.zero_reached for c in zeros)
    zeros_up = [c for c in zeros if c.zero_reply and up(c.zero_reply)]
    failsafes = Counter(
        ("voice" if r.route.startswith("/voice/") else "chat", "up" if up(r) else "down")
        for r in replies
        if r.failsafe
    )
    unwritten = sum(bool(c.status_reply and c.status_reply.failsafe) for c in calls)
    ms = sorted((r.ended - r.started) * 1000 for r in replies if r.status)
    show(
        "calls placed", f"{len(calls)} ({sum(bool(c.error) for c in calls)} cut short by an error)"
    )
    show("pressed 0", f"{len(zeros)}, reached a person {reached}")
    reached_up = sum(c.zero_reached for c in zeros_up)
    show("  Redis up", f"{len(zeros_up)}, reached a person {reached_up}")
    messages = sum(r.route == "/webhooks/rest/webhook" for r in replies)
    show("chats", f"{sum(w.chats for w in workers)} ({messages} messages)")
    show("requests", f"{len(replies)} ({len(replies) / timeline.ran:.0f}/s)")
    show("5xx", by_route(errors))
    show("no answer", by_route(silent))
    for why, n in Counter(r.error for r in silent).most_common(3):
        show("  why", f"{n} x {why[:100]}")
    show("4xx", by_route([r for r in replies if 400 <= r.status < 500]))
    said = ", ".join(f"{ch} {n} (Redis {phase})" for (ch, phase), n in sorted(failsafes.items()))
    show("fail-safe answers", said or "0")
    show("latency", f"p50 {percentile(ms, 0.5):.0f} ms, p99 {percentile(ms, 0.99):.0f} ms")
    show("records checked", f"{checked} contacts, {announced} handoffs")
    show("records lost", f"{lost} ({lost_contacts} contacts, {lost_handoffs} handoffs)")
    show("never written", f"{unwritten} contacts: status callback answered by the fail-safe")
    tracebacks, timeouts = server_log.count("Traceback"), server_log.count("WORKER TIMEOUT")
    show("server log", f"{tracebacks} tracebacks, {timeouts} worker timeouts")
    checks = [
        ("a 5xx", errors),
        ("a request with no answer", silent),
        ("a lost record", lost),
        ("no call pressed 0", not zeros),
        ("a 0 that did not reach a person", reached < len(zeros)),
    ]
    missed = [name for name, bad in checks if bad]
    show("targets", "MISSED: " + ", ".join(missed) if missed else "met")
    return 1 if missed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--concurrency", type=int, default=200, help="client threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--chat-share", type=float, default=0.2, help="share of chat visitors")
    parser.add_argument("--outage", type=float, default=5.0, help="seconds Redis stays down")
    parser.add_argument(
        "--fsync", choices=["always", "everysec", "no"], default=DEFAULTS["PRESSZERO_REDIS_FSYNC"]
    )
    parser.add_argument("--agent-number", default="", help="Dial this instead of Enqueue")
    parser.add_argument("--keep", action="store_true", help="keep the server log and Redis data")
    args = parser.parse_args()
    try:
        sys.exit(soak(args))
    except KeyboardInterrupt:
        print("soak: interrupted; everything it started is stopped", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
