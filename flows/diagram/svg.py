"""Draw a flow as a self-contained SVG: no scripts, nothing fetched, the same flow → same bytes."""

from __future__ import annotations

from html import escape
from itertools import pairwise

from presszero.flows.language.model import Flow

from .flowgraph import (
    AFTER_HOURS_LABEL,
    START,
    EdgeKind,
    Figures,
    FlowGraph,
    Node,
    escape_label,
    flow_graph,
)
from .layout import (
    LABEL_LINE,
    LABEL_SIZE,
    LINE,
    NAME_SIZE,
    TEXT_SIZE,
    Box,
    Layout,
    Point,
    Route,
    label_lines,
    layout,
    text_width,
)

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif"
NODE_COLOURS = {  # family → fill, border, text
    "start": ("#263238", "#263238", "#ffffff"),
    "prompt": ("#e3ecfa", "#3b5b92", "#0d2346"),
    "say": ("#f6f6f6", "#8a8a8a", "#202020"),
    "branch": ("#fff3d1", "#a67c00", "#3d2e00"),
    "person": ("#d9f2e1", "#2e7d4f", "#10351d"),
    "end": ("#e9e9e9", "#5f5f5f", "#212121"),
    "hot": ("#c62828", "#7f0000", "#ffffff"),
}
EDGE_STYLES = {  # kind → colour, dashes
    "greeting": ("#455a64", ""),
    "goto": ("#455a64", ""),
    "escape": ("#e65100", "7 4"),
    "after_hours": ("#8d8d8d", "2 4"),
}
# After-hours moves (every handoff → the after-hours step) are told in the legend, not drawn:
# a line from every handoff to one box would cross the whole picture and say nothing new.
DRAWN: tuple[EdgeKind, ...] = ("greeting", "goto", "escape")
MIN_WIDTH = 640.0  # room for the title and a legend in a few rows
Cubic = tuple[Point, Point, Point, Point]


def to_svg(flow: Flow, figures: Figures | None = None) -> str:
    """Return `flow` as an SVG picture: escapes dashed, handoffs green, the worst steps red."""
    graph = flow_graph(flow, figures)
    placed = layout(graph, DRAWN)
    labels, labels_width = _labels(placed)
    width = max(placed.width, labels_width, MIN_WIDTH)
    legend, top = _legend(graph, escape_label(flow.escape), flow.hours.after_hours, width)
    height = placed.height + top
    left = (width - max(placed.width, labels_width)) / 2  # a narrow flow sits in the middle
    title = f"Flow '{graph.name}': {len(flow.steps)} steps"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-labelledby="title desc" '
        f'font-family="{_attr(FONT)}">',
        f'<title id="title">{_text(title)}</title>',
        f'<desc id="desc">{_text(_description(graph, flow.hours.after_hours))}</desc>',
        _markers(),
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
        *legend,
        f'<g transform="translate({left:.0f} {top:.0f})">',
        *_edges(placed),
        *(_node(box) for box in placed.boxes.values()),
        *labels,
        "</g>",
        "</svg>",
    ]
    return "\n".join(out) + "\n"


def _description(graph: FlowGraph, after_hours: str) -> str:
    hot = [n.id for n in graph.nodes if n.hot]
    worst = f" Most escapes: {', '.join(hot)}." if hot else ""
    return (
        "Each box is a step, from the start at the top. Solid arrows are the flow's own moves; "
        "dashed orange arrows are escapes to a person. When closed or when no one answers, "
        f"every handoff goes to {after_hours}.{worst}"
    )


def _markers() -> str:
    defs = [
        f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{colour}"/></marker>'
        for kind, (colour, _) in EDGE_STYLES.items()
    ]
    return "<defs>" + "".join(defs) + "</defs>"


