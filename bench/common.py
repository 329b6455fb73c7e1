"""Shared timing for Ember-vs-torch benchmarks: same process, alternating runs, medians.

Every benchmark calls ``compare(name, ember_fn, torch_fn)``: each function runs one measured
unit of work (e.g. N training steps); after ``warmup`` untimed calls of each, the two are timed
alternately ``repeat`` times so that machine noise hits both alike, and the medians are
compared. torch and NumPy's BLAS get one thread each (``configure_threads``; ``--threads N``
sets both to N), so neither side is handicapped.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Callable

ROW = ("{name:<34} ember {ember:>10.3f} ms   torch {torch:>10.3f} ms   ratio {ratio:>5.2f}"
       "   (of minima {min_ratio:.2f}){verdict}")


_LIMITS = []  # keeps threadpoolctl's limit alive for the whole run


def configure_threads() -> int:
    """Give torch and NumPy's BLAS one thread each (or ``--threads N``) and say so.

    One thread is the default because two thread pools in one process on a 2-core machine spin
    against each other and make both libraries' timings meaningless (see README, Performance).
    """
    cores = os.cpu_count() or 1
    threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 1
    print(f"# {cores} cores: {limit_threads(threads)}; load average {os.getloadavg()[0]:.1f}")
    return threads


def limit_threads(threads: int) -> str:
    """Give torch and NumPy's BLAS ``threads`` threads each; returns a line saying so."""
    import torch

    torch.set_num_threads(threads)
    blas = "NumPy's BLAS at its default (one thread per core)"
    if threads != (os.cpu_count() or 1):
        from threadpoolctl import threadpool_limits

        _LIMITS.append(threadpool_limits(threads, user_api="blas"))
        blas = f"NumPy's BLAS limited to {threads} (threadpoolctl)"
    return f"torch.set_num_threads({threads}); {blas}"


_SYNCS: list[Callable[[], None]] = []  # waits for queued GPU work, when timing on a GPU


def wait_for_devices(*syncs: Callable[[], None]) -> None:
    """Make every timed call end only when its GPU work has (``ember.cuda.synchronize``...)."""
    _SYNCS[:] = syncs


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    for sync in _SYNCS:
        sync()
    return time.perf_counter() - start


def compare(name: str, ember_fn: Callable[[], object], torch_fn: Callable[[], object], repeat: int = 7,
            warmup: int = 2, target: float | None = None, per: int = 1) -> tuple[float, float]:
    """Time both functions alternately; print one row; return (ember, torch) median seconds per unit.

    The row also gives the ratio of the fastest runs, which shifts less when the machine is busy.

    Args:
        name: the row's label.
        ember_fn, torch_fn: one unit of work each (called ``warmup + repeat`` times).
        repeat: timed calls of each (the median is reported).
        warmup: untimed calls of each first.
        target: the ratio to meet; the row says whether it does.
        per: divide the times by this (e.g. steps per call, to report time per step).
    """
    times = measure({"ember": ember_fn, "torch": torch_fn}, repeat, warmup)
    e = statistics.median(times["ember"]) / per
    t = statistics.median(times["torch"]) / per
    ratio = e / t
    verdict = "" if target is None else ("   ok" if ratio <= target else f"   MISSES target {target}")
    print(ROW.format(name=name, ember=e * 1e3, torch=t * 1e3, ratio=ratio,
                     min_ratio=min(times["ember"]) / min(times["torch"]), verdict=verdict))
    sys.stdout.flush()
    return e, t


def training_run(model, optimizer, loss_fn, x, y, steps: int) -> Callable[[], float]:
    """One unit of work: ``steps`` optimiser steps on the same batch; returns the last loss."""

    def run() -> float:
        for _ in range(steps):
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        return loss.item()

    return run


def check_and_compare(name: str, ember_fn: Callable[[], float], torch_fn: Callable[[], float],
                      target: float, per: int, tol: float, warmup: int = 2) -> tuple[float, float]:
    """Check both runs reach the same loss (relative ``tol``), then ``compare`` them."""
    e_loss, t_loss = ember_fn(), torch_fn()
    assert abs(e_loss - t_loss) < tol * max(1.0, abs(t_loss)), (e_loss, t_loss)
    repeat, warmup = (1, 0) if quick() else (7, warmup)
    return compare(name, ember_fn, torch_fn, repeat=repeat, warmup=warmup, target=target, per=per)


def measure(fns: dict[str, Callable[[], object]], repeat: int = 7,
            warmup: int = 2) -> dict[str, list[float]]:
    """Seconds of each timed call of each function, run round-robin after ``warmup`` untimed calls."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            times[name].append(_time(fn))
    return times


def quick() -> bool:
    """True when run with ``--quick`` (CI: prove the benchmark runs, with few repeats)."""
    return "--quick" in sys.argv
