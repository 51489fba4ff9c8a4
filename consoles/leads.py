"""The lead console, `/leads`: every flow, its diagram and check, and where customers escape.

Support leads only (role `lead`); agents are refused.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request

from presszero.context.analytics import (
    ESCAPE_REASONS,
    GREETING,
    Period,
    StepFigures,
    period_ending,
    read_period,
)
from presszero.flows.diagram import to_svg
from presszero.flowset import FlowSet

from .inbox import signed_in

bp = Blueprint("leads", __name__, url_prefix="/leads", template_folder="templates")

PERIODS = {"1": "today", "7": "the last 7 days", "30": "the last 30 days", "90": "the last 90 days"}


def flows() -> FlowSet:
    return current_app.extensions["presszero.flows"]


def _period(name: str) -> tuple[Period, str]:
    days = request.args.get("days", "7")
    if days not in PERIODS:
        days = "7"
    now = current_app.extensions["presszero.chat"].clock.now()
    first, last = period_ending(now, timedelta(days=int(days) - 1))
    client = current_app.extensions["presszero.store"].redis
    return read_period(client, name, first, last), days


@bp.get("")
@bp.get("/")
@signed_in("lead")
def index() -> Any:
    rows = []
    for name, flow in sorted(flows().flows.items()):
        period, _ = _period(name)
        worst = period.step_rows()[:3]  # as `presszero report` lists them
        rows.append({"name": name, "file": flow.file, "period": period, "worst": worst})
    return render_template("leads.html", rows=rows, flows=flows(), reasons=ESCAPE_REASONS)


@bp.get("/flows/<name>")
@signed_in("lead")
def flow_page(name: str) -> Any:
    flow = flows().flows.get(name) or abort(404)
    period, days = _period(name)
    known = {*flow.steps, GREETING}  # the greeting rules' escapes count as a step's
    # The steps customers escaped from, as `presszero report` counts them; then every other
    # step with its arrivals (escapes of conversations begun before the period are not shown)
    steps = [s for s in period.step_rows() if s.step in known]
    shown = {s.step for s in steps}
    others = [s for s in period.steps.values() if s.step in known and s.step not in shown]
    steps += [StepFigures(s.step, s.reached) for s in sorted(others, key=lambda s: -s.reached)]
    steps += [StepFigures(sid) for sid in sorted(known - {s.step for s in steps})]
    return render_template(
        "leads_flow.html", flow=flow, period=period, steps=steps, days=days, periods=PERIODS,
        reasons=ESCAPE_REASONS, problems=flows().problems,
    )  # fmt: skip


@bp.get("/flows/<name>/diagram.svg")
@signed_in("lead")
def diagram(name: str) -> Any:
    flow = flows().flows.get(name) or abort(404)
    period, _ = _period(name)
    figures = {s.step: {"reached": s.reached, "escaped": s.escaped} for s in period.steps.values()}
    return Response(to_svg(flow, figures), mimetype="image/svg+xml")
