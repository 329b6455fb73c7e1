"""Draw a ``Picture`` with matplotlib (Agg, off-screen) on the pure-Python layered layout."""
from __future__ import annotations

import io

from .layout import FONT_SIZE, layout, place_labels
from .style import COLOURS, FONT

MARGIN = 8.0
DPI = {"png": 150, "svg": 72}
MAX_PIXELS = 6e6  # a big graph's PNG gets fewer dots per inch rather than tens of megapixels


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
    spots = place_labels(routes, [a.label for a in picture.arrows], placed)
    for a, route, spot in zip(picture.arrows, routes, spots):
        _arrow(ax, a, route, spot)
    for b in picture.boxes:
        p = placed[b.id]
        ax.add_patch(FancyBboxPatch((p.x - p.width / 2, p.y - p.height / 2), p.width, p.height,
                                    boxstyle="round,pad=0,rounding_size=4", facecolor=COLOURS[b.kind],
                                    edgecolor="#333333", linewidth=0.8, gid=f"n_{b.id}"))
        ax.text(p.x, p.y, "\n".join(b.lines), ha="center", va="center", family=FONT,
                fontsize=FONT_SIZE, linespacing=1.2)
    out = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "ember"}):
        fig.savefig(out, format=format, dpi=_dpi(format, fig), metadata=_metadata(format))
    return out.getvalue()


def _arrow(ax, arrow, route: list, spot) -> None:
    """An arrow along its route (straight between rows), with its label at ``spot``."""
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path as MplPath

    codes = [MplPath.MOVETO] + [MplPath.LINETO] * (len(route) - 1)
    ax.add_patch(FancyArrowPatch(path=MplPath(route, codes), arrowstyle="-|>", mutation_scale=8,
                                 linewidth=0.8, linestyle="--" if arrow.dashed else "-", color="#333333",
                                 gid=arrow.id, shrinkA=0, shrinkB=0))
    if spot is not None:
        ax.text(*spot, arrow.label, ha="center", va="center", family=FONT, fontsize=FONT_SIZE - 1,
                color="#204080",
                bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"})


def _dpi(format: str, fig) -> float:
    width, height = fig.get_size_inches()
    return min(DPI[format], (MAX_PIXELS / (width * height)) ** 0.5)


def _metadata(format: str) -> dict:
    """No creation date, so the same picture gives the same bytes."""
    return {"Date": None} if format == "svg" else {"Software": None}
