"""Time how long `presszero` commands take to start and finish, as a person runs them.

Run with `python bench/cli_start.py` (optionally `--runs N`), from the venv the command is
installed in. It times, N times each and one after the other: `presszero --version`,
`presszero check` on the shipped flows, and `presszero context show` of a demo customer on a
real Redis (the embedded one in a temporary data dir, started once beforehand and kept
running, as `presszero serve` would), and prints the median and the maximum wall time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

PRESSZERO = str(Path(sys.executable).with_name("presszero"))


def timed(args: list[str], env: dict[str, str], runs: int) -> list[float]:
    """Return the wall times of `runs` runs of `presszero ARGS`, each checked to succeed."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        ran = subprocess.run(  # noqa: S603 - our own command
            [PRESSZERO, *args], env=env, capture_output=True, check=False
        )
        times.append(time.perf_counter() - start)
        if ran.returncode != 0:
            raise SystemExit(f"presszero {' '.join(args)} failed: {ran.stderr.decode()}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    with ExitStack() as stack:
        data = stack.enter_context(tempfile.TemporaryDirectory())
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env["PRESSZERO_DATA_DIR"] = data
        # The data dir's Redis, kept running as `presszero serve` keeps it: each command finds
        # it there, as it does beside a running server.
        from presszero.context.embedded import embedded_redis

        stack.enter_context(embedded_redis(data, "everysec"))
        timed(["demo"], env, 1)
        commands = [["--version"], ["check"], ["context", "show", "+15550100002"]]
        for args in commands:
            timed(args, env, 1)  # the first run fills the file cache; not counted
        print(f"{runs} runs each, load average {os.getloadavg()[0]:.2f}")
        for args in commands:
            times = timed(args, env, runs)
            print(
                f"presszero {' '.join(args):<34} median {statistics.median(times) * 1000:4.0f} ms"
                f"  max {max(times) * 1000:4.0f} ms"
            )


if __name__ == "__main__":
    main()
