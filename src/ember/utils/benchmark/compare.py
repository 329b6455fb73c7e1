"""``Compare``: many measurements as one table per label, as torch.utils.benchmark prints them.

Rows are sub-labels (or statements) grouped by thread count, columns are descriptions; each
cell is the median in one unit chosen for the whole table.
"""
from __future__ import annotations

import math

from .common import Measurement, select_unit, trim_sigfig, unit_to_english

_COLORS = {"best": "\033[92m\033[1m", "good": "\033[34m\033[1m", "bad": "\033[2m\033[91m",
           "very_bad": "\033[31m\033[1m"}
_END = "\033[0m\033[0m"


class Compare:
    """Tabulate measurements: ``print(Compare(results))`` or ``Compare(results).print()``."""

    def __init__(self, results: list[Measurement]) -> None:
        self._results: list[Measurement] = []
        self.extend_results(results)
        self._trim = False
        self._colorize: str | None = None
        self._highlight = False

    def extend_results(self, results) -> None:
        for r in results:
            if not isinstance(r, Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(r)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self) -> None:
        self._trim = True

    def colorize(self, rowwise: bool = False) -> None:
        self._colorize = "row" if rowwise else "column"

    def highlight_warnings(self) -> None:
        self._highlight = True

    def print(self) -> None:
        print(str(self))

    def __str__(self) -> str:
        groups: dict = {}
        for m in Measurement.merge(self._results):
            groups.setdefault(m.task_spec.label, []).append(m)
        return "\n".join(self._table(label, ms) for label, ms in groups.items())

    def _table(self, label, results: list[Measurement]) -> str:
        unit, scale = select_unit(min(m.median for m in results))
        columns = list(dict.fromkeys(m.task_spec.description for m in results))
        rows = list(dict.fromkeys((m.task_spec.num_threads, m.as_row_name) for m in results))
        rows.sort(key=lambda r: r[0])  # group by thread count, keeping the statements' order
        cell = {((m.task_spec.num_threads, m.as_row_name), m.task_spec.description): m for m in results}
        digits = self._decimals(results, scale)
        grid = [[""] + [c or "" for c in columns]]
        for r in rows:
            grid.append(["  " + r[1]] + [self._number(cell.get((r, c)), scale, digits) for c in columns])
        widths = [max(len(row[i]) for row in grid) for i in range(len(grid[0]))]
        lines = ["  |  ".join(text.center(w) for text, w in zip(grid[0], widths))]
        overall = len(lines[0])
        previous_threads = None
        for r, row in zip(rows, grid[1:]):
            if r[0] != previous_threads:
                previous_threads = r[0]
                lines.append(f"{r[0]} threads: ".ljust(overall, "-"))
            texts = [row[0].ljust(widths[0])]
            for c, text, w in zip(columns, row[1:], widths[1:]):
                texts.append(self._paint(text.center(w), cell.get((r, c)), rows, columns, cell, r, c))
            lines.append("  |  ".join(texts))
        title = f" {label or ''} ".center(overall - 2, "-")
        out = [f"[{title}]", *lines, f"Times are in {unit_to_english(unit)}s ({unit}).", ""]
        if self._highlight and any(m.has_warnings for m in results):
            out.insert(-1, "(! XX%) Measurement has high variance, where XX is the IQR / median * 100.")
        return "\n".join(out)

    def _decimals(self, results: list[Measurement], scale: float) -> int:
        if not self._trim:
            return 1
        return min(max(m.significant_figures - math.ceil(math.log10(m.median / scale)), 0) for m in results)

    def _number(self, m: Measurement | None, scale: float, decimals: int) -> str:
        if m is None:
            return ""
        value = m.median / scale
        if self._trim:
            value = trim_sigfig(value, m.significant_figures)
        text = f"{value:.{decimals}f}"
        if self._highlight and m.has_warnings:
            text += f" (! {100 * m.iqr / m.median:.0f}%)"
        return text

    def _paint(self, text: str, m, rows, columns, cell, r, c) -> str:
        if self._colorize is None or m is None:
            return text
        peers = ([cell.get((r, other)) for other in columns] if self._colorize == "row"
                 else [cell.get((other, c)) for other in rows if other[0] == r[0]])
        best = min(p.median for p in peers if p is not None)
        value = m.median
        if value <= best * 1.01 or value <= best + 100e-9:
            return _COLORS["best"] + text + _END
        if value <= best * 1.1:
            return _COLORS["good"] + text + _END
        if value >= best * 5:
            return _COLORS["very_bad"] + text + _END
        if value >= best * 2:
            return _COLORS["bad"] + text + _END
        return text
