"""The walkthrough in Jupyter: each section shown with rich display instead of terminal text.

``show_section("partials")`` runs a section as ``ember demo`` does, through a writer that turns
each thing the section shows into a notebook output: prose and code as Markdown, explanations
and other rich objects through their own HTML (an explanation brings its graph), PNGs as images.
``tools/gen_notebook.py`` writes ``docs/lecture.ipynb``: one such cell per section.
"""
from __future__ import annotations

import os
from pathlib import Path

from .cli import run
from .output import MarkdownWriter

FAST_ENV = "EMBER_DEMO_FAST"  # "1": short training runs, as ``ember demo --fast`` (the notebook's CI run)


class NotebookWriter(MarkdownWriter):
    """Shows each element as soon as the section produces it, with IPython's rich display."""

    def __init__(self, image_dir: Path) -> None:
        super().__init__(image_dir=image_dir, page_dir=image_dir)
        # Each Markdown element is built by MarkdownWriter's own method, then shown at once.
        for name in ("section", "say", "code", "values", "table", "slip", "check"):
            setattr(self, name, self._shown(getattr(super(), name)))

    def _shown(self, method):
        """``method`` writing Markdown lines, then showing them as one Markdown output."""

        def show(*args, **kwargs) -> None:
            method(*args, **kwargs)
            self._flush()

        return show

    def _flush(self) -> None:
        from IPython.display import Markdown, display

        text = self.text()
        self.lines = []
        display(Markdown(text))

    def block(self, shown: object) -> None:
        """An object that draws itself (an explanation with its graph, a verdict): its own rich display."""
        from IPython.display import display

        display(shown)

    def picture(self, path: Path, caption: str) -> None:
        from IPython.display import Image, display

        display(Image(filename=str(path)))
        self.lines = [f"*{caption}* (`{path}`)", ""]
        self._flush()


def show_section(*names: str, out: str = "demo-out", fast: bool | None = None) -> None:
    """Run the named sections in the notebook, showing what they compute; PNGs go to ``out``."""
    if fast is None:
        fast = os.environ.get(FAST_ENV) == "1"
    run(list(names), Path(out), fast, writer=NotebookWriter(Path(out)))
