"""The lecture walkthrough: ``ember demo`` computes Lecture 2 with Ember, section by section.

Each section shows the Ember code it runs (its real source) and what it gives, printed as
torch prints it, and writes its pictures as PNGs. ``tools/gen_docs.py`` turns the same
sections into the pages under ``docs/``.
"""
from __future__ import annotations

from .cli import add_parser, run, section_list

__all__ = ["add_parser", "run", "section_list"]
