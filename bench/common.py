"""Shared timing for Ember-vs-torch benchmarks: same process, alternating runs, medians.

Every benchmark calls ``compare(name, ember_fn, torch_fn)``: each function runs one measured
unit of work (e.g. N training steps); after ``warmup`` untimed calls of each, the two are timed
alternately ``repeat`` times so that machine noise hits both alike, and the medians are
compared. torch gets as many threads as the machine has cores (``use_all_cores``), which is
what NumPy's BLAS uses too, so neither side is handicapped.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Callable

ROW = "{name:<34} ember {ember:>10.3f} ms   torch {torch:>10.3f} ms   ratio {ratio:>5.2f}{verdict}"


def use_all_cores() -> int:
    """Give torch one thread per core (as NumPy's BLAS has) and say so; returns the count."""
    import torch

    cores = os.cpu_count() or 1
    torch.set_num_threads(cores)
    print(f"# torch.set_num_threads({cores}) (all cores of this machine); NumPy uses its BLAS defaults")
    return cores


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(name: str, ember_fn: Callable[[], object], torch_fn: Callable[[], object], repeat: int = 7,
            warmup: int = 2, target: float | None = None, per: int = 1) -> tuple[float, float]:
    """Time both functions alternately; print one row; return (ember, torch) median seconds per unit.

    Args:
        name: the row's label.
        ember_fn, torch_fn: one unit of work each (called ``warmup + repeat`` times).
        repeat: timed calls of each (the median is reported).
        warmup: untimed calls of each first.
        target: the ratio to meet; the row says whether it does.
        per: divide the times by this (e.g. steps per call, to report time per step).
    """
    for _ in range(warmup):
        ember_fn()
        torch_fn()
    ember_times, torch_times = [], []
    for _ in range(repeat):
        ember_times.append(_time(ember_fn))
        torch_times.append(_time(torch_fn))
    e = statistics.median(ember_times) / per
    t = statistics.median(torch_times) / per
    ratio = e / t
    verdict = "" if target is None else ("   ok" if ratio <= target else f"   MISSES target {target}")
    print(ROW.format(name=name, ember=e * 1e3, torch=t * 1e3, ratio=ratio, verdict=verdict))
    sys.stdout.flush()
    return e, t


def quick() -> bool:
    """True when run with ``--quick`` (CI: prove the benchmark runs, with few repeats)."""
    return "--quick" in sys.argv
