"""Sections, the context they run in, and showing the real source of the code they run."""
from __future__ import annotations

import ast
import inspect
import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from .output import MarkdownWriter, TerminalWriter

Writer = TerminalWriter | MarkdownWriter


@dataclass(frozen=True)
class Section:
    """One lecture topic: its command-line name, its title, and the function that computes it."""

    name: str
    title: str
    function: Callable[["Context"], dict]


@dataclass
class Context:
    """What a section needs: where to write PNGs, whether to keep training short, a writer."""

    out: Path
    fast: bool
    writer: Writer
    files: list[Path] = field(default_factory=list)
    checks: list[tuple[bool, str]] = field(default_factory=list)

    def run(self, cell: Callable, *args, **kwargs):
        """Show ``cell``'s code (and the inputs it is given), then run it: what is printed is what runs."""
        self.writer.code(_given(cell, args, kwargs) + cell_source(cell))
        return cell(*args, **kwargs)

    def check(self, ok: bool, claim: str) -> None:
        """State a claim about the results, marked ✓ or ✗ by whether the numbers bear it out."""
        self.checks.append((bool(ok), claim))
        self.writer.check(bool(ok), claim)

    def png(self, name: str) -> Path:
        """The path for a PNG named ``name`` in the output folder (made if missing), recorded."""
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / f"{name}.png"
        self.files.append(path)
        return path


def cell_source(fn: Callable) -> str:
    """The working lines of ``fn``'s body: its source minus the def line, docstring and final return."""
    source = textwrap.dedent(inspect.getsource(fn))
    body = ast.parse(source).body[0].body
    start = body[0].lineno
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        start = body[0].end_lineno + 1
        body = body[1:]
    if isinstance(body[-1], ast.Return):
        body = body[:-1]
    lines = source.splitlines()[start - 1: body[-1].end_lineno]
    return textwrap.dedent("\n".join(lines)).strip("\n")


def _given(cell: Callable, args: tuple, kwargs: dict) -> str:
    """A comment line naming the inputs a cell receives, or nothing when it takes none."""
    bound = inspect.signature(cell).bind(*args, **kwargs).arguments
    if not bound:
        return ""
    return "# given " + ", ".join(f"{k} = {_brief(v)}" for k, v in bound.items()) + "\n"


def _brief(value) -> str:
    """A short description of an input: numbers as written, functions by name, the rest by kind."""
    if isinstance(value, (int, float, str)):
        return repr(value)
    if isinstance(value, os.PathLike):
        return repr(os.fspath(value))
    if isinstance(value, (dict, tuple, list)) and len(value) <= 4:
        return repr(value)
    if callable(value) and hasattr(value, "__name__"):
        return value.__name__
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"<{'×'.join(str(d) for d in shape) or '0-d'} {type(value).__name__}>"
    if hasattr(value, "__len__") and not callable(value):
        return f"<{type(value).__name__} of {len(value)}>"
    return f"<{type(value).__name__}>"


def run_sections(sections: Sequence[Section], numbers: dict[str, int], ctx: Context) -> dict:
    """Run ``sections`` in order under one context; each result is its dict plus the files it wrote."""
    results = {}
    for section in sections:
        ctx.writer.section(numbers[section.name], section.title)
        files, checks = len(ctx.files), len(ctx.checks)
        result = section.function(ctx)
        result["files"] = ctx.files[files:]
        result["checks"] = ctx.checks[checks:]
        results[section.name] = result
    return results
