"""Time a JSONL import of N customers into a fresh real Redis, and what they cost in memory.

python bench/import_bench.py [--customers 100000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import redis

from presszero.context.embedded import EmbeddedRedis, free_port
from presszero.context.importer import import_customers
from presszero.context.store import ContextStore


def write_customers(path: Path, count: int) -> None:
    statuses = ["active", "active", "active", "cancelled", "pending", "suspended"]
    with path.open("w") as out:
        for i in range(count):
            record = {
                "id": f"cus_{i:07d}",
                "name": f"Customer Number{i}",
                "phones": [f"+1555{i:07d}"],
                "email": f"c{i}@example.com",
                "plan": {"name": "Silver Health", "status": statuses[i % len(statuses)],
                         "started_at": "2025-01-01T00:00:00Z"},
                "contacts": [{"at": "2026-11-20T10:00:00Z", "channel": "voice",
                              "reason": "billing", "outcome": "resolved"}] if i % 3 == 0 else [],
                "flags": ["vip"] if i % 50 == 0 else [],
            }  # fmt: skip
            out.write(json.dumps(record) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customers.jsonl"
        write_customers(path, args.customers)
        size = path.stat().st_size
        server = EmbeddedRedis(Path(tmp) / "redis", port=free_port())
        server.start()
        try:
            client = redis.Redis.from_url(server.url)
            store = ContextStore(client)
            used_before = client.info("memory")["used_memory"]
            started = time.perf_counter()
            with path.open("rb") as stream:
                result = import_customers(store, stream, source=str(path))
            first = time.perf_counter() - started
            started = time.perf_counter()
            with path.open("rb") as stream:
                import_customers(store, stream, source=str(path))
            again = time.perf_counter() - started
            used = client.info("memory")["used_memory"] - used_before
            sample = sum(
                client.memory_usage(k) or 0
                for k in (store.customer_key("cus_0000003"), "pz:phone:+15550000003",
                          "pz:email:c3@example.com", store.customer_key("cus_0000003") + ":log",
                          store.customer_key("cus_0000003") + ":seen")
            )  # fmt: skip
            t0 = time.perf_counter()
            for i in range(2000):
                store.lookup_by_phone(f"+1555{i * 37 % args.customers:07d}")
            lookup_us = (time.perf_counter() - t0) / 2000 * 1e6
        finally:
            server.stop()
    print(f"customers:            {result.customers} ({size / 1e6:.1f} MB of JSONL)")
    print(f"first import:         {first:.1f} s ({result.customers / first:,.0f} customers/s)")
    print(f"re-import (no-op):    {again:.1f} s")
    print(f"redis memory:         {used / result.customers:,.0f} bytes per customer (used_memory)")
    print(f"one customer's keys:  {sample:,} bytes (MEMORY USAGE, with one contact)")
    print(f"lookup by phone:      {lookup_us:.0f} us per lookup (one round trip, loopback)")


if __name__ == "__main__":
    main()
