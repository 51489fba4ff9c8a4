"""`presszero doctor`: is this configuration ready for a real line? One line per problem, each
saying how to fix it; exit 0 only when there are none.

Every check runs whatever the others found, and nothing it meets (Redis down, Twilio away, a
broken flow) ends the command early or with a traceback: it becomes a line.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from .config import ConfigError
from .runtime import redis_for, settings

TOKEN_HOW = "the account's auth token (Twilio console, Account info)"  # noqa: S105 - words
RANDOM_HOW = "a long random value, e.g. the output of `openssl rand -hex 32`"
# (setting, the file presszero keeps a development value of it in, how to choose one)
SECRETS = (
    ("TWILIO_AUTH_TOKEN", "twilio-auth-token", TOKEN_HOW),
    ("SECRET_KEY", "secret-key", RANDOM_HOW),
    ("PRESSZERO_CHAT_SECRET", "chat-identity-secret", RANDOM_HOW),
)
DURABLE_FSYNC = ("always", "everysec")
MIN_SECRET = 32  # characters: a Twilio auth token has 32, `openssl rand -hex 32` gives 64


@dataclass
class Findings:
    """What the checks found: the problems (one line each) and what was found sound."""

    problems: list[str] = field(default_factory=list)
    sound: list[str] = field(default_factory=list)
    redis: Any = None  # a client on the Redis in use, while the checks run; None when down


Check = Callable[[Mapping[str, Any], Findings, str], None]


@click.command("doctor")
@click.option(
    "--number", default="", help="The line's number to check (default: PRESSZERO_TWILIO_NUMBER)."
)
def doctor(number: str) -> None:
    """Check a production configuration; one line per problem; exit 0 only when ready."""
    config = settings()
    found = Findings()
    ran = False
    try:
        with _redis_in_use(config, found):
            ran = True
            for check in CHECKS:
                _run(check, config, found, number)
    except Exception as exc:  # starting or leaving Redis: a line, no traceback
        found.problems.append(f"Redis: {_said(exc)}")
    if not ran:  # Redis could not even be started: every other check still runs
        for check in CHECKS:
            _run(check, config, found, number)
    for line in found.sound:
        click.echo(f"ok  {line}")
    for line in found.problems:
        click.echo(f"✗   {line}")
    if found.problems:
        count = len(found.problems)
        raise click.ClickException(f"not ready for a real line: {count} problem(s), listed above")
    click.echo("Ready: this configuration can take real calls.")


def _run(check: Check, config: Mapping[str, Any], found: Findings, number: str) -> None:
    try:
        check(config, found, number)
    except Exception as exc:  # a check that breaks is a problem line
        name = check.__name__.removeprefix("check_").replace("_", " ")
        found.problems.append(f"{name}: could not be checked ({_said(exc)})")


def _said(exc: BaseException) -> str:
    message = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
    first = message.strip().splitlines()[0] if message.strip() else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


@contextlib.contextmanager
def _redis_in_use(config: Mapping[str, Any], found: Findings) -> Iterator[None]:
    """Hold a client on the Redis in use (the data dir's, started if need be) in
    `found.redis` for the checks; when it cannot be reached, say so once and hold None."""
    from presszero.context.connect import REDIS_ERRORS

    with contextlib.ExitStack() as stack:
        try:
            target = stack.enter_context(redis_for(config))
        except click.ClickException as exc:
            found.problems.append(f"Redis: {exc.format_message()}")
            yield
            return
        client = stack.enter_context(
            contextlib.closing(target.connect(socket_connect_timeout=3, socket_timeout=5))
        )
        try:
            client.ping()
        except REDIS_ERRORS as exc:
            found.problems.append(
                f"Redis at {target.describe()} is not answering ({exc}): start it, or fix REDIS_URL"
            )
            yield
            return
        found.redis = client
        try:
            yield
        finally:
            found.redis = None


# -- the checks, in the order they are reported --------------------------------------------------


def check_secrets(config: Mapping[str, Any], found: Findings, _number: str) -> None:
    """Each secret is set, and is not the development one presszero keeps in the data dir."""
    data_dir = Path(str(config["PRESSZERO_DATA_DIR"]))
    bad = 0
    for key, filename, how in SECRETS:
        value = str(config.get(key) or "")
        development = data_dir / filename
        try:
            kept = development.read_text().strip()
        except OSError:
            kept = ""
        if not value:
            used = f" (the development one in {development} is used)" if kept else ""
            found.problems.append(f"{key} is not set{used}: set it to {how}")
            bad += 1
        elif value == kept:
            found.problems.append(
                f"{key} is the development secret from {development}: set it to {how}"
            )
            bad += 1
        elif len(value) < MIN_SECRET:
            found.problems.append(
                f"{key} is only {len(value)} characters, easy to guess: set it to {how}"
            )
            bad += 1
    if not bad:
        found.sound.append("secrets: " + ", ".join(key for key, _, _ in SECRETS) + " set")


def check_public_url(config: Mapping[str, Any], found: Findings, _number: str) -> None:
    """PRESSZERO_PUBLIC_URL is https, and its name resolves."""
    from presszero.voice.golive import GoLiveError, https_base

    try:
        url = https_base(str(config["PRESSZERO_PUBLIC_URL"] or ""), "PRESSZERO_PUBLIC_URL")
    except GoLiveError as exc:
        found.problems.append(str(exc))
        return
    host = urlsplit(url).hostname or ""
    try:
        socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        found.problems.append(
            f"PRESSZERO_PUBLIC_URL's host {host} does not resolve ({exc}): give it a DNS"
            " record that points at this server"
        )
        return
    found.sound.append(f"public URL: {url} ({host} resolves)")


def check_redis_durability(config: Mapping[str, Any], found: Findings, _number: str) -> None:
    """The Redis in use writes an append-only file, flushed at least every second."""
    import redis

    if found.redis is None:
        return  # said once, when connecting
    try:
        got = found.redis.config_get("append*")
    except redis.ResponseError as exc:
        found.problems.append(
            f"Redis refused CONFIG GET ({exc}): allow it for presszero's user, or check by hand"
            " that appendonly is yes and appendfsync everysec or always"
        )
        return
    got = {_text(k): _text(v) for k, v in got.items()}
    appendonly, fsync = got.get("appendonly", ""), got.get("appendfsync", "")
    if appendonly != "yes":
        found.problems.append(
            f"Redis has appendonly {appendonly or 'unset'}: contacts and handoffs written since"
            " its last snapshot are lost if it stops; set `appendonly yes` in its redis.conf"
            " (and CONFIG SET appendonly yes to turn it on now)"
        )
    if fsync not in DURABLE_FSYNC:
        found.problems.append(
            f"Redis has appendfsync {fsync or 'unset'}: the operating system decides when"
            " writes reach the disk; set `appendfsync everysec` (or always) in its redis.conf"
        )
    if appendonly == "yes" and fsync in DURABLE_FSYNC:
        found.sound.append(f"Redis durability: appendonly yes, appendfsync {fsync}")


def check_flows_and_agents(config: Mapping[str, Any], found: Findings, _number: str) -> None:
    """The flows pass `presszero check`, and someone can answer every queue they hand off to."""
    from presszero.context.agents import AgentStore
    from presszero.flows.language.model import CallbackStep, HandoffStep, VoicemailStep
    from presszero.flowset import FlowSet

    try:
        flows = FlowSet.from_config(config)
    except ConfigError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        for line in lines[1:] or lines:  # the first names the setting when there are several
            found.problems.append(f"flows: {line} (`presszero check` shows them all)")
        return
    found.sound.append(f"flows: {', '.join(sorted(flows.flows))} pass `presszero check`")
    ends = (HandoffStep, CallbackStep, VoicemailStep)  # the steps that give a queue a caller
    queues = sorted(
        {
            step.queue
            for flow in flows.flows.values()
            for step in flow.steps.values()
            if isinstance(step, ends)
        }
    )
    if config.get("PRESSZERO_TASKROUTER_WORKFLOW_SID"):
        found.sound.append("agents: handoffs go to Flex (PRESSZERO_TASKROUTER_WORKFLOW_SID)")
        return
    if config.get("PRESSZERO_AGENT_NUMBER"):
        found.sound.append(f"agents: handoffs ring {config['PRESSZERO_AGENT_NUMBER']}")
        return
    if found.redis is None:
        found.problems.append("agents: not checked, since Redis is not answering")
        return
    agents = AgentStore(found.redis).everyone()
    unanswered = [q for q in queues if not any(a.takes(q) for a in agents)]
    if unanswered:
        found.problems.append(
            f"no agent takes the queue(s) {', '.join(unanswered)} the flows hand off to: add"
            f" one with `presszero agent add NAME --phone +E164 --queues {','.join(unanswered)}`"
            " (no --queues: every queue)"
        )
        return
    found.sound.append(f"agents: someone takes each queue ({', '.join(queues)})")


def check_number(config: Mapping[str, Any], found: Findings, number: str) -> None:
    """The number's voice URL, status callback and fallback URL point here (Twilio's API)."""
    from presszero.voice import golive
    from presszero.voice.rest import TwilioError, TwilioRest

    line = (
        number or config.get("PRESSZERO_TWILIO_NUMBER") or config.get("PRESSZERO_CALLER_ID") or ""
    )
    if not line:
        found.problems.append(
            "PRESSZERO_TWILIO_NUMBER is not set: set it to the line's number (+E164) so doctor"
            " can check where its calls go"
        )
        return
    try:
        line = golive.phone_number(str(line))
    except golive.GoLiveError as exc:
        found.problems.append(f"the line's number: {exc}")
        return
    wanted: dict[str, str] = {}
    try:
        public = golive.https_base(str(config["PRESSZERO_PUBLIC_URL"] or ""), "")
        wanted.update(
            {k: v for k, v in golive.wanted(public, "").items() if not k.startswith("voice_f")}
        )
    except golive.GoLiveError:
        public = ""  # said by the public URL's check; the other fields are still compared
    try:
        fallback = golive.fallback_url(str(config["PRESSZERO_FALLBACK_URL"] or ""), public)
        wanted.update(voice_fallback_url=fallback, voice_fallback_method="GET")
    except golive.GoLiveError:
        pass  # said by the fallback's check
    try:
        with TwilioRest(config) as rest:
            if not rest.configured:
                found.problems.append(
                    f"TWILIO_ACCOUNT_SID is not set: doctor cannot check where {line}'s calls go;"
                    " set it with TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)"
                )
                return
            resource = rest.phone_number(line)
    except (TwilioError, ValueError) as exc:
        found.problems.append(f"the number {line} could not be checked: {exc}")
        return
    if resource is None:
        found.problems.append(
            f"{line} is not a number of the Twilio account {config['TWILIO_ACCOUNT_SID']}:"
            " check PRESSZERO_TWILIO_NUMBER"
        )
        return
    differ = golive.changes(resource, wanted)
    if getattr(resource, "trunk_sid", None):
        found.problems.append(f"{line} is on a SIP trunk: Twilio never fetches its voice URL")
    elif differ:
        first = differ[0]
        more = f" and {len(differ) - 1} more" if len(differ) > 1 else ""
        found.problems.append(
            f"{line} does not point here ({golive.FIELDS[first.field]} is"
            f" {first.before or '(none)'}, not {first.after or '(none)'}{more}): run"
            f" `presszero twilio setup --number {line}`"
        )
    elif len(wanted) == len(golive.FIELDS):
        found.sound.append(f"the number {line}: its webhooks and fallback point here")


def check_fallback(config: Mapping[str, Any], found: Findings, _number: str) -> None:
    """The fallback URL is set, https, and somewhere other than presszero's own host."""
    from presszero.voice.golive import GoLiveError, fallback_url

    public = str(config["PRESSZERO_PUBLIC_URL"] or "").strip()
    try:
        url = fallback_url(str(config["PRESSZERO_FALLBACK_URL"] or ""), public)
    except GoLiveError as exc:
        found.problems.append(str(exc))
        return
    found.sound.append(f"fallback: {url}")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


CHECKS: tuple[Check, ...] = (
    check_secrets,
    check_public_url,
    check_redis_durability,
    check_flows_and_agents,
    check_number,
    check_fallback,
)
