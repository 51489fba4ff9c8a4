"""Live conversations (a call, a chat) in Redis, one turn at a time.

A conversation is one hash, `pz:conv:{voice:CA123}`, holding the engine's state, the turn
number, a snapshot of the customer taken when the conversation started, and the response
given at each recent turn. Any worker can take the next turn. A turn is committed only if no
one else committed it first; a webhook that arrives again for a turn already taken (a retry,
a replay) gets the response that turn gave, and nothing advances twice.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from .connect import RedisClient, run_script
from .models import Customer
from .store import PREFIX, queue_link
from .stored import customer_from_stored

TTL_SECONDS = 24 * 3600
# How long forget() keeps track of a conversation's keys: well past their own expiry (the
# state's 24 h, a transcript's 7 days from its last message).
LINK_SECONDS = 30 * 24 * 3600
KEEP_RESPONSES = 8

# KEYS: the conversation. ARGV: expected turn, state, response, ttl, keep, then optional
# field/value pairs to set. Returns the new turn, or {winner's response} if we lost the race.
_COMMIT = """
local turn = tonumber(redis.call('HGET', KEYS[1], 'turn') or '0')
local expected = tonumber(ARGV[1])
if turn ~= expected then
  return {redis.call('HGET', KEYS[1], 'resp:' .. ARGV[1]) or ''}
end
redis.call('HSET', KEYS[1], 'turn', turn + 1, 'state', ARGV[2], 'resp:' .. turn, ARGV[3])
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
local old = turn - tonumber(ARGV[5])
if old >= 0 then redis.call('HDEL', KEYS[1], 'resp:' .. old) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return turn + 1
"""


@dataclass(frozen=True, slots=True)
class Turn:
    """What a worker needs to take turn `number` of a conversation."""

    number: int  # the turn the stored state is waiting for
    state: dict[str, Any] | None  # None: the conversation has not started
    customer: Customer | None
    meta: dict[str, Any]
    replay: str | None  # the response already given, when this turn was taken before

    @property
    def started(self) -> bool:
        return self.state is not None


class ConversationStore:
    """Conversation state keyed by channel and the channel's id (CallSid, chat sender)."""

    def __init__(self, client: RedisClient, *, prefix: str = PREFIX) -> None:
        self.redis = client
        self.prefix = prefix
        self._commit = client.register_script(_COMMIT)

    def key(self, channel: str, conversation_id: str) -> str:
        return f"{self.prefix}:conv:{{{channel}:{conversation_id}}}"

    def load(self, channel: str, conversation_id: str, turn: int | None = None) -> Turn:
        """Return the conversation as stored (one round trip); `turn` asks for a replay check."""
        asked = f"resp:{turn}" if turn is not None else "turn"
        number, state, customer, meta, response = self.redis.hmget(
            self.key(channel, conversation_id), ["turn", "state", "customer", "meta", asked]
        )
        current = int(number or 0)
        replay = None
        if turn is not None and turn < current:
            replay = (response or b"").decode()
        snapshot = json.loads(customer) if customer else None
        return Turn(
            number=current,
            state=json.loads(state) if state else None,
            customer=None
            if not snapshot
            else customer_from_stored(snapshot["profile"], snapshot["contacts"]),
            meta=json.loads(meta) if meta else {},
            replay=replay,
        )

    def queue_commit(
        self,
        client: Any,
        channel: str,
        conversation_id: str,
        turn: int,
        state: dict[str, Any],
        response: str,
        customer: Customer | None = None,
        meta: dict[str, Any] | None = None,
        fields: dict[str, str] | None = None,
    ) -> Any:
        """Send (or, on a pipeline, queue) a commit; `decode_commit` reads its result.

        `fields` are set beside the state (e.g. how the conversation has ended so far). The
        commit touches only the conversation's key; on a Redis Cluster a pipeline (redis-py's
        ClusterPipeline) sends each command to its slot's node and still returns the results
        in the order they were queued, so a turn reads its commit at the index it queued it.
        """
        key = self.key(channel, conversation_id)
        extra: list[Any] = [item for pair in (fields or {}).items() for item in pair]
        if customer is not None:
            extra += ["customer", json.dumps(snapshot(customer))]
        if meta is not None:
            extra += ["meta", json.dumps(meta)]
        result = run_script(
            self._commit,
            [key],
            [turn, json.dumps(state), response, TTL_SECONDS, KEEP_RESPONSES, *extra],
            client,
        )
        if customer is not None:  # so that forgetting the customer erases this too
            until = time.time() + LINK_SECONDS
            queue_link(client, self.prefix, customer.id, [key, key + ":msgs"], until)
        return result

    def field(self, channel: str, conversation_id: str, name: str) -> str | None:
        """Return one stored field of a conversation, or None."""
        value = self.redis.hget(self.key(channel, conversation_id), name)
        return value.decode() if value is not None else None

    def drop(self, channel: str, conversation_id: str) -> None:
        """Forget a conversation (it ended, or the customer asked us to)."""
        self.redis.delete(self.key(channel, conversation_id))


def decode_commit(result: Any) -> int | str:
    """Return the next turn number, or the response that won the race for this turn."""
    if isinstance(result, list):
        value = result[0]
        return value.decode() if isinstance(value, bytes) else str(value)
    return int(result)


def snapshot(customer: Customer) -> dict[str, Any]:
    """Return what a conversation keeps of its customer: profile and recent contacts."""
    record = customer.to_dict()
    contacts = record.pop("contacts")
    return {"profile": record, "contacts": contacts[-50:]}
