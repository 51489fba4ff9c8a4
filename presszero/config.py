"""Settings: defaults, then the environment, then the caller's dict (tests pass one)."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "REDIS_URL": "",  # empty: use the embedded Redis of PRESSZERO_DATA_DIR
    "PRESSZERO_REDIS_CLUSTER": False,  # 1: REDIS_URL names one node of a Redis Cluster
    "PRESSZERO_REDIS_SENTINELS": "",  # host:port,host:port of Sentinels (REDIS_URL unset)
    "PRESSZERO_REDIS_SENTINEL_MASTER": "",  # the name the Sentinels monitor the master by
    "PRESSZERO_REDIS_PASSWORD": "",  # the master's password, when Sentinel names the master
    "PRESSZERO_DATA_DIR": "./var",
    "PRESSZERO_REDIS_FSYNC": "always",  # the embedded Redis' appendfsync policy
    "PRESSZERO_DEFAULT_REGION": "US",
    "PRESSZERO_PUBLIC_URL": "",
    "PRESSZERO_TRUST_PROXY": False,
    "TWILIO_AUTH_TOKEN": "",
    "TWILIO_ACCOUNT_SID": "",  # AC…: the account whose REST API places and steers calls
    "TWILIO_API_KEY": "",  # SK…: REST auth by API key instead of the auth token
    "TWILIO_API_SECRET": "",  # the API key's secret
    "PRESSZERO_TWILIO_API_URL": "https://api.twilio.com",  # where every REST request goes
    "PRESSZERO_CHAT_LIMITS": "30/60,600/60",  # messages per seconds: per sender, per address
    "PRESSZERO_CHAT_POLL_LIMITS": "120/60,2400/60",  # polls per seconds: per sender, per address
    "PRESSZERO_CHAT_ORIGINS": "",  # origins whose pages may embed the widget (comma-separated)
    "PRESSZERO_CHAT_API_KEYS": "",  # keys of server-side chat clients (comma-separated)
    "PRESSZERO_SUPPORT_PHONE": "",  # the number chat visitors are told to call when chat fails
    "PRESSZERO_CHAT_MAX_WAIT": "180",  # seconds a chat waits before leaving a message is offered
    "PRESSZERO_SMTP_HOST": "",  # the mail server answers to chat messages go through
    "PRESSZERO_SMTP_PORT": "587",
    "PRESSZERO_SMTP_USER": "",  # with PRESSZERO_SMTP_PASSWORD: sign in to the mail server
    "PRESSZERO_SMTP_PASSWORD": "",
    "PRESSZERO_SMTP_FROM": "",  # "Example Support <support@example.com>": who answers are from
    "PRESSZERO_SMTP_STARTTLS": True,  # 0: a mail server on this machine that has no TLS
    "PRESSZERO_AGENT_NUMBER": "",  # Dial target for handoffs; empty: Enqueue to the queue
    "PRESSZERO_CALLER_ID": "",  # the line's own number (E.164): what callbacks call from
    "PRESSZERO_TWILIO_NUMBER": "",  # the line's number (E.164): `twilio setup`, `doctor`
    "PRESSZERO_FALLBACK_URL": "",  # https URL of `presszero twilio fallback`'s document
    "PRESSZERO_BACKUP_NUMBER": "",  # who the fallback document dials when presszero is down
    "PRESSZERO_DIALER": True,  # 0: `presszero serve` workers do not dial the callbacks owed
    "PRESSZERO_TWIML_APP_SID": "",  # AP…: the TwiML app browser agents' calls go through
    "PRESSZERO_TASKROUTER_WORKFLOW_SID": "",  # WW…: hand callers to Flex (TaskRouter) instead
    "PRESSZERO_FLOWS": "",  # a flow file or folder; empty: the shipped flows
    "PRESSZERO_FLOW": "support",  # the flow a new call or chat starts in
    "SECRET_KEY": "",  # signs console sessions; empty: a secret kept in the data dir
    "PRESSZERO_CHAT_SECRET": "",  # HMAC secret shared with the website for identity tokens
    "PRESSZERO_RASA_URL": "",  # the team's Rasa HTTP API: agents' replies to Rasa chats
    "PRESSZERO_RASA_TOKEN": "",  # that Rasa's --auth-token
    "PRESSZERO_SECURE_COOKIES": False,  # 1: session cookies only over https
    "PRESSZERO_DEMO": False,  # 1: the demo chat page may sign in demo customers
    "PRESSZERO_AUTOMATION_KEY": "",  # API key for POST /automation/check; empty: API off
    "PRESSZERO_METRICS_TOKEN": "",  # bearer token for GET /metrics; empty: loopback only
    "PRESSZERO_GUARD_RULES": "",  # the outbound guard's rules; empty: the shipped ones
}

_BOOLEANS = {
    "1": True,
    "true": True,
    "yes": True,
    "0": False,
    "false": False,
    "no": False,
    "": False,
}


class ConfigError(ValueError):
    """A setting is missing or has a value we cannot use; the message names it."""


def from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    """Return the settings the environment sets, typed like the defaults."""
    found: dict[str, Any] = {}
    for key, default in DEFAULTS.items():
        if key not in environ:
            continue
        raw = environ[key]
        if isinstance(default, bool):
            if raw.strip().lower() not in _BOOLEANS:
                raise ConfigError(f"{key} must be 1 or 0, got {raw!r}")
            found[key] = _BOOLEANS[raw.strip().lower()]
        else:
            found[key] = raw.strip()
    return found


def require(config: Mapping[str, Any], key: str) -> Any:
    """Return a setting that must be set, or fail naming it."""
    value = config.get(key)
    if value in (None, ""):
        raise ConfigError(f"{key} is not set")
    return value


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """Return a warning for each PRESSZERO_* variable that is no setting, with the nearest one."""
    # Compared without the prefix, which every candidate would share.
    known = {key.removeprefix("PRESSZERO_"): key for key in DEFAULTS}
    warnings = []
    for name in sorted(environ):
        if not name.startswith("PRESSZERO_") or name in DEFAULTS:
            continue
        nearest = difflib.get_close_matches(name.removeprefix("PRESSZERO_"), known, n=1)
        hint = f"did you mean {known[nearest[0]]}?" if nearest else "see presszero/config.py"
        warnings.append(f"{name} is not a presszero setting; {hint}")
    return warnings


@dataclass(frozen=True, eq=False)
class Settings(Mapping[str, Any]):
    """Every setting, read once at start-up: the defaults, the environment, then overrides."""

    mapping: Mapping[str, Any]  # a read-only copy of what it was made with
    warnings: tuple[str, ...] = ()  # PRESSZERO_* variables that are no setting

    def __post_init__(self) -> None:
        object.__setattr__(self, "mapping", MappingProxyType(dict(self.mapping)))

    @classmethod
    def load(
        cls, environ: Mapping[str, str], overrides: Mapping[str, Any] | None = None
    ) -> Settings:
        """Return the defaults, overlaid with the environment, then with `overrides`."""
        values = {**DEFAULTS, **from_environ(environ), **(overrides or {})}
        return cls(values, tuple(unknown_variables(environ)))

    def __getitem__(self, key: str) -> Any:
        return self.mapping[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.mapping)

    def __len__(self) -> int:
        return len(self.mapping)

    def require(self, key: str) -> Any:
        """Return a setting that must be set, or fail naming it."""
        return require(self, key)

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """Return these settings with `overrides` on top (the warnings stay as they were)."""
        return Settings({**self.mapping, **overrides}, self.warnings)

    def log_warnings(self) -> None:
        """Log each warning about the environment at WARNING."""
        for warning in self.warnings:
            log.warning(warning)
