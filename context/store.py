"""The customer-context store on Redis.

Every key of one customer carries the customer id as a hash tag (`pz:c:{cus_1002}`), so a
customer's keys live together on one Redis Cluster slot. Lookups are one round trip: a
server-side script resolves phone or email to the id and returns the profile and the
recent contact log together.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import redis

from .clock import Clock, SystemClock
from .models import (
    NO_PLAN,
    Appointment,
    Cancellation,
    Contact,
    Customer,
    Plan,
    RecordError,
)
from .phones import try_normalise_phone

PREFIX = "pz"
RECENT_CONTACTS = 200  # how much of the log a lookup returns; older entries stay stored

_LOOKUP = """
local id = ARGV[2]
if ARGV[1] ~= 'id' then
  id = redis.call('GET', ARGV[4] .. ':' .. ARGV[1] .. ':' .. ARGV[2])
  if not id then return false end
end
local base = ARGV[4] .. ':c:{' .. id .. '}'
local profile = redis.call('GET', base)
if not profile then return false end
return {profile, redis.call('LRANGE', base .. ':log', -tonumber(ARGV[3]), -1)}
"""

# KEYS: profile, log, seen. ARGV: key, contact json.
_RECORD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('SADD', KEYS[3], ARGV[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[2])
return 1
"""

# KEYS: profile, log, seen. ARGV: prefix, id, profile json, phones json, email, then
# (contact key, contact json) pairs. Index entries the new profile no longer has are dropped.
_UPSERT = """
local prefix, id = ARGV[1], ARGV[2]
local old = redis.call('GET', KEYS[1])
if old then
  local o = cjson.decode(old)
  for _, p in ipairs(o.phones) do
    local k = prefix .. ':phone:' .. p
    if redis.call('GET', k) == id then redis.call('DEL', k) end
  end
  if type(o.email) == 'string' and o.email ~= '' then
    local k = prefix .. ':email:' .. o.email
    if redis.call('GET', k) == id then redis.call('DEL', k) end
  end
end
redis.call('SET', KEYS[1], ARGV[3])
for _, p in ipairs(cjson.decode(ARGV[4])) do
  redis.call('SET', prefix .. ':phone:' .. p, id)
end
if ARGV[5] ~= '' then redis.call('SET', prefix .. ':email:' .. ARGV[5], id) end
redis.call('SADD', prefix .. ':customers', id)
local added = 0
for i = 6, #ARGV, 2 do
  if redis.call('SADD', KEYS[3], ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[2], ARGV[i + 1])
    added = added + 1
  end
end
return added
"""

# KEYS: profile. ARGV: prefix, id. Drops the index entries that point at this customer.
_UNINDEX = """
local prefix, id = ARGV[1], ARGV[2]
local old = redis.call('GET', KEYS[1])
if old then
  local o = cjson.decode(old)
  for _, p in ipairs(o.phones) do
    local k = prefix .. ':phone:' .. p
    if redis.call('GET', k) == id then redis.call('DEL', k) end
  end
  if type(o.email) == 'string' and o.email ~= '' then
    local k = prefix .. ':email:' .. o.email
    if redis.call('GET', k) == id then redis.call('DEL', k) end
  end
end
redis.call('SREM', prefix .. ':customers', id)
return old and 1 or 0
"""


def linked_key(prefix: str, customer_id: str) -> str:
    """Return the set of other keys holding this customer's data (calls, chats, handoffs).

    `forget` erases every key listed there, so nothing about a customer outlives them.
    """
    return f"{prefix}:c:{{{customer_id}}}:linked"


class UnknownCustomer(LookupError):
    """No customer has this id."""


