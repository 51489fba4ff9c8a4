"""Twilio's REST API as presszero uses it: place, redirect and end calls, and send text
messages, through twilio's Client."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from presszero.config import ConfigError

TWILIO_API_URL = "https://api.twilio.com"
CALL_EVENTS = ("initiated", "ringing", "answered", "completed")
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_API_KEY = re.compile(r"SK[0-9a-fA-F]{32}")
_CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
_MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
_NUMBER_SID = re.compile(r"PN[0-9a-fA-F]{32}")
SMS_LIMIT = 1600  # characters Twilio takes in one message's Body
# twilio's Client falls back to os.environ when handed an empty mapping, and TWILIO_EDGE or
# TWILIO_REGION there would rewrite the API host; this mapping keeps the environment out.
_NO_ENVIRONMENT = {"TWILIO_EDGE": "", "TWILIO_REGION": ""}

T = TypeVar("T")


class TwilioError(Exception):
    """Twilio's REST API did not do what we asked; str() is a plain message for a person."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status  # the HTTP status Twilio answered, if it answered
        self.code = code  # Twilio's error code (https://www.twilio.com/docs/errors/CODE)


class TwilioNotConfigured(TwilioError):
    """A setting the request needs is not set; the message names it."""


class TwilioUnavailable(TwilioError):
    """Twilio could not be reached or failed on its side; trying again later may work."""


class TwilioRejected(TwilioError):
    """Twilio refused the request (a 4xx): its code and message say why."""


class TwilioRest:
    """Place, redirect and end calls through twilio's Client, at PRESSZERO_TWILIO_API_URL."""

    def __init__(
        self, settings: Mapping[str, Any], *, public_url: str | None = None, timeout: float = 10.0
    ) -> None:
        self.api_url = _api_url(settings)
        public = settings.get("PRESSZERO_PUBLIC_URL") if public_url is None else public_url
        self.public_url = _public_url(str(public or ""))
        self._http: TwilioHttpClient | None = None
        self._client: Any = None
        self.account_sid = ""
        credentials = _credentials(settings)
        if credentials is None:
            return
        username, password, account_sid = credentials
        self._http = TwilioHttpClient(timeout=timeout)
        client = Client(
            username, password, account_sid, http_client=self._http, environment=_NO_ENVIRONMENT
        )
        # The Api domain (api.twilio.com, where Calls live) builds every URL from its base_url.
        client.api.base_url = self.api_url
        self._client = client
        self.account_sid = account_sid

    @property
    def configured(self) -> bool:
        """Return True when credentials are set and REST requests can be made."""
        return self._client is not None

    def absolute(self, path: str) -> str:
        """Return the public URL of one of our paths ("/voice/..."), as Twilio must be given."""
        if urlsplit(path).scheme in ("http", "https"):
            return path
        if not self.public_url:
            raise TwilioNotConfigured(
                "PRESSZERO_PUBLIC_URL is not set: Twilio needs this server's public address"
            )
        return f"{self.public_url}/{path.lstrip('/')}"

    def dial(
        self,
        to: str,
        from_: str,
        url: str,
        status_callback: str,
        *,
        timeout: int = 25,
        caller_id: str | None = None,
    ) -> str:
        """Ring `to` from `from_`; Twilio fetches `url` on answer. Return the new CallSid."""
        extra = {} if caller_id is None else {"caller_id": caller_id}
        answer_url, callback_url = self.absolute(url), self.absolute(status_callback)
        call = self._do(
            "place the call",
            lambda calls: calls.create(
                to=to,
                from_=from_,
                url=answer_url,
                method="POST",
                status_callback=callback_url,
                status_callback_event=list(CALL_EVENTS),
                status_callback_method="POST",
                timeout=timeout,
                **extra,
            ),
        )
        sid = getattr(call, "sid", None)
        if not isinstance(sid, str) or not _CALL_SID.fullmatch(sid):
            raise TwilioUnavailable("Twilio accepted the call but answered without a CallSid")
        return sid

    def redirect(self, call_sid: str, url: str) -> None:
        """Make a live call fetch new TwiML from `url` now."""
        _check_call_sid(call_sid)
        new_url = self.absolute(url)
        self._do(
            "redirect the call", lambda calls: calls(call_sid).update(url=new_url, method="POST")
        )

    def hang_up(self, call_sid: str) -> None:
        """End a call, whatever it is doing."""
        _check_call_sid(call_sid)
        self._do("end the call", lambda calls: calls(call_sid).update(status="completed"))

    def call_status(self, call_sid: str) -> str:
        """Return a call's status as Twilio has it ("queued", "in-progress", "completed", ...)."""
        _check_call_sid(call_sid)
        call = self._do("look the call up", lambda calls: calls(call_sid).fetch())
        return str(getattr(call, "status", "") or "")

    def send_sms(self, to: str, from_: str, body: str) -> str:
        """Send a text message through Twilio's Messages API; return its MessageSid."""
        if not from_:
            raise TwilioNotConfigured(
                "Cannot send a text message: set PRESSZERO_CALLER_ID, the line's own number"
            )
        message = self._do(
            "send the text message",
            lambda messages: messages.create(to=to, from_=from_, body=body[:SMS_LIMIT]),
            resource="messages",
        )
        sid = getattr(message, "sid", None)
        if not isinstance(sid, str) or not _MESSAGE_SID.fullmatch(sid):
            raise TwilioUnavailable("Twilio accepted the message but answered without a sid")
        return sid

    def phone_number(self, number: str) -> Any:
        """Return the account's IncomingPhoneNumber for `number` (E.164), or None if it has none."""
        found = self._do(
            "look the number up",
            lambda numbers: numbers.list(phone_number=number, limit=20),
            resource="incoming_phone_numbers",
        )
        # Twilio's PhoneNumber filter matches a pattern; only the exact number is this line.
        return next((n for n in found if getattr(n, "phone_number", None) == number), None)

    def update_phone_number(self, number_sid: str, fields: Mapping[str, str]) -> Any:
        """Set fields of one IncomingPhoneNumber (twilio's names: voice_url, ...); return it."""
        if not _NUMBER_SID.fullmatch(number_sid):
            raise TwilioRejected(f"{number_sid!r} is not a Twilio phone number SID")
        return self._do(
            "update the number",
            lambda numbers: numbers(number_sid).update(**fields),
            resource="incoming_phone_numbers",
        )

    def close(self) -> None:
        """Close the connections kept open to Twilio."""
        if self._http is not None and self._http.session is not None:
            self._http.session.close()

    def __enter__(self) -> TwilioRest:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _do(self, doing: str, request: Callable[[Any], T], *, resource: str = "calls") -> T:
        """Run one request on the account's Calls (or Messages, or IncomingPhoneNumbers); turn
        every failure into a TwilioError."""
        if self._client is None:
            raise TwilioNotConfigured(
                f"Cannot {doing}: set TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN "
                "(or TWILIO_API_KEY and TWILIO_API_SECRET)"
            )
        try:
            return request(getattr(self._client.api.v2010.accounts(self.account_sid), resource))
        except TwilioException as exc:
            raise _from_twilio(exc, doing) from exc
        except requests.Timeout as exc:
            raise TwilioUnavailable(f"Could not {doing}: Twilio did not answer in time") from exc
        except requests.RequestException as exc:
            raise TwilioUnavailable(f"Could not {doing}: Twilio could not be reached") from exc
        except ValueError as exc:  # a 2xx whose body is not JSON: not Twilio on the other end
            raise TwilioUnavailable(f"Could not {doing}: Twilio's answer was unreadable") from exc


