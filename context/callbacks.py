"""Callbacks owed: when each is due, and its dialling, claimed by one dialer at a time.

`pz:callbacks` is a sorted set of handoff ids (the record itself is `pz:handoff:{id}`, see
handoffs.py) scored by when a dialer should next look at one: the time the customer was
promised, the next try after a failed one, when a dialler's claim lapses, or +inf once every
try failed and the callback waits for a person in the inbox. A handoff that closes leaves it.

How the dialling goes is a hash beside the record, `pz:callback:{voice:CA…}` (the same hash
tag, so the same slot on a Redis Cluster): `attempts`, `state`, `claim_until`, `next_at`, the
attempt's `call_sid` and `agent`, and the last `outcome`. States:

    owed → dialling (the agent's phone rings) → connecting (the agent heard the whisper; the
    customer's phone rings) → connected (they talk) → done
    any of dialling / connecting / connected → owed again (a failed try) or failed (the last)

A dialer takes an attempt with one script on that hash: from owed (once `next_at` has passed),
or from a dialling or connecting claim whose `claim_until` has passed (its dialer or its call
was lost), to dialling, with the attempt's number and until when the claim holds. Two dialers
never get the same attempt, whatever machine they run on; every later step names its attempt
and moves only that one, so a late webhook of an old attempt changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from .connect import RedisClient, run_script, text
from .store import PREFIX

KEEP_SECONDS = 30 * 24 * 3600  # a callback's dialling is kept a month after its last change
VOICEMAIL_GRACE = 180  # a message takes up to 120 s to record: call back once they hung up
LIVE = ("dialling", "connecting", "connected")  # an attempt under way
FINAL = ("done", "failed")

_CLAIM = """
local h = KEYS[1]
local now = tonumber(ARGV[1])
local state = redis.call('HGET', h, 'state') or 'owed'
if state == 'done' or state == 'failed' or state == 'connected' then return {-2, state} end
local lost = {}
if state ~= 'owed' then
  local lapse = redis.call('HGET', h, 'claim_until') or '0'
  if tonumber(lapse) > now then return {0, lapse} end
  lost = redis.call('HMGET', h, 'attempts', 'agent', 'call_sid')
end
local next_at = redis.call('HGET', h, 'next_at') or '0'
if tonumber(next_at) > now then return {-1, next_at} end
local attempts = tonumber(redis.call('HGET', h, 'attempts') or '0')
if attempts >= tonumber(ARGV[3]) then
  redis.call('HSET', h, 'state', 'failed', 'outcome', ARGV[5])
  return {-3, 'failed', lost[1] or '', lost[2] or '', lost[3] or ''}
end
redis.call('HSET', h, 'state', 'dialling', 'attempts', attempts + 1, 'claim_until', ARGV[2],
  'since', ARGV[1], 'outcome', lost[1] and ARGV[5] or '')
redis.call('HDEL', h, 'call_sid', 'agent')
redis.call('EXPIRE', h, ARGV[4])
return {attempts + 1, ARGV[2], lost[1] or '', lost[2] or '', lost[3] or ''}
"""

_MOVE = """
local h = KEYS[1]
if redis.call('HGET', h, 'attempts') ~= ARGV[1] then return 0 end
local state = redis.call('HGET', h, 'state')
local allowed = false
for name in string.gmatch(ARGV[2], '[^,]+') do
  if name == state then allowed = true end
