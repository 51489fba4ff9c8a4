"""The store against a real redis-server: lookups, the contact log, forgetting."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from support.builders import record

from presszero.context.conversations import ConversationStore
from presszero.context.models import Customer, RecordError
from presszero.context.store import LANGUAGE_TTL, ContextStore, UnknownCustomer


class CountingConnection(redis.Connection):
    """A connection that counts the requests it sends: one per round trip."""

    sent = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sent += 1
        super().send_packed_command(command, check_health)


@pytest.fixture
def counted_store(redis_server: Any, store: ContextStore) -> ContextStore:
    pool = redis.ConnectionPool(
        connection_class=CountingConnection, host="127.0.0.1", port=redis_server.port
    )
    return ContextStore(redis.Redis(connection_pool=pool))


def put(store: ContextStore, **changes: Any) -> Customer:
    customer = Customer.from_dict(record(**changes))
    store.upsert([customer])
    return customer


@pytest.mark.parametrize(
    ("how", "query"),
    [
        ("id", "cus_2001"),
        ("phone", "+15550102001"),
        ("phone", "(555) 010-2001"),
        ("phone", "555.010.2001"),
        ("email", "ROBIN@example.com "),
        ("any", "cus_2001"),
        ("any", "555-010-2001"),
        ("any", "robin@example.com"),
    ],
)
def test_a_customer_is_found_by_id_phone_or_email(store: ContextStore, how: str, query: str):
    put(store, contacts=[{"at": "2026-11-20T10:00:00Z", "channel": "voice", "outcome": "handoff"}])
    find = {
        "id": store.get,
        "phone": store.lookup_by_phone,
        "email": store.lookup_by_email,
        "any": store.lookup,
    }[how]
    found = find(query)
    assert found is not None
    assert found.name == "Robin Hale"
    assert found.plan.status == "active"
    assert len(found.contacts) == 1


@pytest.mark.parametrize("query", ["cus_9999", "+15550109999", "nobody@example.com", "", "zzz"])
def test_unknown_people_are_none(store: ContextStore, query: str):
    put(store)
    assert store.lookup(query) is None


@pytest.mark.parametrize(
    "lookup",
    [
        lambda s: s.get("cus_2001"),
        lambda s: s.lookup_by_phone("(555) 010-2001"),
        lambda s: s.lookup_by_email("robin@example.com"),
    ],
)
def test_each_lookup_is_one_round_trip(counted_store: ContextStore, lookup: Any):
    put(
        counted_store,
        contacts=[{"at": "2026-11-20T10:00:00Z", "channel": "voice", "outcome": "handoff"}],
    )
    assert lookup(counted_store) is not None  # loads the script on first use
    CountingConnection.sent = 0
    assert lookup(counted_store) is not None
    assert CountingConnection.sent == 1


def test_recording_the_same_contact_twice_counts_it_once(store: ContextStore):
    put(store)
    contact = store.new_contact("voice", "handoff", reason="billing", ref="CA42")
    assert store.record_contact("cus_2001", contact) is True
    assert store.record_contact("cus_2001", contact) is False
    retried = store.new_contact("voice", "handoff", reason="billing", ref="CA42")
    assert store.record_contact("cus_2001", retried) is False
    other = store.new_contact("chat", "handoff", reason="billing", ref="CA42")
    assert store.record_contact("cus_2001", other) is True
    found = store.get("cus_2001")
    assert found is not None
    assert [(c.channel, c.ref) for c in found.contacts] == [("voice", "CA42"), ("chat", "CA42")]


def test_recording_a_contact_for_an_unknown_customer_is_an_error(store: ContextStore):
    with pytest.raises(UnknownCustomer):
        store.record_contact("cus_404", store.new_contact("voice", "resolved", ref="CA1"))
    assert store.redis.keys("*") == []


def test_an_upsert_moves_the_indexes_with_the_new_phone_and_email(store: ContextStore):
    put(store)
    put(store, phones=["+15550102999"], email="new@example.com")
    assert store.lookup_by_phone("+15550102001") is None
    assert store.lookup_by_email("robin@example.com") is None
    assert store.lookup_by_phone("+15550102999") is not None
    assert store.lookup_by_email("new@example.com") is not None


def test_an_upsert_keeps_contacts_recorded_since_the_last_import(store: ContextStore):
    put(store)
    store.record_contact("cus_2001", store.new_contact("voice", "handoff", ref="CA7"))
    put(store, name="Robin Hale-Smith")
    found = store.get("cus_2001")
    assert found is not None
    assert found.name == "Robin Hale-Smith"
    assert [c.ref for c in found.contacts] == ["CA7"]


def test_forget_leaves_no_trace_of_the_customer(store: ContextStore):
    put(store, contacts=[{"at": "2026-11-20T10:00:00Z", "channel": "voice", "outcome": "handoff"}])
    put(store, id="cus_2002", name="Other Person", phones=["+15550102002"], email="o@example.com")
    store.record_contact("cus_2001", store.new_contact("chat", "resolved", ref="s-9"))
    assert store.forget("cus_2001") is True
    leftovers = []
    for key in store.redis.scan_iter("*"):
        dump = store.redis.dump(key) or b""
        if any(s in key or s in dump for s in (b"cus_2001", b"5550102001", b"robin@")):
            leftovers.append(key)
    assert leftovers == []
    assert store.get("cus_2002") is not None
    assert store.customer_ids() == ["cus_2002"]
    assert store.forget("cus_2001") is False


def test_export_returns_every_customer_with_the_whole_log(store: ContextStore):
    put(store)
    put(store, id="cus_2000", name="First", phones=[], email="")
    for i in range(250):  # more than a lookup returns
        store.record_contact("cus_2001", store.new_contact("voice", "resolved", ref=f"CA{i}"))
    exported = list(store.export())
    assert [c.id for c in exported] == ["cus_2000", "cus_2001"]
    assert len(exported[1].contacts) == 250
    found = store.get("cus_2001")
    assert found is not None
    assert len(found.contacts) == 200


# -- the language a customer speaks ------------------------------------------------------

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def test_a_customer_s_language_is_stored_and_read_back(store: ContextStore):
    put(store, language="es-US")
    found = store.lookup_by_phone("+15550102001")
    assert found is not None
    assert found.language == "es-US"
    assert store.known_language(found, "+15550102001") == "es-US"


def test_a_language_chosen_by_a_customer_goes_on_their_record(store: ContextStore):
    put(store, contacts=[{"at": "2026-11-20T10:00:00Z", "channel": "voice", "outcome": "handoff"}])
    assert store.remember_language("cus_2001", "+15550102001", "es-us", NOW) is True
    found = store.get("cus_2001")
    assert found is not None
    assert (found.language, found.name, len(found.contacts)) == ("es-US", "Robin Hale", 1)
    assert store.redis.get(store.language_key("+15550102001")) is None  # on the record only


def test_a_language_chosen_by_an_unknown_caller_is_remembered_for_their_phone(
    store: ContextStore,
):
    assert store.known_language(None, "(555) 010-9999") == ""
    assert store.remember_language(None, "(555) 010-9999", "es-US", NOW) is True
    assert store.known_language(None, "+15550109999") == "es-US"
    assert store.known_language(None, "+15550108888") == ""
    left = store.redis.ttl(store.language_key("+15550109999"))
    assert abs(time.time() + left - (NOW + LANGUAGE_TTL).timestamp()) < 5
    assert timedelta(days=365) <= LANGUAGE_TTL


def test_a_withheld_number_has_no_language_to_remember(store: ContextStore):
    assert store.remember_language(None, "anonymous", "es-US", NOW) is False
    assert list(store.redis.scan_iter("pz:lang:*")) == []


def test_a_customer_s_own_language_wins_over_their_phone_s(store: ContextStore):
    store.remember_language(None, "+15550102001", "es-US", NOW)  # before they were a customer
    english = put(store, language="en-US")
    assert store.known_language(english, "+15550102001") == "en-US"
    unsaid = put(store, language=...)
    assert store.known_language(unsaid, "+15550102001") == "es-US"


@pytest.mark.parametrize("language", ["fr-FR", "spanish", ""])
def test_only_a_language_presszero_speaks_is_remembered(store: ContextStore, language: str):
    put(store)
    with pytest.raises(RecordError):
        store.remember_language("cus_2001", "+15550102001", language, NOW)
    found = store.get("cus_2001")
    assert found is not None
    assert found.language == ""


def test_a_language_chosen_is_not_lost_to_a_write_of_the_record_meanwhile(store: ContextStore):
    put(store)
    key = store.customer_key("cus_2001")
    other = redis.Redis(connection_pool=store.redis.connection_pool)
    real_get = redis.client.Pipeline.get
    raced: list[bool] = []

    def get_then_import(self: Any, name: Any) -> Any:
        value = real_get(self, name)
        if not raced:  # an import lands between the read and the write, once
            raced.append(True)
            ContextStore(other).upsert([Customer.from_dict(record(name="Robin Q. Hale"))])
        return value

    redis.client.Pipeline.get = get_then_import  # type: ignore[method-assign]
    try:
        store.remember_language("cus_2001", "+15550102001", "es-US", NOW)
    finally:
        redis.client.Pipeline.get = real_get  # type: ignore[method-assign]
    assert raced == [True]
    profile = json.loads(store.redis.get(key) or b"{}")
    assert (profile["name"], profile["language"]) == ("Robin Q. Hale", "es-US")


def test_an_import_that_does_not_name_a_language_keeps_the_one_chosen(store: ContextStore):
    put(store)
    store.remember_language("cus_2001", "+15550102001", "es-US", NOW)
    put(store, name="Robin Q. Hale")  # the nightly import from a system that does not know it
    found = store.get("cus_2001")
    assert found is not None
    assert (found.name, found.language) == ("Robin Q. Hale", "es-US")
    put(store, language="en-US")  # one that does know it says so
    assert store.known_language(store.get("cus_2001"), "") == "en-US"


@pytest.mark.parametrize("how", ["customer", "phone"])
def test_the_turn_reads_the_known_language_in_its_one_round_trip(
    counted_store: ContextStore, how: str
):
    if how == "customer":
        put(counted_store, language="es-US")
    else:
        counted_store.remember_language(None, "+15550102001", "es-US", NOW)
    conversations = ConversationStore(counted_store.redis)
    conversations.load_beside(counted_store, "phone", "+15550102001", "voice", "CA0")  # script
    CountingConnection.sent = 0
    turn, customer = conversations.load_beside(
        counted_store, "phone", "+15550102001", "voice", "CA1"
    )
    assert CountingConnection.sent == 1
    assert turn.known_language == "es-US"
    assert (customer is not None) == (how == "customer")
    pipe = counted_store.redis.pipeline(transaction=False)
    read = conversations.queue_load(pipe, "voice", "CA2", (counted_store, "phone", "5550102001"))
    turn, _ = read(pipe.execute())
    assert turn.known_language == "es-US"


def test_a_caller_we_know_nothing_of_has_no_known_language(store: ContextStore):
    put(store)
    turn, customer = ConversationStore(store.redis).load_beside(
        store, "phone", "+15550102001", "voice", "CA1"
    )
    assert customer is not None
    assert turn.known_language == ""
