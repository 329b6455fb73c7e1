"""How pictures look: the fill colour of each kind of box and the font, shared by both renderers."""
from __future__ import annotations

# Fill colours by kind of box (torchviz's palette: leaves blue, the output green, saved tensors orange).
COLOURS = {
    "op": "#e0e0e0",
    "leaf": "#add8e6",
    "parameter": "#add8e6",
    "output": "#caff70",
    "saved": "#ffa500",
    "constant": "#ffffff",
}
FONT = "DejaVu Sans Mono"  # monospaced, and shipped with matplotlib: the layout can measure its text