class ContextStore:
    """Customers, their contact log and the indexes that find them, in one Redis."""

    def __init__(
        self,
        client: redis.Redis,
        clock: Clock | None = None,
        *,
        region: str = "US",
        prefix: str = PREFIX,
    ) -> None:
        self.redis = client
        self.clock = clock or SystemClock()
        self.region = region
        self.prefix = prefix
        self._lookup = client.register_script(_LOOKUP)
        self._record = client.register_script(_RECORD)
        self._upsert = client.register_script(_UPSERT)
        self._unindex = client.register_script(_UNINDEX)

    # -- keys -----------------------------------------------------------------------------

    def customer_key(self, customer_id: str) -> str:
        return f"{self.prefix}:c:{{{customer_id}}}"

    def _keys(self, customer_id: str) -> list[str]:
        base = self.customer_key(customer_id)
        return [base, f"{base}:log", f"{base}:seen"]

    # -- lookups --------------------------------------------------------------------------

    def get(self, customer_id: str) -> Customer | None:
        """Return the customer with this id, or None."""
        return self._find("id", customer_id)

    def lookup_by_phone(self, phone: str) -> Customer | None:
        """Return the customer with this phone (any common format), or None."""
        e164 = try_normalise_phone(phone, self.region)
        return None if e164 is None else self._find("phone", e164)

    def lookup_by_email(self, email: str) -> Customer | None:
        """Return the customer with this email (case does not matter), or None."""
        return self._find("email", email.strip().lower())

    def lookup(self, query: str) -> Customer | None:
        """Return the customer a phone number, an email or an id names, or None."""
        query = query.strip()
        if "@" in query:
            return self.lookup_by_email(query)
        found = self.get(query) if query else None
        if found is None and any(ch.isdigit() for ch in query):
            found = self.lookup_by_phone(query)
        return found

    def _find(self, kind: str, value: str) -> Customer | None:
        if not value:
            return None
        found = self._lookup(args=[kind, value, RECENT_CONTACTS, self.prefix])
        if not found:
            return None
        profile, log = found
        return customer_from_stored(json.loads(profile), [json.loads(c) for c in log])

    # -- writes ---------------------------------------------------------------------------

    def record_contact(self, customer_id: str, contact: Contact) -> bool:
        """Append `contact` to the customer's log; return False if it was already there.

        Idempotent by (channel, ref): a retried webhook never counts twice.
        """
        result = self._record(
            keys=self._keys(customer_id),
            args=[contact.key, json.dumps(contact.to_dict())],
        )
        if result == -1:
            raise UnknownCustomer(customer_id)
        return result == 1

    def new_contact(
        self, channel: str, outcome: str, *, reason: str = "", ref: str = ""
    ) -> Contact:
        """Return a contact stamped with the store's clock."""
        return Contact.from_dict(
            {
                "at": self.clock.now().astimezone(UTC).isoformat(),
                "channel": channel,
                "reason": reason,
                "outcome": outcome,
                "ref": ref,
            },
            "contact",
        )

    def record_unattributed(self, phone: str, contact: Contact) -> bool:
        """Keep a contact from someone we do not know (yet); False if it was already kept.

        No contact is ever dropped for want of a customer record.
        """
        entry = json.dumps({"phone": phone, **contact.to_dict()})
        return bool(self.redis.hsetnx(f"{self.prefix}:contacts:unattributed", contact.key, entry))

    def upsert(self, customers: Iterable[Customer], *, batch: int = 500) -> int:
        """Write these customers (pipelined); return how many contacts were new."""
        added = 0
        pipe = self.redis.pipeline(transaction=False)
        pending = 0
        for customer in customers:
            self._queue_upsert(pipe, customer)
            pending += 1
            if pending >= batch:
                added += sum(pipe.execute())
                pending = 0
        if pending:
            added += sum(pipe.execute())
        return added

    def _queue_upsert(self, pipe: Any, customer: Customer) -> None:
        profile = customer.to_dict()
        del profile["contacts"]
        args: list[Any] = [
            self.prefix,
            customer.id,
            json.dumps(profile),
            json.dumps(list(customer.phones)),
            customer.email,
        ]
        for contact in customer.contacts:
            args += [contact.key, json.dumps(contact.to_dict())]
        self._upsert(keys=self._keys(customer.id), args=args, client=pipe)

    def forget(self, customer_id: str) -> bool:
        """Erase every trace of a customer (record, log, indexes); return False if unknown."""
        existed = bool(
            self._unindex(keys=[self.customer_key(customer_id)], args=[self.prefix, customer_id])
        )
        linked = [k.decode() for k in self.redis.smembers(linked_key(self.prefix, customer_id))]
        if linked:
            self.redis.delete(*linked)
        pattern = _glob_escape(self.customer_key(customer_id)) + "*"
        doomed = list(self.redis.scan_iter(match=pattern, count=1000))
        if doomed:
            self.redis.delete(*doomed)
        return existed or bool(doomed)

    # -- bulk reads -----------------------------------------------------------------------

    def owners(self, phones: Iterable[str], emails: Iterable[str]) -> dict[str, str]:
        """Return {"phone:+1555..." or "email:a@b": customer id} for those already taken."""
        names = [f"phone:{p}" for p in phones] + [f"email:{e}" for e in emails]
        found: dict[str, str] = {}
        for start in range(0, len(names), 5000):
            chunk = names[start : start + 5000]
            values = self.redis.mget([f"{self.prefix}:{name}" for name in chunk])
            found.update({n: v.decode() for n, v in zip(chunk, values, strict=True) if v})
        return found

    def customer_ids(self) -> list[str]:
        """Return every customer id, sorted."""
        return sorted(m.decode() for m in self.redis.sscan_iter(f"{self.prefix}:customers"))

    def export(self, *, batch: int = 500) -> Iterator[Customer]:
        """Yield every customer with the whole contact log, in id order."""
        ids = self.customer_ids()
        for start in range(0, len(ids), batch):
            pipe = self.redis.pipeline(transaction=False)
            for ident in ids[start : start + batch]:
                base = self.customer_key(ident)
                pipe.get(base)
                pipe.lrange(f"{base}:log", 0, -1)
            results = pipe.execute()
            for profile, log in zip(results[::2], results[1::2], strict=True):
                if profile:
                    yield customer_from_stored(json.loads(profile), [json.loads(c) for c in log])

    def ping(self) -> bool:
        """Return True when Redis answers."""
        try:
            return bool(self.redis.ping())
        except redis.RedisError:
            return False


