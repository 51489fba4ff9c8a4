"""Slow and oversized clients against a real `presszero serve`: the phone line keeps answering."""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import selectors
import socket
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from support.live import LOCAL, served
from support.twilio_client import TOKEN, assert_no_placeholders

from presszero.context.embedded import free_port
from presszero.voice.signature import sign

SLOW_CLIENTS = 100
HOLD_SECONDS = 30.0
BYTE_EVERY = 2.0  # seconds between two body bytes of a slow client
ANSWER_WITHIN = 1.0  # the bar; Twilio itself gives up on a webhook after 15 s
WEBHOOK_EVERY = 0.25


@dataclass
class SlowConnection:
    sock: socket.socket
    opened: float
    next_byte: float
    reply: bytes = b""


@dataclass
class SlowClients:
    """Hold connections that send their headers, then one body byte every 2 s; reopen each
    one the server answers or closes, so that as many are held all the time."""

    port: int
    count: int
    answers: list[tuple[float, bytes]] = field(default_factory=list)  # (held for, status line)
    stop: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def open(self, selector: selectors.BaseSelector, now: float) -> None:
        sock = socket.create_connection((LOCAL, self.port), timeout=5)
        head = (f"POST /voice/incoming HTTP/1.1\r\nHost: {LOCAL}:{self.port}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: 1000\r\n\r\n")  # fmt: skip
        sock.sendall(head.encode())
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, SlowConnection(sock, now, now + BYTE_EVERY))

    def run(self) -> None:
        selector = selectors.DefaultSelector()
        try:
            for _ in range(self.count):
                self.open(selector, time.monotonic())
            while not self.stop.is_set():
                for key, _events in selector.select(timeout=0.1):
                    conn: SlowConnection = key.data
                    try:
                        chunk = conn.sock.recv(4096)
                    except (ConnectionResetError, BlockingIOError):
                        chunk = b""
                    conn.reply += chunk
                    if not chunk:  # answered and closed (or closed unanswered): open another
                        status = conn.reply.split(b"\r\n", 1)[0]
                        self.answers.append((time.monotonic() - conn.opened, status))
                        selector.unregister(conn.sock)
                        conn.sock.close()
                        self.open(selector, time.monotonic())
                now = time.monotonic()
                for key in list(selector.get_map().values()):
                    conn = key.data
                    if now >= conn.next_byte and not conn.reply:
                        conn.next_byte = now + BYTE_EVERY
                        with contextlib.suppress(OSError):  # closed: its answer is read above
                            conn.sock.send(b"a")
        except BaseException as exc:
            self.error = exc
        finally:
            for key in list(selector.get_map().values()):
                key.fileobj.close()  # type: ignore[union-attr]
            selector.close()


def signed_incoming(url: str) -> tuple[float, int, str]:
    """POST a signed /voice/incoming on a new connection; return seconds, status and body."""
    data = {"CallSid": "CA" + secrets.token_hex(16), "From": "+15550109999", "To": "+15550009999",
            "AccountSid": "AC" + "0" * 32, "CallStatus": "ringing"}  # fmt: skip
    headers = {"X-Twilio-Signature": sign(TOKEN, f"{url}/voice/incoming", data),
               "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
    parts = urlsplit(url)
    started = time.monotonic()
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.request("POST", "/voice/incoming", urlencode(data), headers)
        reply = connection.getresponse()
        body = reply.read().decode()
        return time.monotonic() - started, reply.status, body
    except OSError as exc:
        return time.monotonic() - started, 0, repr(exc)
    finally:
        connection.close()


def fetched(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as reply:
        return reply.read().decode()


def live_env(redis_url: str, tmp: Path, port: int) -> dict[str, str]:
    return {**os.environ, "REDIS_URL": redis_url, "TWILIO_AUTH_TOKEN": TOKEN,
            "PRESSZERO_DATA_DIR": str(tmp), "PRESSZERO_DIALER": "0",
            "PRESSZERO_PUBLIC_URL": f"http://{LOCAL}:{port}"}  # fmt: skip


@pytest.mark.timeout(120)
def test_signed_webhooks_are_answered_within_a_second_while_100_slow_clients_hold_on(
    redis_url: str, tmp_path: Path
):
    port = free_port()
    with served(live_env(redis_url, tmp_path, port), tmp_path, "--workers", "2", port=port) as url:
        slow = SlowClients(port, SLOW_CLIENTS)
        holder = threading.Thread(target=slow.run, daemon=True)
        holder.start()
        time.sleep(2 * BYTE_EVERY)  # every slow client has its headers in and is dripping
        webhooks: list[tuple[float, int, str]] = []
        end = time.monotonic() + HOLD_SECONDS
        while time.monotonic() < end:
            webhooks.append(signed_incoming(url))
            time.sleep(WEBHOOK_EVERY)
        slow.stop.set()
        holder.join(10)
        metrics = fetched(f"{url}/metrics")
    assert slow.error is None, repr(slow.error)
    slowest = max(seconds for seconds, _, _ in webhooks)
    late = [(round(s, 2), status, body[:200]) for s, status, body in webhooks if s > ANSWER_WITHIN]
    statuses = {status for _, status in slow.answers}
    print(f"{len(webhooks)} signed webhooks, slowest {slowest:.3f} s; "
          f"{len(slow.answers)} slow connections answered {sorted(statuses)}")  # fmt: skip
    assert not late, f"{len(late)} of {len(webhooks)} webhooks over {ANSWER_WITHIN} s: {late[:5]}"
    for _seconds, status, body in webhooks:
        assert status == 200, body
        root = ET.fromstring(body)
        assert root.tag == "Response"
        assert root.find("Gather") is not None or root.find("Say") is not None, body
        assert_no_placeholders(root)
    # Every slow client of the first wave was answered with a 4xx and closed within the hold.
    assert len(slow.answers) >= SLOW_CLIENTS, slow.answers[:5]
    assert all(s.startswith(b"HTTP/1.1 4") for s in statuses), statuses
    assert max(held for held, _ in slow.answers) < HOLD_SECONDS
    assert 'presszero_request_seconds_count{route="/voice/incoming"}' in metrics


def raw_reply(port: int, request: bytes, body: bytes = b"") -> bytes:
    """Send a request's bytes (headers, then any body), return what the server answered."""
    with socket.create_connection((LOCAL, port), timeout=5) as sock:
        sock.sendall(request)
        with contextlib.suppress(OSError):  # refused and closed first: the answer is still there
            sock.sendall(body)
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
            if b"\r\n\r\n" in reply:
                break
        return reply


def test_a_voice_body_too_large_is_refused_before_it_is_read(redis_url: str, tmp_path: Path):
    port = free_port()
    head = (f"POST /voice/incoming HTTP/1.1\r\nHost: {LOCAL}:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n")  # fmt: skip
    chunk = b"a" * 16384
    chunked = b"".join(b"4000\r\n" + chunk + b"\r\n" for _ in range(12)) + b"0\r\n\r\n"
    with served(live_env(redis_url, tmp_path, port), tmp_path, port=port):
        # Content-Length announces 200 kB and not one byte of it is sent: answered at once.
        declared = raw_reply(port, (head + "Content-Length: 200000\r\n\r\n").encode())
        streamed = raw_reply(port, (head + "Transfer-Encoding: chunked\r\n\r\n").encode(), chunked)
    assert declared.startswith(b"HTTP/1.1 413"), declared[:200]
    assert streamed.startswith(b"HTTP/1.1 413"), streamed[:200]
