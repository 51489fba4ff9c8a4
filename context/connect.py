"""Connecting to Redis: one server, a Redis Cluster, or the master that Sentinel names.

Every Redis client presszero uses (the app's and the command line's) comes from
`RedisSettings.connect`. The stores ask `is_cluster` where a cluster needs work split by slot.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import redis
from redis.cluster import ClusterPipeline, RedisCluster
from redis.commands.core import Script
from redis.connection import Encoder, parse_url
from redis.exceptions import RedisClusterException
from redis.sentinel import Sentinel

# What the stores accept: a RedisCluster has the same commands, split across its nodes.
RedisClient = redis.Redis | RedisCluster
# What a failing Redis may raise: redis-py raises RedisClusterException, which is not a
# RedisError, when no node of a cluster can be reached.
REDIS_ERRORS = (redis.RedisError, RedisClusterException)


class RedisSettingsError(ValueError):
    """The Redis settings cannot be used together, or cannot be read; the message names the key."""


@dataclass(frozen=True, slots=True)
class RedisSettings:
    """Which Redis to use, from REDIS_URL and the PRESSZERO_REDIS_* settings."""

    url: str = ""  # one server, or any node of a cluster; "" with Sentinel or the embedded one
    cluster: bool = False
    sentinels: tuple[tuple[str, int], ...] = ()
    master: str = ""  # the name Sentinel knows the master by
    password: str = ""  # the master's, with Sentinel (a URL carries its own)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RedisSettings:
        """Read and check the settings; raise RedisSettingsError naming the key at fault."""
        url = str(config.get("REDIS_URL") or "").strip()
        cluster = bool(config.get("PRESSZERO_REDIS_CLUSTER"))
        sentinels = _addresses(str(config.get("PRESSZERO_REDIS_SENTINELS") or ""))
        master = str(config.get("PRESSZERO_REDIS_SENTINEL_MASTER") or "").strip()
        password = str(config.get("PRESSZERO_REDIS_PASSWORD") or "")
        if url:
            try:
                parse_url(url)
            except ValueError as exc:
                raise RedisSettingsError(f"REDIS_URL is not a Redis URL: {exc}") from None
        if cluster and sentinels:
            raise RedisSettingsError(
                "PRESSZERO_REDIS_CLUSTER and PRESSZERO_REDIS_SENTINELS are both set: a cluster"
                " fails over by itself, without Sentinel; set one of them"
            )
        if cluster and not url.startswith(("redis://", "rediss://")):
            raise RedisSettingsError(
                "PRESSZERO_REDIS_CLUSTER is 1, so REDIS_URL must name a node of the cluster"
                f" (redis://host:port or rediss://...), not {url or 'nothing'!r}"
            )
        if sentinels and url:
            raise RedisSettingsError(
                "REDIS_URL and PRESSZERO_REDIS_SENTINELS are both set: with Sentinel, leave"
                " REDIS_URL unset (Sentinel names the master)"
            )
        if sentinels and not master:
            raise RedisSettingsError(
                "PRESSZERO_REDIS_SENTINEL_MASTER is not set: with PRESSZERO_REDIS_SENTINELS,"
                " give the name the Sentinels monitor the master by"
            )
        if master and not sentinels:
            raise RedisSettingsError(
                "PRESSZERO_REDIS_SENTINEL_MASTER is set but PRESSZERO_REDIS_SENTINELS is not"
            )
        if password and not sentinels:
            raise RedisSettingsError(
                "PRESSZERO_REDIS_PASSWORD is for a master found through Sentinel;"
                " put the password in REDIS_URL (redis://:PASSWORD@host:port/0)"
            )
        return cls(url, cluster, sentinels, master, password)

    @property
    def configured(self) -> bool:
        """Return False when no Redis is set (then presszero uses the embedded one)."""
        return bool(self.url or self.sentinels)

    def with_url(self, url: str) -> RedisSettings:
        return replace(self, url=url)

    def describe(self) -> str:
        """Return where Redis is, for messages (no password)."""
        if self.sentinels:
            where = ",".join(f"{host}:{port}" for host, port in self.sentinels)
            return f"master {self.master!r} through Sentinel {where}"
        where = self.url
        if "@" in where and "://" in where:
            scheme, rest = where.split("://", 1)
            where = f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
        return f"the cluster at {where}" if self.cluster else where

    def connect(self, **options: Any) -> RedisClient:
        """Return a client; it connects on first use, so an app starts while Redis is down.

        `options` are redis-py connection options (socket_timeout, ...), used for every node.
        """
        if self.sentinels:
            sentinel = Sentinel(list(self.sentinels), **_socket_options(options))
            master: redis.Redis = sentinel.master_for(
                self.master, password=self.password or None, **options
            )
            return master
        if self.cluster:
            return cast(RedisCluster, LazyCluster(self.url, options))
        return redis.Redis.from_url(self.url, **options)


def _addresses(text: str) -> tuple[tuple[str, int], ...]:
    found = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        host, _, port = part.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise RedisSettingsError(
                f"PRESSZERO_REDIS_SENTINELS: {part!r} is not host:port (write host:port,host:port)"
            )
        found.append((host.strip("[]"), int(port)))
    return tuple(found)


def _socket_options(options: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k.startswith("socket_")}


class LazyCluster:
    """A RedisCluster made on first use.

    redis-py's RedisCluster reads the slot map from a node as it is made and fails if none
    answers; made lazily, an app starts while the cluster is down and serves its fail-safe
    answers until it is back, as it does on one Redis.
    """

    def __init__(self, url: str, options: Mapping[str, Any]) -> None:
        self._url = url
        self._options = dict(options)
        self._client: RedisCluster | None = None
        self._lock = threading.Lock()

    def client(self) -> RedisCluster:
        """Return the cluster client, made now if need be; ConnectionError if no node answers."""
        with self._lock:
            if self._client is None:
                try:
                    self._client = RedisCluster.from_url(self._url, **self._options)
                except RedisClusterException as exc:
                    raise redis.ConnectionError(f"no node of the cluster answers: {exc}") from exc
            return self._client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client(), name)

    def register_script(self, script: str) -> Script:
        return Script(self, script)  # type: ignore[arg-type]

    def get_encoder(self) -> Encoder:
        """Return the encoder scripts are hashed with (RedisCluster's default)."""
        return Encoder("utf-8", "strict", False)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def is_cluster(client: Any) -> bool:
    """Return True when `client` (a client or a pipeline) talks to a Redis Cluster."""
    return isinstance(client, RedisCluster | LazyCluster)


def run_script(script: Script, keys: Sequence[Any], args: Sequence[Any], client: Any = None) -> Any:
    """Run `script` (queue it, when `client` is a pipeline) on `keys`, which share one slot.

    In a pipeline the script goes as EVAL with its text: Redis caches it by its hash all the
    same, and redis-py's EVALSHA in a pipeline would first ask SCRIPT EXISTS, a round trip of
    its own before every turn's commit. A cluster pipeline refuses EVALSHA outright.
    """
    if isinstance(client, ClusterPipeline):
        # Naming the node saves a round trip: otherwise redis-py asks a node (COMMAND GETKEYS)
        # where each pipelined EVAL goes. A moved slot is still followed (MOVED).
        node = client.get_node_from_key(keys[0])
        return client.execute_command(
            "EVAL", script.script, len(keys), *keys, *args, target_nodes=node
        )
    if isinstance(client, redis.client.Pipeline):
        return client.execute_command("EVAL", script.script, len(keys), *keys, *args)
    return script(keys=keys, args=args, client=client)


def mget(client: Any, keys: Sequence[str]) -> list[bytes | None]:
    """Return the values of `keys`; on a cluster, one MGET per slot."""
    values: list[bytes | None] = (
        client.mget_nonatomic(keys) if is_cluster(client) else client.mget(keys)
    )
    return values


def text(value: object) -> str:
    """Return a Redis reply as text: redis-py hands back bytes (str only if told to decode)."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str):
        return value
    raise TypeError(f"expected text from Redis, got {type(value).__name__}")
