"""The customer-context store on Redis.

Every key of one customer carries the customer id as a hash tag (`pz:c:{cus_1002}`), so a
customer's keys live together on one Redis Cluster slot. On one Redis a lookup is one round
trip: a server-side script resolves phone or email to the id and returns the profile and the
recent contact log together. On a cluster the phone or email index lives in another slot, so
a lookup by phone or email reads the index first (two round trips), and an import writes each
customer's keys and the index entries separately.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from . import scripts
from .clock import Clock, SystemClock
from .connect import REDIS_ERRORS, RedisClient, is_cluster, mget, run_script, text
from .models import Contact, Customer, normalise_language
from .phones import try_normalise_phone
from .stored import customer_from_stored

PREFIX = "pz"
RECENT_CONTACTS = 200  # how much of the log a lookup returns; older entries stay stored
# How long the language an unknown caller chose is remembered for their phone number
# (`pz:lang:<E164>`): a year and a bit, so a yearly caller still hears their language.
LANGUAGE_TTL = timedelta(days=400)


def linked_key(prefix: str, customer_id: str) -> str:
    """Return the set of other keys holding this customer's data (calls, chats, handoffs).

    `forget` erases every key listed there, so nothing about a customer outlives them.
    """
    return f"{prefix}:c:{{{customer_id}}}:linked"


def queue_link(client: Any, prefix: str, customer_id: str, keys: list[str], until: float) -> None:
    """Queue: list `keys` as this customer's until `until` (unix time), and drop what expired.

    A sorted set scored by when each key expires, so a customer with years of calls does not
    keep years of names of keys Redis has long since expired.
    """
    linked = linked_key(prefix, customer_id)
    client.zadd(linked, dict.fromkeys(keys, until))
    client.zremrangebyscore(linked, "-inf", time.time())


# What find_beside returns: the customer (or None), the hash's fields, and the language the
# customer is known to speak (their record's, or the one last chosen from the phone; "").
Beside = tuple[Customer | None, list[bytes | str | None], str]


class UnknownCustomer(LookupError):
    """No customer has this id."""


class ContextStore:
    """Customers, their contact log and the indexes that find them, in Redis or a cluster."""

    def __init__(
        self,
        client: RedisClient,
        clock: Clock | None = None,
        *,
        region: str = "US",
        prefix: str = PREFIX,
    ) -> None:
        self.redis = client
        self.clock = clock or SystemClock()
        self.region = region
        self.prefix = prefix
        self.cluster = is_cluster(client)
        self._lookup = client.register_script(scripts.LOOKUP)
        self._lookup_beside = client.register_script(scripts.LOOKUP_BESIDE)
        self._record = client.register_script(scripts.RECORD)
        self._amend = client.register_script(scripts.AMEND)
        self._upsert = client.register_script(scripts.UPSERT)
        self._unindex = client.register_script(scripts.UNINDEX)
        self._save = client.register_script(scripts.SAVE)
        self._drop_index = client.register_script(scripts.DROP_INDEX)

    # -- keys -----------------------------------------------------------------------------

    def customer_key(self, customer_id: str) -> str:
        return f"{self.prefix}:c:{{{customer_id}}}"

    def _keys(self, customer_id: str) -> list[str]:
        base = self.customer_key(customer_id)
        return [base, f"{base}:log", f"{base}:seen"]

    def _index_key(self, kind: str, value: str) -> str:
        return f"{self.prefix}:{kind}:{value}"

    def language_key(self, e164: str) -> str:
        """Return the key of the language last chosen from this phone by a caller we do
        not know (LANGUAGE_TTL after the choice, it is gone)."""
        return f"{self.prefix}:lang:{e164}"

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
        try:
            query.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no one's id, phone or email
            return None
        if "@" in query:
            return self.lookup_by_email(query)
        found = self.get(query) if query else None
        if found is None and any(ch.isdigit() for ch in query):
            found = self.lookup_by_phone(query)
        return found

    def _find(self, kind: str, value: str) -> Customer | None:
        if not value:
            return None
        if kind != "id" and self.cluster:
            # The index entry lives in another slot than the customer: read it first.
            owner = self.redis.get(self._index_key(kind, value))
            if owner is None:
                return None
            kind, value = "id", text(owner)
        keys = self._keys(value)[:2] if kind == "id" else []
        found = run_script(self._lookup, keys, [kind, value, RECENT_CONTACTS, self.prefix])
        return _customer(found) if found else None

    def find_beside(self, kind: str, value: str, key: str, fields: Sequence[str]) -> Beside:
        """Return the customer found by `kind` (id, phone, email), `fields` of hash `key`, and
        the language the customer is known to speak (see known_language).

        One round trip on one Redis, where a script may read all three; on a cluster the hash
        and the phone's language live on other slots, so they are read on their own. An
        unusable `value` finds no one.
        """
        value = self._searchable(kind, value)
        if not value or self.cluster:
            customer = self._find(kind, value)
            language = self._known(customer, value if kind == "phone" else "")
            return customer, self.redis.hmget(key, list(fields)), language
        found = self._lookup_beside(keys=[key], args=self._beside_args(kind, value, fields))
        return _found_beside(found)

    def queue_find_beside(
        self, pipe: Any, kind: str, value: str, key: str, fields: Sequence[str]
    ) -> Callable[[Any], Beside]:
        """Queue `find_beside` on `pipe`; return what reads its reply into its answer.

        On a cluster only the hash is queued; the lookup is made when the reply is read.
        """
        value = self._searchable(kind, value)
        if not value or self.cluster:
            pipe.hmget(key, list(fields))

            def read(values: Any) -> Beside:
                customer = self._find(kind, value)
                return customer, values, self._known(customer, value if kind == "phone" else "")

            return read
        run_script(self._lookup_beside, [key], self._beside_args(kind, value, fields), pipe)
        return _found_beside

    def _searchable(self, kind: str, value: str) -> str:
        if kind == "phone":
            return try_normalise_phone(value, self.region) or ""
        return value.strip().lower() if kind == "email" else value

    def _beside_args(self, kind: str, value: str, fields: Sequence[str]) -> list[Any]:
        return [kind, value, RECENT_CONTACTS, self.prefix, *fields]

    def known_language(self, customer: Customer | None, phone: str) -> str:
        """Return the language this caller is known to speak: their record's, else the one
        last chosen from `phone` (any common format), else ""."""
        if customer is not None and customer.language:
            return customer.language
        return self._known(None, try_normalise_phone(phone, self.region) or "")

    def _known(self, customer: Customer | None, e164: str) -> str:
        if customer is not None and customer.language:
            return customer.language
        raw = self.redis.get(self.language_key(e164)) if e164 else None
        return text(raw) if raw else ""

    # -- writes ---------------------------------------------------------------------------

    def remember_language(
        self, customer_id: str | None, phone: str, language: str, now: datetime
    ) -> bool:
        """Remember the language a caller chose: on their record when they are a customer,
        else for their phone number until LANGUAGE_TTL from `now`. Return False when there is
        no one to remember it for (no customer and no usable number).

        The record is changed where it stands (watched, worked out again if an import or
        another turn wrote it meanwhile), so nothing written beside it is lost.
        """
        language = normalise_language(language, "language")
        if customer_id and self._set_language(customer_id, language):
            return True
        e164 = try_normalise_phone(phone, self.region)
        if e164 is None:
            return False
        until = int((now + LANGUAGE_TTL).timestamp())
        self.redis.set(self.language_key(e164), language, exat=until)
        return True

    def _set_language(self, customer_id: str, language: str) -> bool:
        """Set `language` on the customer's stored profile; False when there is none."""
        key = self.customer_key(customer_id)
        with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    if not raw:
                        pipe.unwatch()
                        return False
                    profile = json.loads(raw)
                    if profile.get("language") == language:
                        pipe.unwatch()
                        return True
                    profile["language"] = language
                    pipe.multi()
                    pipe.set(key, json.dumps(profile))
                    pipe.execute()
                    return True
                except redis.WatchError:
                    continue

    def record_contact(self, customer_id: str, contact: Contact) -> bool:
        """Append `contact` to the customer's log; return False if it was already there.

        Idempotent by (channel, ref): a retried webhook never counts twice.
        """
        result: int = self._record(
            keys=self._keys(customer_id),
            args=[contact.key, json.dumps(contact.to_dict())],
        )
        if result == -1:
            raise UnknownCustomer(customer_id)
        return result == 1

    def amend_contact(self, customer_id: str, channel: str, ref: str, words: str) -> bool:
        """Add `words` to the reason of the customer's contact with this channel and ref (the
        customer's rating of a chat, say, belongs to that chat, not to a contact of its own);
        return False when no such contact is in their recent log."""
        log = self._keys(customer_id)[1]
        return bool(run_script(self._amend, [log], [channel, ref, words, RECENT_CONTACTS]))

    def new_contact(
        self,
        channel: str,
        outcome: str,
        *,
        reason: str = "",
        ref: str = "",
        at: str | None = None,
        by: str = "",
    ) -> Contact:
        """Return a contact stamped with the store's clock (or with `at`, an ISO time);
        `by` "company" for one we started (unset: the record's default, see Contact.by)."""
        record = {
            "at": at or self.clock.now().astimezone(UTC).isoformat(),
            "channel": channel,
            "reason": reason,
            "outcome": outcome,
            "ref": ref,
        }
        return Contact.from_dict({**record, "by": by} if by else record, "contact")

    def record_unattributed(self, phone: str, contact: Contact) -> bool:
        """Keep a contact from someone we do not know (yet); False if it was already kept.

        No contact is ever dropped for want of a customer record.
        """
        entry = json.dumps({"phone": phone, **contact.to_dict()})
        return bool(self.redis.hsetnx(f"{self.prefix}:contacts:unattributed", contact.key, entry))

    def upsert(self, customers: Iterable[Customer], *, batch: int = 500) -> int:
        """Write these customers (pipelined); return how many contacts were new."""
        added = 0
        pending: list[Customer] = []
        for customer in customers:
            pending.append(customer)
            if len(pending) >= batch:
                added += self._write(pending)
                pending = []
        if pending:
            added += self._write(pending)
        return added

    def _write(self, customers: Sequence[Customer]) -> int:
        pipe = self.redis.pipeline(transaction=False)
        if not self.cluster:  # one script per customer keeps record and indexes in step
            for customer in customers:
                self._upsert(
                    keys=self._keys(customer.id),
                    args=[self.prefix, customer.id, *_profile_args(customer)],
                    client=pipe,
                )
            return sum(pipe.execute())
        # On a cluster: each customer's own keys first, then the index entries (other slots).
        for customer in customers:
            profile, _, _, *contacts = _profile_args(customer)
            run_script(self._save, self._keys(customer.id), [profile, *contacts], pipe)
        saved = pipe.execute()
        for customer, (_, replaced) in zip(customers, saved, strict=True):
            self._queue_reindex(pipe, customer.id, replaced, customer)
        pipe.execute()
        return sum(added for added, _ in saved)

    def _queue_reindex(
        self, pipe: Any, customer_id: str, replaced: bytes | str | None, customer: Customer | None
    ) -> None:
        """Queue the index changes from the `replaced` profile to `customer` (None: forgotten)."""
        old = json.loads(replaced) if replaced else {}
        stale = {self._index_key("phone", p) for p in old.get("phones") or ()}
        if old.get("email"):
            stale.add(self._index_key("email", old["email"]))
        if customer is None:
            pipe.srem(f"{self.prefix}:customers", customer_id)
            current: set[str] = set()
        else:
            current = {self._index_key("phone", p) for p in customer.phones}
            if customer.email:
                current.add(self._index_key("email", customer.email))
            pipe.sadd(f"{self.prefix}:customers", customer_id)
        for key in sorted(stale - current):  # only if no one else has taken it since
            run_script(self._drop_index, [key], [customer_id], pipe)
        for key in sorted(current):
            pipe.set(key, customer_id)

    def forget(self, customer_id: str) -> bool:
        """Erase every trace of a customer (record, log, indexes); return False if unknown."""
        if self.cluster:
            profile = self.redis.get(self.customer_key(customer_id))
            pipe = self.redis.pipeline(transaction=False)
            self._queue_reindex(pipe, customer_id, profile, None)
            pipe.execute()
            existed = profile is not None
        else:
            existed = bool(
                self._unindex(
                    keys=[self.customer_key(customer_id)], args=[self.prefix, customer_id]
                )
            )
        linked = [text(k) for k in self.redis.zrange(linked_key(self.prefix, customer_id), 0, -1)]
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
            values = mget(self.redis, [f"{self.prefix}:{name}" for name in chunk])
            found.update({n: text(v) for n, v in zip(chunk, values, strict=True) if v})
        return found

    def customer_ids(self) -> list[str]:
        """Return every customer id, sorted."""
        return sorted(text(m) for m in self.redis.sscan_iter(f"{self.prefix}:customers"))

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
        except REDIS_ERRORS:
            return False


def _profile_args(customer: Customer) -> list[Any]:
    """Return profile json, phones json, email, then (contact key, contact json) pairs."""
    profile = customer.to_dict()
    del profile["contacts"]
    args: list[Any] = [json.dumps(profile), json.dumps(list(customer.phones)), customer.email]
    for contact in customer.contacts:
        args += [contact.key, json.dumps(contact.to_dict())]
    return args


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def _found_beside(found: list[Any]) -> Beside:
    """Return (customer or None, the hash's fields, known language) from LOOKUP_BESIDE's
    reply."""
    customer = _customer(found[2:]) if len(found) > 2 else None
    if customer is not None and customer.language:
        return customer, found[0], customer.language
    return customer, found[0], text(found[1]) if found[1] else ""


def _customer(found: Sequence[Any]) -> Customer:
    """Return the customer from a lookup script's (profile, log)."""
    profile, log = found
    return customer_from_stored(json.loads(profile), [json.loads(c) for c in log])
