"""Flow scenarios: the shipped ones pass, and the runner notices when one should not."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.flow_builders import TINY, line_no, tiny_flow

from presszero.flows import FlowError, shipped_flow
from presszero.flows.language.files import library_dir
from presszero.flows.scenarios import Scenario, read_scenarios, run_scenario


def _shipped() -> list[Scenario]:
    found: list[Scenario] = []
    for path in sorted((library_dir() / "scenarios").glob("*.yaml")):
        found.extend(read_scenarios(path))
    return found


SHIPPED = _shipped()


def test_every_demo_customer_and_every_escape_route_has_a_scenario():
    names = " | ".join(s.name for s in SHIPPED)
    customers = {s.customer.id for s in SHIPPED if s.customer}
    assert {"cus_1001", "cus_1002", "cus_1003", "cus_1004", "cus_1005"} <= customers
    assert any(s.customer is None for s in SHIPPED)
    escapes = {s.expect.get("escape") for s in SHIPPED}
    assert {
        "key0",
        "agent_intent",
        "no_match",
        "no_input",
        "low_confidence",
        "frustration",
    } <= escapes
    assert "out of hours" in names
    assert "no one answers" in names


@pytest.mark.parametrize("scenario", SHIPPED, ids=[s.name for s in SHIPPED])
def test_a_shipped_scenario_passes(scenario: Scenario):
    outcome = run_scenario(scenario, shipped_flow(scenario.flow))
    assert outcome.failures == []


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenarios.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_customer_times_are_written_relative_to_now(tmp_path: Path):
    path = _write(
        tmp_path,
        """\
flow: tiny
now: "2026-11-05T15:00:00Z"
scenarios:
  - name: relative
    customer:
      id: cus_9
      name: Pat Doe
      cancellations: [{plan: Gold, at: "-3d", by: company}]
      contacts: [{at: "-90m", channel: chat, outcome: resolved}]
    inputs: []
    expect: {}
""",
    )
    [scenario] = read_scenarios(path)
    assert scenario.customer is not None
    assert scenario.customer.cancellations[0].at.isoformat() == "2026-11-02T15:00:00+00:00"
    assert scenario.customer.contacts[0].at.isoformat() == "2026-11-05T13:30:00+00:00"


@pytest.mark.parametrize(
    ("change", "blamed", "message"),
    [
        (('now: "2026-11-05T15:00:00Z"\n', ""), "- name: s", "needs now:"),
        (("inputs: []", "inputs: [{shout: x}]"), "shout", "unknown key 'shout'"),
        (("inputs: []", "inputs: [singing]"), "singing", "an input is press, say or type"),
        (("expect: {}", "expect: {ends_at: heaven}"), "heaven", "ends_at must be one of"),
        (("expect: {}", "expect: {smells: x}"), "smells", "unknown key 'smells'"),
        (("    inputs", "    customer: {id: c1}\n    inputs"), "customer:", "name: required field"),
    ],
)
def test_a_mistake_in_a_scenario_file_names_its_line(
    tmp_path: Path, change: tuple[str, str], blamed: str, message: str
):
    text = (
        'flow: tiny\nnow: "2026-11-05T15:00:00Z"\n'
        "scenarios:\n  - name: s\n    inputs: []\n    expect: {}\n"
    )
    broken = text.replace(*change)
    with pytest.raises(FlowError) as caught:
        read_scenarios(_write(tmp_path, broken))
    [problem] = caught.value.problems
    assert problem.line == line_no(broken, blamed)
    assert message in problem.message


def _one(tmp_path: Path, body: str) -> Scenario:
    text = f'flow: tiny\nnow: "2026-11-05T15:00:00Z"\nscenarios:\n  - name: s\n{body}'
    [scenario] = read_scenarios(_write(tmp_path, text))
    return scenario


def test_the_runner_notices_inputs_left_over_after_the_end(tmp_path: Path):
    scenario = _one(tmp_path, '    inputs: [{press: "0"}, {press: "1"}]\n    expect: {}\n')
    outcome = run_scenario(scenario, tiny_flow(TINY))
    assert outcome.failures == ["the conversation was over (handoff at agent) before input 2"]


def test_the_runner_notices_a_busy_signal_with_nobody_being_connected(tmp_path: Path):
    scenario = _one(tmp_path, "    inputs: [busy]\n    expect: {}\n")
    outcome = run_scenario(scenario, tiny_flow(TINY))
    assert outcome.failures == ["input 1 (busy) needs a handoff in progress"]


def test_the_runner_checks_where_the_conversation_ended(tmp_path: Path):
    scenario = _one(
        tmp_path,
        '    inputs: [{press: "1"}]\n'
        "    expect: {ends_at: handoff, step: main, outcome: abandoned, never_hears: [bills]}\n",
    )
    outcome = run_scenario(scenario, tiny_flow(TINY))
    assert outcome.failures == [
        "heard 'bills'",
        "ended at end (done), expected handoff",
        "finished at step 'done', expected 'main'",
        "outcome was 'resolved', expected 'abandoned'",
    ]
