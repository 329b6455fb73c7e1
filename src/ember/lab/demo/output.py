"""Where the walkthrough's words, code, values and tables go: a terminal, or a Markdown page.

Sections describe what they show (a heading, prose, code, values, a table, a slip in the
notes, a check that passed, a picture); a writer decides how it looks. ``TerminalWriter``
aligns columns and colours only a real terminal; ``MarkdownWriter`` builds the docs pages.
"""
from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path
from typing import IO, Sequence

from ... import backend
from ..._printing import format_array
from ...tensor import Tensor

_WIDTH = 100
_STYLES = {"title": "1;36", "code": "36", "slip": "1;33", "check": "32", "fail": "1;31", "dim": "2",
           "bold": "1"}


def torch_number(value) -> str:
    """One number as torch prints a tensor element: ``14.``, ``0.1235``, ``1.0000e-05``."""
    if isinstance(value, Tensor):
        value = value.item()
    return format_array(backend.numpy.asarray(value), "")


def show(value) -> str:
    """A value as torch shows it: tensors by their repr, numbers as tensor elements."""
    if isinstance(value, Tensor):
        return repr(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return torch_number(value)
    return str(value)


def wants_colour(stream: IO[str]) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR", ""):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _is_number(value) -> bool:
    """A Python number or a one-element tensor (bools are not numbers here)."""
    if isinstance(value, Tensor):
        return value.numel() == 1
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _column(values: Sequence) -> list[str]:
    """A column of numbers formatted together, as torch formats the elements of one tensor."""
    if not all(_is_number(v) for v in values):
        return [show(v) for v in values]
    numbers = [v.item() if isinstance(v, Tensor) else v for v in values]
    body = format_array(backend.numpy.asarray(numbers), "")
    return [cell.strip() for cell in body.strip("[]").split(",")]


def _cells(rows: Sequence[Sequence]) -> tuple[list[list[str]], list[bool]]:
    """Table cells as text, and which columns hold numbers (those are right-aligned)."""
    columns = list(zip(*rows))
    text = [_column(col) for col in columns]
    numeric = [all(_is_number(v) for v in col) for col in columns]
    return [list(row) for row in zip(*text)], numeric


def _labelled(label: str, text: str) -> list[str]:
    """``label = value`` with a multi-line value's later lines lined up under its first."""
    lead = f"{label} = "
    lines = text.splitlines() or [""]
    return [lead + lines[0]] + [" " * len(lead) + line for line in lines[1:]]


class TerminalWriter:
    """Writes a section for a person at a terminal: aligned, wrapped, coloured if it is a TTY."""

    def __init__(self, stream: IO[str] | None = None, colour: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.colour = wants_colour(self.stream) if colour is None else colour

    def _paint(self, text: str, style: str) -> str:
        if not self.colour:
            return text
        return f"\033[{_STYLES[style]}m{text}\033[0m"

    def _emit(self, lines: Sequence[str]) -> None:
        """Lines of one element, then the blank line that separates it from the next."""
        for line in lines:
            print(line, file=self.stream)
        print(file=self.stream)

    def section(self, number: int, title: str) -> None:
        """The heading that opens section ``number``."""
        self._emit([self._paint(f"━━ {number}. {title} ".ljust(_WIDTH, "━"), "title")])

    def say(self, text: str) -> None:
        """A paragraph of explanation, wrapped."""
        self._emit(textwrap.wrap(text, _WIDTH, initial_indent="  ", subsequent_indent="  ",
                                 break_long_words=False, break_on_hyphens=False))

    def code(self, source: str) -> None:
        """The Ember code about to run, exactly as it is written."""
        gutter = self._paint("  │", "dim")
        self._emit([gutter + (" " + self._paint(line, "code") if line else "")
                    for line in source.splitlines()])

    def values(self, pairs: Sequence[tuple[str, object]]) -> None:
        """What the code gave, ``name = value``, values printed as torch prints them."""
        self._emit(["  " + line for label, value in pairs for line in _labelled(label, show(value))])

    def table(self, headers: Sequence[str], rows: Sequence[Sequence]) -> None:
        """Rows under headers, columns aligned; numbers right-aligned."""
        text, numeric = _cells(rows)
        widths = [max(len(h), *(len(r[i]) for r in text)) for i, h in enumerate(headers)]

        def fmt(cells: Sequence[str]) -> str:
            parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)]
            return "  " + "  ".join(parts).rstrip()

        rule = "  " + "  ".join("─" * w for w in widths)
        self._emit([self._paint(fmt(headers), "bold"), rule] + [fmt(row) for row in text])

    def block(self, shown: object) -> None:
        """Something that lays itself out (ember.explain's tables, a verdict), printed as it prints."""
        self._emit(["  " + line for line in str(shown).rstrip("\n").splitlines()])

    def slip(self, text: str) -> None:
        """A step the lecture notes get wrong, pointed out rather than repeated."""
        lead = "  ⚠ Slip in the notes: "
        lines = textwrap.wrap(text, _WIDTH, initial_indent=" " * len(lead), subsequent_indent="    ")
        self._emit([self._paint(lead, "slip") + lines[0][len(lead):]] + lines[1:])

    def check(self, ok: bool, text: str) -> None:
        """A claim about the result, marked ✓ when the numbers bear it out and ✗ when not."""
        mark, style = ("✓", "check") if ok else ("✗", "fail")
        lines = textwrap.wrap(f"{mark} {text}", _WIDTH, initial_indent="  ", subsequent_indent="    ")
        self._emit([self._paint(line, style) for line in lines])

    def picture(self, path: Path, caption: str) -> None:
        """A PNG the section wrote."""
        self._emit([self._paint(f"  wrote {path}  ({caption})", "dim")])


class MarkdownWriter:
    """Builds a Markdown page from a section: code blocks, output blocks, tables and images."""

    def __init__(self, image_dir: Path, page_dir: Path) -> None:
        self.lines: list[str] = []
        self._image_dir = image_dir
        self._page_dir = page_dir

    def text(self) -> str:
        """The page so far."""
        return "\n".join(self.lines).rstrip() + "\n"

    def _block(self, lang: str, body: str) -> None:
        self.lines += [f"```{lang}", body.rstrip("\n"), "```", ""]

    def section(self, number: int, title: str) -> None:
        self.lines += [f"# {number}. {title}", ""]

    def say(self, text: str) -> None:
        self.lines += [text, ""]

    def code(self, source: str) -> None:
        self._block("python", source)

    def values(self, pairs: Sequence[tuple[str, object]]) -> None:
        self._block("text", "\n".join(line for k, v in pairs for line in _labelled(k, show(v))))

    def table(self, headers: Sequence[str], rows: Sequence[Sequence]) -> None:
        text, numeric = _cells(rows)
        self.lines.append("| " + " | ".join(headers) + " |")
        self.lines.append("|" + "|".join("---:" if n else ":---" for n in numeric) + "|")
        self.lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in text]
        self.lines.append("")

    def block(self, shown: object) -> None:
        markdown = getattr(shown, "markdown", None)
        if markdown is None:
            self._block("text", str(shown))
        else:
            self.lines += [markdown().rstrip("\n"), ""]

    def slip(self, text: str) -> None:
        self.lines += [f"> ⚠ **Slip in the notes:** {text}", ""]

    def check(self, ok: bool, text: str) -> None:
        self.lines += [f"{'✓' if ok else '✗'} {text}", ""]

    def picture(self, path: Path, caption: str) -> None:
        rel = os.path.relpath(self._image_dir / path.name, self._page_dir)
        self.lines += [f"![{caption}]({Path(rel).as_posix()})", ""]
