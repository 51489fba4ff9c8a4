"""The demo customers of the spec, with times relative to `now`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .forget import unlist_missing_handoffs
from .models import Customer, format_time
from .store import ContextStore

DEMO_IDS = ("cus_1001", "cus_1002", "cus_1003", "cus_1004", "cus_1005", "cus_1006")


def demo_records(now: datetime) -> list[dict[str, Any]]:
    """Return the six demo customers as JSONL records, their history relative to `now`."""

    def ago(**delta: float) -> str:
        return format_time(now - timedelta(**delta))

    def plan(name: str, status: str = "active") -> dict[str, str]:
        return {"name": name, "status": status, "started_at": ago(days=400)}

    return [
        {
            "id": "cus_1001",
            "language": "en-US",
            "name": "Ana Lima",
            "phones": ["+15550100001"],
            "email": "ana@example.com",
            "plan": plan("Gold Health"),
            "contacts": [
                {"at": ago(days=45), "channel": "chat", "reason": "billing", "outcome": "resolved"}
            ],
        },
        {
            "id": "cus_1002",
            "language": "en-US",
            "name": "Dana Reyes",
            "phones": ["+15550100002"],
            "email": "dana@example.com",
            "plan": plan("Silver Health", "cancelled"),
            "cancellations": [
                {
                    "plan": "Silver Health",
                    "at": ago(days=3),
                    "reason": "non-payment",
                    "by": "company",
                }
            ],
        },
        {
            "id": "cus_1003",
            "language": "en-US",
            "name": "Sam Okafor",
            "phones": ["+15550100003"],
            "email": "sam@example.com",
            "plan": plan("Bronze Health"),
            "appointments": [{"at": ago(days=1), "kind": "call", "status": "missed"}],
            "contacts": [
                {
                    "at": ago(days=1),
                    "channel": "voice",
                    "reason": "scheduled call",
                    "outcome": "missed",
                }
            ],
        },
        {
            "id": "cus_1004",
            "language": "en-US",
            "name": "Lee Chen",
            "phones": ["+15550100004"],
            "email": "lee@example.com",
            "plan": plan("Gold Health"),
            "contacts": [
                {
                    "at": ago(hours=40),
                    "channel": "voice",
                    "reason": "claim",
                    "outcome": "abandoned",
                },
                {"at": ago(hours=20), "channel": "chat", "reason": "claim", "outcome": "handoff"},
            ],
        },
        {
            "id": "cus_1005",
            "language": "en-US",
            "name": "Kim Park",
            "phones": ["+15550100005"],
            "email": "kim@example.com",
            "plan": plan("Platinum Health"),
            "flags": ["vip"],
        },
        {
            "id": "cus_1006",
            "name": "Lucía Gómez",
            "phones": ["+15550100006"],
            "email": "lucia@example.com",
            "plan": plan("Gold Health"),
            "language": "es-US",  # hears Spanish first; the agent is told she speaks it
        },
    ]


def load_demo(store: ContextStore) -> list[Customer]:
    """Replace the demo customers with fresh copies dated from the store's clock."""
    customers = [Customer.from_dict(r) for r in demo_records(store.clock.now())]
    for customer in customers:
        store.forget(customer.id)  # their calls and chats go too: so must the lists naming them
    unlist_missing_handoffs(store.redis, store.prefix)
    store.upsert(customers)
    return customers
