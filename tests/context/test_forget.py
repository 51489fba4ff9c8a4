"""Forgetting a customer leaves no trace: not in Redis, and not in the files Redis keeps on disk."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import CliRunner
from freezegun import freeze_time
from support.chat import OPEN, Visitor, agent_online, token_for
from support.servers import contents
from support.twilio_client import Call

from presszero.cli import main
from presszero.context.callbacks import CallbackStore, callbacks_index, handoffs_index
from presszero.context.clock import SystemClock
from presszero.context.demo import load_demo
from presszero.context.embedded import EmbeddedRedis, free_port
from presszero.context.forget import Traces, forget_customer
from presszero.context.handoffs import HandoffStore
from presszero.context.store import ContextStore

DANA = "+15550100002"
TRACES = (b"cus_1002", b"5550100002", b"dana@example.com", b"Dana", b"Reyes")
CLOSED = "2026-11-23T03:00:00Z"  # Sunday 22:00 in New York: a callback is offered


def every_key_holding_a_trace(store: ContextStore) -> list[bytes]:
    return [
        key
        for key in store.redis.scan_iter("*")
        if any(t in key or t in contents(store, key) for t in TRACES)
    ]


def every_file_holding_a_trace(folder: Path) -> dict[str, list[bytes]]:
    """Return {file: the traces in it} for every file under `folder` (AOF, RDB, logs, ...)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if hits := [t for t in TRACES if t in data]:
                found[str(path.relative_to(folder))] = hits
    return found


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """Yield a data dir and the URL of a real redis-server keeping its append-only file there."""
    folder = tmp_path / "data"
    server = EmbeddedRedis(folder, port=free_port())
    url = server.start()
    client = redis.Redis.from_url(url)
    # Strings in an RDB (a rewritten AOF starts with one) are kept as written, so a grep of
    # the files finds whatever they still hold.
    client.config_set("rdbcompression", "no")
    client.close()
    yield folder, url
    server.stop()


def talk_as_dana(app: Any) -> None:
    """Call, chat, ask for a person and a call back, as Dana and as a stranger on her phone."""
    agent_online(app)
    with freeze_time(OPEN):
        call = Call(app.test_client(), caller=DANA)
        call.start()
        call.press("0")
        call.post("/voice/status", CallStatus="completed")
        chat = Visitor(app, identity=token_for(app, "dana@example.com"))
        chat.send("hi")
        chat.send("agent")
        chat.send("my plan was cancelled by mistake")
        stranger = Visitor(app, sender="web-visitor-0002")  # not signed in: she says who she is
        stranger.send("hi, I am dana@example.com, call me on 555-010-0002 or +15550100002")
        stranger.send("agent")
    with freeze_time(CLOSED):
        call = Call(app.test_client(), caller=DANA)
        call.start()
        call.press("0")  # out of hours: a callback is offered
        call.press("1")  # on this number
        call.press("2")  # in the morning


@pytest.fixture
def store_on(data_dir: tuple[Path, str]) -> Iterator[ContextStore]:
    client = redis.Redis.from_url(data_dir[1])
    yield ContextStore(client, SystemClock())
    client.close()


def test_forget_erases_calls_chats_and_handoffs_too(make_app: Any, store: ContextStore):
    load_demo(store)
    app = make_app()
    talk_as_dana(app)
    assert every_key_holding_a_trace(store)  # the test can see traces when there are some
    assert forget_customer(store, "cus_1002") is True
    assert every_key_holding_a_trace(store) == []
    assert store.get("cus_1001") is not None


def test_forget_erases_the_language_chosen_from_the_customer_s_phone(store: ContextStore):
    now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    store.remember_language(None, DANA, "es-US", now)  # before she was a customer
    store.remember_language(None, "+15550109999", "es-US", now)  # someone else
    load_demo(store)
    store.remember_language("cus_1002", DANA, "es-US", now)
    assert store.known_language(None, DANA) == "es-US"
    assert forget_customer(store, "cus_1002", rewrite=False) is True
    assert store.redis.exists(store.language_key(DANA)) == 0
    assert store.known_language(None, DANA) == ""
    assert store.known_language(None, "+15550109999") == "es-US"  # someone else's stays