def _edges(placed: Layout) -> list[str]:
    out = []
    order = {"after_hours": 0, "escape": 1, "greeting": 2, "goto": 2}  # people's moves on top
    for route in sorted(placed.routes, key=lambda r: order[r.kind]):
        colour, dashes = EDGE_STYLES[route.kind]
        dash = f' stroke-dasharray="{dashes}"' if dashes else ""
        width = {"after_hours": 1.1, "escape": 1.5}.get(route.kind, 1.6)
        how = "; ".join(route.labels)
        what = f"{_name(route.source)} → {route.target}" + (f": {how}" if how else "")
        out.append(
            f'<path class="edge {route.kind.replace("_", "-")}" data-from="{_attr(route.source)}" '
            f'data-to="{_attr(route.target)}" d="{_path(route)}" fill="none" stroke="{colour}" '
            f'stroke-width="{width}"{dash} marker-end="url(#arrow-{route.kind})">'
            f"<title>{_text(what)}</title></path>"
        )
    return out


def _node(box: Box) -> str:
    node = box.node
    family = "hot" if node.hot else node.family
    fill, border, ink = NODE_COLOURS[family]
    radius = box.h / 2 if node.family in ("start", "end") else 8
    stroke = 2.5 if node.family == "person" or node.hot else 1.2
    classes = " ".join(["node", node.family, *(["hot"] if node.hot else [])])
    lines = node.lines
    y = box.y + (box.h - LINE * len(lines)) / 2 + NAME_SIZE - 1
    texts = []
    for i, line in enumerate(lines):
        size = NAME_SIZE if i == 0 else TEXT_SIZE
        weight = "normal" if i == 1 else "bold"  # the name, and the figures when there are any
        texts.append(
            f'<text x="{box.cx:.1f}" y="{y + i * LINE:.1f}" text-anchor="middle" '
            f'font-size="{size}" font-weight="{weight}" fill="{ink}">{_text(line)}</text>'
        )
    return (
        f'<g class="{classes}" data-step="{_attr(node.id)}"><title>{_text(_tooltip(node))}</title>'
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" '
        f'rx="{radius:.1f}" fill="{fill}" stroke="{border}" stroke-width="{stroke}"/>'
        + "".join(texts)
        + "</g>"
    )


def _tooltip(node: Node) -> str:
    if node.id == START:
        return "start: the greeting rules pick the first step"
    counts = f"; reached {node.reached}, escaped {node.escaped}" if node.counted else ""
    return f"{node.id} ({node.detail}){counts}"


def _labels(placed: Layout) -> tuple[list[str], float]:
    """Return the edge labels, each clear of boxes and other labels where it can be, and the
    width they reach."""
    taken = [(b.x - 4, b.y - 4, b.w + 8, b.h + 8) for b in placed.boxes.values()]
    out = []
    right = 0.0
    for route in placed.routes:
        lines = label_lines(route)
        if not lines:
            continue
        w = max(text_width(line, LABEL_SIZE) for line in lines) + 8
        h = LABEL_LINE * len(lines) + 4
        near = (0.7, 0.55, 0.85, 0.4) if route.kind == "greeting" else (0.5, 0.35, 0.65, 0.2, 0.8)
        x, y = _free_spot(_cubics(route), w, h, taken, near)
        taken.append((x - 2, y - 2, w + 4, h + 4))
        right = max(right, x + w + 12)
        colour = EDGE_STYLES[route.kind][0]
        spans = "".join(
            f'<tspan x="{x + w / 2:.1f}" y="{y + 2 + LABEL_LINE * (i + 1) - 3:.1f}">'
            f"{_text(line)}</tspan>"
            for i, line in enumerate(lines)
        )
        out.append(
            f'<g class="label"><rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'rx="3" fill="#ffffff" fill-opacity="0.94" stroke="{colour}" stroke-width="0.6"/>'
            f'<text text-anchor="middle" font-size="{LABEL_SIZE}" fill="{colour}">{spans}</text>'
            "</g>"
        )
    return out, right


