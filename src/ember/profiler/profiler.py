"""``ember.profiler.profile``: time each op's forward and backward, as torch.profiler does.

While a profile records, one observer sits in the op dispatch (``ops.registry.OBSERVER``) and
one in the backward engine (``autograd.engine.OBSERVER``); both are ``None`` otherwise, so an
unprofiled program pays one ``is None`` test per op and nothing more. Each op call, backward
rule and ``record_function`` range becomes a :class:`FunctionEvent`; ranges nest by time, so an
event's self time is its time less its children's.
"""
from __future__ import annotations

import contextlib
import enum
import json
import os
import socket
import threading
import time
from typing import Callable, Iterable

from .. import backend
from ..autograd import engine
from ..ops import registry
from .events import EventList, FunctionEvent


class ProfilerActivity(enum.Enum):
    """What to record: host time (CPU) and, for ops on a GPU, device time (CUDA)."""

    CPU = 0
    CUDA = 1


class ProfilerAction(enum.Enum):
    """What a profile does at a step, as a ``schedule`` answers it."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0
             ) -> Callable[[int], ProfilerAction]:
    """Skip ``skip_first`` steps, then cycle: ``wait`` idle, ``warmup``, ``active`` recorded steps.

    The last active step of each cycle is ``RECORD_AND_SAVE`` (``on_trace_ready`` runs after it);
    ``repeat`` cycles in all (0: forever).
    """
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise ValueError("schedule(): wait, warmup, repeat and skip_first must be >= 0 and active > 0")
    cycle = wait + warmup + active

    def action(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if repeat and step >= repeat * cycle:
            return ProfilerAction.NONE
        phase = step % cycle
        if phase < wait:
            return ProfilerAction.NONE
        if phase < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD_AND_SAVE if phase == cycle - 1 else ProfilerAction.RECORD

    return action


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None, use_gzip: bool = False
                              ) -> Callable[["profile"], None]:
    """An ``on_trace_ready`` that writes each trace as ``<worker>.<ms>.pt.trace.json`` in ``dir_name``.

    TensorBoard's profiler plugin and Perfetto open these files.
    """
    def handler(prof: "profile") -> None:
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker}.{time.time_ns() // 1_000_000}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, name))

    return handler


_ACTIVE: "_Recorder | None" = None  # the recording profile, which record_function ranges join


class _Recorder:
    """Collects events from the two observers and from ``record_function`` ranges."""

    def __init__(self, record_shapes: bool, profile_memory: bool, device: bool) -> None:
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.device = device
        self.events: list[FunctionEvent] = []
        self.stacks: dict[int, list[FunctionEvent]] = {}
        self.device_marks: list = []  # (event, start CUDA event, end CUDA event)

    # -------------------------------------------------------------- ranges
    def open(self, name: str, shapes: list, backward: bool = False) -> FunctionEvent:
        thread = threading.get_ident()
        stack = self.stacks.setdefault(thread, [])
        event = FunctionEvent(len(self.events), name, time.perf_counter_ns() / 1000, thread=thread,
                              input_shapes=shapes, is_backward=backward,
                              parent=stack[-1] if stack else None)
        self.events.append(event)
        stack.append(event)
        return event

    def close(self, event: FunctionEvent, nbytes: int = 0) -> None:
        event.end_us = time.perf_counter_ns() / 1000
        self.stacks[event.thread].pop()
        if self.profile_memory:
            event.cpu_memory_usage += nbytes
        parent = event.parent
        if parent is not None:
            parent.children_us += event.cpu_time_total
            parent.children_memory += event.cpu_memory_usage
            parent.cpu_memory_usage += event.cpu_memory_usage

    def _shapes(self, tensors) -> list:
        if not self.record_shapes:
            return []
        return [list(t.shape) if hasattr(t, "shape") else [] for t in tensors]

    # -------------------------------------------------------------- observers
    def on_op(self, prim, inputs: tuple, kw: dict):
        """Time one primitive call (``registry.apply`` with the observer lifted for the call)."""
        event = self.open(f"ember::{prim.name}", self._shapes(inputs))
        marks = self._device_start(inputs)
        out = None
        registry.OBSERVER = None
        try:
            out = registry.apply(prim, *inputs, **kw)
        finally:
            registry.OBSERVER = self.on_op
            self._device_end(event, marks)
            self.close(event, _nbytes((out,)))
        return out

    def on_backward(self, node, g):
        """Time one backward rule; the ops it runs nest under it."""
        event = self.open(node.name(), self._shapes((g,)), backward=True)
        grads = ()
        try:
            grads = node.fn.backward(node, g)
        finally:
            self.close(event, _nbytes(grads))
        return grads

    # -------------------------------------------------------------- device time
    def _device_start(self, inputs):
        if not self.device or not inputs or inputs[0].device.type != "cuda":
            return None
        cp = backend.cuda_module()
        start, end = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        return start, end

    def _device_end(self, event: FunctionEvent, marks) -> None:
        if marks is None:
            return
        start, end = marks
        end.record()
        event.device_type = "cuda"
        self.device_marks.append((event, start, end))

    def finish(self) -> None:
        """Read the device timings (waits for the GPU once, at the end)."""
        if not self.device_marks:
            return
        cp = backend.cuda_module()
        for event, start, end in self.device_marks:
            end.synchronize()
            event.device_time = cp.cuda.get_elapsed_time(start, end) * 1000
        self.device_marks = []


def _nbytes(tensors: Iterable) -> int:
    total = 0
    for t in tensors:
        data = getattr(t, "_data", None)
        if data is not None:
            total += data.nbytes
    return total


class record_function(contextlib.ContextDecorator):
    """Mark a range (``with record_function("loss"):`` or as a decorator) in the running profile."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self.args = args
        self._event = None
        self._recorder = None

    def __enter__(self) -> "record_function":
        recorder = _ACTIVE
        if recorder is not None:
            self._recorder = recorder
            self._event = recorder.open(self.name, [])
        return self

    def __exit__(self, *exc) -> bool:
        if self._event is not None:
            self._recorder.close(self._event)
            self._event = None
            self._recorder = None
        return False


