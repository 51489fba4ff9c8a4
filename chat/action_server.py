"""`presszero actions`: the rasa-sdk action server, for teams that already run Rasa.

rasa-sdk's own Sanic endpoint (`POST /webhook`, `GET /health`, `GET /actions`) serves the
executor built in `actions.py`; this module only wires it to the configured store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from presszero.config import ConfigError
from presszero.context.handoffs import HandoffStore
from presszero.flowset import FlowSet
from presszero.runtime import ensure_port_free, open_store, settings
from presszero.secrets_file import setting_or_data_secret

if TYPE_CHECKING:  # rasa-sdk and sanic take a second to import: only `presszero actions` pays
    from rasa_sdk.executor import ActionExecutor
    from sanic import Sanic


def create_action_app(executor: ActionExecutor) -> Sanic:
    """Return rasa-sdk's HTTP endpoint for `executor`.

    Rasa calls the action server from its own server, never from a browser, so no
    cross-origin requests are allowed.
    """
    from rasa_sdk.endpoint import create_app

    return create_app(executor, cors_origins="")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5055, show_default=True, type=click.IntRange(1, 65535))
def actions(host: str, port: int) -> None:
    """Serve the rasa-sdk actions Rasa's endpoints.yml points at.

    Identity tokens are checked with the chat widget's secret (PRESSZERO_CHAT_SECRET). No Rasa
    channel's sender id is trusted as a phone: Rasa's REST channel lets the request name its
    own input channel, so a caller's phone reaches the actions only in a signed token.
    """
    from .actions import build_executor

    config = settings()
    ensure_port_free(host, port)
    try:
        hours = FlowSet.from_config(config).get().hours
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    with open_store() as store:
        executor = build_executor(
            store,
            HandoffStore(store.redis),
            store.clock,
            hours=hours,
            identity_secret=setting_or_data_secret(
                config, "PRESSZERO_CHAT_SECRET", "chat-identity-secret"
            ),
        )
        app = create_action_app(executor)
        click.echo(f"presszero actions on http://{host}:{port}/webhook", err=True)
        # One process: the executor holds live Redis connections, which cannot be pickled
        # into the worker processes Sanic would otherwise spawn.
        app.run(host=host, port=port, single_process=True, access_log=False, motd=False)


commands = [actions]
