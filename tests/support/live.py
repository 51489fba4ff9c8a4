"""A real `presszero serve` and Debian's chromium, for tests that use the product as people do."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from werkzeug.serving import make_server

from presszero.context.embedded import free_port
from presszero.flows.language.files import library_dir

LOCAL = "127.0.0.1"
PRESSZERO = str(Path(sys.executable).with_name("presszero"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def always_open_flow(tmp: Path) -> Path:
    """Return the shipped support flow with its hours opened round the clock.

    Out of hours a request for a person becomes a callback offer, so the takeover is only
    testable at any time of day with the line open.
    """
    text = (library_dir() / "support.yaml").read_text()
    opened, replaced = re.subn(r"(?m)^  open: .*$", '  open: {mon-sun: "00:00-24:00"}', text)
    opened, cleared = re.subn(r"(?m)^  closed_dates: .*$", "  closed_dates: []", opened)
    assert (replaced, cleared) == (1, 1), "the shipped flow's hours section has moved"
    path = tmp / "support.yaml"
    path.write_text(opened)
    return path


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz") as reply:
                assert json.load(reply) == {"status": "ok", "redis": "up"}
                return
        except OSError:
            assert process.poll() is None, f"serve exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"serve did not come up:\n{log.read_text()}"
            time.sleep(0.1)


def emptied(redis_url: str) -> None:
    """Empty the test Redis before a module's server starts on it."""
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    client.close()


def add_agent(env: Mapping[str, str], name: str, password: str, *options: str) -> None:
    """Add an agent with `presszero agent add`, as an admin does."""
    added = subprocess.run(
        [PRESSZERO, "agent", "add", name, "--password-stdin", *options],
        input=password + "\n", env=dict(env), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr


@contextmanager
def served(
    env: Mapping[str, str], tmp: Path, *options: str, port: int = 0, cwd: Path | None = None
) -> Iterator[str]:
    """Run `presszero serve` on a loopback port (a free one unless given); yield its base URL,
    stop it after."""
    port = port or free_port()
    with (tmp / "serve.log").open("w") as log:
        process = subprocess.Popen(
            [PRESSZERO, "serve", "--port", str(port), "--workers", "1", *options],
            env=dict(env), cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://{LOCAL}:{port}"
    try:
        wait_until_up(url, process, tmp / "serve.log")
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


@contextmanager
def serving(app: Any, port: int = 0) -> Iterator[str]:
    """Serve a WSGI app (one with a test's frozen clock, say) on 127.0.0.1 in a thread;
    yield its origin, stop it after."""
    server = make_server(LOCAL, port or free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,))
    thread.start()
    try:
        yield f"http://{LOCAL}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
