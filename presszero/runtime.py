"""What every CLI command shares: settings from the environment and a store to talk to."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

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


def server_url(url: str) -> str:
    """Return a running server's base URL as given on the command line, or fail in one line."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.ClickException(
            f"{url!r} is not a server's address: give one like http://127.0.0.1:8000"
        )
    return url.rstrip("/")


def one_line_answer(status: int, body: str) -> str:
    """Return how a server answered, in one line: its status, and its words if they are few."""
    words = body.strip()
    if words and not words.startswith("<") and "\n" not in words and len(words) <= 120:
        return f"{status}: {words}"
    what = "a web page" if words.startswith("<") else "a long answer" if words else "nothing"
    hint = ": is that presszero's address?" if status == 404 else ""
    return f"{status} with {what}{hint}"


def ensure_port_free(host: str, port: int) -> None:
    """Fail in one line when `host:port` cannot be listened on (taken, or no such address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As the servers bind: a port left in TIME_WAIT by the last run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {port} on {host} is taken: is presszero already running there?"
                    " (--port chooses another)"
                ) from None
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