def customer_from_stored(profile: dict[str, Any], log: list[dict[str, Any]]) -> Customer:
    """Rebuild a customer from what the store wrote (already validated; no re-parsing)."""
    try:
        plan = profile.get("plan") or {}
        return Customer(
            id=profile["id"],
            name=profile["name"],
            phones=tuple(profile.get("phones") or ()),
            email=profile.get("email") or "",
            plan=Plan(
                name=plan.get("name", ""),
                status=plan.get("status", "none"),
                started_at=_time(plan.get("started_at")),
            )
            if plan
            else NO_PLAN,
            cancellations=tuple(
                sorted(
                    (
                        Cancellation(c["plan"], _at(c), c.get("reason", ""), c["by"])
                        for c in profile.get("cancellations") or ()
                    ),
                    key=lambda c: c.at,
                )
            ),
            contacts=tuple(
                sorted(
                    (
                        Contact(
                            _at(c),
                            c["channel"],
                            c.get("reason", ""),
                            c["outcome"],
                            c.get("ref", ""),
                        )
                        for c in log
                    ),
                    key=lambda c: c.at,
                )
            ),
            appointments=tuple(
                sorted(
                    (
                        Appointment(_at(a), a.get("kind", "call"), a["status"])
                        for a in profile.get("appointments") or ()
                    ),
                    key=lambda a: a.at,
                )
            ),
            flags=frozenset(profile.get("flags") or ()),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordError("", f"stored record is damaged: {exc}") from exc


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _at(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(item["at"].replace("Z", "+00:00"))


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)
