"""A real `presszero serve` for browser tests, and a browser context that stays on this machine."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Route

from presszero.context.embedded import free_port
from support.live import PRESSZERO, wait_until_up

LOCAL = "127.0.0.1"
# Any name Chromium would look up (a WebSocket to Twilio, say) is not found: page.route sees
# HTTP only, so this keeps whatever else the page opens on this machine too.
NO_NAMES = f"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE {LOCAL}"


def add_agent(env: Mapping[str, str], name: str, password: str, *options: str) -> None:
    """Add an agent with `presszero agent add`, as an admin does."""
    added = subprocess.run(
        [PRESSZERO, "agent", "add", name, "--password-stdin", *options],
        input=password + "\n", env=dict(env), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr


@contextmanager
def served(env: Mapping[str, str], tmp: Path, *options: str) -> Iterator[str]:
    """Run `presszero serve` on a free loopback port; yield its base URL, stop it after."""
    port = free_port()
    with (tmp / "serve.log").open("w") as log:
        process = subprocess.Popen(
            [PRESSZERO, "serve", "--port", str(port), "--workers", "1", *options],
            env=dict(env), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://{LOCAL}:{port}"
    try:
        wait_until_up(url, process, tmp / "serve.log")
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def keep_local(context: BrowserContext) -> list[str]:
    """Abort every request the context makes to a host other than 127.0.0.1; return the
    list the aborted URLs are added to."""
    aborted: list[str] = []

    def route(route: Route) -> None:
        if urlsplit(route.request.url).hostname == LOCAL:
            route.continue_()
        else:
            aborted.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    return aborted
