"""Forgetting a customer: every record that names them, then the files Redis keeps on disk.

A customer's own keys (record, log, indexes, and the calls and chats linked to them) go with
`ContextStore.forget`. Whatever else may name them is found by reading it: a call or chat from
before they were a customer, a chat where they typed their email, an unattributed contact from
their phone, the language chosen from their phone, a handoff or a callback owed, an
analytics event. A conversation's keys share its
hash tag (`pz:conv:{voice:CA1}`, `pz:handoff:{voice:CA1}`, `pz:callback:{voice:CA1}`), so when
one of them names the customer, all of them go. Then the append-only file is rewritten, so its
old copies of them leave the disk too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from typing import Any, cast

import phonenumbers
import redis

from .callbacks import callbacks_index, handoffs_index
from .connect import RedisClient, is_cluster, mget, text
from .events import STREAM
from .handoffs import HandoffStore
from .phones import try_normalise_phone
from .store import PREFIX, ContextStore, linked_key

# Key families a conversation owns, each `{prefix}:{family}:{channel:id}...`.
CONVERSATION_FAMILIES = ("conv", "handoff", "callback", "agentcall")
_TAGGED = re.compile(r"^[^:]+:([^:{]+):\{([^}]*)\}")
_PHONE_LIKE = re.compile(r"\+?\d[\d ().-]{5,20}\d")
BATCH = 1000


class RewriteFailed(RuntimeError):
    """Redis did not rewrite its append-only file: old copies may still be on disk."""


class Traces:
    """What names one customer: their id, their phones (in common formats) and their email."""

    def __init__(self, customer_id: str, phones: Iterable[str], email: str, region: str) -> None:
        self.region = region
        self.phones = frozenset(phones)
        words = [re.escape(email)] if email else []
        for phone in self.phones:  # as stored (+15550100002) and as said (5550100002)
            words += [re.escape(phone), re.escape(_national(phone) or phone)]
        # An id may be as short as "7": it names them only where a record says whose it is.
        exact = [r"\"(?:customer_)?id\": ?\"" + re.escape(customer_id) + r"\""]
        if words:
            exact.append(r"(?<![\w.+@-])(?:" + "|".join(words) + r")(?![\w@-]|\.\w)")
        self._exact = re.compile("|".join(exact), re.I)

    def named_in(self, raw: str | bytes) -> bool:
        """Return True when `raw` names the customer."""
        value = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if self._exact.search(value):
            return True
        return any(
            try_normalise_phone(found.group(), self.region) in self.phones
            for found in _PHONE_LIKE.finditer(value)
        ) if self.phones else False  # fmt: skip


def _national(phone: str) -> str:
    try:
        return phonenumbers.national_significant_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        return ""


def forget_customer(store: ContextStore, customer_id: str, *, rewrite: bool = True) -> bool:
    """Erase every record that names a customer, then rewrite the files Redis keeps on disk.

    Return False when nothing named them. Raise RewriteFailed when Redis would not rewrite.
    """
    customer = store.get(customer_id)
    phones = customer.phones if customer else ()
    traces = Traces(customer_id, phones, customer.email if customer else "", store.region)
    tags = _tags_of(store, customer_id)  # read before their own keys go
    existed = store.forget(customer_id)
    # The language chosen from their phones (before they were a customer, or by someone
    # else on that phone since): it names their number, so it goes too.
    chosen = 0
    for phone in phones:
        chosen += int(store.redis.delete(store.language_key(phone)))
    erased = erase_traces(store.redis, traces, store.prefix, tags)
    unlist_missing_handoffs(store.redis, store.prefix)
    if rewrite and (existed or erased or chosen):
        rewrite_files(store.redis)
    return existed or erased + chosen > 0


def erase_traces(
    client: RedisClient, traces: Traces, prefix: str, tags: set[str] | None = None
) -> int:
    """Erase the conversations (`tags`, and any naming the customer) and every entry naming
    them; return how many keys and entries went."""
    doomed_tags = {t for t in tags or () if t}
    by_tag: dict[str, list[str]] = {}
    named_keys: list[str] = []
    for key in _scan(client, f"{prefix}:*"):
        match = _TAGGED.match(key)
        if match and match.group(1) in CONVERSATION_FAMILIES:
            by_tag.setdefault(match.group(2), []).append(key)
        elif match and match.group(1) == "c":
            continue  # customers' own keys: the customer's went with ContextStore.forget
        elif traces.named_in(key):
            named_keys.append(key)  # a rate limit counted by their phone or email, say
    for tag, keys in by_tag.items():
        if tag not in doomed_tags and (
            traces.named_in(tag) or any(traces.named_in(v) for v in _contents(client, keys))
        ):
            doomed_tags.add(tag)
    doomed = named_keys + [k for tag in doomed_tags for k in by_tag.get(tag, ())]
    pipe = client.pipeline(transaction=False)
    for key in doomed:  # one by one: on a cluster they live on many slots
        pipe.delete(key)
    for index in (handoffs_index(prefix), callbacks_index(prefix)):
        members = [text(m) for m in client.zrange(index, 0, -1)]
        gone = [m for m in members if m in doomed_tags or traces.named_in(m)]
        if gone:
            pipe.zrem(index, *gone)
    unattributed = f"{prefix}:contacts:unattributed"
    fields = [
        field
        for field, entry in client.hscan_iter(unattributed, count=BATCH)
        if traces.named_in(field) or traces.named_in(entry)
    ]
    if fields:
        pipe.hdel(unattributed, *fields)
    events = _events_naming(client, traces, {t.partition(":")[2] for t in doomed_tags})
    if events:
        pipe.xdel(STREAM, *events)
    pipe.execute()
    return len(doomed) + len(fields) + len(events)


def unlist_missing_handoffs(client: RedisClient, prefix: str = PREFIX) -> int:
    """Drop from the open-handoff and callback lists every id whose record is gone; return
    how many went (an id there with no record would be a person waiting whom no one sees)."""
    handoffs = HandoffStore(client, prefix=prefix)
    gone = 0
    for index in (handoffs_index(prefix), callbacks_index(prefix)):
        ids = [text(m) for m in client.zrange(index, 0, -1)]
        records = mget(client, [handoffs.key(i) for i in ids]) if ids else []
        missing = [i for i, raw in zip(ids, records, strict=True) if not raw]
        if missing:
            gone += int(client.zrem(index, *missing))
    return gone


def _events_naming(client: RedisClient, traces: Traces, conversations: set[str]) -> list[bytes]:
    """Return the ids of analytics events of these conversations or naming the customer."""
    found: list[bytes] = []
    start = b"-"
    while True:
        entries = cast(
            list[tuple[bytes, dict[bytes, bytes]]], client.xrange(STREAM, start, count=BATCH)
        )
        for entry_id, values in entries:
            conversation = text(values.get(b"conversation", b""))
            if conversation in conversations or any(traces.named_in(v) for v in values.values()):
                found.append(entry_id)
        if len(entries) < BATCH:
            return found
        start = b"(" + entries[-1][0]


def _scan(client: RedisClient, pattern: str) -> Iterator[str]:
    for key in client.scan_iter(match=pattern, count=BATCH):
        yield text(key)


def _contents(client: RedisClient, keys: list[str]) -> Iterator[bytes | str]:
    """Yield every value (and hash field) stored under `keys`."""
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.type(key)
    kinds = [text(kind) for kind in pipe.execute()]
    for key, kind in zip(keys, kinds, strict=True):
        values: Any = []
        if kind == "string":
            values = [client.get(key)]
        elif kind == "hash":
            values = [x for pair in client.hgetall(key).items() for x in pair]
        elif kind == "list":
            values = client.lrange(key, 0, -1)
        elif kind in ("set", "zset"):
            values = client.smembers(key) if kind == "set" else client.zrange(key, 0, -1)
        yield from (v for v in values if v is not None)


def _tags_of(store: ContextStore, customer_id: str) -> set[str]:
    """Return the tags of the conversations and handoffs listed as the customer's."""
    linked = store.redis.zrange(linked_key(store.prefix, customer_id), 0, -1)
    tags = {m.group(2) for k in linked if (m := _TAGGED.match(text(k)))}
    handoffs = HandoffStore(store.redis, prefix=store.prefix).by_customer(customer_id)
    return tags | {text(h) for h in store.redis.smembers(handoffs)}


