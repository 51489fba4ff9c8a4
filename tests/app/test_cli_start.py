"""A quick command line: the light commands never import the server, Redis or rasa-sdk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from presszero.cli import COMMANDS, main

HEAVY = {"flask", "werkzeug", "gunicorn", "twilio", "rasa_sdk", "sanic", "redis", "requests"}


def imported_by(*args: str, cwd: Path) -> set[str]:
    """Return the top-level packages `presszero ARGS` imports, from `python -X importtime`.

    Run away from the checkout: there `-m presszero` would find its `presszero/` folder,
    which is not the installed package (flows/, context/... are mapped into it on install).
    """
    ran = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "presszero", *args],
        capture_output=True, text=True, timeout=60, cwd=cwd,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-2000:]
    names = [
        line.rsplit("|", 1)[1].strip()
        for line in ran.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    ]
    assert "presszero.cli" in names  # the output was read: the command itself shows in it
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize("args", [["--version"], ["check", "--help"], ["check"]])
def test_the_light_commands_never_import_the_server_or_redis(args: list[str], tmp_path: Path):
    assert imported_by(*args, cwd=tmp_path) & HEAVY == set()


def test_every_lazily_named_command_is_the_command_of_that_name():
    context = click.Context(main)
    for name in main.list_commands(context):
        command = main.get_command(context, name)
        assert isinstance(command, click.Command), name
        assert command.name == name
    assert set(COMMANDS) <= set(main.list_commands(context))
