"""`presszero diagram`: the flow as Mermaid and SVG, read back and compared with the model."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.flow_builders import TINY, line_no

from presszero.flows.cli import diagram
from presszero.flows.diagram import to_mermaid, to_svg
from presszero.flows.diagram.flowgraph import hot_steps
from presszero.flows.language.files import shipped_flow
from presszero.flows.language.model import (
    AskStep,
    CallbackStep,
    Flow,
    HandoffStep,
    MenuStep,
    goto_targets,
)

SVG = "{http://www.w3.org/2000/svg}"
ESCAPE = "0 / agent / 2 misses"
FIGURES = {  # step id → what a period's calls and chats did there
    "main": {"reached": 40, "escaped": 9},
    "billing": {"reached": 12, "escaped": 4},
    "charge_account": {"reached": 5, "escaped": 4},
    "plan_menu": {"reached": 3, "escaped": 1},
    "goodbye": {"reached": 20, "escaped": 0},
    "no_such_step": {"reached": 99, "escaped": 99},
}
ENTITIES = {"quot": '"', "amp": "&", "lt": "<", "gt": ">", "35": "#", "96": "`"}
NODE = re.compile(r'^\s*(\w+)(?:\(\(|\(\[|\{\{|\[|\{|\()"([^"]*)"')
EDGE = re.compile(r'^\s*(\w+) (-->|-\.->)(?:\|"([^"]*)"\|)? (\w+)\s*$')


def unescape(text: str) -> str:
    return re.sub(r"#(\w+);", lambda m: ENTITIES[m.group(1)], text)


def read_mermaid(text: str) -> tuple[dict[str, list[str]], list[tuple[str, str, str, str]]]:
    """Return the nodes (Mermaid id → label lines) and edges (from, arrow, label, to) by step id."""
    nodes = {
        m[1]: [unescape(p) for p in m[2].split("<br/>")]
        for m in map(NODE.match, text.splitlines())
        if m
    }
    step = {mid: ("" if lines == ["start"] else lines[0]) for mid, lines in nodes.items()}
    edges = [
        (step[m[1]], m[2], unescape(m[3] or ""), step[m[4]])
        for m in map(EDGE.match, text.splitlines())
        if m
    ]
    return nodes, edges


def prompts(flow: Flow) -> list[MenuStep | AskStep | CallbackStep]:
    return [s for s in flow.steps.values() if isinstance(s, MenuStep | AskStep | CallbackStep)]


def svg_of(flow: Flow, figures: dict | None = None) -> ET.Element:
    return ET.fromstring(to_svg(flow, figures))


def svg_nodes(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if "node" in g.get("class", "").split()]


def test_the_mermaid_of_the_shipped_flow_names_every_step_with_its_kind():
    flow = shipped_flow()
    nodes, _ = read_mermaid(to_mermaid(flow))
    named = {lines[0]: lines[1] for lines in nodes.values() if lines != ["start"]}
    assert set(named) == set(flow.steps)
    assert all(named[sid].split(" · ")[0] == step.kind for sid, step in flow.steps.items())


def test_every_prompt_has_a_dashed_escape_edge_to_its_own_escape_handoff():
    flow = shipped_flow()
    _, edges = read_mermaid(to_mermaid(flow))
    escapes = [(src, dst) for src, arrow, label, dst in edges if label == ESCAPE]
    expected = [(s.id, flow.escape_for(s).handoff) for s in prompts(flow)]
    assert sorted(escapes) == sorted(expected)
    assert ("billing", "billing_agent") in escapes  # a step's own escape target is honoured
    assert all(arrow == "-.->" for _, arrow, label, _ in edges if label == ESCAPE)


def test_the_flows_own_moves_are_solid_edges_one_per_goto():
    flow = shipped_flow()
    _, edges = read_mermaid(to_mermaid(flow))
    solid = [(src, dst) for src, arrow, _, dst in edges if arrow == "-->" and src]
    expected = [(s.id, target) for s in flow.steps.values() for target, _ in goto_targets(s)]
    assert sorted(solid) == sorted(expected)


def test_greeting_conditions_label_the_edges_from_the_start_in_order():
    flow = shipped_flow()
    _, edges = read_mermaid(to_mermaid(flow))
    greetings = [(label, dst) for src, _, label, dst in edges if src == ""]
    assert greetings == [
        (rule.when.source if rule.when else "otherwise", rule.goto) for rule in flow.greeting
    ]
    assert ('has_flag("vip")', "priority_agent") in greetings


def test_every_handoff_falls_back_to_the_after_hours_step_when_no_one_answers():
    flow = shipped_flow()
    _, edges = read_mermaid(to_mermaid(flow))
    after = {src for src, _, label, dst in edges if label == "closed / no answer"}
    assert {dst for _, _, label, dst in edges if label == "closed / no answer"} == {"callback"}
    assert after == {s.id for s in flow.steps.values() if isinstance(s, HandoffStep)}


def test_mermaid_styles_handoffs_and_the_steps_with_most_escapes():
    text = to_mermaid(shipped_flow(), FIGURES)
    classes = dict(re.findall(r"^  class (\S+) (\w+)$", text, re.MULTILINE)[::-1])
    by_class = {name: set(ids.split(",")) for ids, name in classes.items()}
    assert by_class["hot"] == {"s_main", "s_billing", "s_charge_account"}
    assert "s_agent" in by_class["handoff"]
    assert "s_main" not in by_class["handoff"]
    nodes, _ = read_mermaid(text)
    assert nodes["s_main"][2] == "reached 40 · escaped 9"
    assert re.search(r"^  linkStyle [\d,]+ .*stroke-dasharray", text, re.MULTILINE)


@pytest.mark.parametrize(
    ("figures", "hot"),
    [
        (FIGURES, ["main", "billing", "charge_account"]),  # a tie keeps the flow's order
        ({"goodbye": {"reached": 5, "escaped": 0}}, []),
        ({"anything_else": {"escaped": 2}, "no_such_step": {"escaped": 50}}, ["anything_else"]),
        ({}, []),
    ],
)
def test_the_hot_steps_are_the_three_known_steps_with_most_escapes(figures: dict, hot: list):
    assert hot_steps(shipped_flow(), figures) == hot


def test_the_svg_parses_and_has_one_box_per_step():
    flow = shipped_flow()
    root = svg_of(flow)
    assert root.tag == f"{SVG}svg"
    steps = [g.get("data-step") for g in svg_nodes(root) if g.get("data-step")]
    assert sorted(steps) == sorted(flow.steps)
    for g in svg_nodes(root):
        texts = [t.text for t in g.iter(f"{SVG}text")]
        assert texts[0] == (g.get("data-step") or "start")


def test_the_svg_has_one_dashed_escape_path_per_prompt():
    flow = shipped_flow()
    paths = [p for p in svg_of(flow).iter(f"{SVG}path") if p.get("class") == "edge escape"]
    assert sorted((p.get("data-from"), p.get("data-to")) for p in paths) == sorted(
        (s.id, flow.escape_for(s).handoff) for s in prompts(flow)
    )
    assert all(p.get("stroke-dasharray") and p.get("marker-end") for p in paths)
    solid = [p for p in svg_of(flow).iter(f"{SVG}path") if p.get("class") == "edge goto"]
    assert solid
    assert not any(p.get("stroke-dasharray") for p in solid)


def test_the_svg_names_each_greeting_condition_on_its_edge():
    flow = shipped_flow()
    titles = [
        p.find(f"{SVG}title").text
        for p in svg_of(flow).iter(f"{SVG}path")
        if p.get("class") == "edge greeting"
    ]
    for rule in flow.greeting:
        label = rule.when.source if rule.when else "otherwise"
        assert any(t.startswith(f"start → {rule.goto}:") and label in t for t in titles), label


def test_the_svg_marks_the_top_escape_steps_hot_with_their_counts():
    root = svg_of(shipped_flow(), FIGURES)
    hot = {g.get("data-step"): g for g in svg_nodes(root) if "hot" in g.get("class", "").split()}
    assert set(hot) == {"main", "billing", "charge_account"}
    assert hot["main"].find(f"{SVG}rect").get("fill") == "#c62828"
    assert "reached 40 · escaped 9" in [t.text for t in hot["main"].iter(f"{SVG}text")]


def test_no_two_boxes_overlap_and_all_fit_in_the_picture():
    root = svg_of(shipped_flow(), FIGURES)
    width, height = float(root.get("width")), float(root.get("height"))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    moved = [g.get("transform") for g in root if g.get("transform")]
    dx, dy = (float(n) for n in re.fullmatch(r"translate\((\S+) (\S+)\)", moved[0]).groups())
    boxes = []
    for g in svg_nodes(root):
        rect = g.find(f"{SVG}rect")
        x, y, w, h = (float(rect.get(k)) for k in ("x", "y", "width", "height"))
        x, y = x + dx, y + dy
        boxes.append((x, y, w, h))
        assert x >= 0
        assert x + w <= width
        assert y >= 0
        assert y + h <= height
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0]
            assert apart or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1], (a, b)


def test_the_same_flow_draws_the_same_svg_whatever_the_hash_seed(tmp_path):
    script = (
        "from presszero.flows.language.files import shipped_flow\n"
        "from presszero.flows.diagram import to_svg\n"
        "print(to_svg(shipped_flow()), end='')\n"
    )
    drawings = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,  # outside the checkout: the installed package is what runs
        ).stdout
        for seed in ("1", "2")
    }
    assert len(drawings) == 1
    assert drawings == {to_svg(shipped_flow())}


def test_diagram_prints_the_mermaid_of_a_shipped_flow_by_name():
    result = CliRunner().invoke(diagram, ["support"])
    assert result.exit_code == 0, result.output
    assert result.stdout == to_mermaid(shipped_flow())


def test_diagram_of_an_unknown_flow_lists_the_known_ones_in_one_line():
    result = CliRunner().invoke(diagram, ["suport"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: no flow named 'suport' in the shipped flows (known: support)"
    ]


def test_diagram_of_a_flow_that_fails_check_says_why_in_one_line(tmp_path: Path):
    text = TINY.replace("goto: done", "goto: nowhere")
    path = tmp_path / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    for args in ([str(path)], ["tiny", "--flows", str(tmp_path)]):
        result = CliRunner().invoke(diagram, args)
        assert result.exit_code == 1
        lines = result.output.splitlines()
        assert len(lines) == 1, lines
        assert f"{path}:{line_no(text, 'goto: nowhere')}: step 'billing_info' goes to" in lines[0]
        assert "Traceback" not in result.output


def test_diagram_writes_an_svg_file_for_a_flow_in_another_folder(tmp_path: Path):
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    out = tmp_path / "tiny.svg"
    args = ["tiny", "--flows", str(tmp_path), "--format", "svg", "-o", str(out)]
    result = CliRunner().invoke(diagram, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    steps = {g.get("data-step") for g in svg_nodes(root)} - {""}
    assert steps == {"main", "billing_info", "done", "agent", "callback"}


def test_every_escape_shows_where_it_goes_and_why_the_agent_will_be_told():
    # A lead reads, from the picture alone, that Dana's 0 at the cancellation menu reaches
    # billing about the cancellation, not the plans team about choosing a plan.
    drawn = to_mermaid(shipped_flow())
    assert 's_after_cancellation -.->|"0 / agent / 2 misses"| s_cancellation_agent' in drawn
    assert (
        's_cancellation_agent{{"cancellation_agent<br/>handoff · billing<br/>'
        '“question about a plan we cancelled”"}}' in drawn
    )
