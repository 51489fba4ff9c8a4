"""The `presszero` command."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import click

from .cligroup import CommandLine
from .runtime import settings

# Each command's module is imported when the command runs, so that `presszero --version` or
# `presszero check` never loads the server, Redis, twilio or rasa-sdk.
COMMANDS = {
    "context": "presszero.context.cli:context",
    "check": "presszero.flows.cli:check",
    "test-flows": "presszero.flows.cli:test_flows",
    "diagram": "presszero.flows.cli:diagram",
    "call": "presszero.voice.cli:call",
    "chat": "presszero.chat.cli:chat",
    "actions": "presszero.chat.action_server:actions",
    "agent": "presszero.consoles.cli:agent",
    "report": "presszero.consoles.cli:report",
    "guard": "presszero.guard.cli:guard",
    "callbacks": "presszero.voice.callbacks_cli:callbacks",
    "twilio": "presszero.voice.twilio_cli:twilio",
    "doctor": "presszero.doctor:doctor",
}


@click.group(
    cls=CommandLine, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(package_name="presszero")
def main() -> None:
    """Support automation that never traps a customer."""
    settings()  # read once, before any command: a bad or unknown variable is reported first


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--demo", is_flag=True, help="Load the demo customers first.")
@click.option("--dev", is_flag=True, help="Flask's reloading dev server instead of gunicorn.")
def serve(host: str, port: int, workers: int, demo: bool, dev: bool) -> None:
    """Serve the webhooks, chat and consoles (gunicorn)."""
    from presszero.context.demo import load_demo

    from .config import ConfigError
    from .flowset import FlowSet
    from .runtime import ensure_port_free, open_store, redis_for

    config = settings()
    # A taken port or a broken flow stops here, before the data dir or Redis is touched.
    if os.environ.get("WERKZEUG_RUN_MAIN") != "true":  # --dev's child: its parent holds the port
        ensure_port_free(host, port)
    try:
        FlowSet.from_config(config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if not dev and workers > 1:
        # Before prometheus_client is imported: every worker writes its figures here.
        metrics_dir = Path(config["PRESSZERO_DATA_DIR"]).resolve() / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        try:
            metrics_dir.mkdir(parents=True)
        except OSError as exc:
            raise click.ClickException(f"cannot write {metrics_dir}: {exc.strerror}") from None
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    from presszero.app import create_app

    with redis_for(config) as target:
        if demo:
            with open_store(target) as store:
                load_demo(store)
        app_config = config.with_overrides(
            {"REDIS_URL": target.url, "PRESSZERO_DEMO": demo or config["PRESSZERO_DEMO"]}
        )
        try:  # the workers build this same app: a setting that cannot work stops here
            app = create_app(app_config)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"presszero on http://{host}:{port}  (Redis: {target.describe()})", err=True)
        if dev:
            if os.environ.get("WERKZEUG_RUN_MAIN") == "true":  # the reloader's serving child
                from presszero.voice.callbacks_web import start_dialer

                start_dialer(app)
            app.run(host=host, port=port, debug=True)
            return
        from .server import GunicornServer

        GunicornServer(
            lambda: create_app(app_config),
            {"bind": f"{host}:{port}", "workers": workers},
        ).run()


@main.command()
def demo() -> None:
    """Load the demo customers (their history dated from now)."""
    from presszero.context.demo import load_demo

    from .runtime import open_store

    with open_store() as store:
        for customer in load_demo(store):
            click.echo(f"{customer.id}  {customer.phones[0]}  {customer.name}")
