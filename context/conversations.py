"""Live conversations (a call, a chat) in Redis, one turn at a time.

A conversation is one hash, `pz:conv:{voice:CA123}`, holding the engine's state, the turn
number, a snapshot of the customer taken when the conversation started, and the response
given at each recent turn. Any worker can take the next turn. A turn is committed only if no
one else committed it first; a webhook that arrives again for a turn already taken (a retry,
a replay) gets the response that turn gave, and nothing advances twice.

What else a turn writes (analytics events, a handoff, the transcript) is written down as
`Writes` and sent with the commit: on one Redis inside the commit's script, so a turn that
lost the race writes nothing and a turn costs one round trip; on a Redis Cluster, where those
keys live on other nodes, pipelined beside the commit (one round trip per node).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from redis.commands.core import CoreCommands

from .connect import RedisClient, is_cluster, run_script, text
from .models import Customer
from .store import PREFIX, ContextStore, queue_link
from .stored import customer_from_stored

TTL_SECONDS = 24 * 3600
# How long forget() keeps track of a conversation's keys: well past their own expiry (the
# state's 24 h, a transcript's 7 days from its last message).
LINK_SECONDS = 30 * 24 * 3600
KEEP_RESPONSES = 8

# KEYS: the conversation. ARGV: expected turn, state, response, ttl, keep, commands to run
# first whatever happens (JSON: [[name, arg, ...], ...]), commands to run only if the commit
# wins (JSON), "1" to advance the turn (a customer's turn) or "0" to change the state only
# (a person took the conversation, or closed it), then optional field/value pairs to set.
# Returns the next turn, or {winner's response} if we lost the race.
_COMMIT = """
local function run(commands)
  for _, command in ipairs(cjson.decode(commands)) do redis.call(unpack(command)) end
end
run(ARGV[6])
local turn = tonumber(redis.call('HGET', KEYS[1], 'turn') or '0')
local expected = tonumber(ARGV[1])
if turn ~= expected then
  return {redis.call('HGET', KEYS[1], 'resp:' .. ARGV[1]) or ''}
end
local next = turn
if ARGV[8] == '1' then
  next = turn + 1
  redis.call('HSET', KEYS[1], 'turn', next, 'state', ARGV[2], 'resp:' .. turn, ARGV[3])
  local old = turn - tonumber(ARGV[5])
  if old >= 0 then redis.call('HDEL', KEYS[1], 'resp:' .. old) end
else
  redis.call('HSET', KEYS[1], 'turn', turn, 'state', ARGV[2])
