"""The app factory: settings, the shared store, the channel blueprints."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import redis
from flask import Flask, current_app, jsonify

from presszero.chat.blueprint import bp as chat_bp
from presszero.context.clock import Clock, SystemClock
from presszero.context.conversations import ConversationStore
from presszero.context.embedded import running_url
from presszero.context.handoffs import HandoffStore
from presszero.context.store import ContextStore
from presszero.voice import signature
from presszero.voice.blueprint import bp as voice_bp
from presszero.voice.calls import VoiceLine
from presszero.voice.twiml import Target

from . import metrics
from .config import DEFAULTS, ConfigError, from_environ
from .flowset import FlowSet


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Return the presszero WSGI app, configured from defaults, environment, then `config`."""
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.from_mapping(from_environ(os.environ))
    if config:
        app.config.from_mapping(config)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    clock = app.config.get("PRESSZERO_CLOCK") or SystemClock()
    init_store(app, clock)
    init_channels(app, clock)
    app.register_blueprint(voice_bp)
    app.register_blueprint(chat_bp)
    app.add_url_rule("/healthz", "healthz", healthz)
    metrics.init_app(app)
    return app


def redis_url(config: Mapping[str, Any]) -> str:
    """Return REDIS_URL, else the URL of the data dir's running embedded Redis."""
    if config.get("REDIS_URL"):
        return str(config["REDIS_URL"])
    url = running_url(config["PRESSZERO_DATA_DIR"])
    if url is None:
        raise ConfigError(
            f"REDIS_URL is not set and no embedded Redis runs in {config['PRESSZERO_DATA_DIR']}"
            " (start one with `presszero serve`, or set REDIS_URL)"
        )
    return url


def init_store(app: Flask, clock: Clock) -> None:
    """Hang the Redis client and the context store off the app."""
    client = redis.Redis.from_url(
        redis_url(app.config), socket_connect_timeout=2, socket_timeout=2, health_check_interval=30
    )
    app.extensions["presszero.store"] = ContextStore(
        client, clock, region=app.config["PRESSZERO_DEFAULT_REGION"]
    )


def init_channels(app: Flask, clock: Clock) -> None:
    """Load the flows (failing start-up if any is unsound) and build the channels on them."""
    store: ContextStore = app.extensions["presszero.store"]
    flows = FlowSet.from_config(app.config)
    app.extensions["presszero.flows"] = flows
    app.config["PRESSZERO_VOICE_TOKEN"] = signature.auth_token(app.config)
    app.extensions["presszero.voice"] = VoiceLine(
        store,
        ConversationStore(store.redis),
        HandoffStore(store.redis),
        flows,
        clock,
        Target(dial=app.config["PRESSZERO_AGENT_NUMBER"]),
    )


def get_store() -> ContextStore:
    """Return the current app's context store."""
    return current_app.extensions["presszero.store"]


def healthz() -> Any:
    """Answer 200 when Redis answers, 503 when it does not."""
    if get_store().ping():
        return jsonify(status="ok", redis="up")
    return jsonify(status="unavailable", redis="down"), 503
