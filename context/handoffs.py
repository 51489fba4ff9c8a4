"""Handoffs to a person: what the agent sees when a conversation leaves the bot.

Each handoff is one JSON record, `pz:handoff:{voice:CA123}` (one per conversation: a second
escape in the same conversation updates it), listed by time in `pz:handoffs` until resolved.
The record shares the conversation's hash tag, so on a Redis Cluster it sits in its slot.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import redis

from .callbacks import callback_due, callbacks_index, handoffs_index
from .connect import RedisClient, is_cluster, mget, text
from .store import PREFIX, queue_link

# waiting: for a person; claimed: a person took it (a chat) or is being connected (a call);
# connected: a person is talking with them; callback: a person owes them a call (or a reply);
# resolved: done; abandoned: they left before anyone answered (hung up in the queue).
STATUSES = ("waiting", "claimed", "connected", "callback", "resolved", "abandoned")
CLOSED = ("resolved", "abandoned")
TAKEN = ("claimed", "offered", "connected")  # offered: an agent hears the whisper
HANDLE_TIMES = 50  # recent handle times kept per queue, for honest wait estimates
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
        return handoffs_index(self.prefix)

    def queue_open(
        self, client: Any, handoff_id: str, record: Mapping[str, Any], now: datetime
    ) -> None:
        """Queue the writes that open (or refresh) a handoff on `client` (a pipeline)."""
        body = {"id": handoff_id, "status": "waiting", "opened_at": _iso(now), **record}
        client.set(self.key(handoff_id), json.dumps(body, default=str))
        client.zadd(self.index, {handoff_id: now.timestamp()}, nx=True)
        due = callback_due(body, now)
        if due is not None:  # a call owed: the dialer's list, by when it is due
            client.zadd(callbacks_index(self.prefix), {handoff_id: due})
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
        return self.change(handoff_id, now, lambda _: changes)

    def add_to_message(self, handoff_id: str, text: str, now: datetime) -> dict[str, Any] | None:
        """Add the customer's further words to the message they left; return the record."""

        def more(record: Mapping[str, Any]) -> dict[str, Any]:
            return {"message": "\n".join(filter(None, (record.get("message"), text)))}

        return self.change(handoff_id, now, more)

    def change(
        self,
        handoff_id: str,
        now: datetime,
        changes: Callable[[dict[str, Any]], Mapping[str, Any]],
    ) -> dict[str, Any] | None:
        """Change fields of a handoff to what `changes` makes of the record as it stands
        (worked out again if someone changed it meanwhile); return it, or None if unknown."""
        key = self.key(handoff_id)
        with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    if not raw:
                        return None
                    found = json.loads(raw)
                    record = {**found, **changes(found), "updated_at": _iso(now)}
                    pipe.multi()
                    pipe.set(key, json.dumps(record, default=str))
                    if record.get("status") in CLOSED:
                        pipe.expire(key, KEEP_SECONDS)
                        if not self.cluster:
                            self._queue_unlist(pipe, handoff_id, record)
                    pipe.execute()
                    break
                except redis.WatchError:
                    continue
        if self.cluster and record.get("status") in CLOSED:
            tidy = self.redis.pipeline(transaction=False)
            self._queue_unlist(tidy, handoff_id, record)
            tidy.execute()
        return record

    def _queue_unlist(self, pipe: Any, handoff_id: str, record: Mapping[str, Any]) -> None:
        """Queue the removal of a closed handoff from the waiting list and its customer's."""
        pipe.zrem(self.index, handoff_id)
        pipe.zrem(callbacks_index(self.prefix), handoff_id)
        if record.get("customer_id"):
            pipe.srem(self.by_customer(record["customer_id"]), handoff_id)

    def waiting(self, limit: int = 100) -> list[dict[str, Any]]:
        """Return open handoffs, oldest first."""
        ids = [text(i) for i in self.redis.zrange(self.index, 0, limit - 1)]
        if not ids:
            return []
        raws = mget(self.redis, [self.key(i) for i in ids])
        return [json.loads(r) for r in raws if r]

    def claim(
        self, handoff_id: str, agent: str, now: datetime, *, status: str = "claimed"
    ) -> tuple[bool, dict[str, Any] | None]:
        """Give the conversation to `agent` unless another person has it or it is over.

        Return whether they got it, and the record as it now stands (its `agent` says who
        has it when they did not).
        """
        key = self.key(handoff_id)
        with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    if not raw:
                        return False, None
                    record: dict[str, Any] = json.loads(raw)
                    holder = record.get("agent")
                    taken = record.get("status") in TAKEN and holder and holder != agent
                    if taken or record.get("status") in CLOSED:
                        pipe.unwatch()
                        return False, record
                    record.update(status=status, agent=agent, updated_at=_iso(now))
                    record.setdefault("claimed_at", _iso(now))
                    pipe.multi()
                    pipe.set(key, json.dumps(record, default=str))
                    pipe.execute()
                    return True, record
                except redis.WatchError:
                    continue

    def position(self, handoff_id: str) -> int | None:
        """Return the place in line among people still waiting in the same channel and queue
        (1: next), or None when this one is not waiting."""
        rank = self.redis.zrank(self.index, handoff_id)
        if not isinstance(rank, int):
            return None
        ids = [text(i) for i in self.redis.zrange(self.index, 0, rank)]
        records = [json.loads(r) for r in mget(self.redis, [self.key(i) for i in ids]) if r]
        mine = next((r for r in records if r.get("id") == handoff_id), None)
        if mine is None or mine.get("status") != "waiting":
            return None
        same = [
            r for r in records
            if r.get("status") == "waiting"
            and r.get("channel") == mine.get("channel")
            and r.get("queue") == mine.get("queue")
        ]  # fmt: skip
        return len(same)

    def handle_time_key(self, queue: str) -> str:
        return f"{self.prefix}:handle:{queue}"

    def record_handle_time(self, queue: str, seconds: int) -> None:
        """Keep how long a person spent on a conversation of `queue` (for wait estimates)."""
        key = self.handle_time_key(queue)
        pipe = self.redis.pipeline(transaction=False)
        pipe.lpush(key, max(int(seconds), 0))
        pipe.ltrim(key, 0, HANDLE_TIMES - 1)
        pipe.execute()

    def handle_times(self, queue: str) -> list[int]:
        """Return the recent handle times of `queue`, newest first, in seconds."""
        return [int(text(v)) for v in self.redis.lrange(self.handle_time_key(queue), 0, -1)]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
