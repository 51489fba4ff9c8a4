"""`presszero doctor`: every problem of a configuration in one line each, exit 0 only when a
real line can be pointed here. Real Redis, real flows; Twilio's REST API is the stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import CliRunner, Result
from support.consoles import PASSWORD
from support.twilio_api import TwilioApi

from presszero.cli import main
from presszero.context.agents import AgentStore
from presszero.context.embedded import free_port
from presszero.secrets_file import setting_or_data_secret

LINE = "+15550001234"
PUBLIC = "https://localhost"  # https, and a name that resolves on any machine
FALLBACK = "https://static.example.net/presszero-fallback.xml"
QUEUES = ("billing", "plans", "priority", "support")  # the shipped flow's handoffs
DEV_SECRETS = {  # what a development server keeps in its data dir
    "TWILIO_AUTH_TOKEN": "twilio-auth-token",
    "SECRET_KEY": "secret-key",
    "PRESSZERO_CHAT_SECRET": "chat-identity-secret",
}


def doctor(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, ["doctor", *args], env=env)


def problems(result: Result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("✗")]


def pointed_here(api: TwilioApi, public: str = PUBLIC) -> str:
    return api.own_number(
        LINE,
        voice_url=f"{public}/voice/incoming",
        status_callback=f"{public}/voice/status",
        voice_fallback_url=FALLBACK,
        voice_fallback_method="GET",
    )


@pytest.fixture
def ready(
    twilio_api: TwilioApi, redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> dict[str, str]:
    """Return the settings of a configuration that is ready, with all it needs in place."""
    pointed_here(twilio_api)
    AgentStore(redis_client).add("ann", PASSWORD, endpoint="+15550107001")  # every queue
    return {
        **twilio_api.config,
        "REDIS_URL": redis_url,
        "PRESSZERO_DATA_DIR": str(tmp_path / "data"),
        "PRESSZERO_PUBLIC_URL": PUBLIC,
        "SECRET_KEY": "a9" * 32,
        "PRESSZERO_CHAT_SECRET": "c4" * 32,
        "PRESSZERO_FALLBACK_URL": FALLBACK,
        "PRESSZERO_TWILIO_NUMBER": LINE,
    }


@pytest.fixture
def redis_setting(redis_client: redis.Redis) -> Iterator[Any]:
    """Yield a setter of the test Redis' configuration; every change is undone afterwards."""
    undo: dict[str, str] = {}

    def set_config(name: str, value: str) -> None:
        undo.setdefault(name, redis_client.config_get(name)[name])
        redis_client.config_set(name, value)

    yield set_config
    for name, value in undo.items():
        redis_client.config_set(name, value)


def test_a_complete_configuration_is_ready(ready: dict[str, str], twilio_api: TwilioApi):
    result = doctor(ready)
    assert result.exit_code == 0, result.output
    assert problems(result) == []
    assert "Redis durability: appendonly yes, appendfsync always" in result.stdout
    assert f"agents: someone takes each queue ({', '.join(QUEUES)})" in result.stdout
    assert f"the number {LINE}: its webhooks and fallback point here" in result.stdout
    assert result.stdout.rstrip().endswith("Ready: this configuration can take real calls.")
    assert twilio_api.updates() == []  # doctor looks, never changes


def test_the_development_set_up_lists_each_problem(
    redis_url: str, tmp_path: Path, redis_setting: Any
):
    data = tmp_path / "data"
    for key, filename in DEV_SECRETS.items():  # as `presszero serve` leaves them
        setting_or_data_secret({"PRESSZERO_DATA_DIR": str(data)}, key, filename)
    redis_setting("appendonly", "no")
    env = {"REDIS_URL": redis_url, "PRESSZERO_DATA_DIR": str(data)}
    result = doctor(env)
    assert result.exit_code == 1
    assert result.stderr == "Error: not ready for a real line: 8 problem(s), listed above\n"
    expected = [
        f"TWILIO_AUTH_TOKEN is not set (the development one in {data}/twilio-auth-token is used)",
        f"SECRET_KEY is not set (the development one in {data}/secret-key is used)",
        "PRESSZERO_CHAT_SECRET is not set (the development one in",
        "PRESSZERO_PUBLIC_URL is not set",
        "Redis has appendonly no",
        f"no agent takes the queue(s) {', '.join(QUEUES)}",
        "PRESSZERO_TWILIO_NUMBER is not set",
        "PRESSZERO_FALLBACK_URL is not set",
    ]
    found = problems(result)
    assert len(found) == len(expected), result.stdout
    for words in expected:
        assert any(words in line for line in found), (words, result.stdout)
    assert "ok  flows: support pass `presszero check`" in result.stdout


