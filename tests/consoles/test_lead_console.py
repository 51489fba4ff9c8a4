"""Support leads: the outbound guard, where customers escape, flow edits, metrics, reports."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from freezegun import freeze_time
from prometheus_client.parser import text_string_to_metric_families
from support.chat import OPEN, Visitor, agent_online
from support.consoles import signed_in
from support.twilio_client import Call

from presszero.cli import main
from presszero.context.agents import AgentStore
from presszero.context.demo import load_demo
from presszero.context.store import ContextStore
from presszero.flows.language.files import library_dir

KEY = "automation-key-for-tests"
PASSWORD = "correct horse battery"


@pytest.fixture
def app(make_app: Any, store: ContextStore) -> Any:
    with freeze_time(OPEN):
        load_demo(store)
    agents = AgentStore(store.redis)
    agents.add("alex", PASSWORD)
    agents.add("lena", PASSWORD, role="lead")
    return make_app(PRESSZERO_AUTOMATION_KEY=KEY)


def ask(app: Any, customer: str, kind: str, key: str = KEY) -> Any:
    return app.test_client().post(
        "/automation/check", json={"customer": customer, "kind": kind},
        headers={"Authorization": f"Bearer {key}"},
    )  # fmt: skip


@freeze_time(OPEN)
@pytest.mark.parametrize(
    ("customer", "kind", "decision", "instead"),
    [
        ("cus_1002", "welcome_new_plan", "suppress", None),
        ("+15550100003", "thanks_for_call", "replace", "apology_rebook"),
        ("ana@example.com", "renewal_reminder", "allow", None),
        ("cus_1001", "welcome_new_plan", "allow", None),
        ("+15550109999", "renewal_reminder", "suppress", None),  # not a customer we know
    ],
)
def test_the_guard_decides_from_the_context_store_and_logs_the_decision(
    app: Any, store: ContextStore, customer: str, kind: str, decision: str, instead: str | None
):
    reply = ask(app, customer, kind)
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["decision"] == decision
    assert body.get("replace_with") == instead
    assert body["why"]
    if body["customer_id"]:
        logged = store.get(body["customer_id"])
        assert logged is not None
        automated = [c for c in logged.contacts if c.channel == "automation"]
        assert len(automated) == 1
        assert automated[0].reason.startswith(f"{kind}: ")
        assert automated[0].outcome == {"allow": "allowed", "suppress": "suppressed",
                                        "replace": "replaced"}[decision]  # fmt: skip


@freeze_time(OPEN)
def test_nothing_automated_goes_to_a_customer_a_person_is_handling(app: Any):
    assert ask(app, "cus_1001", "renewal_reminder").get_json()["decision"] == "allow"
    call = Call(app.test_client(), caller="+15550100001")
    call.start()
    call.press("0")
    body = ask(app, "cus_1001", "renewal_reminder").get_json()
    assert body["decision"] == "suppress"
    assert "a person is handling" in body["why"]


@freeze_time(OPEN)
def test_nothing_automated_goes_to_a_do_not_automate_customer(app: Any, store: ContextStore):
    from support.builders import record

    from presszero.context.models import Customer

    store.upsert([Customer.from_dict(record(flags=["do-not-automate"]))])
    assert ask(app, "cus_2001", "renewal_reminder").get_json()["decision"] == "suppress"


@pytest.mark.parametrize(
    ("key", "body", "status"),
    [
        ("wrong", {"customer": "cus_1001", "kind": "renewal_reminder"}, 401),
        (KEY, {"customer": "cus_1001", "kind": "birthday_card"}, 400),
        (KEY, {"customer": 5, "kind": "renewal_reminder"}, 400),
        (KEY, ["nope"], 400),
    ],
)
def test_the_guard_api_refuses_bad_keys_and_bad_requests(
    app: Any, key: str, body: Any, status: int
):
    reply = app.test_client().post(
        "/automation/check", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert reply.status_code == status
    assert reply.get_json()["error"]


@freeze_time(OPEN)
def test_guard_check_from_the_terminal(redis_url: str, monkeypatch: Any, store: ContextStore):
    monkeypatch.setenv("REDIS_URL", redis_url)
    load_demo(store)
    result = CliRunner().invoke(main, ["guard", "check", "cus_1003", "thanks_for_call"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("replace → send apology_rebook instead: ")
    unknown = CliRunner().invoke(main, ["guard", "check", "cus_1003", "birthday_card"])
    assert unknown.exit_code == 1
    assert "unknown message kind 'birthday_card'" in unknown.output


@freeze_time(OPEN)
@pytest.mark.parametrize(
    ("customer", "said"),
    [
        ("cus_1001", "allow"),  # the shipped rule gives no reason: the decision alone
        (
            "cus_1002",
            "suppress: their plan is not active, so there is no new plan to welcome them to",
        ),
    ],
)
def test_the_guard_says_its_decision_in_plain_words(
    redis_url: str, monkeypatch: Any, store: ContextStore, customer: str, said: str
):
    monkeypatch.setenv("REDIS_URL", redis_url)
    load_demo(store)
    result = CliRunner().invoke(main, ["guard", "check", customer, "welcome_new_plan"])
    assert result.exit_code == 0, result.output
    words, _, rule = result.output.strip().partition("  (")
    assert words == said
    assert rule.startswith(str(library_dir() / "guard" / "outbound.yaml"))


def simulate_traffic(app: Any) -> None:
    """Calls and chats that escape at known steps: main 3x (0, 0, misses), billing 1x."""
    agent_online(app)
    for keys in (["0"], ["0"], ["9", "9"], ["1", "0"], ["2", "2"]):
        call = Call(app.test_client())
        call.start()
        for key in keys:
            call.press(key)
    chat = Visitor(app, sender="web-visitor-leads")
    chat.send("hi")
    chat.send("agent")


@freeze_time(OPEN)
def test_the_console_lists_steps_by_escapes_after_calls_and_chats(app: Any):
    simulate_traffic(app)
    client, _ = signed_in(app, "lena")
    page = client.get("/leads/flows/support?days=1").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td>([a-z_]+)</td><td>(\d+)</td><td>(\d+)</td>", page)
    assert rows[0][0] == "main"
    assert int(rows[0][2]) == 4  # two 0s, two misses, one agent in chat
    assert rows[1][0] == "billing"
    assert [int(r[2]) for r in rows] == sorted((int(r[2]) for r in rows), reverse=True)
    assert "pressed 0 2" in page
    with client.get("/leads/flows/support/diagram.svg?days=1") as svg:
        assert svg.status_code == 200
        assert svg.mimetype == "image/svg+xml"


def test_agents_cannot_open_the_lead_console(app: Any):
    client, _ = signed_in(app, "alex")
    assert client.get("/leads").status_code == 403
    assert app.test_client().get("/leads").status_code == 302


@freeze_time(OPEN)
def test_a_broken_flow_edit_is_rejected_while_the_old_flow_keeps_serving(
    make_app: Any, store: ContextStore, tmp_path: Path
):
    flows = tmp_path / "flows"
    shutil.copytree(library_dir(), flows)
    app = make_app(PRESSZERO_FLOWS=str(flows))
    AgentStore(store.redis).add("lena", PASSWORD, role="lead")
    flowset = app.extensions["presszero.flows"]
    source = flows / "support.yaml"
    good = source.read_text()
    source.write_text(good.replace("goto: goodbye", "goto: nowhere"))
    assert flowset.refresh(force=True) is False
    assert any("nowhere" in str(p) for p in flowset.problems)
    first = Call(app.test_client()).start()  # still the good flow
    assert "Thanks for getting in touch" in " ".join(s.text or "" for s in first.iter("Say"))
    client, _ = signed_in(app, "lena")
    assert "do not pass" in client.get("/leads").get_data(as_text=True)
    source.write_text(good.replace("Thanks for getting in touch.", "Hello and welcome."))
    time.sleep(0.01)
    assert flowset.refresh(force=True) is True
    assert flowset.problems == []
    second = Call(app.test_client()).start()
    assert "Hello and welcome." in " ".join(s.text or "" for s in second.iter("Say"))


@freeze_time(OPEN)
def test_metrics_parse_with_prometheus_own_parser(app: Any):
    simulate_traffic(app)
    text = app.test_client().get("/metrics").get_data(as_text=True)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    turns = {s.labels["channel"]: s.value for s in families["presszero_turns"].samples
             if s.name == "presszero_turns_total"}  # fmt: skip
    assert turns["voice"] >= 9
    assert turns["chat"] >= 2
    handoffs = [s for s in families["presszero_handoffs"].samples if s.name.endswith("_total")]
    assert {s.labels["reason"] for s in handoffs} >= {"key0", "no_match"}
    latency = families["presszero_request_seconds"]
    assert any(s.labels.get("route") == "/voice/turn" for s in latency.samples)


@freeze_time(OPEN)
def test_report_prints_containment_escapes_and_worst_steps(
    app: Any, redis_url: str, monkeypatch: Any
):
    simulate_traffic(app)
    monkeypatch.setenv("REDIS_URL", redis_url)
    result = CliRunner().invoke(main, ["report", "--since", "1d"])
    assert result.exit_code == 0, result.output
    rows = [re.match(r"^\s+(.+?)\s{2,}(.+)$", line) for line in result.output.splitlines()[1:]]
    figures = {m.group(1): m.group(2) for m in rows if m}
    assert figures["conversations"] == "6"  # five calls and one chat
    assert figures["contained"] == "0% resolved without a person"
    assert "escape: pressed 0" in result.output
    worst = [line for line in result.output.splitlines() if "step: " in line]
    assert worst[0].split()[1] == "main"


def report_figures(output: str) -> dict[str, str]:
    rows = [re.match(r"^\s+(.+?)\s{2,}(.+)$", line) for line in output.splitlines()[1:]]
    return {m.group(1): m.group(2) for m in rows if m}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--flow", "nope"], "no flow named 'nope' (known flows: "),
        (["--since", "1h"], "--since 1h: figures are kept per UTC day"),
        (["--since", "36h"], "--since 36h: figures are kept per UTC day"),
        (["--since", "soon"], "not a time window: 'soon'"),
    ],
)
def test_report_refuses_a_flag_it_cannot_honour_in_one_line(
    app: Any, redis_url: str, monkeypatch: Any, args: list[str], says: str
):
    monkeypatch.setenv("REDIS_URL", redis_url)
    result = CliRunner().invoke(main, ["report", *args])
    assert result.exit_code != 0
    assert says in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "back within 7 days" not in result.output
    if "--flow" in args:
        assert "support" in result.output


def test_report_since_1d_is_today_as_the_lead_console_counts_it(
    app: Any, redis_url: str, monkeypatch: Any
):
    with freeze_time("2026-11-22T15:00:00Z"):  # yesterday: outside `--since 1d`
        simulate_traffic(app)
    with freeze_time(OPEN):
        call = Call(app.test_client())
        call.start()
        call.press("0")
        monkeypatch.setenv("REDIS_URL", redis_url)
        today = report_figures(CliRunner().invoke(main, ["report", "--since", "1d"]).output)
        week = report_figures(CliRunner().invoke(main, ["report", "--since", "7d"]).output)
        client, _ = signed_in(app, "lena")
        page = client.get("/leads/flows/support?days=1").get_data(as_text=True)
    assert today["conversations"] == "1"
    assert week["conversations"] == "7"
    console = re.findall(r"<tr>\s*<td>main</td><td>(\d+)</td><td>(\d+)</td>", page)
    assert today["step: main"].startswith(f"{console[0][1]} escaped of {console[0][0]} ")


def console_steps(page: str) -> list[tuple[str, int, int]]:
    rows = re.findall(r"<tr>\s*<td>([a-z_]+)</td><td>(\d+)</td><td>(\d+)</td>", page)
    return [(step, int(reached), int(escaped)) for step, reached, escaped in rows]


def test_report_and_the_lead_console_show_the_same_figures_for_the_same_period(
    app: Any, redis_url: str, monkeypatch: Any
):
    with freeze_time("2026-11-24T23:59:30Z") as clock:  # Tuesday evening in New York
        night = Call(app.test_client())
        night.start()  # reaches the menu on Tuesday (UTC) ...
        clock.move_to("2026-11-25T00:00:30Z")
        night.press("0")  # ... and escapes there on Wednesday: not a step row for Wednesday
        clock.move_to("2026-11-25T15:00:00Z")
        simulate_traffic(app)
        call = Call(app.test_client(), caller="+15550100002")  # Dana chooses a person
        call.start()
        call.press("2")
        Call(app.test_client(), caller="+15550100005").start()  # Kim: the greeting's rule
        monkeypatch.setenv("REDIS_URL", redis_url)
        client, _ = signed_in(app, "lena")
        for days, since in (("1", "1d"), ("7", "7d")):
            result = CliRunner().invoke(main, ["report", "--since", since])
            assert result.exit_code == 0, result.output
            report = report_figures(result.output)
            page = client.get(f"/leads/flows/support?days={days}").get_data(as_text=True)
            steps = console_steps(page)
            reported = re.findall(r"step: (\S+)\s+(\d+) escaped of (\d+)", result.output)
            assert "greeting" in [step for step, _, _ in reported], result.output
            assert [(s, int(r), int(e)) for s, e, r in reported] == [
                row for row in steps if row[2]
            ][: len(reported)]
            assert all(escaped <= reached for _, reached, escaped in steps), steps
            assert f"<p>{report['conversations']} conversations ·" in page
        index = client.get("/leads").get_data(as_text=True)
    cells = re.search(r"support</a>.*?</td>\s*<td>.*?</td>\s*<td>(\d+)</td>\s*<td>(\d+)%</td>"
                      r"\s*<td[^>]*>.*?</td>\s*<td>(.*?)</td>", index, re.S)  # fmt: skip
    assert cells is not None, index
    assert cells.group(1) == report["conversations"]  # the last 7 days, as --since 7d
    assert report["contained"].startswith(f"{cells.group(2)}% ")
    worst = [f"{s} ({e})" for s, e, _ in reported[:3]]
    assert cells.group(3) == ", ".join(worst)


@freeze_time(OPEN)
def test_report_shows_no_step_with_more_escapes_than_arrivals(
    app: Any, redis_url: str, monkeypatch: Any
):
    agent_online(app)
    for _ in range(3):  # Lee, back a third time: the greeting sends her to a person
        Call(app.test_client(), caller="+15550100004").start()
    monkeypatch.setenv("REDIS_URL", redis_url)
    result = CliRunner().invoke(main, ["report", "--since", "1d"])
    assert result.exit_code == 0, result.output
    steps = re.findall(r"step: (\S+)\s+(\d+) escaped of (\d+)", result.output)
    assert ("greeting", "3", "3") in steps
    assert all(int(escaped) <= int(reached) for _, escaped, reached in steps)
