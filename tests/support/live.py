"""A real `presszero serve` and Debian's chromium, for tests that use the product as people do."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from presszero.flows.language.files import library_dir

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