class profile:
    """Record op times (and shapes, memory) while active, as ``torch.profiler.profile``.

    Args:
        activities: ``ProfilerActivity.CPU`` and/or ``.CUDA`` (device time of ops on a GPU).
        schedule: a step -> ``ProfilerAction`` function (see ``schedule``); none records throughout.
        on_trace_ready: called with the profile after each ``RECORD_AND_SAVE`` step (or at exit).
        record_shapes: keep each op's input shapes.
        profile_memory: count the bytes each op allocates for its outputs (and a backward rule
            for its gradients); frees are not tracked.
        with_stack, with_flops, with_modules: accepted for torch code; not recorded.
    """

    def __init__(self, *, activities: Iterable[ProfilerActivity] | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable[["profile"], None] | None = None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False, with_flops: bool = False,
                 with_modules: bool = False, **unused) -> None:
        self.activities = set(activities) if activities is not None else {ProfilerActivity.CPU}
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.step_num = 0
        self._recorder: _Recorder | None = None
        self._step_event = None
        self._events = EventList()
        self._action = ProfilerAction.NONE

    def __enter__(self) -> "profile":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -------------------------------------------------------------- control
    def start(self) -> None:
        self.step_num = 0
        self._action = self._scheduled(0)
        if self._action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE):
            self._start_trace()

    def stop(self) -> None:
        if self._recorder is not None:
            self._stop_trace()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)

    def step(self) -> None:
        """Mark the end of a training step; the schedule decides what the next one records."""
        previous = self._action
        self.step_num += 1
        self._action = self._scheduled(self.step_num)
        recording = self._action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
        if self._recorder is not None and (previous is ProfilerAction.RECORD_AND_SAVE or not recording):
            self._stop_trace()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
        if recording:
            if self._recorder is None:
                self._start_trace()
            else:
                self._open_step()

    def _scheduled(self, step: int) -> ProfilerAction:
        return self.schedule(step) if self.schedule is not None else ProfilerAction.RECORD

    def _start_trace(self) -> None:
        global _ACTIVE
        if _ACTIVE is not None:
            raise RuntimeError("ember.profiler: another profile is already recording")
        self._recorder = _Recorder(self.record_shapes, self.profile_memory,
                                   ProfilerActivity.CUDA in self.activities)
        _ACTIVE = self._recorder
        registry.OBSERVER = self._recorder.on_op
        engine.OBSERVER = self._recorder.on_backward
        self._open_step()

    def _open_step(self) -> None:
        if self.schedule is None:
            return
        if self._step_event is not None:
            self._recorder.close(self._step_event)
        self._step_event = self._recorder.open(f"ProfilerStep#{self.step_num}", [])

    def _stop_trace(self) -> None:
        global _ACTIVE
        registry.OBSERVER = None
        engine.OBSERVER = None
        _ACTIVE = None
        recorder, self._recorder = self._recorder, None
        if self._step_event is not None:
            recorder.close(self._step_event)
            self._step_event = None
        for stack in recorder.stacks.values():  # ranges left open (an exception): end them now
            while stack:
                recorder.close(stack[-1])
        recorder.finish()
        self._events = EventList(recorder.events, profile_memory=self.profile_memory,
                                 record_shapes=self.record_shapes, with_device=recorder.device)

    # -------------------------------------------------------------- results
    def events(self) -> EventList:
        """Every recorded event of the last trace, in start order."""
        return self._events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0) -> EventList:
        """The events added up per op name (and input shapes): what ``table()`` prints."""
        return self._events.key_averages(group_by_input_shape)

    def export_chrome_trace(self, path: str) -> None:
        """Write the trace as Chrome trace-event JSON (Perfetto, chrome://tracing, TensorBoard)."""
        pid = os.getpid()
        trace = [{"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": "ember"}}]
        for e in self._events:
            args = {"External id": e.id}
            if e.input_shapes:
                args["Input Dims"] = e.input_shapes
            if self.profile_memory:
                args["Allocated bytes"] = e.cpu_memory_usage
            if e.device_type == "cuda":
                args["Device time us"] = e.device_time
            cat = "cpu_op" if e.name.startswith("ember::") or e.is_backward else "user_annotation"
            trace.append({"ph": "X", "cat": cat, "name": e.name, "pid": pid, "tid": e.thread % 2 ** 31,
                          "ts": e.start_us, "dur": e.cpu_time_total, "args": args})
        doc = {"schemaVersion": 1, "displayTimeUnit": "ms", "traceEvents": trace}
        data = json.dumps(doc).encode()
        if path.endswith(".gz"):
            import gzip

            data = gzip.compress(data)
        with open(path, "wb") as f:
            f.write(data)
