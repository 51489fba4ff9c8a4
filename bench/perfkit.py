"""The parts of bench/perf.py: the two apps, their servers, the signed requests, Redis figures."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import redis
from flask import Flask, Response, request

from presszero.chat.identity import make_token
from presszero.context.demo import load_demo
from presszero.context.embedded import EmbeddedRedis, free_port
from presszero.context.store import ContextStore
from presszero.flows.language.files import library_dir
from presszero.voice.signature import sign

__all__ = ["Plan", "Run", "free_port", "wrk"]

ANA = "+15550100001"  # cus_1001: an active plan and nothing unusual, so the main menu
LINE = "+15550009999"
ACCOUNT = "AC" + "0" * 32
GREETING = "Hi Ana, thanks for getting in touch."
BILLING = "What is your billing question about?"

# What the bare app answers, whatever it is asked: a Gather as a menu turn returns it.
BARE_TWIML = (
    b'<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/voice/turn?t=1"'
    b' input="dtmf speech" method="POST" timeout="6"><Say>Say billing, plan, cancel or'
    b" technical help, or press 1 up to 4.</Say></Gather><Redirect>/voice/turn?t=1</Redirect>"
    b"</Response>"
)
assert len(BARE_TWIML) == 258, len(BARE_TWIML)


# -- wrk ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    rounds: int
    seconds: float  # one measured wrk run
    warmup: float  # wrk run before each measured one, on a fresh server
    paced_seconds: float
    threads: int  # wrk threads, one connection each


@dataclass(frozen=True)
class Run:
    """One wrk run, as its done() reported it."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    good: int
    bad: int
    exhausted: int
    errors: int
    turns: int | None = None  # the app's own count of turns taken (full app only)
    failsafes: int | None = None
    cpu_us: float = 0.0  # the gunicorn worker's CPU time per request
    redis_us: float = 0.0  # redis-server's CPU time per request

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def wrk(
    url: str, prefix: Path, plan: Plan, seconds: float, rate: float = 0.0, loop: bool = False
) -> Run:
    """Run wrk with bench/turns.lua on the request slices at `prefix`; return its figures."""
    per_connection = rate / plan.threads if rate else 0.0
    script = str(Path(__file__).with_name("turns.lua"))
    duration = f"{max(round(seconds), 1)}s"  # wrk takes whole seconds
    command = ["wrk", "-t", str(plan.threads), "-c", str(plan.threads), "-d", duration,
               "--timeout", "5s", "-s", script, url, "--", str(prefix),
               f"{per_connection:.3f}", "1" if loop else "0", str(plan.threads)]  # fmt: skip
    done = subprocess.run(  # noqa: S603 - our own arguments
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("{")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout}")
    out = json.loads(line)
    return Run(
        requests=out["requests"],
        seconds=out["duration_us"] / 1e6,
        p50_ms=out["p50_us"] / 1000,
        p99_ms=out["p99_us"] / 1000,
        good=out["good"],
        bad=out["bad"],
        exhausted=out["exhausted"],
        errors=out["socket_errors"] + out["status_errors"] + out["timeouts"],
    )


# -- the two apps -------------------------------------------------------------------------


def bare_app() -> Flask:
    """Return a Flask app that answers every request with the same TwiML document."""
    app = Flask("bare")

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
    @app.route("/<path:path>", methods=["GET", "POST"])
    def answer(path: str) -> Response:
        return Response(BARE_TWIML, mimetype="text/xml")

    return app


def floor_app(redis_url: str) -> Flask:
    """Return the least a turn that reads and writes Redis can cost on this stack.

    It reads the body as presszero does (form or JSON), makes the two round trips a turn makes
    (a script that reads a conversation's hash, a script that writes it and appends an event),
    then answers like the bare app: no signature, no lookup, no engine, no TwiML to build.
    """
    from presszero.app import REDIS_OPTIONS, FormRequest

    app = Flask("floor")
    app.request_class = FormRequest
    client = redis.Redis.from_url(redis_url, **REDIS_OPTIONS)  # the app's client settings
    read = client.register_script("return redis.call('HMGET', KEYS[1], 'turn', 'state')")
    write = client.register_script(
        "redis.call('HSET', KEYS[1], 'turn', ARGV[1], 'state', ARGV[2])\n"
        "redis.call('XADD', KEYS[2], 'MAXLEN', '~', 100000, '*', 'kind', 'step')\n"
        "return 1"
    )

    @app.post("/<path:path>")
    def answer(path: str) -> Response:
        body = request.form if request.mimetype.endswith("urlencoded") else request.get_json()
        key = f"pz:floor:{{{body.get('CallSid') or body.get('sender')}}}"
        read(keys=[key])
        write(keys=[key, "pz:floor:events"], args=[1, '{"step": "main"}'])
        return Response(BARE_TWIML, mimetype="text/xml")

    app.add_url_rule("/healthz", "healthz", lambda: "ok")
    return app