end
for i = 9, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
run(ARGV[7])
return next
"""


class Writes(CoreCommands):
    """Redis commands written down to be sent with a turn's commit.

    Built with redis-py's own command methods (`writes.xadd(...)`, `writes.hincrby(...)`),
    so they take the same arguments as on a client or a pipeline.
    """

    _event_dispatcher: Any = None  # redis-py's clients have one; written-down commands do not

    def __init__(self, commands: list[tuple[Any, ...]] | None = None) -> None:
        self.commands: list[tuple[Any, ...]] = commands or []

    def execute_command(self, *args: Any, **_options: Any) -> Writes:
        self.commands.append(args)
        return self

    def to_json(self) -> str:
        """Return the commands as the commit script reads them: lists of strings."""
        return json.dumps([[_text(a) for a in command] for command in self.commands])


def _text(value: Any) -> str:
    """Return a command argument as redis-py would send it (its Encoder's rules)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not a Redis argument: {value!r}")
    return repr(value) if isinstance(value, float) else str(value)


@dataclass(frozen=True, slots=True)
class Turn:
    """What a worker needs to take turn `number` of a conversation."""

    number: int  # the turn the stored state is waiting for
    state: dict[str, Any] | None  # None: the conversation has not started
    customer: Customer | None
    meta: dict[str, Any]
    replay: str | None  # the response already given, when this turn was taken before
    mode: str = ""  # a chat's: who has it (bot, waiting, with_agent, message, closed)
    # Read with the customer as the conversation starts (load_beside, queue_load with a
    # find): the language the caller is known to speak, their record's or the one last
    # chosen from their phone ("" when neither, or when nothing was looked up).
    known_language: str = ""

    @property
    def started(self) -> bool:
        return self.state is not None


class ConversationStore:
    """Conversation state keyed by channel and the channel's id (CallSid, chat sender)."""

    def __init__(self, client: RedisClient, *, prefix: str = PREFIX) -> None:
        self.redis = client
        self.prefix = prefix
        self.cluster = is_cluster(client)
        self._commit = client.register_script(_COMMIT)

    def key(self, channel: str, conversation_id: str) -> str:
        return f"{self.prefix}:conv:{{{channel}:{conversation_id}}}"

    def load(self, channel: str, conversation_id: str, turn: int | None = None) -> Turn:
        """Return the conversation as stored (one round trip); `turn` asks for a replay check."""
        values = self.redis.hmget(self.key(channel, conversation_id), _fields(turn))
        return _turn(values, turn)

    def load_beside(
        self, store: ContextStore, kind: str, value: str, channel: str, conversation_id: str
    ) -> tuple[Turn, Customer | None]:
        """Return the conversation (checked for a replay of its first turn, with the language
        the caller is known to speak) and the customer `store` finds by `kind` and `value`:
        one round trip on one Redis."""
        key = self.key(channel, conversation_id)
        customer, values, language = store.find_beside(kind, value, key, _fields(0))
        return replace(_turn(values, 0), known_language=language), customer

    def queue_load(
        self,
        pipe: Any,
        channel: str,
        conversation_id: str,
        find: tuple[ContextStore, str, str] | None,
        turn: int | None = None,
    ) -> Callable[[list[Any]], tuple[Turn, Customer | None]]:
        """Queue `load` (with `find` = (store, kind, value), also finding a customer) on `pipe`.

        Return what reads the pipeline's replies (all of them) into its answer.
        """
        key, at = self.key(channel, conversation_id), len(pipe)
        if find is None:
            pipe.hmget(key, _fields(turn))
            return lambda replies: (_turn(replies[at], turn), None)
        store, kind, value = find
        read = store.queue_find_beside(pipe, kind, value, key, _fields(turn))

        def found(replies: list[Any]) -> tuple[Turn, Customer | None]:
            customer, values, language = read(replies[at])
            return replace(_turn(values, turn), known_language=language), customer

        return found

    def commit(
        self,
        channel: str,
        conversation_id: str,
        turn: int,
        state: dict[str, Any],
        response: str,
        *,
        customer: Customer | None = None,
        meta: dict[str, Any] | None = None,
        fields: dict[str, str] | None = None,
        before: Writes | None = None,
        won: Writes | None = None,
        then: Writes | None = None,
        advance: bool = True,
    ) -> int | str:
        """Commit `turn`: return the next turn number, or the response that won the race.

        With `advance` False the state changes but the turn stays (an event from the agent's
        side, not an answer to a prompt): the URLs a call was given stay good.

        `fields` are set beside the state (e.g. how the conversation has ended so far).
        `before` and `won` may touch the conversation's own keys only (its hash, its
        transcript): `before` runs whatever happens, `won` only if this commit wins. `then`
        may touch any key: on one Redis it runs only if the commit wins; on a Redis Cluster,
        where its keys live on other nodes, it is pipelined beside the commit and runs either
        way (a lost race is rare: Twilio retrying a turn while it is being answered).
        """
        key = self.key(channel, conversation_id)
        won, then = won or Writes(), then or Writes()
        extra: list[Any] = [item for pair in (fields or {}).items() for item in pair]
        if customer is not None:
            extra += ["customer", json.dumps(snapshot(customer))]
            # So that forgetting the customer erases this conversation too.
            until = time.time() + LINK_SECONDS
            queue_link(then, self.prefix, customer.id, [key, key + ":msgs"], until)
        if meta is not None:
            extra += ["meta", json.dumps(meta)]
        args = [turn, json.dumps(state), response, TTL_SECONDS, KEEP_RESPONSES]
        first = (before or Writes()).to_json()
        step = "1" if advance else "0"
        if not self.cluster:
            if_won = Writes(won.commands + then.commands).to_json()
            return decode_commit(
                run_script(self._commit, [key], [*args, first, if_won, step, *extra])
            )
        # The commit goes first, so its result is the pipeline's first; redis-py's cluster
        # pipeline sends each command to its slot's node and keeps the results in order.
        pipe = self.redis.pipeline(transaction=False)
        run_script(self._commit, [key], [*args, first, won.to_json(), step, *extra], pipe)
        for command in then.commands:
            pipe.execute_command(*command)
        return decode_commit(pipe.execute()[0])

    def field(self, channel: str, conversation_id: str, name: str) -> str | None:
        """Return one stored field of a conversation, or None."""
        value = self.redis.hget(self.key(channel, conversation_id), name)
        return text(value) if value is not None else None

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


def _fields(turn: int | None) -> list[str]:
    return [
        "turn",
        "state",
        "customer",
        "meta",
        "mode",
        f"resp:{turn}" if turn is not None else "turn",
    ]


def _turn(values: list[Any], turn: int | None) -> Turn:
    number, state, customer, meta, mode, response = values
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
        mode=mode.decode() if mode else "",
    )
