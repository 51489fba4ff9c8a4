"""The `presszero` command: one-line errors, readable output, the embedded Redis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from freezegun import freeze_time
from support.builders import record
from support.live import served, wait_until_up
from support.servers import always_open

from presszero.cli import main
from presszero.context.agents import AgentStore
from presszero.context.embedded import free_port
from presszero.context.store import ContextStore

PRESSZERO = str(Path(sys.executable).with_name("presszero"))


@pytest.fixture
def cli(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("REDIS_URL", redis_url)
    return CliRunner()


def test_import_then_show_by_a_national_phone_format(cli: CliRunner, tmp_path: Path):
    path = tmp_path / "customers.jsonl"
    path.write_text(json.dumps(record()) + "\n")
    result = cli.invoke(main, ["context", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "imported 1 customers" in result.output
    shown = cli.invoke(main, ["context", "show", "(555) 010-2001"])
    assert shown.exit_code == 0
    assert "Robin Hale  (cus_2001)" in shown.output
    assert "Silver Health: active" in shown.output


def test_a_bad_import_prints_file_line_errors_and_exits_1(cli: CliRunner, tmp_path: Path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(record()) + "\n" + '{"id": "cus_2", "name": "B", "age": 3}\n')
    result = cli.invoke(main, ["context", "import", str(path)])
    assert result.exit_code == 1
    assert f"{path}:2: age: unknown field" in result.output
    assert "nothing was imported" in result.output
    assert "Traceback" not in result.output
    assert cli.invoke(main, ["context", "show", "cus_2001"]).exit_code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["context", "import", "/no/such/file.jsonl"], "No such file or directory"),
        (["context", "show", "+15550109999"], "no customer with phone, email or id"),
        (["context", "forget", "cus_404"], "no customer with id 'cus_404'"),
    ],
)
def test_mistakes_are_one_clear_line(cli: CliRunner, args: list[str], message: str):
    result = cli.invoke(main, args)
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_unreachable_redis_is_one_clear_line(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    result = CliRunner().invoke(main, ["context", "show", "cus_1"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: Redis at redis://127.0.0.1:")
    assert len(result.output.strip().splitlines()) == 1


def test_demo_loads_the_six_customers_dated_from_now(cli: CliRunner, redis_client):
    result = cli.invoke(main, ["demo"])
    assert result.exit_code == 0
    store = ContextStore(redis_client)
    assert store.customer_ids() == [f"cus_100{i}" for i in range(1, 7)]
    shown = cli.invoke(main, ["context", "show", "+15550100002"])
    assert "Dana Reyes" in shown.output
    assert "cancelled     Silver Health on" in shown.output
    assert "(3 days ago) by the company (non-payment)" in shown.output
    assert "language      English (en-US)" in shown.output  # she is not asked to choose


def test_context_show_says_the_language_a_customer_speaks(cli: CliRunner):
    cli.invoke(main, ["demo"])
    shown = cli.invoke(main, ["context", "show", "+15550100006"])
    assert shown.exit_code == 0
    assert "Lucía Gómez  (cus_1006)" in shown.output
    assert "  language      Spanish (es-US)\n" in shown.output
    as_json = cli.invoke(main, ["context", "show", "--json", "lucia@example.com"])
    assert json.loads(as_json.output)["language"] == "es-US"


def test_forget_and_export(cli: CliRunner, tmp_path: Path):
    cli.invoke(main, ["demo"])
    assert cli.invoke(main, ["context", "forget", "cus_1003"]).exit_code == 0
    out = tmp_path / "out.jsonl"
    assert cli.invoke(main, ["context", "export", str(out)]).exit_code == 0
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert ids == ["cus_1001", "cus_1002", "cus_1004", "cus_1005", "cus_1006"]


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PRESSZERO, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def no_redis_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "REDIS_URL"}


def test_commands_without_redis_url_share_the_embedded_redis_in_the_data_dir(tmp_path: Path):
    env = no_redis_env()
    assert run(["demo"], env, tmp_path).returncode == 0
    assert (tmp_path / "var" / "presszero.aof").exists()
    assert not (tmp_path / "var" / "redis.url").exists()  # stopped again: it started it
    shown = run(["context", "show", "dana@example.com"], env, tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Dana Reyes  (cus_1002)" in shown.stdout


def test_serve_demo_answers_calls_on_redis_that_other_commands_share(tmp_path: Path):
    env = {**no_redis_env(), "PRESSZERO_DATA_DIR": str(tmp_path / "data"),
           "PRESSZERO_FLOWS": str(always_open(tmp_path))}  # a person at any hour  # fmt: skip
    with served(env, tmp_path, "--demo", cwd=tmp_path) as url:
        redis_pid = (tmp_path / "data" / "redis.pid").read_text().strip()
        shown = run(["context", "show", "+15550100002"], env, tmp_path)
        assert "Dana Reyes" in shown.stdout
        assert "cancelled     Silver Health" in shown.stdout
        assert (tmp_path / "data" / "redis.pid").read_text().strip() == redis_pid
        called = run(
            ["call", "--url", url, "--from", "+15550100002", "--script", "0"], env, tmp_path
        )
        assert called.returncode == 0, called.stderr
        assert "was cancelled on" in called.stdout
        assert "→ transferred to a person (billing)" in called.stdout
        shown = run(["context", "show", "+15550100002"], env, tmp_path)
        assert "voice handoff" in shown.stdout  # the status callback reached the contact log
        unsigned = subprocess.run(
            [PRESSZERO, "call", "--url", url, "--script", "0"],
            env={**env, "TWILIO_AUTH_TOKEN": "not-the-servers-token"},
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert unsigned.returncode == 1
        assert "answered 403" in unsigned.stderr
        chatted = subprocess.run(
            [PRESSZERO, "chat", "--url", url, "--as", "+15550100002"], input="agent\n",
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert chatted.returncode == 0, chatted.stderr
        assert "bot: Hi Dana. I can see your Silver Health plan was cancelled" in chatted.stdout
        assert "[/agent] Talk to a person" in chatted.stdout
        assert "no one is free" in chatted.stdout  # no agent is signed in
    assert not Path(f"/proc/{redis_pid}").exists()


def test_serve_dev_comes_up_behind_its_reloader(tmp_path: Path, redis_url: str):
    # The reloader's parent holds the port; the child it starts must not find it taken.
    env = {**os.environ, "REDIS_URL": redis_url, "PRESSZERO_DATA_DIR": str(tmp_path / "data")}
    port = free_port()
    log = tmp_path / "dev.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [PRESSZERO, "serve", "--dev", "--port", str(port)], env=env, cwd=tmp_path,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process, log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the reloader and the server it started
        process.wait(30)
    assert "is taken" not in log.read_text()


AGENT_PASSWORD = "a long enough password\n"


def agent_rows(cli: CliRunner) -> dict[str, list[str]]:
    listed = cli.invoke(main, ["agent", "list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split() == [
        "NAME", "ROLE", "ANSWERS", "AT", "QUEUES", "LANGUAGES", "STATUS", "SINCE"
    ]  # fmt: skip
    return {line.split()[0]: line.split()[1:] for line in lines[1:]}


@freeze_time("2026-11-23 15:00:00")
def test_agents_are_added_with_where_they_answer_and_listed_masked(cli: CliRunner):
    added = cli.invoke(
        main,
        ["agent", "add", "Ana", "--phone", "(555) 010-0001", "--queues", "plans,billing",
         "--languages", "en-us, es-US", "--password-stdin"],
        input=AGENT_PASSWORD,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "agent ana: answers at …0001, takes plans,billing, speaks en-US,es-US" in added.output
    assert "ana can now sign in at /agent" in added.output
    cli.invoke(main, ["agent", "add", "lee", "--role", "lead", "--phone", "client:lee",
                      "--password-stdin"], input=AGENT_PASSWORD)  # fmt: skip
    rows = agent_rows(cli)
    assert rows["ana"] == [
        "agent", "…0001", "plans,billing", "en-US,es-US", "away", "2026-11-23", "15:00", "UTC"
    ]  # fmt: skip
    assert rows["lee"][:5] == ["lead", "client:lee", "all", "default", "away"]
    assert "5550100001" not in cli.invoke(main, ["agent", "list"]).output


def test_readding_an_agent_updates_them_without_asking_for_a_password(cli: CliRunner, redis_client):
    cli.invoke(main, ["agent", "add", "ana", "--role", "lead", "--password-stdin"],
               input=AGENT_PASSWORD)  # fmt: skip
    updated = cli.invoke(main, ["agent", "add", "ana", "--phone", "sip:ana@pbx.example.com",
                                "--queues", "tech"])  # fmt: skip
    assert updated.exit_code == 0, updated.output
    assert "lead ana: answers at sip:ana@pbx.example.com, takes tech, speaks default" in (
        updated.output
    )
    assert "sign in" not in updated.output
    assert AgentStore(redis_client).verify("ana", AGENT_PASSWORD.strip()) is not None
    assert agent_rows(cli)["ana"][:3] == ["lead", "sip:ana@pbx.example.com", "tech"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--phone", "not a phone"], "Error: not a phone number: 'not a phone'"),
        (["--queues", "plans,Big Team"], "Error: 'big team' is not a queue name"),
        (["--languages", "en-US,fr-FR"], "Error: languages: presszero speaks en-* and es-* only"),
        (["--languages", "Spanish"], "Error: languages: not a language tag"),
        (["--password-stdin"], "Error: a password needs at least 10 characters"),
    ],
)
def test_a_bad_agent_update_is_one_line_and_changes_nothing(
    cli: CliRunner, redis_client, args: list[str], message: str
):
    cli.invoke(main, ["agent", "add", "ana", "--phone", "+15550100001", "--password-stdin"],
               input=AGENT_PASSWORD)  # fmt: skip
    refused = cli.invoke(main, ["agent", "add", "ana", *args], input="short\n")
    assert refused.exit_code == 1
    assert refused.output.startswith(message)
    assert len(refused.output.strip().splitlines()) == 1
    kept = AgentStore(redis_client).get("ana")
    assert kept is not None
    assert (kept.endpoint, kept.queues, kept.languages) == ("+15550100001", (), ())
    assert AgentStore(redis_client).verify("ana", AGENT_PASSWORD.strip()) is not None


def test_a_bad_phone_for_a_new_agent_is_refused_before_any_password_prompt(
    cli: CliRunner, redis_client
):
    refused = cli.invoke(main, ["agent", "add", "kim", "--phone", "12"])
    assert refused.exit_code == 1
    assert "Password" not in refused.output
    assert AgentStore(redis_client).get("kim") is None


def test_agent_status_and_remove_from_the_command_line(cli: CliRunner, redis_client):
    cli.invoke(main, ["agent", "add", "ana", "--password-stdin"], input=AGENT_PASSWORD)
    shown = cli.invoke(main, ["agent", "status", "ana", "available"])
    assert (shown.exit_code, shown.output) == (0, "ana is available\n")
    assert agent_rows(cli)["ana"][4] == "available"
    AgentStore(redis_client).mark_busy("ana", "voice:CA1", datetime.now(UTC))
    later = cli.invoke(main, ["agent", "status", "ana", "away"])
    assert later.output == "ana is busy (voice:CA1); away when it ends\n"
    assert agent_rows(cli)["ana"][4:6] == ["busy", "(voice:CA1)"]
    assert cli.invoke(main, ["agent", "status", "ana", "busy"]).exit_code == 2  # not a choice
    removed = cli.invoke(main, ["agent", "remove", "ana"])
    assert removed.exit_code == 0
    assert "their sessions are ended" in removed.output
    assert AgentStore(redis_client).session_epoch("ana") is None
    assert cli.invoke(main, ["agent", "list"]).output.startswith("no agents yet")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["agent", "remove", "nobody"], "Error: no agent named 'nobody'"),
        (["agent", "status", "nobody", "away"], "Error: no agent named 'nobody'"),
        (["agent", "add", "Not A Name", "--password-stdin"], "Error: a name is 1-32"),
    ],
)
def test_agent_mistakes_are_one_clear_line(cli: CliRunner, args: list[str], message: str):
    result = cli.invoke(main, args, input=AGENT_PASSWORD)
    assert result.exit_code == 1
    assert result.output.startswith(message)
    assert len(result.output.strip().splitlines()) == 1


def test_the_agent_commands_are_registered_once():
    from presszero.chat import cli as chat_cli
    from presszero.consoles import cli as consoles_cli

    offered = [c.name for module in (chat_cli, consoles_cli) for c in module.commands]
    assert offered.count("agent") == 1
    group = main.get_command(click.Context(main), "agent")
    assert isinstance(group, click.Group)
    assert sorted(group.commands) == ["add", "list", "remove", "status"]


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("PRESSZERO_FLOWS", "Error: PRESSZERO_FLOWS: "),
        ("PRESSZERO_RASA_URL", "Error: PRESSZERO_RASA_URL must start with http"),
    ],
)
def test_serve_with_a_setting_that_cannot_work_says_so_and_never_listens(
    tmp_path: Path, setting: str, said: str
):
    broken = tmp_path / "broken.yaml"
    broken.write_text("flow: broken\nsteps: {}\n")
    value = str(broken) if setting == "PRESSZERO_FLOWS" else "rasa:5005"
    env = {**no_redis_env(), "PRESSZERO_DATA_DIR": str(tmp_path / "data"), setting: value}
    port = str(free_port())
    result = run(["serve", "--port", port], env, tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(said), result.stderr
    assert "Traceback" not in result.stderr
    assert "Listening at" not in result.stderr
    assert "presszero on http" not in result.stderr
    assert len(result.stderr.splitlines()) == 1
