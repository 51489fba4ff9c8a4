"""Faults with a real Redis process: killed, down, restarted; and a gunicorn worker killed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import redis
from freezegun import freeze_time
from support.builders import record
from support.chat import OPEN
from support.consoles import csrf_of
from support.live import served
from support.servers import PRESSZERO, always_open, wait_healthy
from support.twilio_client import TOKEN, Call, first_say, reaches_a_person

from presszero.context.agents import AgentStore
from presszero.context.embedded import EmbeddedRedis, free_port
from presszero.context.handoffs import HandoffStore
from presszero.context.models import Customer
from presszero.context.store import ContextStore
from presszero.logmask import mask
from presszero.voice.simulator import SimulatedCall


@pytest.fixture
def own_redis(tmp_path: Path) -> Any:
    """A Redis of this test's own, to kill and restart on the same port and data."""
    servers: list[EmbeddedRedis] = []
    port = free_port()

    def start() -> EmbeddedRedis:
        server = EmbeddedRedis(tmp_path / "redis", port=port)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@freeze_time(OPEN)
def test_redis_down_before_a_call_still_reaches_a_person(make_app: Any):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    root = Call(app.test_client(), caller="+15550100002").start()
    assert reaches_a_person(root)
    assert "something went wrong" in first_say(root)


@freeze_time(OPEN)
def test_chat_and_health_say_so_while_redis_is_down_and_recover_without_a_restart(
    make_app: Any, own_redis: Any
):
    server = own_redis()
    app = make_app(REDIS_URL=server.url, PRESSZERO_SUPPORT_PHONE="+1 555 010 9000")
    client = app.test_client()
    body: dict[str, Any] = {"sender": "web-visitor-faults", "message": "hi"}
    first = client.post("/webhooks/rest/webhook", json=body)
    assert first.status_code == 200
    token = first.get_json()[-1]["custom"]["conversation_token"]
    body["metadata"] = {"conversation_token": token}
    server.kill()
    assert client.get("/healthz").status_code == 503
    reply = client.post("/webhooks/rest/webhook", json={**body, "message": "agent"})
    assert reply.status_code == 200
    [message] = reply.get_json()
    assert "call us on +1 555 010 9000" in message["text"]
    assert {"title": "Talk to a person", "payload": "/agent"} in message["buttons"]
    polled = client.get(
        "/chat/poll?sender=web-visitor-faults", headers={"X-Presszero-Conversation": token}
    )
    assert polled.status_code == 200  # the widget keeps polling through the outage
    assert polled.get_json()["status"] == "unavailable"
    own_redis()  # back, on the same port, from the same append-only file
    assert client.get("/healthz").status_code == 200
    assert reaches_a_person(Call(client).start()) is False  # a normal call again: a menu
    again = client.post(
        "/webhooks/rest/webhook", json={"sender": "web-visitor-after", "message": "hi"}
    )
    assert "Thanks for getting in touch" in again.get_json()[0]["text"]


def ana_calls(make_app: Any, own_redis: Any) -> tuple[Any, Any, Call]:
    """Start a Redis of the test's own with the demo customers; Ana calls the line."""
    from presszero.context.demo import load_demo

    server = own_redis()
    app = make_app(REDIS_URL=server.url)
    load_demo(ContextStore(redis.Redis.from_url(server.url)))
    call = Call(app.test_client(), caller="+15550100001")
    call.start()
    return server, app, call


@freeze_time(OPEN)
def test_a_call_that_ends_while_redis_is_down_is_recorded_once_redis_is_back(
    make_app: Any, own_redis: Any
):
    server, app, call = ana_calls(make_app, own_redis)
    call.press("0")
    server.kill()
    reply = call.post("/voice/status", CallStatus="completed")
    assert reply.status_code == 204  # kept on disk, not lost, and no error to Twilio
    own_redis()
    assert app.test_client().get("/healthz").status_code == 200  # replays what was kept
    customer = ContextStore(redis.Redis.from_url(server.url)).get("cus_1001")
    assert customer is not None
    assert [(c.ref, c.outcome) for c in customer.contacts if c.channel == "voice"] == [
        (call.sid, "handoff")
    ]
    assert not app.extensions["presszero.spool"].pending()