@dataclass(frozen=True)
class Fault:
    """One thing wrong with the complete configuration, and the lines doctor must say."""

    env: dict[str, str] = field(default_factory=dict)  # settings changed ("" unsets)
    said: tuple[str, ...] = ()
    redis: dict[str, str] = field(default_factory=dict)  # the Redis' configuration changed
    number: str = ""  # where the number points instead (its public URL)
    agent_queues: str = ""  # the only agent takes just these queues
    twilio_fails: bool = False


FAULTS = {
    "a development secret": Fault(
        env={"SECRET_KEY": "{DEV}"}, said=("SECRET_KEY is the development secret from",)),
    "a short secret": Fault(
        env={"PRESSZERO_CHAT_SECRET": "change-me"},
        said=("PRESSZERO_CHAT_SECRET is only 9 characters",)),
    "a plain http URL": Fault(
        env={"PRESSZERO_PUBLIC_URL": "http://localhost"},
        said=("PRESSZERO_PUBLIC_URL must be an https URL",)),
    "a name that does not resolve": Fault(
        env={"PRESSZERO_PUBLIC_URL": "https://presszero.invalid"},
        said=("host presszero.invalid does not resolve",
              f"{LINE} does not point here (VoiceUrl is {PUBLIC}/voice/incoming, not "
              "https://presszero.invalid/voice/incoming and 1 more)")),
    "no fsync": Fault(redis={"appendfsync": "no"}, said=("Redis has appendfsync no",)),
    "a queue no one takes": Fault(
        agent_queues="billing,support", said=("no agent takes the queue(s) plans, priority",)),
    "the number pointing elsewhere": Fault(
        number="https://old.example.com",
        said=(f"{LINE} does not point here (VoiceUrl is https://old.example.com/voice/incoming",)),
    "no Twilio account": Fault(
        env={"TWILIO_ACCOUNT_SID": ""}, said=("TWILIO_ACCOUNT_SID is not set: doctor cannot",)),
    "Twilio down": Fault(
        twilio_fails=True, said=(f"the number {LINE} could not be checked: Could not look",)),
    "a fallback on presszero's host": Fault(
        env={"PRESSZERO_FALLBACK_URL": f"{PUBLIC}/fallback.xml"},
        said=("PRESSZERO_FALLBACK_URL is on localhost, presszero's own host",)),
    "Redis down": Fault(
        env={"REDIS_URL": "redis://127.0.0.1:{FREE}/0"},
        said=("Redis at redis://127.0.0.1:{FREE}/0 is not answering",
              "agents: not checked, since Redis is not answering")),
    "an embedded Redis that cannot start": Fault(
        env={"REDIS_URL": "", "PRESSZERO_DATA_DIR": "/proc/no-such-dir"},
        said=("Redis: cannot use the data dir /proc/no-such-dir",
              "agents: not checked, since Redis is not answering")),
    "a broken flow": Fault(
        env={"PRESSZERO_FLOWS": "{FLOW}"},
        said=("flows: PRESSZERO_FLOWS: ", "`presszero check` shows them all")),
}  # fmt: skip


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_each_fault_is_one_line_and_not_ready(
    fault: Fault,
    ready: dict[str, str],
    twilio_api: TwilioApi,
    redis_client: redis.Redis,
    redis_setting: Any,
    tmp_path: Path,
):
    flow = tmp_path / "broken.yaml"
    flow.write_text("flow: broken\nsteps: {}\n")
    dev = setting_or_data_secret(ready, "SECRET_KEY_FILE_ONLY", "secret-key")
    fill = {"{DEV}": dev, "{FREE}": str(free_port()), "{FLOW}": str(flow)}

    def filled(text: str) -> str:
        for name, value in fill.items():
            text = text.replace(name, value)
        return text

    env = {**ready, **{k: filled(v) for k, v in fault.env.items()}}
    for name, value in fault.redis.items():
        redis_setting(name, value)
    if fault.number:
        twilio_api.numbers.clear()
        pointed_here(twilio_api, fault.number)
    if fault.agent_queues:
        AgentStore(redis_client).add("ann", queues=fault.agent_queues.split(","))
    if fault.twilio_fails:
        twilio_api.fail_next(503)
    result = doctor(env)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert len(result.stderr.splitlines()) == 1
    found = problems(result)
    said = [filled(words) for words in fault.said]
    for words in said:
        assert any(words in line for line in found), (words, result.stdout)
    if fault.env.get("PRESSZERO_FLOWS"):
        assert found, result.stdout
        assert all(line.startswith("✗   flows: ") for line in found), result.stdout
    else:
        assert len(found) == len(said), result.stdout


def test_the_number_option_checks_another_line(ready: dict[str, str], twilio_api: TwilioApi):
    result = doctor(ready, "--number", "+15550009876")
    assert result.exit_code == 1
    assert problems(result) == [
        "✗   +15550009876 is not a number of the Twilio account "
        f"{twilio_api.account_sid}: check PRESSZERO_TWILIO_NUMBER"
    ]
