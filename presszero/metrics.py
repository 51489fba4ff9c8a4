"""Prometheus metrics: turns, escapes, handoffs and webhook latency, per route.

Under gunicorn with several workers, `presszero serve` sets PROMETHEUS_MULTIPROC_DIR so that
`/metrics` adds up every worker (prometheus-client's multiprocess mode).

`/metrics` is not public: with PRESSZERO_METRICS_TOKEN set, a scrape must send
`Authorization: Bearer <token>`; with it unset, only a scrape from this machine's loopback
that came through no proxy (no X-Forwarded-For) is answered. Anything else gets a 401 or 403.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

TURNS = Counter("presszero_turns_total", "Conversation turns taken", ["channel"])
HANDOFFS = Counter("presszero_handoffs_total", "Handoffs to a person", ["channel", "reason"])
ESCAPES = Counter("presszero_escapes_total", "Escapes, by why", ["channel", "why"])
OUTCOMES = Counter("presszero_outcomes_total", "How conversations ended", ["channel", "outcome"])
MISSES = Counter("presszero_misses_total", "No-match and no-input turns", ["channel", "kind"])
SATISFACTION = Counter(
    "presszero_satisfaction_total", "Answers to did we sort it out, after a person", ["answer"]
)
FAILSAFES = Counter("presszero_failsafe_total", "Turns answered by the fail-safe", ["channel"])
LATENCY = Histogram(
    "presszero_request_seconds",
    "Time to answer a request",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


QUEUE_WAIT = Histogram(
    "presszero_queue_wait_seconds",
    "Time a customer waited for a person",
    ["channel"],
    buckets=(5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600),
)


def count_turn(channel: str, events: Iterable[Any], escape_reason: str) -> None:
    """Count one turn and what happened in it."""
    TURNS.labels(channel).inc()
    for event in events:
        if event.kind == "escape":
            ESCAPES.labels(channel, event.reason).inc()
        elif event.kind == "miss":
            MISSES.labels(channel, event.reason).inc()
        elif event.kind in ("handoff", "callback", "voicemail"):
            HANDOFFS.labels(channel, escape_reason or "menu").inc()
        elif event.kind == "satisfaction" and event.reason in ("yes", "no"):
            SATISFACTION.labels(event.reason).inc()


def init_app(app: Flask) -> None:
    """Time every request by route and serve `/metrics`."""

    @app.before_request
    def _start() -> None:
        g.presszero_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("presszero_started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule else "unmatched"
            LATENCY.labels(route).observe(time.perf_counter() - started)
        return response

    app.add_url_rule("/metrics", "metrics", metrics)


LOOPBACK = frozenset({"127.0.0.1", "::1"})


def scrape_refused() -> Response | None:
    """Return the refusal for a scrape that may not read the metrics, or None to allow it."""
    token = str(current_app.config.get("PRESSZERO_METRICS_TOKEN") or "")
    if token:
        scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(sent.strip(), token):
            return None
        return Response(
            "send Authorization: Bearer <PRESSZERO_METRICS_TOKEN>\n", 401,
            {"WWW-Authenticate": 'Bearer realm="metrics"'}, mimetype="text/plain",
        )  # fmt: skip
    if request.remote_addr in LOOPBACK and "X-Forwarded-For" not in request.headers:
        return None
    return Response(
        "metrics are served to this machine only; set PRESSZERO_METRICS_TOKEN to scrape "
        "from elsewhere\n", 403, mimetype="text/plain",
    )  # fmt: skip


def metrics() -> Any:
    """Return every metric in Prometheus' text format, to a scrape that may read them."""
    refused = scrape_refused()
    if refused is not None:
        return refused
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
