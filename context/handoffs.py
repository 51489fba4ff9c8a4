"""Handoffs to a person: what the agent sees when a conversation leaves the bot.

Each handoff is one JSON record, `pz:handoff:{voice:CA123}` (one per conversation: a second
escape in the same conversation updates it), listed by time in `pz:handoffs` until resolved.
The record shares the conversation's hash tag, so on a Redis Cluster it sits in its slot.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import redis

from .connect import RedisClient, is_cluster, mget, text
from .store import PREFIX, queue_link

STATUSES = ("waiting", "claimed", "resolved", "callback")
KEEP_SECONDS = 30 * 24 * 3600  # resolved handoffs stay readable for a month


class HandoffStore:
    """Handoff records for the agent inbox, shared by voice and chat."""

    def __init__(self, client: RedisClient, *, prefix: str = PREFIX) -> None:
        self.redis = client
        self.prefix = prefix
        # A cluster transaction may touch one slot only: the record's. The lists that point
        # at a handoff (the index, the customer's set) are then written beside it.
        self.cluster = is_cluster(client)

    def key(self, handoff_id: str) -> str:
        return f"{self.prefix}:handoff:{{{handoff_id}}}"

    @property
    def index(self) -> str:
        return f"{self.prefix}:handoffs"

    def queue_open(
        self, client: Any, handoff_id: str, record: Mapping[str, Any], now: datetime
    ) -> None:
        """Queue the writes that open (or refresh) a handoff on `client` (a pipeline)."""
        body = {"id": handoff_id, "status": "waiting", "opened_at": _iso(now), **record}
        client.set(self.key(handoff_id), json.dumps(body, default=str))
        client.zadd(self.index, {handoff_id: now.timestamp()}, nx=True)
        if record.get("customer_id"):
            client.sadd(self.by_customer(record["customer_id"]), handoff_id)
            # Open handoffs never expire; resolved ones go KEEP_SECONDS after they close.
            until = now.timestamp() + 10 * 365 * 24 * 3600
            queue_link(client, self.prefix, record["customer_id"], [self.key(handoff_id)], until)

    def by_customer(self, customer_id: str) -> str:
        """Return the key of a customer's open handoffs (under the customer's hash tag)."""
        return f"{self.prefix}:c:{{{customer_id}}}:handoffs"

    def open_for(self, customer_id: str) -> list[str]:
        """Return the ids of the customer's handoffs not yet resolved."""
        ids = [text(i) for i in self.redis.smembers(self.by_customer(customer_id))]
        if not ids:
            return []
        raws = mget(self.redis, [self.key(i) for i in ids])
        return [
            i
            for i, raw in zip(ids, raws, strict=True)
            if raw and json.loads(raw).get("status") != "resolved"
        ]

    def open(self, handoff_id: str, record: Mapping[str, Any], now: datetime) -> None:
        """Open (or refresh) the handoff for a conversation."""
        pipe = self.redis.pipeline(transaction=not self.cluster)
        self.queue_open(pipe, handoff_id, record, now)
        pipe.execute()

    def get(self, handoff_id: str) -> dict[str, Any] | None:
        raw = self.redis.get(self.key(handoff_id))
        return json.loads(raw) if raw else None

    def update(self, handoff_id: str, now: datetime, **changes: Any) -> dict[str, Any] | None:
        """Change fields of a handoff (status, agent, notes); return it, or None if unknown."""
        key = self.key(handoff_id)
        with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    if not raw:
                        return None
                    record = {**json.loads(raw), **changes, "updated_at": _iso(now)}
                    pipe.multi()
                    pipe.set(key, json.dumps(record, default=str))
                    if record.get("status") == "resolved":
                        pipe.expire(key, KEEP_SECONDS)
                        if not self.cluster:
                            self._queue_unlist(pipe, handoff_id, record)
                    pipe.execute()
                    break
                except redis.WatchError:
                    continue
        if self.cluster and record.get("status") == "resolved":
            tidy = self.redis.pipeline(transaction=False)
            self._queue_unlist(tidy, handoff_id, record)
            tidy.execute()
        return record

    def _queue_unlist(self, pipe: Any, handoff_id: str, record: Mapping[str, Any]) -> None:
        """Queue the removal of a resolved handoff from the waiting list and its customer's."""
        pipe.zrem(self.index, handoff_id)
        if record.get("customer_id"):
            pipe.srem(self.by_customer(record["customer_id"]), handoff_id)

    def waiting(self, limit: int = 100) -> list[dict[str, Any]]:
        """Return open handoffs, oldest first."""
        ids = [text(i) for i in self.redis.zrange(self.index, 0, limit - 1)]
        if not ids:
            return []
        raws = mget(self.redis, [self.key(i) for i in ids])
        return [json.loads(r) for r in raws if r]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