def serve(kind: str, bind: str, config_file: str) -> None:
    """Serve the bare, floor or full app as `presszero serve` does: GunicornServer, 1 worker."""
    from presszero import create_app
    from presszero.server import GunicornServer

    config = json.loads(Path(config_file).read_text())
    factory = {
        "bare": bare_app,
        "floor": lambda: floor_app(config["REDIS_URL"]),
        "full": lambda: create_app(config),
    }[kind]
    GunicornServer(factory, {"bind": bind, "workers": 1}).run()


def worker_settings() -> str:
    from presszero.server import GunicornServer

    options = GunicornServer(lambda: None, {}).options
    worker = getattr(options["worker_class"], "__name__", options["worker_class"])
    per = options.get("worker_connections")
    return f"{worker} (gevent), up to {per} connections per worker, access log on"


def gunicorn_version() -> str:
    import gunicorn

    return gunicorn.__version__


def always_open(folder: Path) -> Path:
    """Return a copy of the shipped flows whose line never closes (a bench runs at any hour)."""
    source = (library_dir() / "support.yaml").read_text()
    start, end = source.index("hours:"), source.index("greeting:")
    hours = ('hours:\n  timezone: America/New_York\n'
             '  open: {mon-sun: "00:00-24:00"}\n  after_hours: callback\n\n')  # fmt: skip
    flows = folder / "flows"
    flows.mkdir()
    (flows / "support.yaml").write_text(source[:start] + hours + source[end:])
    return flows


def write_config(bench: Any, work: Path, redis_url: str) -> Path:
    config = {
        "REDIS_URL": redis_url,
        "TWILIO_AUTH_TOKEN": bench.token,
        "PRESSZERO_DATA_DIR": str(work / "data"),
        "PRESSZERO_FLOWS": str(always_open(work)),
        "PRESSZERO_CHAT_SECRET": bench.chat_secret,
        "PRESSZERO_CHAT_LIMITS": "1000000/60,1000000/60",
        "PRESSZERO_CHAT_API_KEYS": CHAT_KEY,
        "SECRET_KEY": "bench-" + bench.token,
    }
    path = work / "config.json"
    path.write_text(json.dumps(config))
    return path


class Server:
    """One gunicorn server (its own process group), up until the block ends."""

    def __init__(self, kind: str, host: str, config_file: Path, work: Path) -> None:
        self.kind = kind
        self.url = f"http://{host}"
        self.host = host
        self.config_file = config_file
        self.log = work / f"gunicorn-{kind}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PRESSZERO_", "REDIS_", "TWILIO_", "PROMETHEUS_"))}  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own arguments
                [sys.executable, str(Path(__file__).with_name("perf.py")), "serve", self.kind,
                 self.host, str(self.config_file)],
                stdout=subprocess.DEVNULL, stderr=log, env=env, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.url + "/healthz", timeout=2) as reply,  # noqa: S310
            ):
                if reply.status == 200:
                    return self
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-2000:]
                self.__exit__()
                raise SystemExit(f"the {self.kind} server did not start:\n{tail}")
            time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # gunicorn's master stops its worker
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group we started, nothing else
            process.wait()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def worker_cpu(self) -> float:
        """Return the CPU seconds the server's workers have used (from /proc)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        ticks = 0
        for child in children:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def turns(self, channel: str) -> tuple[int, int]:
        """Return the app's own counts of turns taken and fail-safes, from /metrics."""
        if self.kind != "full":
            return (0, 0)
        with urllib.request.urlopen(self.url + "/metrics", timeout=5) as reply:  # noqa: S310
            text = reply.read().decode()

        def value(name: str) -> int:
            found = re.search(rf'^{name}\{{channel="{channel}"\}} (\S+)$', text, re.M)
            return int(float(found.group(1))) if found else 0

        return value("presszero_turns_total"), value("presszero_failsafe_total")


# -- requests -----------------------------------------------------------------------------


def form_post(host: str, path: str, params: dict[str, str], token: str) -> bytes:
    """Return a raw HTTP request as Twilio sends it: form-encoded, signed for this URL."""
    body = urlencode(params)
    signature = sign(token, f"http://{host}{path}", params)
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: TwilioProxy/1.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n")  # fmt: skip
    return (head + body).encode()


