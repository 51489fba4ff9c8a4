"""Every command, given a mistake, says so in one line, exits non-zero and changes nothing.

The table below has cases for every command the `presszero` group offers: a command added
without one fails `test_every_command_has_mistakes_to_make`. Servers (`serve`, `actions`) run as
real processes, since their failures happen around gunicorn's and Sanic's own start-up; the
rest run through click's runner against the same real Redis.
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest
import redis
from click.testing import CliRunner
from support.builders import record

from presszero.cli import main
from presszero.context.embedded import free_port
from presszero.context.models import Customer
from presszero.context.store import ContextStore

PRESSZERO = str(Path(sys.executable).with_name("presszero"))
NOT_FOUND_PAGE = b"""<!doctype html>
<html lang=en>
<title>404 Not Found</title>
<h1>Not Found</h1>
<p>The requested URL was not found on the server.</p>
"""
BROKEN_FLOW = "flow: broken\nsteps: {}\n"


@dataclass(frozen=True)
class Mistake:
    """A command line with something wrong in it, and the words the one line must hold."""

    args: tuple[str, ...]
    said: str
    env: dict[str, str | None] = field(default_factory=dict)
    process: bool = False  # run `presszero` as a process (servers), not in click's runner


# {PORT}: a port something listens on; {FREE}: one nothing listens on; {PAGES}: a web server
# that answers every path with a 404 page; {FLOW}: a broken flow file; {EMPTY}: an empty folder.
MISTAKES: dict[str, list[Mistake]] = {
    "serve": [
        Mistake(("serve", "--demo", "--port", "{PORT}"), "port {PORT} on 127.0.0.1 is taken",
                process=True),
        Mistake(("serve", "--port", "{FREE}"), "PRESSZERO_FLOWS: broken.yaml:1:",
                env={"PRESSZERO_FLOWS": "{FLOW}"}, process=True),
        Mistake(("serve", "--port", "{FREE}"), "cannot write /proc/no-such-dir/metrics",
                env={"PRESSZERO_DATA_DIR": "/proc/no-such-dir"}, process=True),
    ],
    "actions": [
        Mistake(("actions", "--port", "{PORT}"), "port {PORT} on 127.0.0.1 is taken",
                process=True),
        Mistake(("actions", "--port", "{FREE}"), "PRESSZERO_FLOWS: broken.yaml:1:",
                env={"PRESSZERO_FLOWS": "{FLOW}"}, process=True),
    ],
    "demo": [
        Mistake(("demo",), "cannot use the data dir /proc/no-such-dir",
                env={"REDIS_URL": None, "PRESSZERO_DATA_DIR": "/proc/no-such-dir"}),
        Mistake(("demo",), "Redis at redis://127.0.0.1:{FREE}/0 failed",
                env={"REDIS_URL": "redis://127.0.0.1:{FREE}/0"}),
    ],
    "context import": [
        Mistake(("context", "import", "/nope.jsonl"), "/nope.jsonl: No such file or directory"),
        Mistake(("context", "import"), "Missing argument 'FILE'"),
    ],
    "context export": [
        Mistake(("context", "export", "/nonexistent/dir/x.jsonl"),
                "/nonexistent/dir/x.jsonl: No such file or directory"),
    ],
    "context show": [
        Mistake(("context", "show", "+15550109999"), "no customer with phone, email or id"),
    ],
    "context forget": [
        Mistake(("context", "forget", "cus_404"), "no customer with id 'cus_404'"),
    ],
    "check": [
        Mistake(("check", "/nope"), "Path '/nope' does not exist"),
        Mistake(("check", "--format", "xml"), "'xml' is not one of 'text', 'json'"),
    ],
    "test-flows": [
        Mistake(("test-flows", "/nope"), "Path '/nope' does not exist"),
        Mistake(("test-flows", "{EMPTY}"), "no scenario files at {EMPTY}"),
    ],
    "diagram": [
        Mistake(("diagram", "nope"), "no flow named 'nope' in the shipped flows (known: support)"),
        Mistake(("diagram", "support", "-o", "/nonexistent/dir/x.mmd"),
                "cannot write /nonexistent/dir/x.mmd: No such file or directory"),
        Mistake(("diagram", "{FLOW}"), "broken.yaml:1:"),
    ],
    "call": [
        Mistake(("call", "--url", "notaurl", "--script", "0"),
                "'notaurl' is not a server's address"),
        Mistake(("call", "--url", "http://127.0.0.1:{PAGES}/chat", "--script", "0"),
                "/chat/voice/incoming answered 404 with a web page: is that presszero's address?"),
        Mistake(("call", "--url", "http://127.0.0.1:{FREE}", "--script", "0"),
                "cannot reach http://127.0.0.1:{FREE}: is `presszero serve` running?"),
    ],
    "chat": [
        Mistake(("chat", "--url", "notaurl"), "'notaurl' is not a server's address"),
        Mistake(("chat", "--url", "http://127.0.0.1:{PAGES}/chat"),
                "answered 404 with a web page: is that presszero's address?"),
        Mistake(("chat", "--url", "http://127.0.0.1:{FREE}"),
                "cannot reach http://127.0.0.1:{FREE}: is `presszero serve` running?"),
    ],
    "agent add": [
        Mistake(("agent", "add", "kim", "--phone", "not a phone"), "not a phone number"),
        Mistake(("agent", "add", "kim", "--languages", "en-US,klingon"),
                "languages: not a language tag (write e.g. en-US, es-US): 'klingon'"),
    ],
    "agent list": [
        Mistake(("agent", "list"), "Redis at redis://127.0.0.1:{FREE}/0 failed",
                env={"REDIS_URL": "redis://127.0.0.1:{FREE}/0"}),
    ],
    "agent remove": [Mistake(("agent", "remove", "nobody"), "no agent named 'nobody'")],
    "agent status": [
        Mistake(("agent", "status", "nobody", "away"), "no agent named 'nobody'"),
        Mistake(("agent", "status", "nobody", "busy"), "'busy' is not one of"),
    ],
    "report": [
        Mistake(("report", "--flow", "nope"), "no flow named 'nope'"),
        Mistake(("report", "--since", "soon"), "soon"),
    ],
    "guard check": [
        Mistake(("guard", "check", "cus_404", "welcome_new_plan"),
                "no customer with phone, email or id 'cus_404'"),
        Mistake(("guard", "check", "cus_2001", "birthday_card"),
                "unknown message kind 'birthday_card'"),
    ],
    "callbacks list": [
        Mistake(("callbacks", "list"), "PRESSZERO_FLOWS: broken.yaml:1:",
                env={"PRESSZERO_FLOWS": "{FLOW}"}),
        Mistake(("callbacks", "list"), "cannot use the data dir /proc/no-such-dir",
                env={"REDIS_URL": None, "PRESSZERO_DATA_DIR": "/proc/no-such-dir"}),
    ],
    "twilio setup": [
        Mistake(("twilio", "setup", "--number", "+15550001234", "--url", "http://x.example.com"),
                "--url must be an https URL Twilio can reach"),
        Mistake(("twilio", "setup"), "no number given: pass --number +E164",
                env={"PRESSZERO_TWILIO_NUMBER": None, "PRESSZERO_CALLER_ID": None}),
    ],
    "twilio fallback": [
        Mistake(("twilio", "fallback", "-o", "/nonexistent/dir/x.xml"),
                "cannot write /nonexistent/dir/x.xml: No such file or directory"),
        Mistake(("twilio", "fallback"), "PRESSZERO_BACKUP_NUMBER: '555' is not a phone number",
                env={"PRESSZERO_BACKUP_NUMBER": "555"}),
    ],
    "doctor": [
        Mistake(("doctor",), "not ready for a real line"),
        Mistake(("doctor", "--number", "+15550001234"), "not ready for a real line",
                env={"REDIS_URL": "redis://127.0.0.1:{FREE}/0"}),
    ],
    "": [Mistake(("no-such-command",), "No such command 'no-such-command'")],
}  # fmt: skip


def leaf_commands(group: click.Group, prefix: str = "") -> list[str]:
    """Return the full name of every command under `group` that does something itself."""
    context = click.Context(group)
    names = []
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        full = f"{prefix} {name}".strip()
        if isinstance(command, click.Group):
            names += leaf_commands(command, full)
        else:
            names.append(full)
    return names


def test_every_command_has_mistakes_to_make():
    assert sorted(leaf_commands(main)) == sorted(name for name in MISTAKES if name)


class NotFoundPages(http.server.BaseHTTPRequestHandler):
    """A web server that is not presszero: every path is a 404 page."""

    def _not_found(self) -> None:
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(NOT_FOUND_PAGE)))
        self.end_headers()
        self.wfile.write(NOT_FOUND_PAGE)

    do_GET = do_POST = _not_found

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def places() -> Iterator[dict[str, str]]:
    """Yield the ports the mistakes name: one taken, one free, one with a 404 web server."""
    pages = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFoundPages)
    threading.Thread(target=pages.serve_forever, daemon=True).start()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield {
            "PORT": str(taken.getsockname()[1]),
            "FREE": str(free_port()),
            "PAGES": str(pages.server_address[1]),
        }
    pages.shutdown()
    pages.server_close()


def snapshot(client: redis.Redis, folder: Path) -> tuple[dict[bytes, bytes | None], list[str]]:
    """Return every key in Redis with its serialized value, and every file under `folder`."""
    keys = {key: client.dump(key) for key in client.scan_iter()}
    return keys, sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


CASES = [
    pytest.param(mistake, id=" ".join(mistake.args)[:60])
    for mistakes in MISTAKES.values()
    for mistake in mistakes
]


@pytest.mark.parametrize("mistake", CASES)
def test_a_mistake_is_one_line_a_failing_exit_and_changes_nothing(
    mistake: Mistake,
    places: dict[str, str],
    redis_url: str,
    redis_client: redis.Redis,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    flow = tmp_path / "broken.yaml"
    flow.write_text(BROKEN_FLOW)
    (tmp_path / "empty").mkdir()
    fill = {**places, "FLOW": str(flow), "EMPTY": str(tmp_path / "empty")}

    def filled(text: str) -> str:
        for name, value in fill.items():
            text = text.replace("{" + name + "}", value)
        return text

    ContextStore(redis_client).upsert([Customer.from_dict(record())])
    monkeypatch.chdir(tmp_path)
    before = snapshot(redis_client, tmp_path)
    args = [filled(arg) for arg in mistake.args]
    env = {
        "REDIS_URL": redis_url,
        "PRESSZERO_DATA_DIR": str(tmp_path / "data"),
        **{k: filled(v) if v else v for k, v in mistake.env.items()},
    }
    if mistake.process:
        whole_env = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
        ran = subprocess.run(
            [PRESSZERO, *args], env=whole_env, cwd=tmp_path, capture_output=True, text=True,
            timeout=60, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        code, stderr = ran.returncode, ran.stderr
    else:
        result = CliRunner().invoke(main, args, env=env, input="")
        code, stderr = result.exit_code, result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(
            result.exception
        )
    assert code != 0
    assert "Traceback" not in stderr
    assert len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("Error: "), stderr
    assert filled(mistake.said) in stderr
    assert snapshot(redis_client, tmp_path) == before
