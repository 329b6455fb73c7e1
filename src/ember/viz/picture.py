"""A graph picture: boxes and arrows, drawn by Graphviz's ``dot`` when it is installed, else by matplotlib.

``Picture`` holds only what to draw (each box's lines and kind, each arrow's ends and label);
``ember.viz.graph`` and ``Explanation.graph`` fill one in. Both renderers give every box the
SVG id ``n_<box id>`` and every arrow ``e_<from>_<to>``, so a page can highlight them.
"""
from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .draw import draw
from .style import COLOURS, FONT

FORMATS = ("png", "svg")


@dataclass
class Box:
    """One node of the picture: its lines of text (the first is its title) and its kind (a colour)."""

    id: str
    lines: list
    kind: str = "op"


@dataclass
class Arrow:
    """An arrow from one box to another, solid for data flow, dashed for a saved tensor."""

    tail: str
    head: str
    label: str = ""
    dashed: bool = False
    id: str = ""


@dataclass
class Picture:
    """Boxes and arrows with ``save(path)`` and notebook display; ``engine``: "auto", "dot", "matplotlib"."""

    boxes: list = field(default_factory=list)
    arrows: list = field(default_factory=list)
    engine: str = "auto"

    def add(self, box_id: str, lines: list, kind: str = "op") -> str:
        """Add a box and return its id."""
        self.boxes.append(Box(box_id, [str(line) for line in lines], kind))
        return box_id

    def connect(self, tail: str, head: str, label: str = "", dashed: bool = False) -> None:
        """Add an arrow from ``tail`` to ``head`` (a second one between the same boxes gets its own id)."""
        base = f"e_{tail}_{head}"
        taken = sum(1 for a in self.arrows if a.tail == tail and a.head == head)
        self.arrows.append(Arrow(tail, head, label, dashed, base if not taken else f"{base}_{taken + 1}"))

    def renderer(self) -> str:
        """The engine that draws: "dot" where Graphviz and its Python package are there, else "matplotlib"."""
        if self.engine != "auto":
            return self.engine
        if shutil.which("dot") and importlib.util.find_spec("graphviz") is not None:
            return "dot"
        return "matplotlib"

    def render(self, format: str) -> bytes:
        """The picture as ``format`` ("png" or "svg") bytes."""
        if format not in FORMATS:
            raise ValueError(f"Picture.render: format must be one of {', '.join(FORMATS)}, got {format!r}")
        if self.renderer() == "dot":
            return self.dot().pipe(format=format)
        return draw(self, format)

    def save(self, path) -> Path:
        """Write the picture to ``path``; its suffix (.png or .svg) picks the format."""
        path = Path(path)
        format = path.suffix.lstrip(".").lower()
        if format not in FORMATS:
            raise ValueError(f"Picture.save: {path.name!r} must end in .png or .svg")
        path.write_bytes(self.render(format))
        return path

    def svg(self) -> str:
        """The picture as SVG text."""
        return self.render("svg").decode("utf-8")

    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_png_(self) -> bytes:
        return self.render("png")

    def dot(self):
        """The picture as a ``graphviz.Digraph`` (needs the ``graphviz`` package)."""
        import graphviz

        g = graphviz.Digraph(graph_attr={"rankdir": "TB", "nodesep": "0.25", "ranksep": "0.35"},
                             node_attr={"shape": "box", "style": "filled,rounded", "fontname": FONT,
                                        "fontsize": "10", "margin": "0.12,0.06"},
                             edge_attr={"fontname": FONT, "fontsize": "9", "arrowsize": "0.7"})
        for box in self.boxes:
            g.node(box.id, "\n".join(box.lines), id=f"n_{box.id}", fillcolor=COLOURS[box.kind])
        for a in self.arrows:
            g.edge(a.tail, a.head, label=a.label, id=a.id,
                   style="dashed" if a.dashed else "solid")
        return g
