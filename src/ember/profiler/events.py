"""What the profiler recorded: one event per op call or range, their averages, the table.

Times are in microseconds and memory in bytes, as torch's ``FunctionEvent`` and
``FunctionEventAvg``; ``table`` prints torch's layout so output reads the same.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FunctionEvent:
    """One recorded call: a forward op, a backward rule, or a ``record_function`` range."""

    id: int
    name: str
    start_us: float
    end_us: float = 0.0
    thread: int = 0
    input_shapes: list = field(default_factory=list)
    cpu_memory_usage: int = 0
    device_time: float = 0.0
    device_type: str = "cpu"
    is_backward: bool = False
    children_us: float = 0.0
    children_memory: int = 0
    parent: "FunctionEvent | None" = None

    @property
    def key(self) -> str:
        return self.name

    @property
    def cpu_time_total(self) -> float:
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - self.children_us

    @property
    def self_cpu_memory_usage(self) -> int:
        return self.cpu_memory_usage - self.children_memory

    @property
    def device_time_total(self) -> float:
        return self.device_time


@dataclass
class FunctionEventAvg:
    """The events of one key (name, and input shapes when grouped by them) added up."""

    key: str
    input_shapes: str = ""
    count: int = 0
    cpu_time_total: float = 0.0
    self_cpu_time_total: float = 0.0
    cpu_memory_usage: int = 0
    self_cpu_memory_usage: int = 0
    device_time_total: float = 0.0

    @property
    def cpu_time(self) -> float:
        """Average time per call."""
        return self.cpu_time_total / self.count if self.count else 0.0

    def add(self, e: FunctionEvent) -> None:
        self.count += 1
        self.cpu_time_total += e.cpu_time_total
        self.self_cpu_time_total += e.self_cpu_time_total
        self.cpu_memory_usage += e.cpu_memory_usage
        self.self_cpu_memory_usage += e.self_cpu_memory_usage
        self.device_time_total += e.device_time


_SORT_KEYS = {"cpu_time_total", "self_cpu_time_total", "cpu_time", "count", "cpu_memory_usage",
              "self_cpu_memory_usage", "device_time_total", "cuda_time_total"}


class EventList(list):
    """A list of events (or of averages) that prints as torch's profiler table."""

    def __init__(self, items=(), *, profile_memory: bool = False, record_shapes: bool = False,
                 with_device: bool = False) -> None:
        super().__init__(items)
        self.profile_memory = profile_memory
        self.record_shapes = record_shapes
        self.with_device = with_device

    def _like(self, items) -> "EventList":
        return EventList(items, profile_memory=self.profile_memory, record_shapes=self.record_shapes,
                         with_device=self.with_device)

    def key_averages(self, group_by_input_shape: bool = False) -> "EventList":
        """One ``FunctionEventAvg`` per op name (and input shapes, if asked), in first-seen order."""
        groups: dict = {}
        for e in self:
            shapes = str(e.input_shapes) if group_by_input_shape else ""
            avg = groups.get((e.key, shapes))
            if avg is None:
                avg = groups[(e.key, shapes)] = FunctionEventAvg(e.key, shapes)
            avg.add(e)
        out = self._like(groups.values())
        out.record_shapes = group_by_input_shape
        return out

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_name_column_width: int = 55,
              max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False) -> str:
        """Torch's profiler table: one row per entry, sorted by ``sort_by`` (descending)."""
        rows = list(self)
        if top_level_events_only:
            rows = [e for e in rows if getattr(e, "parent", None) is None]
        if sort_by is not None:
            if sort_by not in _SORT_KEYS:
                raise AttributeError(f"table(): sort_by must be one of {sorted(_SORT_KEYS)}, got {sort_by!r}")
            attr = "device_time_total" if sort_by == "cuda_time_total" else sort_by
            rows.sort(key=lambda e: getattr(e, attr), reverse=True)
        if row_limit is not None and row_limit > 0:
            rows = rows[:row_limit]
        return _format_table(self, rows, max_name_column_width, max_shapes_column_width, header)


def format_time(us: float) -> str:
    """Microseconds as torch prints them: ``1.234s``, ``5.678ms`` or ``9.000us``."""
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def format_memory(nbytes: int) -> str:
    """Bytes as torch prints them: ``1.50 MB``, ``4.00 KB``, ``12 B``."""
    for unit, size in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


def _format_table(events: EventList, rows: list, name_width: int, shapes_width: int,
                  header: str | None) -> str:
    """Torch's layout: the name column as wide as the longest name (+4, at most ``name_width``),
    every other column 12 wide, the shapes column as wide as the longest shapes (at most
    ``shapes_width``); widths come from every entry, not only the rows shown."""
    total_self = sum(e.self_cpu_time_total for e in events) or 1.0
    width = min(max([len(e.key) for e in events] + [0]) + 4, name_width)
    columns = [("Name", width)] + [(c, 12) for c in ("Self CPU %", "Self CPU", "CPU total %", "CPU total",
                                                     "CPU time avg")]
    if events.with_device:
        columns += [(c, 12) for c in ("Self CUDA", "CUDA total")]
    if events.profile_memory:
        columns += [(c, 12) for c in ("CPU Mem", "Self CPU Mem")]
    columns.append(("# of Calls", 12))
    shapes = events.record_shapes and any(getattr(e, "input_shapes", "") for e in events)
    if shapes:
        columns.append(("Input Shapes", min(max(len(str(e.input_shapes)) for e in events) + 4, shapes_width)))
    line = "  ".join("-" * w for _, w in columns) + "  "
    out = [header] if header else []
    out += [line, "  ".join(f"{n:>{w}}" for n, w in columns) + "  ", line]
    for e in rows:
        name = e.key if len(e.key) < name_width - 3 else e.key[:name_width - 3] + "..."
        cells = [name, f"{100 * e.self_cpu_time_total / total_self:.2f}%",
                 format_time(e.self_cpu_time_total), f"{100 * e.cpu_time_total / total_self:.2f}%",
                 format_time(e.cpu_time_total), format_time(e.cpu_time_total / max(_count(e), 1))]
        if events.with_device:
            cells += [format_time(e.device_time_total), format_time(e.device_time_total)]
        if events.profile_memory:
            cells += [format_memory(e.cpu_memory_usage), format_memory(e.self_cpu_memory_usage)]
        cells.append(str(_count(e)))
        if shapes:
            text = str(e.input_shapes)
            cells.append(text if len(text) < shapes_width - 3 else text[:shapes_width - 3] + "...")
        out.append("  ".join(f"{c:>{w}}" for c, (_, w) in zip(cells, columns)) + "  ")
    out.append(line)
    out.append(f"Self CPU time total: {format_time(sum(e.self_cpu_time_total for e in events))}")
    return "\n".join(out) + "\n"


def _count(e) -> int:
    return getattr(e, "count", 1)