def _free_spot(
    cubics: list[Cubic],
    w: float,
    h: float,
    taken: list[tuple[float, float, float, float]],
    near: tuple[float, ...],
) -> tuple[float, float]:
    """Return the top-left of a w×h label on the path: clear of boxes and labels if it can be,
    else where it covers least."""
    order = [0, len(cubics) - 1, *range(1, len(cubics) - 1)] if len(cubics) > 1 else [0]
    best, least = (0.0, 0.0), float("inf")
    for index in order:
        for t in near:
            px, py = _at(cubics[index], t)
            for dx in (0.0, w / 2 + 4, -w / 2 - 4):
                spot = (max(4.0, px + dx - w / 2), py - h / 2)
                covered = sum(_overlap((*spot, w, h), other) for other in taken)
                if covered < least:
                    best, least = spot, covered
                if not covered:
                    return spot
    return best


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Return the area two rectangles (x, y, w, h) share."""
    across = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    down = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(across, 0.0) * max(down, 0.0)


def _cubics(route: Route) -> list[Cubic]:
    """Return the route as cubic Bézier segments (straight ones with their ends as controls)."""
    points = route.points
    if route.same_row:
        (x0, y0), (x1, y1) = points[0], points[-1]
        dip = 30 + min(abs(x1 - x0) / 8, 20)
        return [((x0, y0), (x0, y0 + dip), (x1, y1 + dip), (x1, y1))]
    out: list[Cubic] = []
    for k, (a, b) in enumerate(pairwise(points)):
        if k in route.lanes:
            out.append((a, a, b, b))
        else:
            half = (b[1] - a[1]) / 2
            out.append((a, (a[0], a[1] + half), (b[0], b[1] - half), b))
    return out


def _path(route: Route) -> str:
    cubics = _cubics(route)
    d = [f"M{cubics[0][0][0]:.1f},{cubics[0][0][1]:.1f}"]
    for _, c1, c2, end in cubics:
        d.append(f"C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {end[0]:.1f},{end[1]:.1f}")
    return " ".join(d)


def _at(cubic: Cubic, t: float) -> Point:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = cubic
    u = 1 - t
    a, b, c, d = u**3, 3 * u * u * t, 3 * u * t * t, t**3
    return a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3


def _legend(
    graph: FlowGraph, escape: str, after_hours: str, width: float
) -> tuple[list[str], float]:
    """Return the title and the legend, in rows that fit `width`, and the height they take."""
    out = [
        f'<text x="24" y="26" font-size="16" font-weight="bold" fill="#212121">'
        f"{_text(graph.name)} flow</text>"
    ]
    items = [("prompt", "prompt"), ("say", "say"), ("branch", "branch")]
    items += [("person", "person (handoff, callback, voicemail)"), ("end", "end")]
    if any(n.hot for n in graph.nodes):
        items.append(("hot", "most escapes"))
    items += [("goto", "next step"), ("escape", f"escape: {escape}")]
    items.append(("", f"{AFTER_HOURS_LABEL}: every handoff → {after_hours}"))
    x, y = 24.0, 46.0
    for key, text in items:
        sample = 34.0 if key in EDGE_STYLES else 22.0 if key else 0.0
        if x > 24 and x + sample + text_width(text, 12) > width - 24:
            x, y = 24.0, y + 20
        if key in NODE_COLOURS:
            fill, border, _ = NODE_COLOURS[key]
            out.append(
                f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="16" height="12" rx="3" '
                f'fill="{fill}" stroke="{border}"/>'
            )
        elif key:
            colour, dashes = EDGE_STYLES[key]
            dash = f' stroke-dasharray="{dashes}"' if dashes else ""
            out.append(
                f'<path d="M{x:.1f},{y - 4:.1f} h26" stroke="{colour}" stroke-width="1.6"{dash} '
                f'marker-end="url(#arrow-{key})"/>'
            )
        out.append(
            f'<text x="{x + sample:.1f}" y="{y:.1f}" font-size="12" fill="#212121">'
            f"{_text(text)}</text>"
        )
        x += sample + text_width(text, 12) + 16
    return out, y + 18


def _name(node_id: str) -> str:
    return "start" if node_id == START else node_id


def _text(text: str) -> str:
    return escape(text, quote=False)


def _attr(text: str) -> str:
    return escape(text, quote=True)
