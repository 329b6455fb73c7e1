"""Seeing the computation: graph pictures (``graph``), model summaries (``summary``) and notebook display.

Importing this package needs NumPy only; Graphviz, matplotlib and the rest are imported by the
functions that draw.
"""
from __future__ import annotations

from .graph import graph
from .picture import Picture
from .summary import ModelSummary, summary
from .notebook import install as _install

_install()

__all__ = ["graph", "Picture", "summary", "ModelSummary"]