@freeze_time(OPEN)
def test_a_call_the_fail_safe_sent_to_a_person_is_logged_a_handoff_not_abandoned(
    make_app: Any, own_redis: Any
):
    server, app, call = ana_calls(make_app, own_redis)
    server.kill()
    assert reaches_a_person(call.press("0"))  # the turn fails: the fail-safe answers
    own_redis()  # back before the call ends
    assert call.post("/voice/status", CallStatus="completed").status_code == 204
    customer = ContextStore(redis.Redis.from_url(server.url)).get("cus_1001")
    assert customer is not None
    [contact] = [c for c in customer.contacts if c.channel == "voice"]
    assert (contact.ref, contact.outcome) == (call.sid, "handoff")
    assert "fail-safe" in contact.reason
    assert not app.extensions["presszero.failsafes"].pending()


def test_acknowledged_contacts_and_handoffs_survive_a_kill_9_of_redis(own_redis: Any):
    server = own_redis()
    store = ContextStore(redis.Redis.from_url(server.url))
    handoffs = HandoffStore(store.redis)
    store.upsert([Customer.from_dict(record())])
    now = store.clock.now()
    for i in range(200):
        assert store.record_contact("cus_2001", store.new_contact("voice", "handoff", ref=f"CA{i}"))
        handoffs.open(f"voice:CA{i}", {"customer_id": "cus_2001", "reason": "test"}, now)
    server.kill()  # kill -9: no chance to flush anything more
    store.redis.close()
    restarted = own_redis()
    after = ContextStore(redis.Redis.from_url(restarted.url))
    customer = after.get("cus_2001")
    assert customer is not None
    exported = next(iter(after.export()))
    assert len(exported.contacts) == 200
    assert len(HandoffStore(after.redis).waiting(limit=1000)) == 200


def workers_of(master: int) -> set[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True
    )
    return {int(p) for p in out.stdout.split()}


def test_a_gunicorn_worker_killed_between_turns_does_not_lose_the_call(
    redis_url: str, tmp_path: Path
):
    port = free_port()
    flows = str(always_open(tmp_path))
    env = {**os.environ, "REDIS_URL": redis_url, "TWILIO_AUTH_TOKEN": TOKEN,
           "PRESSZERO_DATA_DIR": str(tmp_path), "PRESSZERO_FLOWS": flows}  # fmt: skip
    server_log = tmp_path / "server.log"
    with server_log.open("wb") as log_file:
        server = subprocess.Popen(
            [PRESSZERO, "serve", "--demo", "--port", str(port), "--workers", "2"],
            env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url)
        deadline = time.monotonic() + 30  # one worker may answer before the other is up
        while len(before := workers_of(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(before) == 2
        killed: set[int] = set()

        def answer(prompt: str) -> str | None:
            if not killed:  # after the greeting: kill every worker that could have served it
                for pid in before:
                    os.kill(pid, signal.SIGKILL)
                killed.update(before)
                deadline = time.monotonic() + 20
                while len(workers_of(server.pid) - killed) < 1:
                    assert time.monotonic() < deadline, "gunicorn did not start new workers"
                    time.sleep(0.1)
                wait_healthy(url)
                return "1"
            return "0"

        try:
            log = SimulatedCall(url, TOKEN, caller="+15550100001").run(answer)
        except Exception as exc:  # say what the server said, should this ever fail
            tail = server_log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"the call failed: {exc!r}; the server's log:\n{tail}") from exc
        assert workers_of(server.pid).isdisjoint(killed)
        menu = "For paying or updating my card, press 1"
        assert any(menu in said for said in log.heard), log.lines
        assert log.ended_with in ("dial", "enqueue"), log.lines
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("call from +15550100002 failed", "call from …02 failed"),
        ("visitor (555) 010-0002 asked", "visitor (…02 asked"),
        ("mail dana@example.com", "mail d***@example.com"),
        ("at 2026-11-23 19:05:37 turn 3", "at 2026-11-23 19:05:37 turn 3"),
    ],
)
def test_phones_and_emails_are_masked_in_logs(line: str, masked: str):
    assert mask(line) == masked


