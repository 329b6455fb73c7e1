"""The walkthrough's pictures, drawn with matplotlib's object API (Agg, no window, no pyplot state)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

_CHANNELS = ("red", "green", "blue")


def _figure(width: float, height: float):
    """A fresh figure that renders off-screen with Agg."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path)
    return path


def image_rows(path: Path, rows: Sequence[tuple[str, object]]) -> Path:
    """One row per (label, H×W×3 array in [0, 1]): the colour picture, then each channel alone."""
    fig = _figure(8, 2.2 * len(rows))
    axes = fig.subplots(len(rows), 4, squeeze=False)
    for (label, image), ax_row in zip(rows, axes):
        h, w, _ = image.shape
        ax_row[0].imshow(image, interpolation="nearest")
        ax_row[0].set_title(f"{label}: {h}×{w}", fontsize=9)
        for c, name in enumerate(_CHANNELS):
            alone = image * [1.0 if k == c else 0.0 for k in range(3)]   # the other channels at 0
            ax_row[c + 1].imshow(alone, interpolation="nearest")
            ax_row[c + 1].set_title(f"{name} channel", fontsize=9)
        for ax in ax_row:
            ax.set_xticks([])
            ax.set_yticks([])
    return _save(fig, path)


def labelled_images(path: Path, images, titles: Sequence[str]) -> Path:
    """Small grey images in a row, each with a title (a prediction)."""
    fig = _figure(1.3 * len(titles), 1.6)
    axes = fig.subplots(1, len(titles), squeeze=False)[0]
    for ax, image, title in zip(axes, images, titles):
        ax.imshow(image, cmap="gray_r", interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    return _save(fig, path)
