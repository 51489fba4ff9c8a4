"""People who take over: agents and leads, where they answer, and whether they are free.

One hash per agent, `pz:{agents}:agent:alex` (name, role, password hash, endpoint, queues,
languages, status, since, busy_with, after, epoch), the names in `pz:{agents}:all`, and the
available ones in `pz:{agents}:available`, scored by when they became free (longest idle first). The
`{agents}` hash tag keeps them in one slot, so a presence change is one script on a cluster too.
`epoch` is a per-agent nonce a console session carries: a new one (a password reset, a new role,
a removal) signs out every session that holds the old one.

Console sessions live here too, not in the cookie (which holds only a random session id):
`pz:{agents}:session:<id>` (agent, role, epoch, csrf, created, seen) and each agent's ids in
`pz:{agents}:sessions:<name>`. A session ends at sign-out, after SESSION_IDLE without a
request, SESSION_LIFETIME after sign-in whatever happens, and at once for every session of an
agent who is removed, gets a new password or a new role.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.typing import EncodableT, FieldT
from werkzeug.security import check_password_hash, generate_password_hash

from presszero.flows.language.languages import base

from .connect import RedisClient, run_script
from .models import RecordError, normalise_language
from .phones import PhoneError, normalise_phone
from .store import PREFIX

ROLES = ("agent", "lead")
STATUSES = ("available", "away", "busy")  # busy is set by presszero, never by the agent
ONLINE_SECONDS = 90  # an inbox page that polled this recently counts as an agent at work
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
_QUEUE = re.compile(r"^[a-z][a-z0-9_]*$")  # the flow language's names
_SIP = re.compile(r"^sip:[^\s@<>\"]+@[a-z0-9.-]+(?::\d{1,5})?(?:;[^\s<>\"]*)?$", re.IGNORECASE)
_CLIENT = re.compile(r"^client:[A-Za-z0-9_.-]{1,121}$")
MAX_FAILURES = 5  # sign-in failures per name and address before a pause
FAILURE_WINDOW = 15 * 60
SESSION_LIFETIME = 12 * 3600  # a console session ends this long after sign-in, used or not
SESSION_IDLE = 60 * 60  # ... or this long after its last request


class AgentError(ValueError):
    """A name, role, password, endpoint or queue we cannot accept, or an unknown agent."""


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    role: str
    endpoint: str = ""  # where they answer calls: +E164, sip:URI or client:NAME; "" for none
    queues: tuple[str, ...] = ()  # the queues they take; () for every queue
    status: str = "away"  # available, away or busy
    since: datetime | None = None  # when the status last changed (available: idle since)
    busy_with: str = ""  # the conversation id, while busy
    after: str = ""  # while busy: available or away, what they go back to when it ends
    # The languages they speak ("en-US", "es-US"); () for the team's own: the flow's first.
    languages: tuple[str, ...] = ()

    def takes(self, queue: str) -> bool:
        """Return True when this agent answers `queue`."""
        return not self.queues or queue in self.queues

    def speaks(self, language: str, default: str = "") -> bool:
        """Return True when this agent speaks `language` (by its base: "es-MX" speaks
        "es-US"); one who named none speaks `default`, the flow's first language."""
        return base(language) in {base(tag) for tag in self.languages or (default,)}


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A signed-in console session, as kept in Redis."""

    sid: str
    agent: str
    role: str
    csrf: str
    created: float  # unix time of the sign-in
    seen: float  # unix time of the last request


@dataclass(frozen=True, slots=True)
class Staffing:
    """How many agents for a queue are free, on a conversation, or away (for wait estimates)."""

    available: int = 0
    busy: int = 0
    away: int = 0


def normalise_endpoint(raw: str, region: str = "US") -> str:
    """Return where an agent answers: a phone in E.164, a sip: URI or a client: name ("" none)."""
    text = raw.strip()
    if not text:
        return ""
    if text.lower().startswith("sip:"):
        if not _SIP.match(text):
            raise AgentError(f"not a SIP address (sip:user@host): {raw!r}")
        return "sip:" + text[4:]
    if text.startswith("client:"):
        if not _CLIENT.match(text):
            raise AgentError(f"a client: name is letters, digits or _.- characters: {raw!r}")
        return text
    try:
        return normalise_phone(text, region)
    except PhoneError as exc:
        raise AgentError(f"{exc} (give +E164, sip:user@host or client:NAME)") from None


def parse_queues(raw: str) -> tuple[str, ...]:
    """Return the queue names in "plans,billing"; () for "" or "all" (every queue)."""
    names = [q.strip().lower() for q in raw.split(",") if q.strip()]
    if names == ["all"]:
        return ()
    for name in names:
        if not _QUEUE.match(name) or name == "all":
            raise AgentError(f"{name!r} is not a queue name (lower case letters, digits and _)")
    return tuple(dict.fromkeys(names))


def parse_languages(raw: str) -> tuple[str, ...]:
    """Return the language tags in "en-US,es-US", each one presszero speaks; () for ""."""
    tags = []
    for tag in (t for t in raw.split(",") if t.strip()):
        try:
            tags.append(normalise_language(tag, "languages"))
        except RecordError as exc:
            raise AgentError(str(exc)) from None
    return tuple(dict.fromkeys(tags))


# Presence changes read and write the hash and the index together, so they are scripts.
_MARK_BUSY = """
local h = KEYS[1]
if redis.call('EXISTS', h) == 0 then return 0 end
local status = redis.call('HGET', h, 'status')
if status == 'busy' and redis.call('HGET', h, 'busy_with') == ARGV[1] then return 1 end
if ARGV[3] == '1' and status ~= 'available' then return 0 end
local after = status
if status == 'busy' then after = redis.call('HGET', h, 'after') or 'available' end
redis.call('HSET', h, 'status', 'busy', 'busy_with', ARGV[1], 'since', ARGV[2], 'after', after)
redis.call('ZREM', KEYS[2], ARGV[4])
return 1
"""
_MARK_FREE = """
local h = KEYS[1]
if redis.call('HGET', h, 'status') ~= 'busy' then return 0 end
if ARGV[2] ~= '' and redis.call('HGET', h, 'busy_with') ~= ARGV[2] then return 0 end
local after = redis.call('HGET', h, 'after') or 'available'
redis.call('HSET', h, 'status', after, 'since', ARGV[1])
redis.call('HDEL', h, 'busy_with', 'after')
if after == 'available' then redis.call('ZADD', KEYS[2], ARGV[1], ARGV[3]) end
return 1
"""
_SET_STATUS = """
local h = KEYS[1]
if redis.call('EXISTS', h) == 0 then return 0 end
local status = redis.call('HGET', h, 'status')
if status == 'busy' then redis.call('HSET', h, 'after', ARGV[1]) return 2 end
if status == ARGV[1] then return 1 end
redis.call('HSET', h, 'status', ARGV[1], 'since', ARGV[2])
if ARGV[1] == 'available' then redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
else redis.call('ZREM', KEYS[2], ARGV[3]) end
return 1
"""

_COUNT_ATTEMPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class AgentStore:
    """Accounts and presence in Redis; passwords kept only as salted scrypt hashes."""

    def __init__(self, client: RedisClient, *, prefix: str = PREFIX) -> None:
        self.redis = client
        self.prefix = prefix
        self._mark_busy = client.register_script(_MARK_BUSY)
        self._mark_free = client.register_script(_MARK_FREE)
        self._set_status = client.register_script(_SET_STATUS)
        self._count_attempt = client.register_script(_COUNT_ATTEMPT)

    def _key(self, name: str) -> str:
        return f"{self.prefix}:{{agents}}:agent:{name}"

    @property
    def _all(self) -> str:
        return f"{self.prefix}:{{agents}}:all"

    @property
    def _available(self) -> str:
        return f"{self.prefix}:{{agents}}:available"

    @property
    def _online(self) -> str:
        return f"{self.prefix}:agents:online"

    @property
    def _endpoints(self) -> str:
        """A hash of endpoint → agent name: who is calling when an agent calls the line."""
        return f"{self.prefix}:{{agents}}:endpoints"

    def queue_count_online(self, pipe: Any, now: datetime) -> Callable[[list[Any]], int]:
        """Queue a count of the agents whose inbox is open (who can take a chat now); return
        what reads it."""
        at = len(pipe)
        pipe.zcount(self._online, now.timestamp() - ONLINE_SECONDS, "+inf")
        return lambda replies: int(replies[at])

    def queue_who_has(self, pipe: Any, endpoint: str) -> Callable[[list[Any]], str | None]:
        """Queue the look-up of the agent whose endpoint this is; return what reads it."""
        at = len(pipe)
        pipe.hget(self._endpoints, endpoint)
        return lambda replies: _text(replies[at]) if replies[at] else None

    def add(
        self,
        name: str,
        password: str | None = None,
        role: str | None = None,
        *,
        endpoint: str | None = None,
        queues: Sequence[str] | None = None,
        languages: Sequence[str] | None = None,
        region: str = "US",
        now: datetime | None = None,
    ) -> Agent:
        """Create an agent (away until they say otherwise), or update one; None keeps a field.

        A new password or role ends the agent's sessions. Nothing is written when any field
        is refused.
        """
        name = normalise_name(name)
        if role is not None and role not in ROLES:
            raise AgentError(f"role must be one of {', '.join(ROLES)}")
        if password is not None and len(password) < 10:
            raise AgentError("a password needs at least 10 characters")
        fields: dict[FieldT, EncodableT] = {}
        if endpoint is not None:
            fields["endpoint"] = normalise_endpoint(endpoint, region)
        if queues is not None:
            fields["queues"] = ",".join(parse_queues(",".join(queues)))
        if languages is not None:
            fields["languages"] = ",".join(parse_languages(",".join(languages)))
        old = _decode(self.redis.hgetall(self._key(name)))
        if not old:
            if password is None:
                raise AgentError(f"a new agent needs a password: {name}")
            at = (now or datetime.now(UTC)).timestamp()
            fields.update(name=name, role=role or "agent", status="away", since=repr(at))
        if role is not None and role != old.get("role"):
            fields["role"] = role
            fields["epoch"] = secrets.token_hex(8)
        if password is not None:
            fields["password"] = generate_password_hash(password)
            fields["epoch"] = secrets.token_hex(8)
        if fields:
            pipe = self.redis.pipeline(transaction=False)  # same slot; no other writer of these
            if "epoch" in fields and old:
                self._pipe_end_sessions(pipe, name)
            pipe.hset(self._key(name), mapping=fields)
            pipe.sadd(self._all, name)
            if "endpoint" in fields:
                if old.get("endpoint"):
                    pipe.hdel(self._endpoints, old["endpoint"])
                if fields["endpoint"]:
                    pipe.hset(self._endpoints, str(fields["endpoint"]), name)
            pipe.execute()
        agent = self.get(name)
        if agent is None:  # removed while being updated
            raise AgentError(f"no agent named {name!r}")
        return agent

    def get(self, name: str) -> Agent | None:
        """Return the agent with this name, or None."""
        name = name.strip().lower()
        if not _NAME.match(name):
            return None
        return _agent(_decode(self.redis.hgetall(self._key(name))))

    def everyone(self) -> list[Agent]:
        """Return every agent, by name."""
        names = sorted(_text(n) for n in _members(self.redis.smembers(self._all)))
        return [a for a in self._load(names) if a is not None]

    def remove(self, name: str) -> bool:
        """Delete the account and end its sessions at once; False when there was none."""
        name = name.strip().lower()
        if not _NAME.match(name):
            return False
        endpoint = self.redis.hget(self._key(name), "endpoint")
        pipe = self.redis.pipeline(transaction=False)
        pipe.delete(self._key(name))
        pipe.srem(self._all, name)
        if endpoint:
            pipe.hdel(self._endpoints, _text(endpoint))
        pipe.zrem(self._available, name)
        self._pipe_end_sessions(pipe, name)
        deleted = pipe.execute()[0]
        self.redis.zrem(self._online, name)  # another slot on a cluster
        return bool(deleted)

    def session_epoch(self, name: str) -> str | None:
        """Return the nonce a live session of this agent must carry, or None (no such agent)."""
        name = name.strip().lower()
        if not _NAME.match(name):
            return None
        raw = self.redis.hget(self._key(name), "epoch")
        return _text(raw) if isinstance(raw, bytes | str) else None

    def _session_key(self, sid: str) -> str:
        return f"{self.prefix}:{{agents}}:session:{sid}"

    def _sessions_of(self, name: str) -> str:
        return f"{self.prefix}:{{agents}}:sessions:{name}"

    def open_session(self, agent: Agent, now: datetime) -> ConsoleSession:
        """Start a console session for `agent` (just signed in) and return it."""
        sid, csrf, at = secrets.token_urlsafe(32), secrets.token_urlsafe(32), now.timestamp()
        epoch = self.session_epoch(agent.name) or ""
        pipe = self.redis.pipeline(transaction=False)  # one slot: {agents}
        pipe.hset(
            self._session_key(sid),
            mapping={"agent": agent.name, "role": agent.role, "epoch": epoch, "csrf": csrf,
                     "created": repr(at), "seen": repr(at)},
        )  # fmt: skip
        pipe.expire(self._session_key(sid), SESSION_IDLE)
        pipe.sadd(self._sessions_of(agent.name), sid)
        pipe.expire(self._sessions_of(agent.name), SESSION_LIFETIME)
        pipe.execute()
        return ConsoleSession(sid, agent.name, agent.role, csrf, at, at)

    def session(self, sid: str, now: datetime) -> ConsoleSession | None:
        """Return the live session with this id, noting this request; None when it has ended.

        Ended means signed out, idle too long, past its lifetime, or its agent removed or
        given a new password or role since it began.
        """
        if not isinstance(sid, str) or not 20 <= len(sid) <= 64:
            return None
        record = _decode(self.redis.hgetall(self._session_key(sid)))
        try:
            created, seen = float(record["created"]), float(record["seen"])
            name, role, csrf = record["agent"], record["role"], record["csrf"]
        except (KeyError, ValueError):
            return None
        at = now.timestamp()
        left = created + SESSION_LIFETIME - at
        agent = _decode(self.redis.hgetall(self._key(name)))
        current = (agent.get("role"), agent.get("epoch", ""))
        if left <= 0 or at - seen >= SESSION_IDLE or current != (role, record.get("epoch", "")):
            self.end_session(sid)
            return None
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(self._session_key(sid), "seen", repr(at))
        pipe.expire(self._session_key(sid), max(1, int(min(left, SESSION_IDLE))))
        pipe.execute()
        return ConsoleSession(sid, name, role, csrf, created, at)

    def end_session(self, sid: str) -> None:
        """End one console session (signing out)."""
        key = self._session_key(sid)
        name = self.redis.hget(key, "agent")
        pipe = self.redis.pipeline(transaction=False)
        pipe.delete(key)
        if isinstance(name, bytes | str):
            pipe.srem(self._sessions_of(_text(name)), sid)
        pipe.execute()

    def end_sessions(self, name: str) -> None:
        """End every console session of this agent."""
        pipe = self.redis.pipeline(transaction=False)
        self._pipe_end_sessions(pipe, name.strip().lower())
        pipe.execute()

    def _pipe_end_sessions(self, pipe: Any, name: str) -> None:
        sids = _members(self.redis.smembers(self._sessions_of(name)))
        for sid in sids:
            pipe.delete(self._session_key(_text(sid)))
        pipe.delete(self._sessions_of(name))

    def verify(self, name: str, password: str) -> Agent | None:
        """Return the agent if the password is theirs, else None (same cost either way)."""
        dummy = _dummy_hash()  # made at the first sign-in, known name or not
        name = name.strip().lower()
        record = _decode(self.redis.hgetall(self._key(name))) if _NAME.match(name) else {}
        stored = record.get("password") or dummy
        if not check_password_hash(stored, password) or not record:
            return None
        return _agent(record)

    def set_status(self, name: str, status: str, now: datetime) -> Agent:
        """Set an agent available or away; while busy, it applies when the conversation ends."""
        if status not in ("available", "away"):
            raise AgentError("status must be available or away (presszero sets busy)")
        name = normalise_name(name)
        found = run_script(
            self._set_status, [self._key(name), self._available], [status, _ts(now), name]
        )
        agent = self.get(name) if found else None
        if agent is None:
            raise AgentError(f"no agent named {name!r}")
        return agent

    def mark_busy(
        self, name: str, conversation_id: str, now: datetime, *, if_available: bool = False
    ) -> bool:
        """Mark the agent on a call or chat; with if_available, only one who was available.

        Return True when they are now busy with `conversation_id` (marking it twice is fine).
        """
        name = normalise_name(name)
        keys = [self._key(name), self._available]
        args = [conversation_id, _ts(now), "1" if if_available else "0", name]
        return bool(run_script(self._mark_busy, keys, args))

    def mark_free(self, name: str, now: datetime, *, conversation_id: str = "") -> bool:
        """End the agent's conversation (only this one, when given): back to what they were.

        That is available (idle from `now`) unless they set away meanwhile or before.
        """
        name = normalise_name(name)
        keys = [self._key(name), self._available]
        return bool(run_script(self._mark_free, keys, [_ts(now), conversation_id, name]))

    def available_for(self, queue: str, now: datetime) -> list[Agent]:
        """Return the agents available at `now` who take `queue`, longest idle first."""
        return self._available_until(queue, now.timestamp())

    def is_available_for(self, queue: str) -> bool:
        """Return True when anyone who takes `queue` is available."""
        return bool(self._available_until(queue, "+inf"))

    def _available_until(self, queue: str, until: float | str) -> list[Agent]:
        names = self.redis.zrangebyscore(self._available, "-inf", until)
        agents = self._load([_text(n) for n in _members(names)])
        return [a for a in agents if a is not None and a.status == "available" and a.takes(queue)]

    def staffing(self, queue: str | None = None) -> Staffing:
        """Count the agents who take `queue` (None: everyone) by status."""
        found = [a for a in self.everyone() if queue is None or a.takes(queue)]
        count = {s: sum(a.status == s for a in found) for s in STATUSES}
        return Staffing(count["available"], count["busy"], count["away"])

    def _load(self, names: Iterable[str]) -> list[Agent | None]:
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(self._key(name))
        return [_agent(_decode(reply)) for reply in pipe.execute()]

    def may_try(self, name: str, address: str) -> bool:
        """Count a sign-in attempt for this name and address; False when too many lately.

        The count is taken before the password is checked, in one step in Redis, so parallel
        attempts cannot all slip in under the limit; `signed_in_ok` clears it.
        """
        key = self._failures(name, address)
        count = run_script(self._count_attempt, [key], [FAILURE_WINDOW])
        return int(count) <= MAX_FAILURES

    def signed_in_ok(self, name: str, address: str) -> None:
        """Forget the attempts of this name and address: the password was right."""
        self.redis.delete(self._failures(name, address))

    def _failures(self, name: str, address: str) -> str:
        return f"{self.prefix}:signin-failures:{name.strip().lower()[:32]}:{address}"

    def seen(self, name: str, now: datetime) -> None:
        """Note that an agent's inbox is open (they can take a chat)."""
        self.redis.zadd(self._online, {name: now.timestamp()})

    def online(self, now: datetime) -> list[str]:
        """Return the agents whose inbox was open in the last minute and a half."""
        since = now.timestamp() - ONLINE_SECONDS
        return [_text(n) for n in _members(self.redis.zrangebyscore(self._online, since, "+inf"))]

    def gone(self, name: str) -> None:
        """Note that an agent closed the inbox (signed out)."""
        self.redis.zrem(self._online, name)


