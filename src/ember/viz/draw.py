"""Draw a ``Picture`` with matplotlib (Agg, off-screen) on the pure-Python layered layout."""
from __future__ import annotations

import io

from .layout import FONT_SIZE, layout
from .style import COLOURS, FONT

MARGIN = 8.0
DPI = {"png": 150, "svg": 72}
LABEL_AT = 0.6  # where along its last leg an arrow's label sits (nearer the head, apart from siblings)


def draw(picture, format: str) -> bytes:
    """The picture as PNG or SVG bytes; boxes and arrows carry the SVG ids the dot renderer gives them."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    placed, routes = layout([(b.id, b.lines) for b in picture.boxes],
                            [(a.tail, a.head) for a in picture.arrows])
    left = min((p.x - p.width / 2 for p in placed.values()), default=0.0) - MARGIN
    right = max((p.x + p.width / 2 for p in placed.values()), default=0.0) + MARGIN
    bottom = max((p.y + p.height / 2 for p in placed.values()), default=0.0) + MARGIN
    top = -MARGIN
    fig = Figure(figsize=((right - left) / 72, (bottom - top) / 72))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)  # y grows downwards, as in the layout
    ax.axis("off")
    for a, route in zip(picture.arrows, routes):
        _arrow(ax, a, route)
    for b in picture.boxes:
        p = placed[b.id]
        ax.add_patch(FancyBboxPatch((p.x - p.width / 2, p.y - p.height / 2), p.width, p.height,
                                    boxstyle="round,pad=0,rounding_size=4", facecolor=COLOURS[b.kind],
                                    edgecolor="#333333", linewidth=0.8, gid=f"n_{b.id}"))
        ax.text(p.x, p.y, "\n".join(b.lines), ha="center", va="center", family=FONT,
                fontsize=FONT_SIZE, linespacing=1.2)
    out = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "ember"}):
        fig.savefig(out, format=format, dpi=DPI[format], metadata=_metadata(format))
    return out.getvalue()


def _arrow(ax, arrow, route: list) -> None:
    """An arrow along its route (straight between rows), with its label on the last leg."""
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path as MplPath

    codes = [MplPath.MOVETO] + [MplPath.LINETO] * (len(route) - 1)
    ax.add_patch(FancyArrowPatch(path=MplPath(route, codes), arrowstyle="-|>", mutation_scale=8,
                                 linewidth=0.8, linestyle="--" if arrow.dashed else "-", color="#333333",
                                 gid=arrow.id, shrinkA=0, shrinkB=0))
    if arrow.label:
        (x0, y0), (x1, y1) = route[-2], route[-1]
        ax.text(x0 + LABEL_AT * (x1 - x0), y0 + LABEL_AT * (y1 - y0), arrow.label,
                ha="center", va="center", family=FONT,
                fontsize=FONT_SIZE - 1, color="#204080",
                bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"})


def _metadata(format: str) -> dict:
    """No creation date, so the same picture gives the same bytes."""
    return {"Date": None} if format == "svg" else {"Software": None}
