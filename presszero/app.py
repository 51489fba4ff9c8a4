"""The app factory: settings, the shared store, the channel blueprints."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import redis
from flask import Flask, Request, current_app, jsonify, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from presszero import logmask, metrics
from presszero.chat.access import ConversationAccess
from presszero.chat.answers import Answers, Delivery, Mailer
from presszero.chat.blueprint import bp as chat_bp
from presszero.chat.cors import OriginError, Origins
from presszero.chat.rasa_api import RasaServer
from presszero.chat.service import CHANNEL as CHAT
from presszero.chat.service import ChatService
from presszero.consoles.inbox import bp as inbox_bp
from presszero.consoles.leads import bp as leads_bp
from presszero.consoles.messages import bp as messages_bp
from presszero.consoles.phone import bp as phone_bp
from presszero.context.agents import AgentStore
from presszero.context.clock import Clock, SystemClock
from presszero.context.connect import REDIS_ERRORS, RedisSettings, RedisSettingsError
from presszero.context.conversations import ConversationStore
from presszero.context.embedded import running_url
from presszero.context.handoffs import HandoffStore
from presszero.context.limits import RateLimiter, parse_limits
from presszero.context.spool import Spool
from presszero.context.store import PREFIX, ContextStore
from presszero.flows.language.yamlsrc import FlowError
from presszero.guard.api import bp as automation_bp
from presszero.guard.files import guard_path
from presszero.guard.rules import read_guard
from presszero.guard.service import OutboundGuard
from presszero.voice import callbacks_web
from presszero.voice.blueprint import bp as voice_bp
from presszero.voice.calls import VoiceLine
from presszero.voice.desk import CallDesk
from presszero.voice.rest import TwilioRest
from presszero.voice.twiml import Target

from .config import ConfigError, Settings
from .flowset import FlowSet
from .secrets_file import setting_or_data_secret
from .turns import Turns
from .voice import signature


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Return the presszero WSGI app, configured from defaults, environment, then `config`.

    `config` may be Settings already read (`presszero serve` reads them once for its workers).
    """
    logmask.install()
    if isinstance(config, Settings):
        settings = config
    else:
        settings = Settings.load(os.environ, config)
        settings.log_warnings()
    app = Flask(__name__)
    app.request_class = FormRequest
    app.extensions["presszero.settings"] = settings
    app.config.from_mapping(settings)
    app.json = SafeJSONProvider(app)
    app.session_interface = CookieSessions()
    app.json.sort_keys = False
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.secret_key = setting_or_data_secret(app.config, "SECRET_KEY", "secret-key")
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=_behind_tls(app.config),
        PERMANENT_SESSION_LIFETIME=12 * 3600,
    )
    clock = app.config.get("PRESSZERO_CLOCK") or SystemClock()
    init_store(app, clock)
    init_channels(app, clock)
    callbacks_web.init_app(app, clock)  # the dialer (started by `presszero serve`), its webhooks
    app.register_blueprint(voice_bp)
    app.register_blueprint(chat_bp)
    app.register_blueprint(inbox_bp)
    app.register_blueprint(leads_bp)
    app.register_blueprint(messages_bp)
    app.register_blueprint(phone_bp)
    app.register_blueprint(automation_bp)
    app.add_url_rule("/healthz", "healthz", healthz)
    for away in REDIS_AWAY:
        app.register_error_handler(away, redis_away)
    metrics.init_app(app)
    return app


class SafeJSONProvider(DefaultJSONProvider):
    """JSON whose parse errors are all ValueErrors, so a request body can only be a 400.

    A body of 5,000 `[` makes the standard decoder raise RecursionError.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


class FormRequest(Request):
    """Flask's request, reading a form-encoded body (every Twilio webhook) in one go.

    werkzeug reads one through a stream wrapper and a parser made for each request: under
    gunicorn about 150 µs, more than a Redis round trip. The result is the same (a test
    compares them); other bodies are werkzeug's to read.
    """

    def _load_form_data(self) -> None:
        if "form" in self.__dict__ or self.mimetype != "application/x-www-form-urlencoded":
            super()._load_form_data()
            return
        try:  # get_data honours MAX_CONTENT_LENGTH (413)
            text = self.get_data(cache=True).decode()
            pairs = parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")
        except ValueError:  # not UTF-8: no fields, as werkzeug's parser answers
            pairs = []
        self.__dict__["form"] = self.parameter_storage_class(pairs)
        self.__dict__["files"] = self.parameter_storage_class()


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without building a signer for a request that carries no
    session cookie (every webhook): Flask builds one for every request, about 40 µs."""

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def redis_settings(config: Mapping[str, Any]) -> RedisSettings:
    """Return the Redis set up (a URL, a cluster, Sentinel), else the data dir's embedded one."""
    try:
        settings = RedisSettings.from_config(config)
    except RedisSettingsError as exc:
        raise ConfigError(str(exc)) from None
    if settings.configured:
        return settings
    url = running_url(config["PRESSZERO_DATA_DIR"])
    if url is None:
        raise ConfigError(
            f"REDIS_URL is not set and no embedded Redis runs in {config['PRESSZERO_DATA_DIR']}"
            " (start one with `presszero serve`, or set REDIS_URL)"
        )
    return settings.with_url(url)


