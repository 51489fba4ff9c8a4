"""A flow as a graph to draw: a node per step, an edge per way a conversation moves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from presszero.flows.language.model import (
    AskStep,
    BranchStep,
    CallbackStep,
    EndStep,
    EscapePolicy,
    Flow,
    HandoffStep,
    MenuStep,
    Option,
    Rule,
    SayStep,
    Step,
    VoicemailStep,
)

Figures = Mapping[str, Mapping[str, int]]  # step id → {"reached": n, "escaped": n}
EdgeKind = Literal["greeting", "goto", "escape", "after_hours"]
Family = Literal["start", "prompt", "say", "branch", "person", "end"]

START = ""  # the start node's id: no step can be named "" (ids are [a-z][a-z0-9_]*)
HOT_STEPS = 3  # how many of the steps with most escapes are marked hot
AFTER_HOURS_LABEL = "closed / no answer"
_FAMILY: dict[str, Family] = {
    "menu": "prompt",
    "ask": "prompt",
    "say": "say",
    "branch": "branch",
    "handoff": "person",
    "callback": "person",
    "voicemail": "person",
    "end": "end",
}


@dataclass(frozen=True, slots=True)
class Node:
    """A step (or the start) as drawn: its id, kind, detail line and figures."""

    id: str
    kind: str
    family: Family
    detail: str  # the second line: kind, plus the queue or outcome where there is one
    reason: str = ""  # for a person: why the agent is told they are there (the whisper's words)
    reached: int = 0
    escaped: int = 0
    hot: bool = False
    counted: bool = False  # figures were given for this step

    @property
    def lines(self) -> list[str]:
        """Return the lines of text the node shows."""
        if self.id == START:
            return ["start", "first matching rule wins"]
        counts = [f"reached {self.reached} · escaped {self.escaped}"] if self.counted else []
        why = [f"“{self.reason}”"] if self.reason else []
        return [self.id, self.detail, *why, *counts]


@dataclass(frozen=True, slots=True)
class Edge:
    """A move from one node to another: by the flow itself, by escaping, or after hours."""

    source: str
    target: str
    kind: EdgeKind
    label: str

    @property
    def normal(self) -> bool:
        """Return True for moves the flow makes by itself (these define the layers)."""
        return self.kind in ("greeting", "goto")


@dataclass(frozen=True, slots=True)
class FlowGraph:
    """The nodes and edges of one flow, in the order the flow file writes them."""

    name: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def flow_graph(flow: Flow, figures: Figures | None = None) -> FlowGraph:
    """Return `flow` as a graph; steps in `figures` carry their counts, the worst marked hot."""
    hot = set(hot_steps(flow, figures or {}))
    nodes = [Node(START, "start", "start", "start")]
    for step in flow.steps.values():
        counts = (figures or {}).get(step.id)
        nodes.append(
            Node(
                step.id,
                step.kind,
                _FAMILY[step.kind],
                _detail(step),
                reason=getattr(step, "reason", "") or "",
                reached=int(counts.get("reached", 0)) if counts else 0,
                escaped=int(counts.get("escaped", 0)) if counts else 0,
                hot=step.id in hot,
                counted=counts is not None,
            )
        )
    edges = [Edge(START, r.goto, "greeting", rule_label(r)) for r in flow.greeting]
    for step in flow.steps.values():
        edges.extend(_moves(step))
        if isinstance(step, MenuStep | AskStep | CallbackStep):
            policy = flow.escape_for(step)
            edges.append(Edge(step.id, policy.handoff, "escape", escape_label(policy)))
    after = flow.hours.after_hours
    edges.extend(
        Edge(s.id, after, "after_hours", AFTER_HOURS_LABEL)
        for s in flow.steps.values()
        if isinstance(s, HandoffStep) and s.id != after
    )
    return FlowGraph(flow.name, tuple(nodes), tuple(edges))


def hot_steps(flow: Flow, figures: Figures) -> list[str]:
    """Return the steps where most customers escaped (at most three, worst first)."""
    order = {sid: i for i, sid in enumerate(flow.steps)}
    escaped = {
        sid: int(counts.get("escaped", 0)) for sid, counts in figures.items() if sid in order
    }
    worst = sorted(
        (sid for sid, n in escaped.items() if n > 0), key=lambda s: (-escaped[s], order[s])
    )
    return worst[:HOT_STEPS]


def rule_label(rule: Rule) -> str:
    """Return a rule's condition as written, or "otherwise" for the catch-all."""
    return rule.when.source if rule.when is not None else "otherwise"


def option_label(option: Option) -> str:
    """Return how a customer picks a menu option: its key and/or intent."""
    return " / ".join(part for part in (option.key, option.intent) if part)


def escape_label(policy: EscapePolicy) -> str:
    """Return how a customer escapes a prompt: keys, intents, misses ("0 / agent / 2 misses")."""
    if policy.max_no_match == policy.max_no_input:
        misses = [f"{policy.max_no_match} misses"]
    else:
        misses = [f"{policy.max_no_match} no-match", f"{policy.max_no_input} no-input"]
    return " / ".join([*policy.keys, *policy.intents, *misses])


def _moves(step: Step) -> list[Edge]:
    match step:
        case SayStep(goto=goto) if goto:
            return [Edge(step.id, goto, "goto", "")]
        case AskStep(goto=goto):
            return [Edge(step.id, goto, "goto", "")]
        case MenuStep(options=options):
            return [Edge(step.id, o.goto, "goto", option_label(o)) for o in options]
        case BranchStep(rules=rules):
            return [Edge(step.id, r.goto, "goto", rule_label(r)) for r in rules]
    return []


def _detail(step: Step) -> str:
    match step:
        case HandoffStep(queue=queue) | CallbackStep(queue=queue) | VoicemailStep(queue=queue):
            return f"{step.kind} · {queue}"
        case EndStep(outcome=outcome):
            return f"end · {outcome}"
    return step.kind
