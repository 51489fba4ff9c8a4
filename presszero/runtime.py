"""What every CLI command shares: settings from the environment and a store to talk to."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import click

from .config import ConfigError, Settings

if TYPE_CHECKING:  # redis is imported by the commands that talk to it, not by every command
    from presszero.context.connect import RedisSettings
    from presszero.context.store import ContextStore


def settings() -> Settings:
    """Return the command's settings: the defaults overlaid with the environment, read once.

    The first call reads them and says on stderr what the environment sets that is no setting;
    later calls in the same command return the same object.
    """
    context = click.get_current_context(silent=True)
    root = context.find_root() if context else None
    if root is not None and isinstance(root.obj, Settings):
        return root.obj
    try:
        found = Settings.load(os.environ)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    for warning in found.warnings:
        click.echo(f"presszero: warning: {warning}", err=True)
    if root is not None:
        root.obj = found
    return found


def redis_settings(config: Mapping[str, Any]) -> RedisSettings:
    """Return the Redis the settings name (REDIS_URL, a cluster, Sentinel), checked."""
    from presszero.context.connect import RedisSettings, RedisSettingsError

    try:
        return RedisSettings.from_config(config)
    except RedisSettingsError as exc:
        raise click.ClickException(str(exc)) from None


@contextlib.contextmanager
def redis_for(config: Mapping[str, Any]) -> Iterator[RedisSettings]:
    """Yield the Redis set up, or the data dir's embedded one (started for this block if none).

    The process that starts the embedded one (`presszero serve`, usually) restarts it should it
    die; a command that finds it down meanwhile waits for that restart, never starts another.
    """
    from presszero.context.embedded import EmbeddedRedisError, embedded_redis

    target = redis_settings(config)
    if target.configured:
        yield target
        return
    try:
        fsync = config["PRESSZERO_REDIS_FSYNC"]
        if fsync not in ("always", "everysec", "no"):
            raise click.ClickException("PRESSZERO_REDIS_FSYNC must be always, everysec or no")
        with embedded_redis(config["PRESSZERO_DATA_DIR"], fsync) as url:
            yield target.with_url(url)
    except EmbeddedRedisError as exc:
        raise click.ClickException(str(exc)) from None


@contextlib.contextmanager
def open_store(target: RedisSettings | None = None) -> Iterator[ContextStore]:
    """Yield a context store on `target` or the configured Redis; one-line errors when it fails."""
    from presszero.context.clock import SystemClock
    from presszero.context.connect import REDIS_ERRORS
    from presszero.context.store import ContextStore

    config = settings()
    with contextlib.nullcontext(target) if target else redis_for(config) as target:
        client = target.connect(socket_connect_timeout=3, socket_timeout=30)
        try:
            client.ping()
            yield ContextStore(client, SystemClock(), region=config["PRESSZERO_DEFAULT_REGION"])
        except REDIS_ERRORS as exc:
            raise click.ClickException(f"Redis at {target.describe()} failed: {exc}") from None
        finally:
            client.close()
