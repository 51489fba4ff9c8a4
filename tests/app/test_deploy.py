"""The deployment files a team copies: the Dockerfile, compose.yaml and the systemd unit.

Checked statically everywhere (what they name must exist: files, commands, options, the health
URL); built and run only where a container engine is installed.
"""

from __future__ import annotations

import configparser
import json
import shlex
import shutil
import subprocess
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from presszero.cli import main

ROOT = Path(__file__).resolve().parents[2]
ENGINE = shutil.which("docker") or shutil.which("podman")


def why_no_engine() -> str:
    """Return why the image cannot be built and run here ("" when it can)."""
    if ENGINE is None:
        return "no container engine (docker or podman) on PATH"
    for args, missing in (
        (["info"], "its daemon does not answer"),
        (["compose", "version"], "it has no compose"),
    ):
        try:
            ran = subprocess.run(
                [ENGINE, *args], capture_output=True, text=True, timeout=20, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{ENGINE} {args[0]} failed: {exc}"
        if ran.returncode != 0:
            said = (ran.stderr.strip().splitlines() or [""])[-1]
            return f"{ENGINE} is installed but {missing} ({said})"
    return ""


NO_ENGINE = why_no_engine()


def dockerfile() -> list[tuple[str, str]]:
    """Return the Dockerfile's instructions as (INSTRUCTION, arguments), continuations joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def exec_form(arguments: str) -> list[str]:
    """Return the command of a CMD or RUN in exec (JSON) form, or split as a shell would."""
    return json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def assert_serve_takes(args: list[str]) -> None:
    """Fail unless `args` (after `presszero`) is a `serve` command line presszero accepts."""
    assert args[0] == "serve", args
    command = main.get_command(click.Context(main), "serve")
    assert command is not None
    command.make_context("serve", list(args[1:]))  # a wrong option raises a UsageError


def test_the_image_copies_every_package_and_serves_with_presszero():
    steps = dockerfile()
    copied = set()
    for instruction, arguments in steps:
        if instruction == "COPY":
            *sources, _target = arguments.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such file in the checkout"
                copied.add(source)
    # `pip install .` needs every folder pyproject maps a package to, and the readme
    needed = set(pyproject()["tool"]["setuptools"]["package-dir"].values()) | {"README.md"}
    assert needed <= copied, sorted(needed - copied)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert not set(ignored) & copied, "the .dockerignore hides what the Dockerfile copies"
    cmd = exec_form(dict(steps)["CMD"])
    assert cmd[0] in pyproject()["project"]["scripts"], cmd
    assert_serve_takes(cmd[1:])
    port = cmd[cmd.index("--port") + 1]
    assert f"EXPOSE {port}" in {f"{i} {a}" for i, a in steps}
    health = dict(steps)["HEALTHCHECK"]
    probe = exec_form(health[health.index("CMD") + 3 :].strip())
    compile(probe[-1], "HEALTHCHECK", "exec")  # the probe is Python that parses
    assert f"http://127.0.0.1:{port}/healthz" in probe[-1]


def test_compose_runs_presszero_on_a_durable_redis_with_health_checks():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services, volumes = compose["services"], compose["volumes"]
    assert set(services) == {"presszero", "redis"}
    redis, app = services["redis"], services["presszero"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] in ("always", "everysec")
    for service in (redis, app):  # each keeps its data in a named volume
        name, _, path = service["volumes"][0].partition(":")
        assert name in volumes
        assert path == "/data"
    assert app["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert app["depends_on"]["redis"]["condition"] == "service_healthy"
    assert app["build"] == "."
    assert (ROOT / "Dockerfile").is_file()
    probe = app["healthcheck"]["test"]
    assert probe[0] == "CMD"
    assert "http://127.0.0.1:8000/healthz" in probe[-1]
    compile(probe[-1], "healthcheck", "exec")
    assert app["ports"] == ["127.0.0.1:8000:8000"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_the_health_url_the_containers_probe_is_the_apps(make_app: Any):
    app = make_app()
    assert app.test_client().get("/healthz").status_code == 200


def test_the_systemd_unit_serves_presszero_with_its_settings_file():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string((ROOT / "deploy" / "presszero.service").read_text())
    assert {"Unit", "Service", "Install"} <= set(unit.sections())
    service = unit["Service"]
    start = shlex.split(service["ExecStart"])
    assert Path(start[0]).name in pyproject()["project"]["scripts"]
    assert_serve_takes(start[1:])
    assert service["Restart"] == "always"
    assert service["EnvironmentFile"] == "/etc/presszero/presszero.env"
    data = service["Environment"].partition("=")[2]
    assert data == f"/var/lib/{service['StateDirectory']}"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_settings_example_names_only_settings_and_every_secret_doctor_wants():
    from presszero.config import DEFAULTS
    from presszero.doctor import SECRETS

    text = (ROOT / "deploy" / "presszero.env.example").read_text()
    names = [line.split("=", 1)[0] for line in text.splitlines() if line and line[0] != "#"]
    assert set(names) <= set(DEFAULTS), sorted(set(names) - set(DEFAULTS))
    assert {key for key, _, _ in SECRETS} <= set(names)


@pytest.mark.skipif(
    bool(NO_ENGINE),
    reason=f"cannot build or run containers here: {NO_ENGINE}; the Dockerfile and "
    "compose.yaml are only checked statically (a CI machine with an engine runs this)",
)
def test_the_image_builds_and_compose_answers_healthz():  # pragma: no cover - needs an engine
    assert ENGINE is not None
    run = lambda *args: subprocess.run([ENGINE, *args], cwd=ROOT, check=True, timeout=900)  # noqa: E731
    project = "presszero-test"
    try:
        run("compose", "-p", project, "up", "-d", "--build", "--wait")
        with urllib.request.urlopen("http://127.0.0.1:8000/healthz", timeout=10) as reply:
            assert reply.status == 200
    finally:
        run("compose", "-p", project, "down", "-v")
