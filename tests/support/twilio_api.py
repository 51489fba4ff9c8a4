"""A stand-in for Twilio's REST API: a real HTTP server on loopback that checks what it is sent.

It answers the requests twilio's own Client makes for the Calls, Messages and
IncomingPhoneNumbers resources as Twilio documents them (auth, required parameters, error
bodies, the resources' JSON, a list's paging) and records each one, so a test can see exactly
what presszero asked Twilio to do.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from support.twilio_client import TOKEN

ACCOUNT_SID = "AC" + "0" * 32  # the AccountSid the webhooks of twilio_client carry
API_KEY = "SK" + "1" * 32
API_SECRET = "test-api-secret-0123456789abcdef"
PUBLIC_URL = "https://presszero.test"
CALL_EVENTS = {"initiated", "ringing", "answered", "completed"}
LIVE = {"queued", "ringing", "in-progress"}
_PATH = re.compile(r"/2010-04-01/Accounts/(?P<account>[^/]+)/Calls(?:/(?P<call>[^/]+))?\.json")
_MESSAGES = re.compile(r"/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json")
_NUMBERS = re.compile(
    r"/2010-04-01/Accounts/(?P<account>[^/]+)/IncomingPhoneNumbers(?:/(?P<number>[^/]+))?\.json"
)
# The IncomingPhoneNumber fields an update may set (the ones presszero or a console user
# changes for voice); any other field is refused as Twilio refuses an unknown parameter.
NUMBER_FIELDS = {
    "VoiceUrl": "voice_url", "VoiceMethod": "voice_method",
    "VoiceFallbackUrl": "voice_fallback_url", "VoiceFallbackMethod": "voice_fallback_method",
    "StatusCallback": "status_callback", "StatusCallbackMethod": "status_callback_method",
    "VoiceApplicationSid": "voice_application_sid", "FriendlyName": "friendly_name",
    "TrunkSid": "trunk_sid",
}  # fmt: skip
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
BODY_LIMIT = 1600  # characters in one message's Body


class TwilioFault(Exception):
    """An error answered as Twilio answers it: an HTTP status and its JSON error body."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


@dataclass(frozen=True)
class Seen:
    """One request the stand-in received, and the status it answered."""

    method: str
    path: str
    pairs: tuple[tuple[str, str], ...]  # the form fields in order, repeats kept
    user: str | None  # the HTTP Basic auth username, None when there was none
    status: int

    @property
    def form(self) -> dict[str, str]:
        """Return the form with one value per field (the last, for a repeated one)."""
        return dict(self.pairs)

    def getlist(self, key: str) -> list[str]:
        return [value for name, value in self.pairs if name == key]


@dataclass
class _Fault:
    status: int
    code: int
    message: str
    stall: float = 0.0  # seconds to wait before answering (a slow Twilio)


