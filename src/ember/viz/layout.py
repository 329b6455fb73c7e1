"""A layered layout in pure Python, for drawing a picture where Graphviz is not installed.

Each box's layer is its longest path to an output (outputs at the bottom, inputs above what
they feed); boxes within a layer are ordered and placed by the mean position of the boxes
they connect to (the barycentre heuristic), sweeping down and up a few times, then pushed
apart so none overlap. Sizes are in points, for monospaced text at ``FONT_SIZE``.
"""
from __future__ import annotations

from dataclasses import dataclass

FONT_SIZE = 9.0
CHAR_WIDTH = 0.6 * FONT_SIZE       # DejaVu Sans Mono's advance is 0.6 em
LINE_HEIGHT = 1.35 * FONT_SIZE
PAD = 5.0
GAP_X = 14.0
GAP_Y = 34.0
SLOT_WIDTH = 4.0  # the room an arrow takes where it passes through a row
SWEEPS = 4


@dataclass
class Placed:
    """Where a box goes: its centre and size, in points (y grows downwards)."""

    x: float
    y: float
    width: float
    height: float


def box_size(lines: list) -> tuple:
    """Width and height of a box holding ``lines`` of monospaced text."""
    chars = max((len(line) for line in lines), default=1)
    return chars * CHAR_WIDTH + 2 * PAD, len(lines) * LINE_HEIGHT + 2 * PAD


def layers(ids: list, arrows: list) -> list:
    """The boxes in rows, top to bottom: a box's row is its longest path down to a box with no arrows out."""
    heads = {i: [] for i in ids}
    pending = {i: 0 for i in ids}  # arrows out not yet ranked
    for tail, head in arrows:
        heads[tail].append(head)
        pending[tail] += 1
    tails = {i: [] for i in ids}
    for tail, head in arrows:
        tails[head].append(tail)
    rank = {}
    ready = [i for i in ids if pending[i] == 0]
    while ready:
        box = ready.pop()
        rank[box] = max((rank[h] + 1 for h in heads[box]), default=0)
        for t in tails[box]:
            pending[t] -= 1
            if pending[t] == 0:
                ready.append(t)
    if len(rank) != len(ids):
        raise ValueError("layout: the picture has a cycle")
    depth = max(rank.values(), default=0)
    rows = [[] for _ in range(depth + 1)]
    for i in ids:  # in the caller's order, a reasonable first ordering within each row
        rows[depth - rank[i]].append(i)
    return rows


def layout(boxes: list, arrows: list) -> tuple:
    """Place ``boxes`` (id, lines) joined by ``arrows`` (tail, head).

    Returns:
        Box id -> ``Placed``, and each arrow's route: the points it passes through, from the
        bottom of its tail to the top of its head (an arrow that spans rows bends through a
        slot of its own in every row it crosses, so it never runs through a box).
    """
    sizes = {i: box_size(lines) for i, lines in boxes}
    rows = layers(list(sizes), arrows)
    row_of = {i: r for r, row in enumerate(rows) for i in row}
    links = []   # (tail, head) between adjacent rows, through dummy slots
    chains = []  # per arrow: the ids it passes through, tail first
    for k, (tail, head) in enumerate(arrows):
        chain = [tail]
        for r in range(row_of[tail] + 1, row_of[head]):
            slot = ("slot", k, r)
            sizes[slot] = (SLOT_WIDTH, 0.0)
            rows[r].append(slot)
            chain.append(slot)
        chain.append(head)
        links += list(zip(chain, chain[1:]))
        chains.append(chain)
    x = _order(rows, links, sizes)
    placed = {}
    y = 0.0
    for row in rows:
        height = max(sizes[i][1] for i in row)
        for i in row:
            size = (SLOT_WIDTH, height) if isinstance(i, tuple) else sizes[i]
            placed[i] = Placed(x[i], y + height / 2, *size)
        y += height + GAP_Y
    routes = [[_bottom(placed[c[0]])] + [p for s in c[1:-1] for p in (_top(placed[s]), _bottom(placed[s]))]
              + [_top(placed[c[-1]])] for c in chains]
    return {i: p for i, p in placed.items() if not isinstance(i, tuple)}, routes


def _order(rows: list, links: list, sizes: dict) -> dict:
    """The x of every box and slot after the barycentre sweeps (rows are reordered in place)."""
    x = {}
    for row in rows:
        _place(row, {i: 0.0 for i in row}, sizes, x)
    above = {i: [] for row in rows for i in row}
    below = {i: [] for row in rows for i in row}
    for tail, head in links:
        above[head].append(tail)
        below[tail].append(head)
    for sweep in range(SWEEPS):
        order = rows[1:] if sweep % 2 == 0 else rows[-2::-1]
        neighbours = above if sweep % 2 == 0 else below
        for row in order:
            wanted = {i: _mean([x[n] for n in neighbours[i]], x[i]) for i in row}
            row.sort(key=lambda i: wanted[i])
            _place(row, wanted, sizes, x)
    return x


def _bottom(p: Placed) -> tuple:
    return p.x, p.y + p.height / 2


def _top(p: Placed) -> tuple:
    return p.x, p.y - p.height / 2


def _mean(values: list, default: float) -> float:
    return sum(values) / len(values) if values else default


def _place(row: list, wanted: dict, sizes: dict, x: dict) -> None:
    """Put each box of ``row`` (in order) as near its wanted x as it can go without overlapping."""
    right = None
    for i in row:
        half = sizes[i][0] / 2
        xi = wanted[i] if right is None else max(wanted[i], right + GAP_X + half)
        x[i] = xi
        right = xi + half
    shift = _mean([wanted[i] - x[i] for i in row], 0.0)
    for i in row:
        x[i] += shift


LABEL_SPOTS = (0.6, 0.4, 0.5, 0.25, 0.7, 0.3, 0.15, 0.2, 0.1)  # where along a leg a label may sit


def place_labels(routes: list, labels: list, placed: dict) -> list:
    """A spot for each arrow's label (None for no label): on its last leg, nearer the head, unless
    that covers a label already placed or a box; then further along, then on its earlier legs."""
    boxes = [_rect(p.x, p.y, p.width, p.height) for p in placed.values()]
    taken = []
    spots = []
    for route, label in zip(routes, labels):
        if not label:
            spots.append(None)
            continue
        width, height = len(label) * CHAR_WIDTH, LINE_HEIGHT
        legs = list(zip(route, route[1:]))[::-1]
        candidates = [(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
                      for a, b in legs for t in LABEL_SPOTS]
        rects = [_rect(x, y, width, height) for x, y in candidates]
        free = [k for k, r in enumerate(rects) if not any(_overlap(r, o) for o in taken + boxes)]
        k = free[0] if free else 0
        taken.append(rects[k])
        spots.append(candidates[k])
    return spots


def _rect(x: float, y: float, width: float, height: float) -> tuple:
    return x - width / 2, y - height / 2, x + width / 2, y + height / 2


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