def speakers_first(agents: Sequence[Agent], language: str, default: str = "") -> list[Agent]:
    """Return those of `agents` who speak `language` (the conversation's) when any does, else
    all of them all the same: a person must answer, and the whisper tells them the language.
    `default` is the language of agents who named none (the flow's first)."""
    speakers = [a for a in agents if a.speaks(language, default)] if language else []
    return speakers or list(agents)


def normalise_name(name: str) -> str:
    """Return an agent's name as stored (lower case), or raise AgentError."""
    name = name.strip().lower()
    if not _NAME.match(name):
        raise AgentError("a name is 1-32 lower-case letters, digits or _.- characters")
    return name


def _ts(moment: datetime) -> str:
    return repr(moment.timestamp())


# Redis replies are decoded here and nowhere else (the client may or may not decode them).
def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _members(reply: object) -> list[bytes | str]:
    if not isinstance(reply, list | set):
        return []
    return [m for m in reply if isinstance(m, bytes | str)]


def _decode(reply: object) -> dict[str, str]:
    if not isinstance(reply, Mapping):
        return {}
    return {_text(k): _text(v) for k, v in reply.items() if isinstance(k, bytes | str)}


def _agent(record: Mapping[str, str]) -> Agent | None:
    if not record.get("name"):
        return None
    since = record.get("since")
    return Agent(
        name=record["name"],
        role=record.get("role", "agent"),
        endpoint=record.get("endpoint", ""),
        queues=tuple(q for q in record.get("queues", "").split(",") if q),
        status=record.get("status", "away"),
        since=datetime.fromtimestamp(float(since), UTC) if since else None,
        busy_with=record.get("busy_with", ""),
        after=record.get("after", ""),
        languages=tuple(t for t in record.get("languages", "").split(",") if t),
    )


@functools.cache
def _dummy_hash() -> str:
    """Return a hash to check unknown names against, made once (scrypt takes 0.1 s)."""
    return generate_password_hash("not a real password: timing only")
