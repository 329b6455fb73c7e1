"""``Compare``: many measurements as one table per label, laid out as torch.utils.benchmark's.

Rows are sub-labels (or statements) grouped by thread count, columns are descriptions; each
cell is a median in the one unit chosen for the whole table, right-aligned to the digits its
column needs.
"""
from __future__ import annotations

import math

from .common import Measurement, select_unit, trim_sigfig, unit_to_english

_END = "\033[0m\033[0m"
_BEST, _GOOD, _BAD, _VERY_BAD = "\033[92m\033[1m", "\033[34m\033[1m", "\033[2m\033[91m", "\033[31m\033[1m"


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
        return "\n".join(_Table(ms, self._trim, self._highlight, self._colorize).render()
                         for ms in groups.values())


class _Table:
    """One label's measurements laid out in rows (thread count, env, name) and columns."""

    def __init__(self, results: list[Measurement], trim: bool, highlight: bool, colorize: str | None):
        self.results = results
        self.trim = trim
        self.colorize = colorize
        self.highlight = highlight and any(m.has_warnings for m in results)
        self.unit, self.scale = select_unit(min(m.median for m in results))
        self.columns = list(dict.fromkeys(m.task_spec.description for m in results))
        rows = list(dict.fromkeys((m.task_spec.num_threads, m.env, m.as_row_name) for m in results))
        self.rows = sorted(rows, key=lambda r: r[:2])  # group by threads and env, keeping the order
        self.cell = {(self._row(m), m.task_spec.description): m for m in results}

    @staticmethod
    def _row(m: Measurement) -> tuple:
        return m.task_spec.num_threads, m.env, m.as_row_name

    def _template(self, column) -> str:
        """Right-aligned to the column's widest integer part; decimals from significant figures."""
        ms = [self.cell[(r, column)] for r in self.rows if (r, column) in self.cell]
        digits = [math.ceil(math.log10(m.median / self.scale)) for m in ms]
        decimals = min(max(m.significant_figures - d, 0) for m, d in zip(ms, digits)) if self.trim else 1
        width = max(digits) + decimals + (1 if decimals else 0)
        spread = 7 if self.highlight and any(m.has_warnings for m in ms) else 0  # room for " (! 12%)"
        return f"{{:>{width}.{decimals}f}}{{:>{spread}}}"

    def _number(self, m: Measurement | None, template: str) -> str:
        if m is None:
            return " " * len(template.format(1.0, ""))
        value = m.median / self.scale
        if self.trim:
            value = trim_sigfig(value, m.significant_figures)
        spread = f" (! {100 * m.iqr / m.median:.0f}%)" if self.highlight and m.has_warnings else ""
        return template.format(value, spread)

    def render(self) -> str:
        templates = [self._template(c) for c in self.columns]
        envs = {m.env for m in self.results}
        env_width = max(len(e) for e in envs) if len(envs) > 1 else 0
        grid = [[""] + [c or "" for c in self.columns]]
        previous_env = None
        for threads, env, name in self.rows:
            shown = f"({env})" if len(envs) > 1 and env != previous_env else ""
            previous_env = env
            cells = [self._number(self.cell.get(((threads, env, name), c)), t)
                     for c, t in zip(self.columns, templates)]
            grid.append(["  " + shown.ljust(env_width + 4) + name] + cells)
        widths = [max(len(row[i]) for row in grid) for i in range(len(grid[0]))]
        header = "  |  ".join(text.center(w) for text, w in zip(grid[0], widths))
        lines = [header]
        previous_threads = None
        for row_key, row in zip(self.rows, grid[1:]):
            if row_key[0] != previous_threads:
                previous_threads = row_key[0]
                lines.append(f"{row_key[0]} threads: ".ljust(len(header), "-"))
            texts = [row[0].ljust(widths[0])]
            for column, text, w in zip(self.columns, row[1:], widths[1:]):
                texts.append(self._paint(text.center(w), row_key, column))
            lines.append("  |  ".join(texts))
        title = f" {self.results[0].task_spec.label or ''} ".center(len(header) - 2, "-")
        out = [f"[{title}]", *lines, "", f"Times are in {unit_to_english(self.unit)}s ({self.unit}).", ""]
        if self.highlight:
            out[-1] = "(! XX%) Measurement has high variance, where XX is the IQR / median * 100.\n"
        return "\n".join(out)

    def _paint(self, text: str, row_key: tuple, column) -> str:
        m = self.cell.get((row_key, column))
        if self.colorize is None or m is None:
            return text
        if self.colorize == "row":
            peers = [self.cell.get((row_key, c)) for c in self.columns]
        else:
            peers = [self.cell.get((r, column)) for r in self.rows if r[0] == row_key[0]]
        best = min(p.median for p in peers if p is not None)
        if m.median <= best * 1.01 or m.median <= best + 100e-9:
            return _BEST + text + _END
        if m.median <= best * 1.1:
            return _GOOD + text + _END
        if m.median >= best * 5:
            return _VERY_BAD + text + _END
        if m.median >= best * 2:
            return _BAD + text + _END
        return text