@dataclass(eq=False)
class TwilioApi:
    """Twilio's REST API for Calls, on 127.0.0.1 and a free port; use it as a context manager."""

    account_sid: str = ACCOUNT_SID
    auth_token: str = TOKEN
    api_key: str = API_KEY
    api_secret: str = API_SECRET
    # CallSid -> the Call resource as Twilio would answer it
    calls: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    # CallSid -> every Url the call was told to fetch, the first one from its creation
    redirects: dict[str, list[str]] = field(default_factory=dict, init=False)
    # MessageSid -> the Message resource as Twilio would answer it, in the order sent
    messages: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    # PhoneNumberSid -> the IncomingPhoneNumber resource as Twilio would answer it
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    _seen: list[Seen] = field(default_factory=list, init=False)
    _faults: list[_Fault] = field(default_factory=list, init=False)
    _changed: threading.Condition = field(default_factory=threading.Condition, init=False)
    _server: ThreadingHTTPServer | None = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        """Return the base URL to give PRESSZERO_TWILIO_API_URL."""
        assert self._server is not None, "the stand-in is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def config(self) -> dict[str, str]:
        """Return the settings that point presszero at this stand-in with the auth token."""
        return {
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "PRESSZERO_TWILIO_API_URL": self.url,
            "PRESSZERO_PUBLIC_URL": PUBLIC_URL,
        }

    @property
    def seen(self) -> list[Seen]:
        """Return every request received so far, oldest first."""
        with self._changed:
            return list(self._seen)

    def start(self) -> TwilioApi:
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> TwilioApi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def fail_next(
        self,
        status: int = 503,
        code: int | None = None,
        message: str = "",
        *,
        times: int = 1,
        stall: float = 0.0,
    ) -> None:
        """Answer the next `times` requests with this Twilio error (after `stall` seconds)."""
        fault = _Fault(
            status, code or 20000 + status, message or _REASONS.get(status, "Error"), stall
        )
        with self._changed:
            self._faults.extend([fault] * times)

    def incoming(self, call_sid: str, caller: str, called: str = "+15550009999") -> None:
        """Know of a call that came in to the line (Twilio has it; the webhooks carry its sid),
        in progress, so the REST API can steer it."""
        now = format_datetime(datetime.now(UTC))
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Calls/{call_sid}.json"
        with self._changed:
            self.calls[call_sid] = {
                "sid": call_sid, "account_sid": self.account_sid, "parent_call_sid": None,
                "to": called, "from": caller, "status": "in-progress", "direction": "inbound",
                "api_version": "2010-04-01", "date_created": now, "date_updated": now,
                "uri": uri, "start_time": now, "end_time": None, "duration": None,
            }  # fmt: skip
            self.redirects[call_sid] = []

    def own_number(self, phone_number: str, **fields: Any) -> str:
        """Put a number on the account as Twilio's console leaves a new one (the demo voice
        URL), with `fields` (twilio's names: voice_url, ...) on top; return its PhoneNumberSid."""
        sid = "PN" + secrets.token_hex(16)
        now = format_datetime(datetime.now(UTC))
        uri = f"/2010-04-01/Accounts/{self.account_sid}/IncomingPhoneNumbers/{sid}.json"
        with self._changed:
            self.numbers[sid] = {
                "account_sid": self.account_sid, "address_requirements": "none",
                "address_sid": None, "api_version": "2010-04-01", "beta": False,
                "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
                "date_created": now, "date_updated": now, "emergency_status": "Inactive",
                "emergency_address_sid": None, "emergency_address_status": "unregistered",
                "friendly_name": phone_number, "identity_sid": None, "origin": "twilio",
                "phone_number": phone_number, "sid": sid, "sms_application_sid": "",
                "sms_fallback_method": "POST", "sms_fallback_url": "", "sms_method": "POST",
                "sms_url": "https://demo.twilio.com/welcome/sms/reply", "status_callback": "",
                "status_callback_method": "POST", "trunk_sid": None, "uri": uri,
                "voice_application_sid": "", "voice_caller_id_lookup": False,
                "voice_fallback_method": "POST", "voice_fallback_url": "",
                "voice_method": "POST", "voice_url": "https://demo.twilio.com/welcome/voice/",
                "voice_receive_mode": "voice", "status": "in-use", "bundle_sid": None,
                "subresource_uris": {
                    "assigned_add_ons": uri.replace(".json", "/AssignedAddOns.json")
                },
                **fields,
            }  # fmt: skip
        return sid

    def updates(self) -> list[Seen]:
        """Return the requests that changed a number (POSTs to one IncomingPhoneNumber)."""
        return [
            seen for seen in self.seen
            if seen.method == "POST" and "/IncomingPhoneNumbers/" in seen.path
        ]  # fmt: skip

    def set_status(self, call_sid: str, status: str) -> None:
        """Move a call on, as the phone network would (e.g. to "in-progress")."""
        with self._changed:
            self.calls[call_sid]["status"] = status

    def wait_for(self, predicate: Callable[[Seen], bool], timeout: float = 5.0) -> Seen:
        """Return the first request matching `predicate`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((seen for seen in self._seen if predicate(seen)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    sent = "\n".join(f"  {s.method} {s.path} {s.form}" for s in self._seen)
                    raise AssertionError(f"no matching request in {timeout}s; got:\n{sent}")
                self._changed.wait(left)

    # -- what the handler calls, in its own thread ------------------------------------------

    def answer(
        self, method: str, path: str, pairs: list[tuple[str, str]], authorization: str | None
    ) -> tuple[int, dict[str, Any]]:
        """Return (status, JSON body) for one request, and record it."""
        user, password = _basic(authorization)
        with self._changed:
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None and fault.stall:
            time.sleep(fault.stall)
        with self._changed:
            try:
                if fault is not None:
                    raise TwilioFault(fault.status, fault.code, fault.message)
                status, body = self._route(method, path, dict(pairs), pairs, user, password)
            except TwilioFault as exc:
                status, body = exc.status, exc.body()
            self._seen.append(Seen(method, path, tuple(pairs), user, status))
            self._changed.notify_all()
        return status, body

    def _route(
        self,
        method: str,
        path: str,
        form: dict[str, str],
        pairs: list[tuple[str, str]],
        user: str | None,
        password: str | None,
    ) -> tuple[int, dict[str, Any]]:
        if (user, password) not in {
            (self.account_sid, self.auth_token),
            (self.api_key, self.api_secret),
        }:
            raise TwilioFault(401, 20003, "Authenticate")
        numbers = _NUMBERS.fullmatch(urlsplit(path).path)
        if numbers is not None and numbers["account"] == self.account_sid:
            return self._numbers(method, path, numbers["number"], form)
        texts = _MESSAGES.fullmatch(urlsplit(path).path)
        if texts is not None and texts["account"] == self.account_sid:
            if method != "POST":
                raise TwilioFault(405, 20004, "Method not allowed")
            return 201, self._send(form)
        match = _PATH.fullmatch(urlsplit(path).path)
        if match is None or match["account"] != self.account_sid:
            raise TwilioFault(404, 20404, f"The requested resource {path} was not found")
        call_sid = match["call"]
        if call_sid is None:
            if method != "POST":
                raise TwilioFault(405, 20004, "Method not allowed")
            return 201, self._create(form, pairs)
        if call_sid not in self.calls:
            raise TwilioFault(404, 20404, f"The requested resource {path} was not found")
        if method == "GET":
            return 200, dict(self.calls[call_sid])
        if method == "POST":
            return 200, self._update(call_sid, form)
        raise TwilioFault(405, 20004, "Method not allowed")

    def _create(self, form: dict[str, str], pairs: list[tuple[str, str]]) -> dict[str, Any]:
        if not form.get("To"):
            raise TwilioFault(400, 21201, "No 'To' number is specified")
        if not form.get("From"):
            raise TwilioFault(400, 21213, "No 'From' number is specified")
        if not form.get("Url") and not form.get("Twiml") and not form.get("ApplicationSid"):
            raise TwilioFault(400, 21205, "A 'Url', 'Twiml' or 'ApplicationSid' is required")
        _check_urls(form, "Url", "StatusCallback", "FallbackUrl")
        _check_methods(form, "Method", "StatusCallbackMethod", "FallbackMethod")
        events = [value for name, value in pairs if name == "StatusCallbackEvent"]
        if set(events) - CALL_EVENTS:
            raise TwilioFault(400, 21626, f"Invalid StatusCallbackEvent: {sorted(events)}")
        if "Timeout" in form and not (form["Timeout"].isdigit() and int(form["Timeout"]) <= 600):
            raise TwilioFault(400, 21200, f"Timeout must be 0 to 600 seconds: {form['Timeout']}")
        call_sid = "CA" + secrets.token_hex(16)
        now = format_datetime(datetime.now(UTC))
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Calls/{call_sid}.json"
        self.calls[call_sid] = {
            "sid": call_sid, "account_sid": self.account_sid, "parent_call_sid": None,
            "to": form["To"], "to_formatted": form["To"], "from": form["From"],
            "from_formatted": form["From"], "phone_number_sid": None, "status": "queued",
            "start_time": None, "end_time": None, "duration": None, "price": None,
            "price_unit": "USD", "direction": "outbound-api", "answered_by": None,
            "api_version": "2010-04-01", "forwarded_from": None, "group_sid": None,
            "caller_name": None, "queue_time": "0", "trunk_sid": None, "annotation": None,
            "date_created": now, "date_updated": now, "uri": uri,
            "subresource_uris": {name: uri.replace(".json", f"/{name.title()}.json")
                                 for name in ("notifications", "recordings", "events")},
        }  # fmt: skip
        self.redirects[call_sid] = [form.get("Url", "")]
        return dict(self.calls[call_sid])

    def _send(self, form: dict[str, str]) -> dict[str, Any]:
        """Create a Message as Twilio's Messages API does: To, From (or a messaging service)
        and a Body (or media) of at most 1,600 characters."""
        if not form.get("To"):
            raise TwilioFault(400, 21604, "A 'To' phone number is required.")
        if not _E164.fullmatch(form["To"]):
            raise TwilioFault(400, 21211, f"Invalid 'To' Phone Number: {form['To']}")
        if not form.get("From") and not form.get("MessagingServiceSid"):
            raise TwilioFault(400, 21603, "A 'From' phone number is required.")
        if form.get("From") and not _E164.fullmatch(form["From"]):
            raise TwilioFault(
                400, 21606, f"The From phone number {form['From']} is not a valid, "
                "SMS-capable inbound phone number or short code for your account."
            )  # fmt: skip
        if not form.get("Body") and not form.get("MediaUrl"):
            raise TwilioFault(400, 21602, "Message body is required.")
        if len(form.get("Body", "")) > BODY_LIMIT:
            raise TwilioFault(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        sid = "SM" + secrets.token_hex(16)
        now = format_datetime(datetime.now(UTC))
        self.messages[sid] = {
            "sid": sid, "account_sid": self.account_sid, "to": form["To"],
            "from": form.get("From"), "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form.get("Body", ""), "status": "queued", "num_segments": "1",
            "num_media": "0", "direction": "outbound-api", "api_version": "2010-04-01",
            "price": None, "price_unit": "USD", "error_code": None, "error_message": None,
            "date_created": now, "date_updated": now, "date_sent": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
            },
        }  # fmt: skip
        return dict(self.messages[sid])

    def _numbers(
        self, method: str, path: str, number_sid: str | None, form: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        """Answer the IncomingPhoneNumbers list (GET, filtered by PhoneNumber as Twilio's
        pattern match does) and one number's fetch (GET) and update (POST)."""
        if number_sid is None:
            if method != "GET":  # buying a number is not something presszero does
                raise TwilioFault(405, 20004, "Method not allowed")
            return 200, self._number_page(path)
        if number_sid not in self.numbers:
            raise TwilioFault(404, 20404, f"The requested resource {path} was not found")
        number = self.numbers[number_sid]
        if method == "GET":
            return 200, dict(number)
        if method != "POST":
            raise TwilioFault(405, 20004, "Method not allowed")
        unknown = sorted(set(form) - set(NUMBER_FIELDS))
        if unknown:
            raise TwilioFault(400, 20001, f"Unknown parameters: {', '.join(unknown)}")
        # An empty URL clears it, as in Twilio's console; a non-empty one must be fetchable.
        _check_urls({k: v for k, v in form.items() if v}, "VoiceUrl", "VoiceFallbackUrl")
        _check_urls({k: v for k, v in form.items() if v}, "StatusCallback")
        _check_methods(form, "VoiceMethod", "VoiceFallbackMethod", "StatusCallbackMethod")
        app = form.get("VoiceApplicationSid")
        if app and not re.fullmatch(r"AP[0-9a-f]{32}", app):
            raise TwilioFault(400, 21202, f"VoiceApplicationSid is not valid: {app}")
        for name, value in form.items():
            is_method = name.endswith("Method")
            number[NUMBER_FIELDS[name]] = value.upper() if is_method else value
        number["date_updated"] = format_datetime(datetime.now(UTC))
        return 200, dict(number)

    def _number_page(self, path: str) -> dict[str, Any]:
        """Return one page of the account's numbers as Twilio lists them."""
        query = dict(parse_qsl(urlsplit(path).query))
        pattern = query.get("PhoneNumber", "")
        size = int(query.get("PageSize", "50"))
        found = [dict(n) for n in self.numbers.values() if pattern in n["phone_number"]]
        base = urlsplit(path).path
        page = found[:size]
        return {
            "incoming_phone_numbers": page, "start": 0, "end": max(len(page) - 1, 0),
            "page": 0, "page_size": size, "first_page_uri": f"{base}?PageSize={size}&Page=0",
            "next_page_uri": None, "previous_page_uri": None, "uri": path,
        }  # fmt: skip

    def _update(self, call_sid: str, form: dict[str, str]) -> dict[str, Any]:
        call = self.calls[call_sid]
        _check_urls(form, "Url", "StatusCallback", "FallbackUrl")
        _check_methods(form, "Method", "StatusCallbackMethod", "FallbackMethod")
        status = form.get("Status")
        if status not in (None, "completed", "canceled"):
            raise TwilioFault(400, 21200, f"Status must be completed or canceled: {status}")
        if form.get("Url") or form.get("Twiml"):
            if call["status"] not in LIVE:
                raise TwilioFault(400, 21220, "Call is not in-progress. Cannot redirect.")
            self.redirects[call_sid].append(form.get("Url", ""))
        # Ending a call that has already ended changes nothing (the stand-in does not fail it).
        if status == "completed" and call["status"] in LIVE:
            call["status"] = "completed"
            call["end_time"] = format_datetime(datetime.now(UTC))
        elif status == "canceled" and call["status"] in ("queued", "ringing"):
            call["status"] = "canceled"
        call["date_updated"] = format_datetime(datetime.now(UTC))
        return dict(call)


