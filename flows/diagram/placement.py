"""Order and space the rows of a layered drawing: few crossings, edges as straight as room allows.

Rows are lists of keys (steps, or placeholders where a long edge crosses a row); `above` and
`below` map each key to its neighbours in the adjacent rows. Everything is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import pairwise

Links = Mapping[str, list[str]]
SWEEPS = 12


def order_rows(rows: list[list[str]], above: Links, below: Links) -> list[list[str]]:
    """Return the rows reordered by barycentre sweeps, keeping the order with fewest crossings."""
    rows = [list(row) for row in rows]
    best, fewest = [list(row) for row in rows], crossings(rows, below)
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        for i in range(1, len(rows)) if down else range(len(rows) - 2, -1, -1):
            ref = {key: p for p, key in enumerate(rows[i - 1 if down else i + 1])}
            here = {key: p for p, key in enumerate(rows[i])}
            links = above if down else below
            rows[i] = sorted(rows[i], key=lambda k: _mean(links, k, ref, here[k]))
        count = crossings(rows, below)
        if count < fewest:
            best, fewest = [list(row) for row in rows], count
    return best


def crossings(rows: list[list[str]], below: Links) -> int:
    """Return how many pairs of edges cross between adjacent rows."""
    total = 0
    for upper, lower in pairwise(rows):
        at = {key: p for p, key in enumerate(lower)}
        ends = [(p, at[k]) for p, key in enumerate(upper) for k in below.get(key, []) if k in at]
        total += sum(1 for a in ends for b in ends if a[0] < b[0] and a[1] > b[1])
    return total


def place_rows(
    rows: list[list[str]],
    spacing: Callable[[str, str], float],
    above: Links,
    below: Links,
    beside: Links,
) -> dict[str, float]:
    """Return each key's centre x: near its neighbours' mean, never closer than `spacing`.

    A key with no neighbour in the row it looks at stays near its neighbours `beside` it.
    """
    x: dict[str, float] = {}
    for row in rows:
        x.update(zip(row, _fit([0.0] * len(row), row, spacing), strict=True))
    for sweep in range(2 * SWEEPS + 1):  # ends on a downward sweep: rows follow the greeting
        down = sweep % 2 == 0
        links = above if down else below
        for row in rows if down else reversed(rows):
            wanted = [_mean(links, key, x, _mean(beside, key, x, x[key])) for key in row]
            x.update(zip(row, _fit(wanted, row, spacing), strict=True))
    return x


def _mean(links: Links, key: str, at: Mapping[str, float], default: float) -> float:
    near = [at[k] for k in links.get(key, []) if k in at]
    return sum(near) / len(near) if near else default


def _fit(wanted: list[float], row: list[str], spacing: Callable[[str, str], float]) -> list[float]:
    """Return the positions closest to `wanted` (least squares) that keep the row's spacing."""
    offsets = [0.0]
    for a, b in pairwise(row):
        offsets.append(offsets[-1] + spacing(a, b))
    blocks: list[tuple[float, int]] = []  # pool adjacent violators: (sum, count)
    for want, offset in zip(wanted, offsets, strict=True):
        blocks.append((want - offset, 1))
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1] = (blocks[-1][0] + total, blocks[-1][1] + count)
    fitted = [total / count for total, count in blocks for _ in range(count)]
    return [f + o for f, o in zip(fitted, offsets, strict=True)]