def test_forget_erases_what_a_caller_did_before_they_were_a_customer(
    make_app: Any, store: ContextStore
):
    app = make_app()
    with freeze_time(OPEN):
        call = Call(app.test_client(), caller=DANA)  # not known yet: kept unattributed
        call.start()
        call.press("0")
        call.post("/voice/status", CallStatus="completed")
        ana = Call(app.test_client(), caller="+15550100001")
        ana.start()
        ana.press("0")
        ana.post("/voice/status", CallStatus="completed")
    load_demo(store)
    assert every_key_holding_a_trace(store)
    assert forget_customer(store, "cus_1002") is True
    assert every_key_holding_a_trace(store) == []
    kept = store.redis.hvals("pz:contacts:unattributed")
    assert any(b"+15550100001" in entry for entry in kept)  # someone else's stays


def test_context_forget_leaves_no_trace_in_the_files_on_disk(
    make_app: Any, data_dir: tuple[Path, str], store_on: ContextStore, monkeypatch: Any
):
    folder, url = data_dir
    load_demo(store_on)
    app = make_app(REDIS_URL=url, PRESSZERO_DATA_DIR=str(folder))
    talk_as_dana(app)
    CallbackStore(store_on.redis).claim(  # a dialer has tried to call her back
        next(i for i, _ in CallbackStore(store_on.redis).owed()),
        SystemClock().now(), hold=60, attempts=3, spent="lost",
    )  # fmt: skip
    store_on.redis.config_set("save", "3600 1")  # snapshots too: one is taken now
    store_on.redis.save()
    assert every_file_holding_a_trace(folder)  # the grep finds traces where there are some
    assert "dump.rdb" in every_file_holding_a_trace(folder)

    monkeypatch.setenv("REDIS_URL", url)
    forgot = CliRunner().invoke(main, ["context", "forget", "cus_1002"])

    assert forgot.exit_code == 0, forgot.output
    assert every_key_holding_a_trace(store_on) == []
    assert every_file_holding_a_trace(folder) == {}
    assert store_on.get("cus_1001") is not None


@pytest.mark.parametrize(
    ("value", "names_them"),
    [
        ('{"customer_id": "cus_1002", "status": "waiting"}', True),
        ('{"customer_id": "cus_10021"}', False),
        ("call me on (555) 010-0002 please", True),
        ("my number is +1 555-010-0002", True),
        ("+15550100002", True),
        ("+15550100003, ref 15550100002999", False),
        ("DANA@Example.com wrote", True),
        ("dana@example.com.au", False),
        ("adana@example.com", False),
        ('{"turn": 7, "payload": "7", "id": "chat:web-7"}', False),
    ],
)
def test_what_names_a_customer(value: str, names_them: bool):
    dana = Traces("cus_1002", ["+15550100002"], "dana@example.com", "US")
    short = Traces("7", [], "", "US")  # a short id names no one by itself
    assert dana.named_in(value) is names_them
    assert short.named_in(value) is False


def test_forget_waits_for_a_rewrite_already_under_way_then_makes_its_own(
    make_app: Any, data_dir: tuple[Path, str], store_on: ContextStore
):
    folder, url = data_dir
    load_demo(store_on)
    talk_as_dana(make_app(REDIS_URL=url, PRESSZERO_DATA_DIR=str(folder)))
    store_on.redis.config_set("rdb-key-save-delay", "20000")  # 20 ms a key: a slow rewrite
    store_on.redis.bgrewriteaof()  # begun before the forgetting: it still holds her
    assert store_on.redis.info("persistence")["aof_rewrite_in_progress"] == 1

    assert forget_customer(store_on, "cus_1002") is True

    persistence = store_on.redis.info("persistence")
    assert persistence["aof_rewrite_in_progress"] == 0
    assert persistence["aof_last_bgrewrite_status"] == "ok"
    assert every_file_holding_a_trace(folder) == {}


def dangling_ids(store: ContextStore) -> list[str]:
    """Return the ids listed as open handoffs or callbacks owed whose record is gone."""
    handoffs = HandoffStore(store.redis)
    listed = {
        member.decode()
        for index in (handoffs_index(store.prefix), callbacks_index(store.prefix))
        for member in store.redis.zrange(index, 0, -1)
    }
    return sorted(i for i in listed if handoffs.get(i) is None)


@pytest.mark.parametrize("how", ["demo reloaded", "forgotten"])
def test_no_open_handoff_is_listed_without_its_record(make_app: Any, store: ContextStore, how: str):
    load_demo(store)
    app = make_app()
    talk_as_dana(app)
    listed = store.redis.zrange(handoffs_index(store.prefix), 0, -1)
    assert len(listed) >= 3  # the call, the chat, the stranger's chat, the callback
    assert dangling_ids(store) == []
    if how == "demo reloaded":
        load_demo(store)
    else:
        forget_customer(store, "cus_1002", rewrite=False)
    assert dangling_ids(store) == []
