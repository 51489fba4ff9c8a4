"""What a turn costs: the real app against a bare Flask app, both under gunicorn, loaded by wrk.

bench/run [--quick] [--fsync everysec] [--rounds 3] [--seconds 6] [--profile 10]

Starts a real Redis (append-only file, `appendfsync always` as the app's embedded one), then,
one after the other and alternating, gunicorn with presszero's own settings (one worker,
`presszero.server.GunicornServer`) serving (a) a bare Flask app that answers every request
with the same 258-byte TwiML <Gather>, (b) the real app with the demo customers, and (c) the
floor: the bare app after reading the body and making a turn's two Redis round trips, the
least any turn that reads and writes Redis can cost on this stack. wrk
sends each of them the same requests: for voice, calls from a known customer (Ana, cus_1001),
each a signed `/voice/incoming` then `/voice/turn?t=1` with Digits=1; for chat, a first
message with her signed identity then the menu answer "1". Each wrk thread has one
connection and its own slice of calls, so every request is the next real turn of its call:
every response is checked for the words that turn must say (the billing menu, not the
fail-safe), and the app's own turn counter must match. Then the real app is paced at half its
measured maximum rate, against the target p99 < 15 ms. Loopback only; about 4 minutes
(`--quick`: about a minute).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import platform
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import perfkit
import redis
from perfkit import Plan, Run, free_port, wrk

TARGET_P99_MS = 15.0
TARGET_RATIO = 0.50


class Bench:
    """The Redis, the request files and the servers of one bench run."""

    def __init__(self, work: Path, plan: Plan, redis_url: str) -> None:
        self.work = work
        self.plan = plan
        self.token = "bench-" + secrets.token_hex(16)
        self.chat_secret = "bench-chat-" + secrets.token_hex(16)
        self.ports = {"bare": free_port(), "floor": free_port(), "full": free_port()}
        self.batch = 0
        self.problems: list[str] = []
        self.redis = redis.Redis.from_url(redis_url)
        self.config_file = perfkit.write_config(self, work, redis_url)

    def host(self, kind: str) -> str:
        return f"127.0.0.1:{self.ports[kind]}"

    def requests(self, kind: str, channel: str, total: int) -> Path:
        """Write `total` requests (whole conversations) in one slice per wrk thread."""
        self.batch += 1
        prefix = self.work / f"requests-{self.batch}"
        per_thread = max(total // self.plan.threads // 2 + 1, 1)
        make = perfkit.voice_call if channel == "voice" else perfkit.chat
        for thread in range(self.plan.threads):
            with open(f"{prefix}.{thread}", "wb") as out:
                for i in range(per_thread):
                    ident = f"b{self.batch}t{thread}n{i}"
                    for raw, words in make(self, self.host(kind), ident, bare=kind != "full"):
                        out.write(raw + b"\0" + words.encode() + b"\0")
        return prefix

    def measure(
        self, kind: str, channel: str, seconds: float, budget: float, rate: float = 0.0
    ) -> Run:
        """Start a fresh server of `kind`, warm it up, then load it for `seconds`.

        `budget` is the most requests per second it could take: the real app gets that many
        conversations prepared, so that none is ever replayed.
        """
        loop = kind != "full"  # bare and floor take the same requests again; the real one never
        with perfkit.Server(kind, self.host(kind), self.config_file, self.work) as server:
            warm = self.requests(kind, channel, 1000 if loop else int(budget * self.plan.warmup))
            wrk(server.url, warm, self.plan, self.plan.warmup, rate=rate, loop=loop)
            load = self.requests(kind, channel, 1000 if loop else int(budget * seconds) + 50)
            time.sleep(0.2)  # the warm-up's last requests (one per connection) finish
            before = server.turns(channel)
            cpu, redis_cpu = server.worker_cpu(), perfkit.redis_cpu(self.redis)
            run = wrk(server.url, load, self.plan, seconds, rate=rate, loop=loop)
            cpu, redis_cpu = server.worker_cpu() - cpu, perfkit.redis_cpu(self.redis) - redis_cpu
            after = server.turns(channel)
        run = dataclasses.replace(
            run,
            cpu_us=cpu / max(run.requests, 1) * 1e6,
            redis_us=redis_cpu / max(run.requests, 1) * 1e6,
            turns=after[0] - before[0] if kind == "full" else None,
            failsafes=after[1] - before[1] if kind == "full" else None,
        )
        self.check(kind, channel, run, load)
        return run

    def check(self, kind: str, channel: str, run: Run, prefix: Path) -> None:
        where = f"{channel} {kind}"
        if run.bad or run.errors:
            sample = next(iter(sorted(self.work.glob(f"{prefix.name}.*.bad"))), None)
            shown = sample.read_text(errors="replace")[:300] if sample else ""
            self.problems.append(f"{where}: {run.bad} wrong answers, {run.errors} errors: {shown}")
        if run.exhausted:
            self.problems.append(f"{where}: wrk ran out of prepared calls (raise the budget)")
        # wrk stops with one request per connection in flight: served, but not counted by wrk
        in_flight = self.plan.threads
        if kind == "full" and (run.failsafes or not 0 <= (run.turns or 0) - run.good <= in_flight):
            self.problems.append(
                f"{where}: the app counted {run.turns} turns and {run.failsafes} fail-safes"
                f" for {run.good} good answers"
            )


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1).strip() if found else cpu
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}"


def table(title: str, rows: list[tuple[Run, Run, Run]]) -> tuple[float, float]:
    """Print the rounds of one channel; return the median full rate and full/bare ratio."""
    print(f"\n{title}")
    print("           bare                               full")
    print("  round    req/s  p50 ms  p99 ms  cpu us      req/s  p50 ms  p99 ms  cpu us  redis us"
          "   full/bare")  # fmt: skip

    def line(label: str, bare: list[Run], full: list[Run], ratio: float) -> str:
        b, f = (lambda attr, runs=runs: median([getattr(r, attr) for r in runs])
                for runs in (bare, full))  # fmt: skip
        return (f"  {label:>6} {b('rate'):7,.0f}  {b('p50_ms'):6.2f}  {b('p99_ms'):6.2f}"
                f"  {b('cpu_us'):6,.0f}    {f('rate'):7,.0f}  {f('p50_ms'):6.2f}"
                f"  {f('p99_ms'):6.2f}  {f('cpu_us'):6,.0f}  {f('redis_us'):8,.0f}"
                f"   {ratio:9.2f}")  # fmt: skip

    for number, (bare, full, _) in enumerate(rows, 1):
        print(line(str(number), [bare], [full], full.rate / bare.rate))
    ratio = median([f.rate / b.rate for b, f, _ in rows])
    if len(rows) > 1:
        print(line("median", [b for b, _, _ in rows], [f for _, f, _ in rows], ratio))
    floor = median([fl.rate / b.rate for b, _, fl in rows])
    print(f"  full/bare: {ratio:.2f} (target >= {TARGET_RATIO:.2f})")
    print(f"  floor/bare: {floor:.2f} (the body read and two Redis round trips, nothing else:"
          f" {median([fl.rate for _, _, fl in rows]):,.0f} req/s,"
          f" {median([fl.cpu_us for _, _, fl in rows]):,.0f} us CPU per request)")  # fmt: skip
    return median([f.rate for _, f, _ in rows]), ratio


@contextlib.contextmanager
def work_dir(keep: bool) -> Iterator[str]:
    """Yield a fresh folder for the run; removed afterwards unless `keep`."""
    path = tempfile.mkdtemp(prefix="presszero-perf-")
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


def run(plan: Plan, fsync: str, profile: float, keep: bool) -> int:
    started = time.monotonic()
    with work_dir(keep) as tmp:
        work = Path(tmp)
        with perfkit.redis_with_demo(work, fsync) as (redis_url, version):
            bench = Bench(work, plan, redis_url)
            print(f"presszero perf, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {machine()}")
            busy = os.getloadavg()[0]
            if busy > 1.0:
                print(f"  WARNING: the machine is busy (load average {busy:.1f}): figures are low")
            print(f"  redis-server {version} (appendonly yes, appendfsync {fsync}), loopback TCP;"
                  f" gunicorn {perfkit.gunicorn_version()} as `presszero serve`: 1 worker,"
                  f" {perfkit.worker_settings()}; wrk {plan.threads} threads x 1 connection,"
                  f" {plan.seconds:g} s per run after {plan.warmup:g} s warm-up")  # fmt: skip
            figures: dict[str, tuple[float, float]] = {}
            rows: dict[str, list[tuple[Run, Run, Run]]] = {"voice": [], "chat": []}
            for _ in range(plan.rounds):
                for channel in ("voice", "chat"):
                    bare = bench.measure("bare", channel, plan.seconds, 0)
                    full = bench.measure("full", channel, plan.seconds, bare.rate * 1.3)
                    floor = bench.measure("floor", channel, plan.seconds, 0)
                    rows[channel].append((bare, full, floor))
            figures["voice"] = table(
                "voice: signed /voice/incoming (caller known) + /voice/turn?t=1 Digits=1",
                rows["voice"],
            )
            figures["chat"] = table(
                "chat: POST /webhooks/rest/webhook, first message (signed identity) + menu answer",
                rows["chat"],
            )
            print(
                f"\npaced at half the full app's maximum rate (target p99 < {TARGET_P99_MS:g} ms)"
            )
            late = False
            for channel in ("voice", "chat"):
                rate = figures[channel][0] / 2
                paced = bench.measure("full", channel, plan.paced_seconds, rate * 1.2, rate=rate)
                ok = paced.p99_ms < TARGET_P99_MS
                late |= not ok
                print(f"  {channel:5}  asked {rate:6,.0f} req/s, got {paced.rate:6,.0f}:"
                      f"  p50 {paced.p50_ms:5.2f} ms  p99 {paced.p99_ms:5.2f} ms"
                      f"  {'ok' if ok else 'OVER TARGET'}")  # fmt: skip
            checked = sum(f.good for channel in rows.values() for _, f, _ in channel)
            print(f"\nchecked: {checked:,} answers of the full app were the expected turn"
                  " (greeting with the main menu, then the billing menu); the app's turn"
                  " counter agreed, no fail-safe")  # fmt: skip
            perfkit.print_memory(redis_url, bench)
            if profile:
                perfkit.profile(bench, profile)
        for problem in bench.problems:
            print(f"PROBLEM: {problem}", file=sys.stderr)
    print(f"(took {time.monotonic() - started:.0f} s{f'; kept {tmp}' if keep else ''})")
    low = any(ratio < TARGET_RATIO for _, ratio in figures.values())
    return 1 if bench.problems else (2 if late or low else 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short round (about 40 s)")
    parser.add_argument("--fsync", choices=["always", "everysec"], default="always",
                        help="Redis' appendfsync policy (the app's default: always)")  # fmt: skip
    parser.add_argument("--rounds", type=int, help="bare/full pairs per channel (default 3)")
    parser.add_argument("--seconds", type=float, help="seconds per measured run (default 6)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (1 connection each)")
    parser.add_argument("--profile", type=float, default=0, metavar="SECONDS",
                        help="then profile the full app under voice load with py-spy")  # fmt: skip
    parser.add_argument("--keep", action="store_true",
                        help="keep the work folder (server logs, request files)")  # fmt: skip
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (bench/run installs Debian's wrk)")
    if args.quick:
        plan = Plan(rounds=1, seconds=4, warmup=1, paced_seconds=4, threads=args.threads)
    else:
        plan = Plan(rounds=3, seconds=6, warmup=1, paced_seconds=10, threads=args.threads)
    plan = Plan(
        rounds=args.rounds or plan.rounds,
        seconds=args.seconds or plan.seconds,
        warmup=plan.warmup,
        paced_seconds=plan.paced_seconds,
        threads=plan.threads,
    )
    return run(plan, args.fsync, args.profile, args.keep)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        perfkit.serve(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(main())
