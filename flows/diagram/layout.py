"""Lay a flow graph out in rows: layers by distance from the start, edges routed between them.

A small Sugiyama-style layout, deterministic and dependency-free: layers by breadth-first
distance over the flow's own moves; a placeholder in every row a long edge crosses, so it
runs between boxes rather than through them; rows ordered to cut crossings (barycentres);
each row placed as close to its neighbours as spacing allows (isotonic regression).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from .flowgraph import START, Edge, EdgeKind, FlowGraph, Node
from .placement import order_rows, place_rows

Point = tuple[float, float]

CHAR = 0.62  # an average character's width in em: generous, so text never spills
NAME_SIZE, TEXT_SIZE, LABEL_SIZE = 13, 11, 11
LINE = 15  # distance between lines of text in a node
PAD = 12  # inside a node, left and right
GAPS = {2: 32.0, 1: 16.0, 0: 12.0}  # between neighbours in a row, by how many are real steps
ROW_GAP = 72.0  # between rows, before room for edge labels
WRAP = 34  # characters per line of an edge label
LABEL_LINE = 13  # height of a line of an edge label


@dataclass(slots=True)
class Box:
    """A node placed: top-left corner and size."""

    node: Node
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        """Return the horizontal centre."""
        return self.x + self.w / 2


@dataclass(slots=True)
class Route:
    """An edge (or several between the same two steps) as a path through the rows."""

    source: str
    target: str
    kind: EdgeKind
    labels: list[str]
    points: list[Point] = field(default_factory=list)
    lanes: set[int] = field(default_factory=set)  # segments that run straight down a row
    same_row: bool = False  # both ends in one row: the path dips below it

    @property
    def printed(self) -> bool:
        """Return True if the label is written on the edge (escapes are in the legend)."""
        return self.kind in ("greeting", "goto")


@dataclass(slots=True)
class Layout:
    """Every box and route, and the size of the drawing they need."""

    boxes: dict[str, Box]
    routes: list[Route]
    width: float
    height: float


def text_width(text: str, size: float) -> float:
    """Return the width `text` takes at font `size` (over-estimated, never under)."""
    return len(text) * size * CHAR


def wrap(text: str, width: int = WRAP) -> list[str]:
    """Return `text` broken into lines of about `width` characters, at spaces or after dots."""
    lines: list[str] = []
    for word in text.split(" "):
        pieces = re.findall(r"[^.]+\.?|\.", word) if len(word) > width else [word]
        for i, piece in enumerate(pieces):
            joint = "" if i else " "
            if lines and len(lines[-1]) + len(joint) + len(piece) <= width:
                lines[-1] += joint + piece
            else:
                lines.append(piece)
    return lines


def layout(graph: FlowGraph, kinds: Iterable[EdgeKind], top: float = 0.0) -> Layout:
    """Return the boxes and routes of `graph`, drawing edges of `kinds`, from `top` down."""
    routes = _routes(graph.edges, set(kinds))
    layer = layers(graph)
    depth = max(layer.values(), default=0)
    rows: list[list[str]] = [
        [n.id for n in graph.nodes if layer[n.id] == i] for i in range(depth + 1)
    ]
    chains: list[list[str]] = []
    for number, route in enumerate(routes):
        low, high = sorted((layer[route.source], layer[route.target]))
        upper, lower = (
            (route.source, route.target)
            if layer[route.source] <= layer[route.target]
            else (route.target, route.source)
        )
        dummies = [f"\0{number}:{i}" for i in range(low + 1, high)]
        for i, dummy in zip(range(low + 1, high), dummies, strict=True):
            rows[i].append(dummy)
            layer[dummy] = i
        chains.append([upper, *dummies, lower] if low != high else [])
    above, below = _neighbours(chains)
    rows = order_rows(rows, above, below)
    sizes = {n.id: _size(n) for n in graph.nodes}

    def spacing(a: str, b: str) -> float:
        real = (a in sizes) + (b in sizes)
        return (sizes.get(a, (0.0, 0.0))[0] + sizes.get(b, (0.0, 0.0))[0]) / 2 + GAPS[real]

    beside: dict[str, list[str]] = {}
    for route, chain in zip(routes, chains, strict=True):
        if not chain and route.source != route.target:
            beside.setdefault(route.source, []).append(route.target)
            beside.setdefault(route.target, []).append(route.source)
    x = place_rows(rows, spacing, above, below, beside)
    shift = 24 - min(x[k] - sizes.get(k, (0.0, 0.0))[0] / 2 for k in x)
    x = {k: v + shift for k, v in x.items()}
    nodes = {n.id: n for n in graph.nodes}
    boxes: dict[str, Box] = {}
    spans: list[tuple[float, float]] = []
    y = top
    for row in rows:
        height = max((sizes[k][1] for k in row if k in sizes), default=0.0)
        for key in (k for k in row if k in sizes):
            w, h = sizes[key]
            boxes[key] = Box(nodes[key], x[key] - w / 2, y + (height - h) / 2, w, h)
        spans.append((y, y + height))
        y += height + ROW_GAP + LABEL_LINE * _label_room(row, routes, chains)
    _paths(routes, chains, boxes, spans, x, layer)
    width = max((b.x + b.w for b in boxes.values()), default=0.0) + 24
    return Layout(boxes, routes, width, y - ROW_GAP + 48)


def _label_room(row: list[str], routes: list[Route], chains: list[list[str]]) -> int:
    """Return how many label lines the gap below `row` makes room for."""
    room = 0
    for key in row:
        sizes = [len(label_lines(r)) for r, c in zip(routes, chains, strict=True) if c[:1] == [key]]
        room = max(room, *sizes, sum(sizes) // 2) if sizes else room
    return room


def layers(graph: FlowGraph) -> dict[str, int]:
    """Return each node's row: its distance from the start over the flow's own moves.

    Steps reached only by escaping or after hours go below the rest, by their distance
    from the steps above.
    """
    layer = _bfs({START: 0}, [e for e in graph.edges if e.normal])
    depth = max(layer.values())
    rest = _bfs(dict.fromkeys(layer, 0), list(graph.edges))
    for node in graph.nodes:
        if node.id not in layer:
            layer[node.id] = depth + rest.get(node.id, 1)
    return layer


def _bfs(start: dict[str, int], edges: list[Edge]) -> dict[str, int]:
    nexts: dict[str, list[str]] = {}
    for edge in edges:
        nexts.setdefault(edge.source, []).append(edge.target)
    seen = dict(start)
    queue = deque(start)
    while queue:
        here = queue.popleft()
        for there in nexts.get(here, []):
            if there not in seen:
                seen[there] = seen[here] + 1
                queue.append(there)
    return seen


def _routes(edges: Iterable[Edge], kinds: set[EdgeKind]) -> list[Route]:
    """Return one route per (source, target, kind), labels of parallel edges stacked."""
    routes: dict[tuple[str, str, EdgeKind], Route] = {}
    for edge in edges:
        if edge.kind not in kinds:
            continue
        route = routes.setdefault(
            (edge.source, edge.target, edge.kind), Route(edge.source, edge.target, edge.kind, [])
        )
        if edge.label:
            route.labels.append(edge.label)
    return list(routes.values())


def _neighbours(chains: list[list[str]]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    above: dict[str, list[str]] = {}
    below: dict[str, list[str]] = {}
    for chain in chains:
        for upper, lower in pairwise(chain):
            below.setdefault(upper, []).append(lower)
            above.setdefault(lower, []).append(upper)
    return above, below


def _size(node: Node) -> tuple[float, float]:
    lines = node.lines
    wide = max(
        text_width(lines[0], NAME_SIZE), *(text_width(line, TEXT_SIZE) for line in lines[1:])
    )
    return max(110.0, wide + 2 * PAD), 14 + LINE * len(lines)


def label_lines(route: Route) -> list[str]:
    """Return the lines of text written on a route (its conditions or keys, wrapped)."""
    return [line for label in route.labels for line in wrap(label)] if route.printed else []


def _paths(
    routes: list[Route],
    chains: list[list[str]],
    boxes: dict[str, Box],
    spans: list[tuple[float, float]],
    x: dict[str, float],
    layer: dict[str, int],
) -> None:
    """Give every route its points: ports spread along a box's edge, then a lane per row."""
    ends: dict[tuple[str, str], list[tuple[float, int, int]]] = {}
    for n, (route, chain) in enumerate(zip(routes, chains, strict=True)):
        if chain:
            ends.setdefault((chain[0], "bottom"), []).append((x[chain[1]], n, 0))
            ends.setdefault((chain[-1], "top"), []).append((x[chain[-2]], n, 1))
        else:  # both ends in one row: leave and arrive underneath
            ends.setdefault((route.source, "bottom"), []).append((x[route.target], n, 0))
            ends.setdefault((route.target, "bottom"), []).append((x[route.source], n, 1))
    ports: dict[tuple[int, int], Point] = {}
    for (key, side), items in sorted(ends.items()):
        box = boxes[key]
        items.sort()
        inner = box.w * 0.7 if len(items) > 1 else 0.0
        for i, (_, n, end) in enumerate(items):
            px = box.cx - inner / 2 + (inner * i / (len(items) - 1) if len(items) > 1 else 0.0)
            ports[n, end] = (px, box.y + box.h if side == "bottom" else box.y)
    for n, (route, chain) in enumerate(zip(routes, chains, strict=True)):
        points = [ports[n, 0]]
        for dummy in chain[1:-1]:
            route.lanes.add(len(points))
            top, bottom = spans[layer[dummy]]
            points += [(x[dummy], top), (x[dummy], bottom)]
        points.append(ports[n, 1])
        if chain and layer[route.source] > layer[route.target]:
            points.reverse()
            route.lanes = {len(points) - 2 - lane for lane in route.lanes}
        route.points = points
        route.same_row = not chain
