"""Draw a flow for the people who own it: Mermaid text here, a self-contained SVG in svg.py."""

from __future__ import annotations

import re

from presszero.flows.language.model import Flow

from .flowgraph import START, Edge, Figures, FlowGraph, Node, flow_graph
from .svg import to_svg

__all__ = ["mermaid_id", "to_mermaid", "to_svg"]

_SHAPES = {  # family → (open, close): Mermaid's node shapes
    "start": ("((", "))"),
    "prompt": ("[", "]"),
    "say": ("(", ")"),
    "branch": ("{", "}"),
    "person": ("{{", "}}"),
    "end": ("([", "])"),
}
_ARROWS = {"greeting": "-->", "goto": "-->", "escape": "-.->", "after_hours": "-.->"}
# Mermaid's classDef styles nodes only; edges take the same colours through linkStyle.
_CLASSES = {
    "handoff": "fill:#dff3e4,stroke:#2e7d4f,stroke-width:2px,color:#12361f",
    "endstep": "fill:#eeeeee,stroke:#616161,color:#212121",
    "hot": "fill:#c62828,stroke:#7f0000,stroke-width:3px,color:#ffffff",
}
_LINKS = {
    "escape": "stroke:#d84315,stroke-width:1.5px,stroke-dasharray:6 4,color:#bf360c",
    "after_hours": "stroke:#757575,stroke-width:1px,stroke-dasharray:2 3,color:#616161",
}
_ENTITIES = {"#": "#35;", "&": "#amp;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "`": "#96;"}


def to_mermaid(flow: Flow, figures: Figures | None = None) -> str:
    """Return `flow` as a Mermaid flowchart: escapes dashed, handoffs and hot steps styled."""
    return mermaid(flow_graph(flow, figures))


def mermaid(graph: FlowGraph) -> str:
    """Return the Mermaid flowchart of a flow graph."""
    out = ["flowchart TD", f"  %% flow {_text(graph.name)}: presszero diagram"]
    out += [f"  {_node(node)}" for node in graph.nodes]
    links: dict[str, list[int]] = {}
    for index, edge in enumerate(graph.edges):
        out.append(f"  {_edge(edge)}")
        links.setdefault(edge.kind, []).append(index)
    out += [f"  classDef {name} {style}" for name, style in _CLASSES.items()]
    for name, members in (
        ("handoff", [n for n in graph.nodes if n.family == "person"]),
        ("endstep", [n for n in graph.nodes if n.family == "end"]),
        ("hot", [n for n in graph.nodes if n.hot]),
    ):
        if members:
            out.append(f"  class {','.join(mermaid_id(n.id) for n in members)} {name}")
    for kind, style in _LINKS.items():
        if links.get(kind):
            out.append(f"  linkStyle {','.join(map(str, links[kind]))} {style}")
    return "\n".join(out) + "\n"


def mermaid_id(step_id: str) -> str:
    """Return the Mermaid node id of a step ("start" for the start; never a keyword)."""
    return "start" if step_id == START else "s_" + re.sub(r"\W", "_", step_id)


def _node(node: Node) -> str:
    opening, closing = _SHAPES[node.family]
    label = "<br/>".join(_text(line) for line in node.lines[: 1 if node.id == START else None])
    return f'{mermaid_id(node.id)}{opening}"{label}"{closing}'


def _edge(edge: Edge) -> str:
    arrow = _ARROWS[edge.kind]
    label = f'|"{_text(edge.label)}"|' if edge.label else ""
    return f"{mermaid_id(edge.source)} {arrow}{label} {mermaid_id(edge.target)}"


def _text(text: str) -> str:
    return "".join(_ENTITIES.get(char, char) for char in text)
