"""``Timer``: time a statement as torch.utils.benchmark does (blocks sized to hide timer overhead)."""
from __future__ import annotations

import statistics
import time
import timeit
from typing import Callable

from ... import backend, cuda
from .common import Measurement, TaskSpec


def timer() -> float:
    """``time.perf_counter``, after waiting for the GPU when one is in use (its work is async)."""
    if backend.cuda_available():
        cuda.synchronize()
    return time.perf_counter()


class Timer:
    """Time ``stmt`` (run after ``setup``) in ``globals``.

    Args:
        stmt: the code to time. setup: run once before each block of runs.
        label, sub_label, description, env: how reports (``Compare``) name and group the result.
        num_threads: recorded with the result (Ember uses NumPy's thread pool as configured).
    """

    def __init__(self, stmt: str = "pass", setup: str = "pass", global_setup: str = "",
                 timer: Callable[[], float] = timer, globals: dict | None = None, label: str | None = None,
                 sub_label: str | None = None, description: str | None = None, env: str | None = None,
                 num_threads: int = 1, language: str = "python") -> None:
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        if language not in ("python", "py"):
            raise ValueError(f"Timer: only Python statements can be timed, not {language!r}")
        self._globals = dict(globals or {})
        self._timer = timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=self._globals)
        self._task_spec = TaskSpec(stmt=stmt, setup=setup, global_setup=global_setup, label=label,
                                   sub_label=sub_label, description=description, env=env,
                                   num_threads=num_threads)

    def _timeit(self, number: int) -> float:
        return max(self._timer.timeit(number), 1e-9)  # a zero would break ratios downstream

    def timeit(self, number: int = 1000000) -> Measurement:
        """One block of ``number`` runs (after one warm-up run)."""
        self._timeit(1)
        return Measurement(number, [self._timeit(number)], self._task_spec)

    def repeat(self, repeat: int = -1, number: int = -1):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback: Callable[[int, float], None] | None = None) -> Measurement:
        """timeit's ``autorange``: grow the run count until a block takes 0.2 s."""
        number, time_taken = self._timer.autorange(callback)
        return Measurement(number, [time_taken], self._task_spec)

    def _block_size(self, min_run_time: float) -> int:
        """Runs per block: enough that the timer's own overhead is under 0.01 %."""
        overhead = statistics.median(self._timeit(0) for _ in range(5))
        number = 1
        while True:
            taken = self._timeit(number)
            if (overhead / taken <= 1e-4 and taken >= min_run_time / 1000) or taken > min_run_time:
                return number
            if number * 10 > 2 ** 31 - 1:
                return number
            number *= 10

    def _measure(self, number: int, min_run_time: float, max_run_time: float | None,
                 stop: Callable[[list], bool], callback) -> Measurement:
        times: list = []
        total = 0.0
        while total < min_run_time or not stop(times):
            taken = self._timeit(number)
            times.append(taken)
            total += taken
            if callback is not None:
                callback(number, taken)
            if max_run_time is not None and total > max_run_time:
                break
        return Measurement(number, times, self._task_spec)

    def blocked_autorange(self, callback: Callable[[int, float], None] | None = None,
                          min_run_time: float = 0.2) -> Measurement:
        """Blocks of runs until ``min_run_time`` seconds have been measured."""
        number = self._block_size(min_run_time)
        return self._measure(number, min_run_time, None, lambda times: True, callback)

    def adaptive_autorange(self, threshold: float = 0.1, *, min_run_time: float = 0.01,
                           max_run_time: float = 10.0,
                           callback: Callable[[int, float], None] | None = None) -> Measurement:
        """Blocks of runs until the spread (IQR / median) is under ``threshold`` or time is up."""
        number = self._block_size(0.05)

        def steady(times: list) -> bool:
            return len(times) > 3 and Measurement(number, times, self._task_spec).meets_confidence(threshold)

        return self._measure(number, min_run_time, max_run_time, steady, callback)
