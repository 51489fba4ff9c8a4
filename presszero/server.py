"""gunicorn, started from `presszero serve` with our app factory."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication


class GunicornServer(BaseApplication):
    """Run `factory()` in gunicorn workers with these settings."""

    def __init__(self, factory: Callable[[], Any], options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = {
            "worker_class": "gthread",
            "threads": 4,
            "timeout": 30,
            "graceful_timeout": 10,
            "accesslog": "-",
            # The path without its query: no identifiers from query strings in the log.
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
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
        return self.factory()


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