def rewrite_files(client: RedisClient, timeout: float = 600.0) -> None:
    """Rewrite what Redis keeps on disk (its append-only file, and its snapshot when it takes
    them) and wait until they are done, so erased data leaves the disk too. On a cluster,
    every node's."""
    deadline = time.monotonic() + timeout
    if is_cluster(client):
        cluster = cast(Any, client)
        nodes = [cluster.get_redis_connection(node) for node in cluster.get_nodes()]
    else:
        nodes = [client]
    for node in nodes:
        rewrite_append_only_file(node, deadline)
        try:
            snapshots = any(text(v) for v in node.config_get("save").values())
        except redis.ResponseError:  # CONFIG renamed away (a managed Redis): its own snapshots
            snapshots = False
        if snapshots:
            _run_in_background(node, "bgsave", "rdb_last_bgsave_status", deadline)


def rewrite_append_only_file(client: RedisClient, deadline: float) -> bool:
    """Rewrite Redis's append-only file and wait until it is done; False when AOF is off."""
    if not int(client.info("persistence").get("aof_enabled", 0)):
        return False
    _run_in_background(client, "bgrewriteaof", "aof_last_bgrewrite_status", deadline)
    return True


def _run_in_background(client: RedisClient, command: str, status: str, deadline: float) -> None:
    """Run BGREWRITEAOF or BGSAVE and wait for it to succeed.

    Whatever Redis already writes in the background began before our deletes (and one at a
    time may run): it is waited for, then ours is asked for.
    """
    while True:
        _wait(client, status, deadline, check=False)
        try:
            if command == "bgsave":
                client.bgsave()
            else:
                client.bgrewriteaof()
            break
        except redis.ResponseError as exc:
            if "in progress" not in str(exc):
                raise RewriteFailed(f"Redis refused {command.upper()}: {exc}") from exc
    _wait(client, status, deadline, check=True)


_BUSY = ("aof_rewrite_in_progress", "aof_rewrite_scheduled", "rdb_bgsave_in_progress")


def _wait(client: RedisClient, status: str, deadline: float, *, check: bool) -> None:
    """Wait until Redis writes nothing in the background; with `check`, that it succeeded."""
    while True:
        info = client.info("persistence")
        if not any(int(info.get(name, 0)) for name in _BUSY):
            if check and info[status] != "ok":
                raise RewriteFailed(f"Redis failed to rewrite its files ({status}: {info[status]})")
            return
        if time.monotonic() > deadline:
            raise RewriteFailed("Redis took too long to rewrite its files")
        time.sleep(0.05)
