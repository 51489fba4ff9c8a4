"""People who take over: agents and support leads, their passwords and who is online."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

import redis
from werkzeug.security import check_password_hash, generate_password_hash

from .store import PREFIX

ROLES = ("agent", "lead")
ONLINE_SECONDS = 90  # an inbox page that polled this recently counts as an agent at work
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
MAX_FAILURES = 5  # sign-in failures per name and address before a pause
FAILURE_WINDOW = 15 * 60


class AgentError(ValueError):
    """A name, role or password we cannot accept."""


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    role: str


class AgentStore:
    """Accounts in Redis; passwords kept only as salted scrypt hashes."""

    def __init__(self, client: redis.Redis, *, prefix: str = PREFIX) -> None:
        self.redis = client
        self.prefix = prefix

    def _key(self, name: str) -> str:
        return f"{self.prefix}:agent:{name}"

    @property
    def _online(self) -> str:
        return f"{self.prefix}:agents:online"

    def add(self, name: str, password: str, role: str = "agent") -> Agent:
        """Create or reset an account."""
        name = name.strip().lower()
        if not _NAME.match(name):
            raise AgentError("a name is 1-32 lower-case letters, digits or _.- characters")
        if role not in ROLES:
            raise AgentError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < 10:
            raise AgentError("a password needs at least 10 characters")
        record = {"name": name, "role": role, "password": generate_password_hash(password)}
        self.redis.set(self._key(name), json.dumps(record))
        return Agent(name, role)

    def get(self, name: str) -> Agent | None:
        raw = self.redis.get(self._key(name.strip().lower()))
        if not raw:
            return None
        record = json.loads(raw)
        return Agent(record["name"], record["role"])

    def verify(self, name: str, password: str) -> Agent | None:
        """Return the agent if the password is theirs, else None (same cost either way)."""
        raw = (
            self.redis.get(self._key(name.strip().lower()))
            if _NAME.match(name.strip().lower())
            else None
        )
        record = json.loads(raw) if raw else None
        stored = record["password"] if record else _DUMMY_HASH
        if not check_password_hash(stored, password) or record is None:
            return None
        return Agent(record["name"], record["role"])

    def throttled(self, name: str, address: str) -> bool:
        """Return True when this name from this address failed too often lately."""
        count = self.redis.get(self._failures(name, address))
        return int(count or 0) >= MAX_FAILURES

    def failed(self, name: str, address: str) -> None:
        """Count a failed sign-in for this name and address."""
        key = self._failures(name, address)
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, FAILURE_WINDOW)
        pipe.execute()

    def _failures(self, name: str, address: str) -> str:
        return f"{self.prefix}:signin-failures:{name.strip().lower()[:32]}:{address}"

    def seen(self, name: str, now: datetime) -> None:
        """Note that an agent's inbox is open (they can take a chat)."""
        self.redis.zadd(self._online, {name: now.timestamp()})

    def online(self, now: datetime) -> list[str]:
        """Return the agents whose inbox was open in the last minute and a half."""
        since = now.timestamp() - ONLINE_SECONDS
        return [n.decode() for n in self.redis.zrangebyscore(self._online, since, "+inf")]

    def gone(self, name: str) -> None:
        self.redis.zrem(self._online, name)


_DUMMY_HASH = generate_password_hash("not a real password: timing only")
