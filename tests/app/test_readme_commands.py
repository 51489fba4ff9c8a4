"""The README's command table lists every command with every option it takes."""

from __future__ import annotations

import re
from pathlib import Path

import click

from presszero.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"


def table_rows() -> dict[str, str]:
    """Return the command table's rows by the command they name ("context import": row)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## The command line", 1)[1].lstrip().split("\n\n", 1)[0]
    rows = {}
    for line in section.splitlines():
        named = re.match(r"\| `presszero ((?:[a-z-]+ ?)+)", line)
        if named:
            rows[named.group(1).strip()] = line
    return rows


def commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    context = click.Context(group)
    found: dict[str, click.Command] = {}
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None
        full = f"{prefix} {name}".strip()
        if isinstance(command, click.Group):
            found.update(commands(command, full))
        else:
            found[full] = command
    return found


def test_the_command_table_has_every_command_and_only_those():
    assert sorted(table_rows()) == sorted(commands(main))


def test_every_option_of_a_command_is_in_its_row():
    rows = table_rows()
    missing = [
        f"{name} {param.opts[-1]}"
        for name, command in commands(main).items()
        for param in command.params
        if isinstance(param, click.Option)
        and not any(
            re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", rows.get(name, ""))
            for opt in param.opts  # -o or --output
        )
    ]
    assert missing == []