# The requests are made before any answer is read, so the chat cannot carry the token its
# first answer gives: it speaks as a server-side client, with a key.
CHAT_KEY = "bench-chat-api-key-0123456789"


def json_post(host: str, path: str, body: dict[str, Any]) -> bytes:
    data = json.dumps(body)
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {CHAT_KEY}\r\n"
            f"Content-Length: {len(data)}\r\n\r\n")  # fmt: skip
    return (head + data).encode()


def twilio_params(sid: str, status: str) -> dict[str, str]:
    """Return the parameters Twilio posts for a call from Ana (as many as it really sends)."""
    return {
        "AccountSid": ACCOUNT, "ApiVersion": "2010-04-01", "CallSid": sid,
        "CallStatus": status, "Called": LINE, "CalledCity": "", "CalledCountry": "US",
        "CalledState": "", "CalledZip": "", "Caller": ANA, "CallerCity": "SPRINGFIELD",
        "CallerCountry": "US", "CallerState": "IL", "CallerZip": "62701",
        "Direction": "inbound", "From": ANA, "FromCity": "SPRINGFIELD", "FromCountry": "US",
        "FromState": "IL", "FromZip": "62701", "To": LINE, "ToCity": "", "ToCountry": "US",
        "ToState": "", "ToZip": "",
    }  # fmt: skip


def voice_call(bench: Any, host: str, ident: str, *, bare: bool) -> Iterator[tuple[bytes, str]]:
    """Yield one call's two webhooks, each with the words its answer must hold."""
    sid = "CA" + ident.rjust(32, "0")  # idents start with a letter: the padding stays unique
    incoming = twilio_params(sid, "ringing")
    yield form_post(host, "/voice/incoming", incoming, bench.token), "<Gather" if bare else GREETING
    menu = {**twilio_params(sid, "in-progress"), "Digits": "1", "FinishedOnKey": "",
            "msg": "Gather End"}  # fmt: skip
    yield form_post(host, "/voice/turn?t=1", menu, bench.token), "<Gather" if bare else BILLING


def chat(bench: Any, host: str, ident: str, *, bare: bool) -> Iterator[tuple[bytes, str]]:
    """Yield one chat's first message (Ana's signed identity) and her menu answer."""
    sender = "web-" + ident
    identity = make_token(bench.chat_secret, "cus_1001", datetime.now(UTC))
    first = {"sender": sender, "message": "hi", "metadata": {"identity": identity}}
    yield json_post(host, "/webhooks/rest/webhook", first), "<Gather" if bare else GREETING
    answer = {"sender": sender, "message": "1"}
    yield json_post(host, "/webhooks/rest/webhook", answer), "<Gather" if bare else BILLING


# -- Redis --------------------------------------------------------------------------------


@contextlib.contextmanager
def redis_with_demo(work: Path, fsync: str) -> Iterator[tuple[str, str]]:
    """Yield (url, version) of a real Redis on a loopback port, with the demo customers."""
    server = EmbeddedRedis(work / "redis", appendfsync=fsync, port=free_port())
    server.start()
    try:
        client = redis.Redis.from_url(server.url)
        load_demo(ContextStore(client))
        version = client.info("server")["redis_version"]
        client.close()
        yield server.url, version
    finally:
        server.stop()


def redis_cpu(client: redis.Redis) -> float:
    """Return the CPU seconds redis-server has used."""
    info = client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def print_memory(url: str, bench: Any) -> None:
    """Print what one conversation and one customer cost in Redis (MEMORY USAGE)."""
    client = redis.Redis.from_url(url)
    usage: Any = lambda key: client.memory_usage(key, samples=0) or 0  # noqa: E731
    call = next(client.scan_iter(match="pz:conv:{voice:*", count=1000))
    chats = next(k for k in client.scan_iter(match="pz:conv:{chat:*", count=1000)
                 if not k.endswith(b":msgs"))  # fmt: skip
    transcript = chats + b":msgs"
    store = ContextStore(client)
    base = store.customer_key("cus_1001")
    own = [base, f"{base}:log", f"{base}:seen", f"pz:phone:{ANA}", "pz:email:ana@example.com"]
    linked = f"{base}:linked"
    members = client.zcard(linked) or 1
    events = client.xlen("pz:events") or 1
    print("\nmemory (MEMORY USAGE, after the runs)")
    print(
        f"  a voice call after two turns:   {usage(call):,} bytes (its hash: state, turn,"
        " customer snapshot, the last responses)"
    )
    print(
        f"  a chat after two messages:      {usage(chats) + usage(transcript):,} bytes"
        f" (hash {usage(chats):,} + transcript {usage(transcript):,})"
    )
    print(f"  each conversation also adds:    {2 * usage(linked) / members:,.0f} bytes to the"
          f" customer's linked keys ({members:,} members now, trimmed as they expire) and"
          f" {usage('pz:events') / events:,.0f} bytes per event in pz:events")  # fmt: skip
    print(
        f"  customer cus_1001's own keys:   {sum(usage(k) for k in own):,} bytes"
        " (profile, log, seen, phone and email indexes)"
    )
    client.close()