# A Redis that stops answering costs a webhook 2 s, then the fail-safe, never a hung worker.
REDIS_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2, "health_check_interval": 30}


def init_store(app: Flask, clock: Clock) -> None:
    """Hang the Redis client and the context store off the app."""
    client = redis_settings(app.config).connect(**REDIS_OPTIONS)
    app.extensions["presszero.store"] = ContextStore(
        client, clock, region=app.config["PRESSZERO_DEFAULT_REGION"]
    )


def init_channels(app: Flask, clock: Clock) -> None:
    """Load the flows (failing start-up if any is unsound) and build the channels on them."""
    store: ContextStore = app.extensions["presszero.store"]
    flows = FlowSet.from_config(app.config)
    app.extensions["presszero.flows"] = flows

    @app.before_request
    def _pick_up_edited_flows() -> None:
        flows.refresh()  # an edited file is checked first; a broken one is never served

    app.config["PRESSZERO_VOICE_TOKEN"] = signature.auth_token(app.config)
    conversations = ConversationStore(store.redis)
    handoffs = HandoffStore(store.redis)
    agents = AgentStore(store.redis)
    app.extensions["presszero.handoffs"] = handoffs
    spool_dir = Path(app.config["PRESSZERO_DATA_DIR"]) / "spool"
    app.extensions["presszero.spool"] = Spool(spool_dir / "voice-status.jsonl")
    app.extensions["presszero.failsafes"] = Spool(spool_dir / "voice-failsafes.jsonl")
    app.extensions["presszero.agents"] = agents
    turns = Turns(store, conversations, handoffs, agents, flows, clock)
    try:
        app.extensions["presszero.twilio"] = TwilioRest(app.config)
    except ValueError as exc:  # a half-set or malformed Twilio setting, named in the message
        raise ConfigError(str(exc)) from None
    app.extensions["presszero.turns"] = turns
    target = Target(
        dial=app.config["PRESSZERO_AGENT_NUMBER"],
        workflow=app.config["PRESSZERO_TASKROUTER_WORKFLOW_SID"],
    )
    desk = CallDesk(turns, app.extensions["presszero.twilio"], target)
    app.extensions["presszero.voice"] = VoiceLine(turns, desk)
    identity_secret = setting_or_data_secret(
        app.config, "PRESSZERO_CHAT_SECRET", "chat-identity-secret"
    )
    limiter = rate_limiter(app.config, "PRESSZERO_CHAT_LIMITS", store.redis, PREFIX)
    wait = str(app.config["PRESSZERO_CHAT_MAX_WAIT"]).strip()
    if not wait.isdigit():
        raise ConfigError(f"PRESSZERO_CHAT_MAX_WAIT must be whole seconds, got {wait!r}")
    chat = ChatService(turns, identity_secret, limiter, max_wait=int(wait))
    app.extensions["presszero.chat"] = chat
    init_chat_access(app, store, conversations)
    app.extensions["presszero.rasa"] = RasaServer.from_config(app.config)
    delivery = Delivery(
        Mailer.from_settings(app.config),
        app.extensions["presszero.twilio"],
        app.config["PRESSZERO_CALLER_ID"],
    )
    app.extensions["presszero.answers"] = Answers(chat, delivery)
    try:
        rules = read_guard(guard_path(app.config))
    except FlowError as exc:
        raise ConfigError(f"PRESSZERO_GUARD_RULES: the rules do not load:\n{exc}") from None
    app.extensions["presszero.guard"] = OutboundGuard(store, handoffs, rules, clock)


