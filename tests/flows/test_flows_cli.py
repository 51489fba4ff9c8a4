"""`presszero check` and `presszero test-flows`: exit codes, file:line output, JSON for tools."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from support.flow_builders import TINY, line_no

from presszero.flows.cli import check, commands
from presszero.flows.cli import test_flows as run_scenarios
from presszero.flows.language.files import library_dir
from presszero.flows.scenarios import read_scenarios

PASSING = """\
flow: tiny
now: "2026-11-05T15:00:00Z"
scenarios:
  - name: pressing 0 reaches a person
    inputs: [{press: "0"}]
    expect: {ends_at: handoff, queue: support, escape: key0}
"""


def test_both_commands_are_offered_for_registration():
    assert [c.name for c in commands] == ["check", "test-flows", "diagram"]


def test_check_with_no_path_proves_the_shipped_flows():
    result = CliRunner().invoke(check, [])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ok: support sound"


def test_check_prints_one_file_line_message_per_problem_and_exits_1(tmp_path: Path):
    text = TINY.replace("goto: done", "goto: nowhere").replace('say: "Hello."', 'say: "Hi [Name]."')
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(check, [str(path)])
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert lines == [
        f"{path}:{line_no(text, '[Name]')}: greeting rule 2.say: [Name] looks like a "
        "placeholder; write fields as {customer.first_name|there}"
    ]
    assert "Traceback" not in result.output


def test_check_reports_graph_problems_once_the_schema_is_right(tmp_path: Path):
    text = TINY.replace("goto: done", "goto: nowhere")
    (tmp_path / "flow.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(check, [str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'flow.yaml'}:{line_no(text, 'goto: nowhere')}: step 'billing_info' goes to "
        "'nowhere', but there is no step named 'nowhere'"
    ]


def test_check_can_answer_in_json_for_tools(tmp_path: Path):
    path = tmp_path / "flow.yaml"
    path.write_text(TINY.replace("  main:\n    menu:", "  main:\n    escape: false\n    menu:"))
    result = CliRunner().invoke(check, [str(path), "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["flows"] == []
    [problem] = report["problems"]
    assert problem["file"] == str(path)
    assert problem["line"] == line_no(path.read_text(), "escape: false")
    assert "turns the escape off" in problem["message"]


def test_check_in_json_for_a_sound_flow_says_ok():
    result = CliRunner().invoke(check, ["--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"ok": True, "flows": ["support"], "problems": []}


def test_check_on_a_path_that_does_not_exist_is_one_clear_line():
    result = CliRunner().invoke(check, ["/no/such/flows"])
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert "Traceback" not in result.output


def test_test_flows_runs_every_shipped_scenario_and_passes():
    result = CliRunner().invoke(run_scenarios, [])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) >= 25
    assert all(line.startswith("pass  ") for line in lines)
    assert "pass  a VIP goes to a person first" in lines
    shipped = shipped_scenario_count(library_dir())
    assert len(lines) == shipped
    assert result.stderr == f"{shipped} passed, 0 failed of {shipped} scenarios\n"


def shipped_scenario_count(library: Path) -> int:
    """Return how many scenarios the scenario files under `library` hold, read one by one."""
    files = sorted((library / "scenarios").glob("*.yaml"))
    assert len(files) >= 2  # the broken-flow test below needs several files to count
    return sum(len(read_scenarios(f)) for f in files)


def test_scenarios_of_a_flow_that_does_not_load_all_fail_and_its_problems_show_once(
    tmp_path: Path,
):
    library = tmp_path / "library"
    shutil.copytree(library_dir(), library)
    flow = library / "support.yaml"
    broken = flow.read_text().replace("  max_no_match: 2 ", "  max_no_match: 5 ", 1)
    flow.write_text(broken)
    result = CliRunner().invoke(run_scenarios, [str(library)])
    assert result.exit_code == 1
    problem = f"support.yaml:{line_no(broken, 'max_no_match: 5')}: escape: max_no_match is 5"
    assert sum(problem in line for line in result.stdout.splitlines()) == 1, result.stdout
    shipped = shipped_scenario_count(library)
    assert result.stderr == f"0 passed, {shipped} failed of {shipped} scenarios\n"


def _project(tmp_path: Path, scenarios: str) -> Path:
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    (tmp_path / "scenarios" / "tiny.yaml").write_text(scenarios, encoding="utf-8")
    return tmp_path


def test_test_flows_finds_flows_above_a_scenarios_folder(tmp_path: Path):
    result = CliRunner().invoke(run_scenarios, [str(_project(tmp_path, PASSING))])
    assert result.exit_code == 0, result.output
    assert result.stdout == "pass  pressing 0 reaches a person\n"


def test_a_failing_scenario_says_what_went_wrong_and_exits_1(tmp_path: Path):
    failing = PASSING.replace("queue: support", "queue: billing").replace(
        "escape: key0}", 'escape: key0, hears: ["welcome"]}'
    )
    result = CliRunner().invoke(run_scenarios, [str(_project(tmp_path, failing))])
    assert result.exit_code == 1
    where = f"{tmp_path / 'scenarios' / 'tiny.yaml'}:4"
    assert result.stdout.splitlines() == [
        "FAIL  pressing 0 reaches a person",
        f"      {where}: never heard 'welcome'",
        f"      {where}: queue was 'support', expected 'billing'",
    ]
    assert result.stderr == "0 passed, 1 failed of 1 scenarios\n"


def test_a_broken_scenario_file_is_reported_with_its_line(tmp_path: Path):
    broken = PASSING.replace('{press: "0"}', '{shout: "0"}')
    result = CliRunner().invoke(run_scenarios, [str(_project(tmp_path, broken))])
    assert result.exit_code == 1
    assert f"scenarios/tiny.yaml:{line_no(broken, 'shout')}: unknown key 'shout'" in result.stdout
    assert "Traceback" not in result.output


def test_a_scenario_for_a_flow_that_is_not_there_fails(tmp_path: Path):
    result = CliRunner().invoke(
        run_scenarios, [str(_project(tmp_path, PASSING.replace("flow: tiny", "flow: sales")))]
    )
    assert result.exit_code == 1
    assert "no flow named 'sales'" in result.stdout


def test_scenarios_against_a_broken_flow_report_the_flow_problems(tmp_path: Path):
    project = _project(tmp_path, PASSING)
    (project / "tiny.yaml").write_text(TINY.replace("goto: done", "goto: nowhere"))
    result = CliRunner().invoke(run_scenarios, [str(project)])
    assert result.exit_code == 1
    assert "no step named 'nowhere'" in result.stdout


def test_a_copy_of_the_library_can_be_tested_with_a_single_scenario_file(tmp_path: Path):
    shutil.copytree(library_dir(), tmp_path / "library")
    one = tmp_path / "library" / "scenarios" / "escapes.yaml"
    result = CliRunner().invoke(run_scenarios, [str(one)])
    assert result.exit_code == 0, result.output
    assert "pass  pressing 0 at the main menu reaches a person" in result.stdout


def shipped_copy(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    """Return a copy of the shipped support flow with `old` replaced by `new`."""
    text = (library_dir() / "support.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "support.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path, path.read_text(encoding="utf-8")


def test_check_rejects_a_voice_prompt_whose_press_does_not_match_the_options_keys(
    tmp_path: Path,
):
    technical = 'prompt: {en-US: "What do you need help with?", es-US: "¿Con qué necesita ayuda?"}'
    wrong = (
        "prompt:\n"
        "        en-US:\n"
        '          text: "What do you need help with?"\n'
        '          voice: "For signing in, press 1. For the app, press 2. '
        'For anything else, press 4."\n'
        '        es-US: "¿Con qué necesita ayuda?"'
    )
    path, text = shipped_copy(tmp_path, technical, wrong)
    result = CliRunner().invoke(check, [str(path)])
    assert result.exit_code == 1
    at = f"{path}:{line_no(text, 'For anything else, press 4')}:"
    assert f"{at} step 'technical' prompt: the voice prompt says 'press 4'" in result.output
    assert f"{at} step 'technical' prompt: the voice prompt never says 'press 3'" in result.output


def test_check_rejects_a_prompt_a_chat_visitor_would_read_press_in(tmp_path: Path):
    shared = 'en-US: "Would you like to choose a plan with a plan adviser?"'
    path, text = shipped_copy(tmp_path, shared, shared.replace('?"', '? Press 1 for yes."'))
    result = CliRunner().invoke(check, [str(path)])
    assert result.exit_code == 1
    line = line_no(text, "Press 1 for yes")
    assert (
        f"{path}:{line}: step 'after_prices' prompt: the prompt is shown in chat" in result.output
    )
    chat_only = (
        "        en-US:\n"
        '          voice: "Is there anything else? For the main menu, press 1. '
        "If you're all set, press 2.\"\n"
        '          chat: "Anything else? Press 1 for the menu."'
    )
    anything_else = (
        "        en-US:\n"
        '          text: "Is there anything else I can help with?"\n'
        '          voice: "Is there anything else? For the main menu, press 1. '
        "If you're all set, press 2.\""
    )
    path, text = shipped_copy(tmp_path, anything_else, chat_only)
    result = CliRunner().invoke(check, [str(path)])
    assert result.exit_code == 1
    line = line_no(text, "Press 1 for the menu")
    assert (
        f"{path}:{line}: step 'anything_else' prompt: the chat prompt says 'press'" in result.output
    )


def test_the_shipped_voice_wording_of_a_prompt_passes_check():
    result = CliRunner().invoke(check, [str(library_dir() / "support.yaml")])
    assert result.exit_code == 0, result.output