end
if not allowed then return 0 end
redis.call('HSET', h, 'state', ARGV[3], unpack(ARGV, 5))
redis.call('EXPIRE', h, ARGV[4])
return 1
"""

_Scored = list[tuple[bytes, float]]


@dataclass(frozen=True, slots=True)
class Claim:
    """What a claim got: an attempt (its number) or why not, and when to look again."""

    attempt: int  # > 0: this dialer has attempt number `attempt`; else see `why`
    why: str = ""  # "taken" (another dialer has it), "early" (a retry's time has not come),
    # "over" (done, failed or connected), "spent" (a lost last attempt: it failed just now)
    look_again: float = math.inf  # when it may be claimable (unix time); inf: never
    # A try this claim found lost (its claim lapsed): its number, agent and CallSid, if any.
    lost: int = 0
    lost_agent: str = ""
    lost_call: str = ""


def callbacks_index(prefix: str = PREFIX) -> str:
    """Return the key of the sorted set of callbacks owed, by when to look at each."""
    return f"{prefix}:callbacks"


def handoffs_index(prefix: str = PREFIX) -> str:
    """Return the key of the sorted set of open handoffs, by when each first asked for a
    person (their place in line)."""
    return f"{prefix}:handoffs"


def callback_due(record: Mapping[str, Any], now: datetime) -> float | None:
    """Return when a handoff being opened is owed a call (unix time), or None if it is not.

    A callback is due from the time the customer was promised. A voicemail left on the phone
    is a call owed too, soon; a chat's message is answered in the chat, not by phone.
    """
    callback = record.get("callback")
    if isinstance(callback, Mapping) and callback.get("number"):
        try:
            return datetime.fromisoformat(str(callback.get("not_before"))).timestamp()
        except ValueError:
            return now.timestamp()
    if record.get("kind") == "voicemail" and record.get("channel") == "voice":
        return now.timestamp() + VOICEMAIL_GRACE if record.get("phone") else None
    return None


class CallbackStore:
    """The callbacks owed and the dialling of each, in Redis."""

    def __init__(self, client: RedisClient, *, prefix: str = PREFIX) -> None:
        self.redis = client
        self.prefix = prefix
        self._claim = client.register_script(_CLAIM)
        self._move = client.register_script(_MOVE)

    @property
    def index(self) -> str:
        return callbacks_index(self.prefix)

    def key(self, handoff_id: str) -> str:
        return f"{self.prefix}:callback:{{{handoff_id}}}"

    def due(self, now: datetime, limit: int = 50) -> list[str]:
        """Return the ids of callbacks to look at by `now`, first in line first.

        The longest due are found; among them, whoever asked for a person first goes first,
        so a caller who waited in the queue and pressed 1 for a call back keeps their place.
        """
        found = self.redis.zrangebyscore(self.index, "-inf", now.timestamp(), start=0, num=limit)
        ids = [text(i) for i in found]
        if len(ids) < 2:
            return ids
        asked = self.redis.zmscore(handoffs_index(self.prefix), ids)
        place = [math.inf if score is None else score for score in asked]
        return [i for _, _, i in sorted(zip(place, range(len(ids)), ids, strict=True))]

    def owed(self, limit: int = 1000) -> list[tuple[str, float]]:
        """Return every callback owed with when it is next looked at (inf: a person has it)."""
        found = self.redis.zrange(self.index, 0, limit - 1, withscores=True)
        return [(text(member), float(score)) for member, score in cast(_Scored, found)]

    def look_at(self, handoff_id: str, when: float) -> None:
        """Look at a callback owed again at `when` (unix time; inf: never, a person has it)."""
        self.redis.zadd(self.index, {handoff_id: when}, xx=True)

    def drop(self, handoff_id: str) -> None:
        """Take a callback off the list (it is closed, or no longer a call to make)."""
        self.redis.zrem(self.index, handoff_id)

    def claim(
        self, handoff_id: str, now: datetime, *, hold: float, attempts: int, spent: str
    ) -> Claim:
        """Take the next attempt for this dialer, held for `hold` seconds, if one is free.

        `attempts` is how many there may be. A try found lost (its claim lapsed) gets the
        outcome `spent`; when it was the last, the callback is `failed`.
        """
        until = now.timestamp() + hold
        args = [repr(now.timestamp()), repr(until), attempts, KEEP_SECONDS, spent]
        reply = run_script(self._claim, [self.key(handoff_id)], args)
        code, value = int(reply[0]), text(reply[1])
        number, agent, call = [text(v) for v in reply[2:]] or ["", "", ""]
        lost = int(number or 0)
        if code > 0:
            return Claim(code, "", float(value), lost, agent, call)
        why = {0: "taken", -1: "early", -2: "over", -3: "spent"}[code]
        later = float(value) if code in (0, -1) else math.inf
        return Claim(0, why, later, lost, agent, call)

    def move(
        self, handoff_id: str, attempt: int, from_: tuple[str, ...], to: str, **fields: Any
    ) -> bool:
        """Move attempt `attempt` from one of `from_` to `to`, setting `fields`; False when it
        is not that attempt any more or not in one of those states (nothing changes)."""
        pairs = [str(part) for item in fields.items() for part in item]
        args = [str(attempt), ",".join(from_), to, KEEP_SECONDS, *pairs]
        return bool(run_script(self._move, [self.key(handoff_id)], args))

    def release(self, handoff_id: str, attempt: int) -> bool:
        """Give back an attempt that never reached anyone's phone: it does not count."""
        return self.move(
            handoff_id, attempt, ("dialling",), "owed", attempts=attempt - 1, claim_until=0
        )

    def dialling(self, handoff_id: str) -> dict[str, str]:
        """Return how the dialling of a callback stands ({} before its first attempt)."""
        return _decode(self.redis.hgetall(self.key(handoff_id)))

    def dialling_of(self, handoff_ids: list[str]) -> list[dict[str, str]]:
        """Return how the dialling of each of these callbacks stands, in order."""
        pipe = self.redis.pipeline(transaction=False)
        for handoff_id in handoff_ids:
            pipe.hgetall(self.key(handoff_id))
        return [_decode(reply) for reply in pipe.execute()]


def _decode(reply: object) -> dict[str, str]:
    if not isinstance(reply, Mapping):
        return {}
    return {text(k): text(v) for k, v in reply.items()}
