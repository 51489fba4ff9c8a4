"""`presszero chat`: the terminal visitor carries its conversation's token, message and poll."""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any, cast

import pytest
from support.live import PRESSZERO, serving

from presszero.context.agents import AgentStore
from presszero.context.clock import FixedClock

MONDAY = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 9:30 in New York: open
REPLY = "Hi, Alex here: what can I do for you?"


@pytest.fixture
def served(make_app: Any) -> Iterator[tuple[str, Any]]:
    app = make_app(PRESSZERO_CLOCK=FixedClock(MONDAY))
    AgentStore(app.extensions["presszero.store"].redis).seen("alex", MONDAY)
    with serving(app) as url:
        yield url, app


def lines_of(stream: IO[str]) -> queue.Queue[str]:
    """Return a queue the stream's lines are put on as they come."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def wait_for(lines: queue.Queue[str], text: str, seen: list[str]) -> None:
    deadline = time.monotonic() + 15
    while not any(text in line for line in seen):
        left = deadline - time.monotonic()
        assert left > 0, f"{text!r} never came; the terminal showed:\n{''.join(seen)}"
        try:
            seen.append(lines.get(timeout=left))
        except queue.Empty:
            continue


def test_the_terminal_visitor_goes_on_talking_and_reads_the_agents_reply(
    served: tuple[str, Any],
):
    url, app = served
    with subprocess.Popen(
        [PRESSZERO, "chat", "--url", url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    ) as chat:  # fmt: skip
        stdin, stdout, stderr = (cast(IO[str], p) for p in (chat.stdin, chat.stdout, chat.stderr))
        lines, seen = lines_of(stdout), []
        try:
            wait_for(lines, "bot: Thanks for getting in touch.", seen)
            stdin.write("agent\n")  # the second message: it needs the conversation token
            stdin.flush()
            wait_for(lines, "passing you to a person", seen)
            service = app.extensions["presszero.chat"]
            [record] = service.handoffs.waiting()
            service.agent_reply(record["id"].removeprefix("chat:"), "alex", REPLY)
            wait_for(lines, f"Alex: {REPLY}", seen)  # the poll carries the token too
        finally:
            stdin.close()
            assert chat.wait(timeout=20) == 0, stderr.read()