def test_the_access_log_of_a_real_server_masks_phones_and_drops_query_strings(
    redis_url: str, tmp_path: Path
):
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "PRESSZERO_DATA_DIR": str(tmp_path)}
    server = subprocess.Popen(
        [PRESSZERO, "serve", "--demo", "--port", str(port), "--workers", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        urllib.request.urlopen(f"http://127.0.0.1:{port}/chat?as=%2B15550100002").close()
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    assert '"GET /chat"' in output
    assert "5550100002" not in output
    # what an operator reads it for survives the masking: the status, size and time
    assert re.search(r'"GET /healthz" 200, \d+ bytes, \d+ ms', output), output[-1500:]


def _redis_pid(data: Path) -> int:
    return int((data / "redis.pid").read_text())


def _health(url: str) -> int:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=3) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def test_serve_restarts_its_embedded_redis_after_a_kill_9_mid_call_without_a_restart(
    tmp_path: Path,
):
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(TWILIO_AUTH_TOKEN=TOKEN, PRESSZERO_DATA_DIR=str(data),
               PRESSZERO_FLOWS=str(always_open(tmp_path)))  # fmt: skip
    with served(env, tmp_path, "--demo") as url:
        first = _redis_pid(data)
        killed_at: list[float] = []

        def answer(prompt: str) -> str | None:
            if not killed_at:  # after the greeting, mid-call: Redis dies
                os.kill(first, signal.SIGKILL)
                killed_at.append(time.monotonic())
            return "0"

        during = SimulatedCall(url, TOKEN, caller="+15550100001").run(answer)
        assert during.ended_with in ("dial", "enqueue"), during.lines
        while _health(url) != 200:
            assert time.monotonic() - killed_at[0] < 5, "/healthz was not 200 within 5 s"
            time.sleep(0.1)
        assert _redis_pid(data) != first
        menu = "For billing, press 1"
        after = SimulatedCall(url, TOKEN, caller="+15550100001").run(lambda prompt: "0")
        assert any(menu in said for said in after.heard), after.lines  # served normally
        assert after.ended_with in ("dial", "enqueue"), after.lines

        # A command run while serve's Redis is down waits for serve's restart: no second server.
        second = _redis_pid(data)
        os.kill(second, signal.SIGKILL)
        shown = subprocess.run(
            [PRESSZERO, "context", "show", "+15550100002"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        assert "Dana Reyes" in shown.stdout  # read from serve's own data
        third = _redis_pid(data)
        assert third != second
        client = redis.Redis.from_url((data / "redis.url").read_text().strip())
        assert int(client.info("server")["process_id"]) == third  # still serve's, still up
        client.close()
        assert _health(url) == 200
    log = (tmp_path / "serve.log").read_text()
    assert log.count("restarting it") == 2, log[-3000:]


@freeze_time(OPEN)
def test_consoles_and_apis_answer_503_not_500_while_redis_is_away(make_app: Any, own_redis: Any):
    server = own_redis()
    AgentStore(redis.Redis.from_url(server.url)).add("alex", "a long enough password")
    app = make_app(REDIS_URL=server.url, PRESSZERO_AUTOMATION_KEY="k" * 32)
    client = app.test_client()
    token = csrf_of(client.get("/agent/login").data)
    form = {"name": "alex", "password": "a long enough password", "csrf": token}
    assert client.post("/agent/login", data=form).status_code == 302
    assert client.get("/agent/").status_code == 200
    server.kill()
    page = client.get("/agent/", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 503, page.data[:500]
    assert b"Unavailable for a moment" in page.data
    assert page.headers["Retry-After"] == "5"
    checked = client.post(
        "/automation/check",
        json={"customer": "cus_1002", "kind": "welcome_new_plan"},
        headers={"Authorization": "Bearer " + "k" * 32},
    )
    assert checked.status_code == 503, checked.data[:500]
    assert checked.get_json()["error"] == "unavailable"


def test_healthz_is_503_with_the_reason_while_redis_refuses_writes(make_app: Any, own_redis: Any):
    server = own_redis()
    client = redis.Redis.from_url(server.url)
    app = make_app(REDIS_URL=server.url)
    assert app.test_client().get("/healthz").status_code == 200
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", "1")  # every write refused: OOM; PING still answers
    try:
        reply = app.test_client().get("/healthz")
        assert reply.status_code == 503
        assert reply.get_json()["redis"] == "refuses writes"
        assert "maxmemory" in reply.get_json()["reason"]
    finally:
        client.config_set("maxmemory", "0")
        client.close()
    assert app.test_client().get("/healthz").status_code == 200
