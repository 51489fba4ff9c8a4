"""Fixtures: a real redis-server for the whole run, flushed before each test that uses it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask

from presszero.context.clock import SystemClock
from presszero.context.embedded import EmbeddedRedis, free_port
from presszero.context.store import ContextStore
from presszero.flows.language import phrases

# presszero's own wording said in a test that the catalogue lacks (no Spanish) fails the test
phrases.strict(True)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """Start one real redis-server on a free loopback port for the session."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: EmbeddedRedis) -> str:
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def make_app(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Return a builder of apps on the test Redis, with a known Twilio token."""
    from support.twilio_client import TOKEN

    from presszero import create_app

    def build(**config: Any) -> Flask:
        settings = {
            "REDIS_URL": redis_url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "PRESSZERO_DATA_DIR": str(tmp_path_factory.mktemp("data")),
            "TESTING": True,
            **config,
        }
        return create_app(settings)

    return build


@pytest.fixture
def store(redis_client: redis.Redis) -> ContextStore:
    return ContextStore(redis_client, SystemClock())


@pytest.fixture
def twilio_api() -> Iterator[Any]:
    """Yield a started stand-in for Twilio's REST API; its .config points make_app at it."""
    from support.twilio_api import TwilioApi

    with TwilioApi() as api:
        yield api