# -- profile ------------------------------------------------------------------------------


def profile(bench: Any, seconds: float) -> None:
    """Record the full app's worker with py-spy under voice load; print where time goes."""
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if spy is None:
        print("\nprofile: py-spy is not installed (pip install py-spy)")
        return
    raw = bench.work / "profile.txt"
    with Server("full", bench.host("full"), bench.config_file, bench.work) as server:
        wrk(server.url, bench.requests("full", "voice", 3000), bench.plan, 1)  # warm up first
        load = bench.requests("full", "voice", int(3000 * (seconds + 2)))
        recorder = subprocess.Popen(  # noqa: S603
            [spy, "record", "--pid", str(server.pid), "--subprocesses", "--rate", "250",
             "--duration", str(int(seconds)), "--format", "raw", "--output", str(raw),
             "--gil", "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        time.sleep(0.5)
        wrk(server.url, load, bench.plan, seconds + 1)
        _, err = recorder.communicate(timeout=60)
    if not raw.exists():
        print(f"\nprofile: py-spy failed: {err.decode(errors='replace').strip()}")
        return
    print_profile(raw)


# Where a sample's time goes: the first of these (most specific first) on its stack names it.
PARTS = [
    (
        "signature check (is_signed, with the form parsing it starts)",
        "is_signed (voice/signature.py)",
    ),
    ("conversation read and customer lookup (ConversationStore.load*)", "ConversationStore.load"),
    ("engine (flows step)", "step (flows/engine/step.py)"),
    ("TwiML (twiml.render)", "render (voice/twiml.py)"),
    ("turn commit (ConversationStore.commit)", "ConversationStore.commit ("),
    ("the rest of the turn (VoiceLine._turn)", "VoiceLine._turn ("),
    ("the rest of the voice handlers", "VoiceLine."),
    ("metrics (latency histogram, counters)", "(presszero/metrics.py)"),
    ("flow files check (FlowSet.refresh)", "FlowSet.refresh ("),
    ("gunicorn access log", "Logger.access (gunicorn/glogging.py)"),
    ("Flask and werkzeug (request, routing, form, response)", "Flask.wsgi_app ("),
    ("gunicorn (HTTP parsing, worker threads, sockets)", ""),
]


def print_profile(raw: Path) -> None:
    """Print where the worker's time goes, by part of a turn, and the costliest functions."""
    total = in_redis = 0
    parts: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f for f in map(_frame, stack.split(";")) if f and not f.startswith("process ")]
        if not frames:
            continue
        samples = int(count)
        total += samples
        for name in set(frames):
            inclusive[name] += samples
        in_redis += samples if any("(redis/" in f for f in frames) else 0
        part = next(label for label, marker in PARTS if any(marker in f for f in reversed(frames)))
        parts[part] += samples
    print(f"\nprofile under voice load: {total:,} samples of the thread holding the GIL")
    print("  by part of the request (each sample counted once, in its most specific part):")
    for label, samples in parts.most_common():
        print(f"    {100 * samples / total:5.1f}%  {label}")
    print(f"    of all samples, {100 * in_redis / total:.1f}% are inside redis-py (packing"
          " commands, parsing replies, pipeline and script bookkeeping)")  # fmt: skip
    print("  costliest functions (inclusive):")
    shown = [(n, s) for n, s in inclusive.most_common() if not n.startswith(_PLUMBING)]
    for name, samples in shown[:20]:
        print(f"    {100 * samples / total:5.1f}%  {name}")


_PLUMBING = ("Thread", "_worker (", "_WorkItem", "ThreadWorker.handle", "Flask.__call__",
             "Flask.wsgi_app", "Flask.full_dispatch", "Flask.dispatch_request", "<module>",
             "serve (", "Arbiter.", "BaseApplication.", "ThreadWorker.run", "Worker.init",
             "ThreadWorker.init")  # fmt: skip


def _frame(text: str) -> str:
    """Return 'function (module/file.py)' for a py-spy frame, without the line number."""
    found = re.match(r"(.*) \((.*?)(?::\d+)?\)$", text.strip())
    if not found:
        return text.strip()
    name, path = found.groups()
    for marker in ("site-packages/", "/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path.removeprefix('presszero/')})"  # installed or checked out: the same
