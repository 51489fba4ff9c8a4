"""gunicorn, started from `presszero serve` with our app factory.

Why gevent workers that hand the app whole requests: Twilio gives a webhook 15 s, and a
client that sends its headers and then dribbles its body must not stand between a caller and
that answer. A thread (gthread) or a process (sync) waits out such a body, so a few dozen slow
connections silenced the line. gunicorn's docs answer slow clients with async
workers or a buffering proxy; presszero must hold without a proxy, so each connection is a
greenlet (thousands per worker cost little), gunicorn drops one whose headers take longer than
`keepalive` seconds, and `WholeRequests` reads each body into memory before the app sees it:
408 if it has not all arrived within BODY_SECONDS, 413 if it is larger than its limit (refused
from Content-Length, before a byte of it is read). A proxy in front stays welcome; it is no
longer needed to keep the phone line answering.
"""

from __future__ import annotations

import io
import os
import ssl
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import gevent
from gevent.monkey import MonkeyPatchWarning
from gunicorn.app.base import BaseApplication
from gunicorn.workers.ggevent import GeventWorker

VOICE_BODY_LIMIT = 64 * 1024  # a Twilio webhook's form is a few kB
BODY_LIMIT = 1024 * 1024  # any other body, unless the app sets MAX_CONTENT_LENGTH
BODY_SECONDS = 10.0  # for a whole body to arrive; Twilio sends one in a single write
WORKER_CONNECTIONS = 1000  # per worker: slow ones are dropped after BODY_SECONDS at most


class GunicornServer(BaseApplication):
    """Run `factory()` in gunicorn workers with these settings."""

    def __init__(self, factory: Callable[[], Any], options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = {
            "worker_class": Worker,
            "worker_connections": WORKER_CONNECTIONS,
            "keepalive": 2,  # also the most a request's headers may take
            "timeout": 30,
            "graceful_timeout": 10,
            "accesslog": "-",
            # The path without its query: no identifiers from query strings in the log.
            # commas and units keep status, size and time apart: as bare digits side by side
            # ("200 28 48ms") the log masking would take them for a phone number
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s, %(b)s bytes, %(M)s ms',
            "child_exit": _child_exit,
            "post_worker_init": _start_dialer,  # each worker dials the callbacks owed
            "worker_exit": _stop_dialer,
            "control_socket_disable": True,  # one per user otherwise, shared by every server
            **options,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        app = self.factory()
        limit = app.config.get("MAX_CONTENT_LENGTH") or BODY_LIMIT  # a plain Flask app: none
        app.wsgi_app = WholeRequests(app.wsgi_app, body_limit=limit)
        return app


class Worker(GeventWorker):
    """gunicorn's gevent worker, with urllib3's TLS made cooperative too.

    The worker monkey-patches the standard library after the fork and before it loads the app
    (so the app's Redis and Twilio clients are made on gevent sockets and locks). The master
    has imported the CLI by then, and urllib3 (under twilio's Client) keeps its own reference to
    `ssl.SSLContext`; left alone, a request to Twilio's API would block the whole worker.
    """

    def patch(self) -> None:
        with warnings.catch_warnings():  # about urllib3's reference, mended just below
            warnings.filterwarnings("ignore", category=MonkeyPatchWarning)
            super().patch()
        from urllib3.util import ssl_ as urllib3_tls

        vars(urllib3_tls)["SSLContext"] = ssl.SSLContext  # the patched class, not the original
        made = urllib3_tls.create_urllib3_context()
        if not isinstance(made, gevent.ssl.SSLContext):  # Twilio's API would block the worker
            raise RuntimeError(f"urllib3 still makes a blocking {type(made)}: check gevent")


class WholeRequests:
    """Call the app with the whole body in memory; 408 a body that has not all arrived within
    BODY_SECONDS, 413 one over its limit (VOICE_BODY_LIMIT under /voice/, else `body_limit`),
    400 one cut short."""

    def __init__(self, app: Callable[..., Iterable[bytes]], body_limit: int) -> None:
        self.app = app
        self.body_limit = body_limit

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        declared = int(environ.get("CONTENT_LENGTH") or 0)  # gunicorn refused one not a number
        if not declared and not chunked:
            return self.app(environ, start_response)
        voice = environ.get("PATH_INFO", "").startswith("/voice/")
        limit = VOICE_BODY_LIMIT if voice else self.body_limit
        if declared > limit:
            return _refuse(start_response, "413 Content Too Large")
        deadline = gevent.Timeout(BODY_SECONDS)
        deadline.start()
        try:
            body = environ["wsgi.input"].read(limit + 1)
        except gevent.Timeout as exc:
            if exc is not deadline:
                raise
            return _refuse(start_response, "408 Request Timeout")
        finally:
            deadline.close()
        if len(body) > limit:
            return _refuse(start_response, "413 Content Too Large")
        if len(body) < declared:  # the client hung up mid-body: nothing whole to act on
            return _refuse(start_response, "400 Bad Request")
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


def _refuse(start_response: Any, status: str) -> list[bytes]:
    # gunicorn's start_response is its Response's method: have it answer "Connection: close" and
    # hang up, rather than drain the rest of a body that may never come.
    force_close = getattr(getattr(start_response, "__self__", None), "force_close", None)
    if force_close is not None:
        force_close()
    body = f"{status}\n".encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _start_dialer(worker: Any) -> None:
    from presszero.voice.callbacks_web import start_dialer

    start_dialer(worker.wsgi)


def _stop_dialer(_server: Any, worker: Any) -> None:
    from presszero.voice.callbacks_web import stop_dialer

    if getattr(worker, "wsgi", None) is not None:
        stop_dialer(worker.wsgi)


def _child_exit(_server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
