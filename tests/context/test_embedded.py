"""The embedded Redis: restarted by its owner, private on disk, never started twice."""

from __future__ import annotations

import fcntl
import os
import stat
import time
from pathlib import Path

import pytest
import redis

from presszero.context.embedded import (
    OWNER_FILE,
    PID_FILE,
    URL_FILE,
    EmbeddedRedisError,
    embedded_redis,
)


def answering_pid(url: str) -> int:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    try:
        return int(client.info("server")["process_id"])
    finally:
        client.close()


def test_a_redis_killed_with_9_is_restarted_by_its_owner_on_the_same_socket_and_data(
    tmp_path: Path,
):
    with embedded_redis(tmp_path / "data") as url:
        client = redis.Redis.from_url(url)
        client.set("pz:kept", "yes")
        first = answering_pid(url)
        os.kill(first, 9)
        deadline = time.monotonic() + 5
        while True:
            try:
                if answering_pid(url) != first:
                    break
            except redis.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the embedded Redis did not come back in 5 s"
            time.sleep(0.05)
        assert client.get("pz:kept") == b"yes"  # the same append-only file
        assert (tmp_path / "data" / PID_FILE).read_text().strip() == str(answering_pid(url))
        client.close()
    assert not (tmp_path / "data" / URL_FILE).exists()  # stopped for good with its owner


def test_the_data_dir_is_the_owners_alone_and_so_is_every_file_in_it(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "redis.log").write_text("an old log, written world-readable\n")
    os.chmod(data / "redis.log", 0o644)
    with embedded_redis(data) as url:
        client = redis.Redis.from_url(url)
        client.set("pz:customer", "Dana Reyes +15550100002")
        client.bgrewriteaof()
        time.sleep(0.5)
        client.close()
        files = [p for p in data.rglob("*") if p.is_file()]
        assert {p.name for p in files} >= {"presszero.aof", "redis.log", URL_FILE, PID_FILE}
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files}
        assert modes == dict.fromkeys(modes, "0o600")


def test_a_command_never_starts_a_second_redis_while_another_process_owns_the_data_dir(
    tmp_path: Path,
):
    data = tmp_path / "data"
    data.mkdir()
    # A serve that holds the data dir while its Redis is down (and, here, never comes back).
    with (data / OWNER_FILE).open("w") as owner:
        fcntl.flock(owner, fcntl.LOCK_EX)
        owner.write("4242\n")
        owner.flush()
        started = time.monotonic()
        with pytest.raises(EmbeddedRedisError) as refused, embedded_redis(data, wait=1):
            pytest.fail("a second Redis was started")
        assert 1 <= time.monotonic() - started < 5  # it waited for serve's restart first
    message = str(refused.value)
    assert "\n" not in message
    assert "pid 4242" in message
    assert "down and being restarted" in message
    assert not (data / URL_FILE).exists()
    assert not (data / PID_FILE).exists()


def test_a_command_waits_for_the_owners_restart_and_then_uses_that_redis(tmp_path: Path):
    data = tmp_path / "data"
    with embedded_redis(data) as url:
        first = answering_pid(url)
        os.kill(first, 9)
        with embedded_redis(data) as seen:
            assert seen == url
            second = answering_pid(seen)
            assert second != first
        assert answering_pid(url) == second  # the command did not stop serve's Redis
