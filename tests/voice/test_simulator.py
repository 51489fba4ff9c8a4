"""`presszero call` follows the agent's leg as Twilio would, against a real `presszero serve`."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.live import PRESSZERO, add_agent, always_open_flow, emptied, served

from presszero.context.embedded import EmbeddedRedis

DANA = "+15550100002"  # her plan was cancelled: her 0 goes to billing, about the cancellation


@pytest.fixture(scope="module")
def line(
    redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str], Path]]:
    """Serve the demo with Ann on duty for billing (a phone) and Bob away."""
    emptied(redis_server.url)
    tmp = tmp_path_factory.mktemp("simulator")
    env = {
        **os.environ, "REDIS_URL": redis_server.url, "PRESSZERO_DATA_DIR": str(tmp / "data"),
        "PRESSZERO_FLOWS": str(always_open_flow(tmp)),
    }  # fmt: skip
    for name, phone in (("ann", "+15550107001"), ("bob", "+15550107002")):
        add_agent(env, name, "a long enough password", "--phone", phone, "--queues", "billing")
    assert presszero(env, tmp, "agent", "status", "ann", "available").returncode == 0
    with served(env, tmp, "--demo") as url:
        yield url, env, tmp


def presszero(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PRESSZERO, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_the_agent_on_duty_hears_who_it_is_presses_1_and_is_put_through(line: Any) -> None:
    url, env, tmp = line
    called = presszero(env, tmp, "call", "--url", url, "--from", DANA, "--script", "0")
    assert called.returncode == 0, called.stderr
    lines = called.stdout.splitlines()
    assert "  → ringing +15550107001" in lines  # Ann only: Bob is away
    heard = [line for line in lines if line.startswith("    (agent hears)")]
    assert heard[0].startswith("    (agent hears) A call from Dana Reyes.")
    assert heard[-1] == "    (agent hears) To take this call, press 1."
    assert lines.index("    (agent presses 1)") < lines.index("  ✓ connected to a person")
    assert lines[-1] == "→ transferred to a person (+15550107001)"


def test_a_voicemail_that_answers_never_gets_the_caller_who_waits_in_line(line: Any) -> None:
    url, env, tmp = line
    called = presszero(
        env, tmp, "call", "--url", url, "--from", DANA, "--script", "0", "--agent", "voicemail"
    )
    assert called.returncode == 0, called.stderr
    lines = called.stdout.splitlines()
    assert "  ✓ +15550107001's voicemail answers" in lines
    assert "  ✓ connected to a person" not in lines
    gone = lines.index("  ✗ the call was not put through")
    assert "  → queue billing" in lines[gone:]  # back in line for the next person
    assert any("no one could pick up" in line for line in lines[gone:])
