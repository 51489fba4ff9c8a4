"""What every CLI command shares: settings from the environment and a store to talk to."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import click
import redis

from presszero.context.clock import SystemClock
from presszero.context.embedded import EmbeddedRedisError, embedded_redis
from presszero.context.store import ContextStore

from .config import DEFAULTS, ConfigError, from_environ


def settings() -> dict[str, Any]:
    """Return the defaults overlaid with the environment."""
    try:
        return {**DEFAULTS, **from_environ(os.environ)}
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@contextlib.contextmanager
def redis_url_for(config: dict[str, Any]) -> Iterator[str]:
    """Yield REDIS_URL, or the data dir's embedded Redis (started for this block if none runs)."""
    if config["REDIS_URL"]:
        yield config["REDIS_URL"]
        return
    try:
        fsync = config["PRESSZERO_REDIS_FSYNC"]
        if fsync not in ("always", "everysec", "no"):
            raise click.ClickException("PRESSZERO_REDIS_FSYNC must be always, everysec or no")
        with embedded_redis(config["PRESSZERO_DATA_DIR"], fsync) as url:
            yield url
    except EmbeddedRedisError as exc:
        raise click.ClickException(str(exc)) from None


@contextlib.contextmanager
def open_store(url: str | None = None) -> Iterator[ContextStore]:
    """Yield a context store on `url` or the configured Redis; one-line errors when it fails."""
    config = settings()
    with contextlib.nullcontext(url) if url else redis_url_for(config) as url:
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=30)
        except ValueError as exc:
            raise click.ClickException(f"REDIS_URL is not a Redis URL: {exc}") from None
        try:
            client.ping()
            yield ContextStore(client, SystemClock(), region=config["PRESSZERO_DEFAULT_REGION"])
        except redis.RedisError as exc:
            raise click.ClickException(f"Redis at {_safe(url)} failed: {exc}") from None
        finally:
            client.close()


def _safe(url: str) -> str:
    """Return the URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url