_REASONS = {
    400: "Bad Request",
    401: "Authenticate",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def _check_urls(form: dict[str, str], *names: str) -> None:
    """Refuse a URL Twilio could not fetch: it must be absolute http(s) with a host."""
    for name in names:
        if name not in form:
            continue
        parts = urlsplit(form[name])
        if parts.scheme not in ("http", "https") or not parts.hostname:
            code = 21609 if name == "StatusCallback" else 21205
            raise TwilioFault(400, code, f"{name} is not a valid URL: {form[name]}")


def _check_methods(form: dict[str, str], *names: str) -> None:
    for name in names:
        if name in form and form[name].upper() not in ("GET", "POST"):
            raise TwilioFault(400, 21200, f"{name} must be GET or POST, got {form[name]}")


def _basic(authorization: str | None) -> tuple[str | None, str | None]:
    """Return the (user, password) of an HTTP Basic Authorization header, or (None, None)."""
    if not authorization or not authorization.startswith("Basic "):
        return None, None
    try:
        user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    return user, password


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # stop() waits for the requests in flight (server_close joins them)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client gave up before its answer (a client-side timeout)."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    api: TwilioApi

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        is_form = self.headers.get_content_type() == "application/x-www-form-urlencoded"
        pairs = parse_qsl(raw, keep_blank_values=True) if is_form else []
        status, body = self.api.answer(
            self.command, self.path, pairs, self.headers.get("Authorization")
        )
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="Twilio API"')
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
        pass