def _from_twilio(exc: TwilioException, doing: str) -> TwilioError:
    """Return the TwilioError for an error twilio's Client raised."""
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    said = str(getattr(exc, "msg", None) or getattr(exc, "detail", None) or "").strip()
    if status is None and len(exc.args) > 1:  # a list's page: twilio raises with the Response
        status, code, said = _from_page(exc.args[1])
    said = re.sub(r"^Unable to \w+ record:\s*", "", said) or "no reason given"
    status = status if isinstance(status, int) else None
    code = code if isinstance(code, int) else None
    where = f"error {code}" if code is not None else f"HTTP {status}"
    if status is not None and 400 <= status < 500 and status != 429:
        return TwilioRejected(
            f"Twilio refused to {doing} ({where}): {said}", status=status, code=code
        )
    return TwilioUnavailable(
        f"Could not {doing}: Twilio failed ({where})", status=status, code=code
    )


def _from_page(response: Any) -> tuple[Any, Any, str]:
    """Return (status, code, message) of an error answer to a list request."""
    try:
        body = json.loads(getattr(response, "text", "") or "")
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    return getattr(response, "status_code", None), body.get("code"), str(body.get("message", ""))


def _check_call_sid(call_sid: str) -> None:
    """Refuse anything but a CallSid before it becomes part of a request's path."""
    if not _CALL_SID.fullmatch(call_sid):
        raise TwilioRejected(f"{call_sid!r} is not a Twilio CallSid (CA and 32 hex digits)")


def _credentials(settings: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """Return (username, password, account SID) for the REST API, or None when it is off."""
    account = str(settings.get("TWILIO_ACCOUNT_SID") or "")
    token = str(settings.get("TWILIO_AUTH_TOKEN") or "")
    key = str(settings.get("TWILIO_API_KEY") or "")
    secret = str(settings.get("TWILIO_API_SECRET") or "")
    if not account and not key and not secret:
        return None  # TWILIO_AUTH_TOKEN alone only checks webhook signatures
    if not account:
        raise ConfigError("TWILIO_ACCOUNT_SID is not set (the API key needs its account)")
    if not _ACCOUNT_SID.fullmatch(account):
        raise ConfigError(f"TWILIO_ACCOUNT_SID must be AC and 32 hex digits, got {account!r}")
    if key or secret:
        if not key:
            raise ConfigError("TWILIO_API_KEY is not set (TWILIO_API_SECRET is)")
        if not secret:
            raise ConfigError("TWILIO_API_SECRET is not set (TWILIO_API_KEY is)")
        if not _API_KEY.fullmatch(key):
            raise ConfigError(f"TWILIO_API_KEY must be SK and 32 hex digits, got {key!r}")
        return key, secret, account
    if not token:
        raise ConfigError(
            "TWILIO_AUTH_TOKEN is not set (or TWILIO_API_KEY and TWILIO_API_SECRET): "
            "TWILIO_ACCOUNT_SID needs one of them"
        )
    return account, token, account


def _api_url(settings: Mapping[str, Any]) -> str:
    """Return PRESSZERO_TWILIO_API_URL without its trailing slash, checked."""
    url = str(settings.get("PRESSZERO_TWILIO_API_URL") or TWILIO_API_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ConfigError(f"PRESSZERO_TWILIO_API_URL must be an http(s) base URL, got {url!r}")
    return url


def _public_url(url: str) -> str:
    """Return PRESSZERO_PUBLIC_URL without its trailing slash, checked; "" when unset."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if url and (parts.scheme not in ("http", "https") or not parts.hostname or parts.query):
        raise ConfigError(f"PRESSZERO_PUBLIC_URL must be an http(s) base URL, got {url!r}")
    return url
