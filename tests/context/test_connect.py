"""Which Redis to use: one server, a cluster or Sentinel; settings checked, named when wrong."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from click.testing import CliRunner
from freezegun import freeze_time
from redis.sentinel import SentinelConnectionPool
from support.chat import OPEN
from support.twilio_client import Call, first_say, reaches_a_person

from presszero.cli import main
from presszero.config import ConfigError
from presszero.context.connect import RedisSettings, RedisSettingsError, is_cluster, text
from presszero.context.embedded import free_port

SENTINELS = "10.0.0.1:26379, 10.0.0.2:26379"


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"PRESSZERO_REDIS_CLUSTER": True}, "PRESSZERO_REDIS_CLUSTER is 1, so REDIS_URL"),
        (
            {"PRESSZERO_REDIS_CLUSTER": True, "REDIS_URL": "unix:///tmp/redis.sock"},
            "REDIS_URL must name a node of the cluster",
        ),
        (
            {
                "PRESSZERO_REDIS_CLUSTER": True,
                "REDIS_URL": "redis://a:1",
                "PRESSZERO_REDIS_SENTINELS": SENTINELS,
            },
            "PRESSZERO_REDIS_CLUSTER and PRESSZERO_REDIS_SENTINELS are both set",
        ),
        ({"PRESSZERO_REDIS_SENTINELS": SENTINELS}, "PRESSZERO_REDIS_SENTINEL_MASTER is not set"),
        (
            {"PRESSZERO_REDIS_SENTINELS": "10.0.0.1", "PRESSZERO_REDIS_SENTINEL_MASTER": "m"},
            "PRESSZERO_REDIS_SENTINELS: '10.0.0.1' is not host:port",
        ),
        (
            {"PRESSZERO_REDIS_SENTINELS": "h:99999", "PRESSZERO_REDIS_SENTINEL_MASTER": "m"},
            "PRESSZERO_REDIS_SENTINELS: 'h:99999' is not host:port",
        ),
        (
            {
                "PRESSZERO_REDIS_SENTINELS": SENTINELS,
                "PRESSZERO_REDIS_SENTINEL_MASTER": "m",
                "REDIS_URL": "redis://a:1",
            },
            "REDIS_URL and PRESSZERO_REDIS_SENTINELS are both set",
        ),
        ({"PRESSZERO_REDIS_SENTINEL_MASTER": "m"}, "PRESSZERO_REDIS_SENTINELS is not"),
        ({"PRESSZERO_REDIS_PASSWORD": "pw"}, "PRESSZERO_REDIS_PASSWORD is for a master found"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL is not a Redis URL"),
    ],
)
def test_settings_that_cannot_work_are_refused_naming_the_setting(
    settings: dict[str, Any], named: str
):
    with pytest.raises(RedisSettingsError, match=named):
        RedisSettings.from_config(settings)


def test_the_app_refuses_them_with_a_config_error(make_app: Any):
    with pytest.raises(ConfigError, match="PRESSZERO_REDIS_SENTINEL_MASTER is not set"):
        make_app(REDIS_URL="", PRESSZERO_REDIS_SENTINELS=SENTINELS)


def test_the_command_line_refuses_them_in_one_line(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PRESSZERO_REDIS_CLUSTER", "1")
    monkeypatch.delenv("REDIS_URL", raising=False)
    result = CliRunner().invoke(main, ["context", "show", "cus_1"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: PRESSZERO_REDIS_CLUSTER is 1, so REDIS_URL must")
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("settings", "kind", "described"),
    [
        ({"REDIS_URL": "redis://:s3cret@db:6379/0"}, "one", "redis://***@db:6379/0"),
        (
            {"REDIS_URL": "redis://node1:7000", "PRESSZERO_REDIS_CLUSTER": True},
            "cluster",
            "the cluster at redis://node1:7000",
        ),
        (
            {
                "PRESSZERO_REDIS_SENTINELS": SENTINELS,
                "PRESSZERO_REDIS_SENTINEL_MASTER": "pz",
                "PRESSZERO_REDIS_PASSWORD": "s3cret",
            },
            "sentinel",
            "master 'pz' through Sentinel 10.0.0.1:26379,10.0.0.2:26379",
        ),
        ({}, "embedded", ""),
    ],
)
def test_each_kind_of_redis_gets_its_client_without_connecting_yet(
    settings: dict[str, Any], kind: str, described: str
):
    target = RedisSettings.from_config(settings)
    assert target.configured is (kind != "embedded")
    if kind == "embedded":
        return
    assert target.describe() == described
    assert "s3cret" not in target.describe()
    client: Any = target.connect(socket_connect_timeout=0.2)  # nothing listens there
    assert is_cluster(client) is (kind == "cluster")
    if kind == "sentinel":
        assert isinstance(client.connection_pool, SentinelConnectionPool)
        assert client.connection_pool.connection_kwargs["password"] == "s3cret"
    client.close()


@freeze_time(OPEN)
def test_an_app_on_a_cluster_that_is_down_starts_and_sends_callers_to_a_person(make_app: Any):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}", PRESSZERO_REDIS_CLUSTER=True)
    client = app.test_client()
    assert client.get("/healthz").status_code == 503
    root = Call(client, caller="+15550100002").start()
    assert reaches_a_person(root)
    assert "something went wrong" in first_say(root)
    with pytest.raises(redis.ConnectionError, match="no node of the cluster answers"):
        app.extensions["presszero.store"].redis.ping()


@pytest.mark.parametrize(
    ("reply", "expected"),
    [(b"cus_1002", "cus_1002"), ("cus_1002", "cus_1002"), ("Zoë".encode(), "Zoë")],
)
def test_a_redis_reply_reads_as_text_whether_bytes_or_str(reply: bytes | str, expected: str):
    assert text(reply) == expected


def test_a_reply_that_is_not_text_is_refused_naming_its_type():
    with pytest.raises(TypeError, match="got int"):
        text(3)