def rate_limiter(config: Mapping[str, Any], name: str, client: Any, prefix: str) -> RateLimiter:
    """Return the limiter the setting `name` ("30/60,600/60") describes, keys under `prefix`."""
    try:
        per_sender, per_address = parse_limits(config[name])
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    return RateLimiter(client, per_sender=per_sender, per_address=per_address, prefix=prefix)


def init_chat_access(app: Flask, store: ContextStore, conversations: ConversationStore) -> None:
    """Hang off the app who may call the chat: origins, tokens and keys, the poll's limits."""
    try:
        app.extensions["presszero.chat_origins"] = Origins.parse(
            app.config["PRESSZERO_CHAT_ORIGINS"]
        )
        keys = ConversationAccess.parse_keys(app.config["PRESSZERO_CHAT_API_KEYS"])
    except OriginError as exc:
        raise ConfigError(f"PRESSZERO_CHAT_ORIGINS: {exc}") from None
    except ValueError as exc:
        raise ConfigError(f"PRESSZERO_CHAT_API_KEYS: {exc}") from None
    app.extensions["presszero.chat_access"] = ConversationAccess(
        store.redis, keys, lambda sender: conversations.key(CHAT, sender)
    )
    app.extensions["presszero.chat_polls"] = rate_limiter(
        app.config, "PRESSZERO_CHAT_POLL_LIMITS", store.redis, f"{PREFIX}:poll"
    )


def _behind_tls(config: Mapping[str, Any]) -> bool:
    """Return True when the public URL is https (then cookies are sent over TLS only)."""
    public = str(config.get("PRESSZERO_PUBLIC_URL") or "")
    return public.startswith("https://") or bool(config.get("PRESSZERO_SECURE_COOKIES"))


def get_settings() -> Settings:
    """Return the settings the current app started with."""
    settings: Settings = current_app.extensions["presszero.settings"]
    return settings


def get_store() -> ContextStore:
    """Return the current app's context store."""
    return current_app.extensions["presszero.store"]


HEALTH_KEY = "pz:healthz"


def healthz() -> Any:
    """Answer 200 when Redis answers and takes a write, 503 with the reason when not."""
    client = get_store().redis
    try:
        client.ping()
    except REDIS_ERRORS as exc:
        return jsonify(status="unavailable", redis="down", reason=str(exc)), 503
    try:  # a Redis at maxmemory (or a read-only replica) still answers PING
        client.set(HEALTH_KEY, "1", ex=60)
    except REDIS_ERRORS as exc:
        return jsonify(status="unavailable", redis="refuses writes", reason=str(exc)), 503
    with contextlib.suppress(Exception):  # a good moment to record what waited on disk
        from presszero.voice.blueprint import replay_spool

        replay_spool()
    return jsonify(status="ok", redis="up")


# Redis away, or refusing writes: a page or an API answers 503, never a 500.
REDIS_AWAY: tuple[type[Exception], ...] = (
    redis.ConnectionError,  # BusyLoadingError too: Redis is still reading its data
    redis.TimeoutError,
    redis.exceptions.ReadOnlyError,
    redis.exceptions.OutOfMemoryError,
    redis.exceptions.MasterDownError,
    redis.exceptions.ClusterDownError,
)

UNAVAILABLE_PAGE = """<!doctype html>
<meta charset="utf-8"><title>Unavailable for a moment</title>
<h1>Unavailable for a moment</h1>
<p>presszero cannot reach its data store (Redis) right now, so this page cannot be shown.
Callers and chat visitors are still offered a person. Try again in a few seconds.</p>
"""


def redis_away(exc: Exception) -> Any:
    """Answer 503 (a page for a browser, JSON otherwise) while Redis is away or refuses writes."""
    if request.path.startswith("/voice/"):
        raise exc  # the voice line answers with TwiML that reaches a person, never this
    current_app.logger.warning("Redis unavailable for %s %s: %s", request.method, request.path, exc)
    headers = {"Retry-After": "5"}
    wants = request.accept_mimetypes.best_match(["application/json", "text/html"])
    if wants == "text/html":
        return UNAVAILABLE_PAGE, 503, {**headers, "Content-Type": "text/html; charset=utf-8"}
    message = "the data store (Redis) is unavailable; try again in a few seconds"
    return jsonify(error="unavailable", message=message), 503, headers
