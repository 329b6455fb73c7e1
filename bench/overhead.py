"""Per-op overhead: ``(a*b+c).sum().backward()`` on 10-element tensors, Ember vs torch.

Both run in the same process, 2000 iterations per timed unit, alternating (bench/common.py).
Prints microseconds per iteration for each and the ratio Ember/torch (target <= 2.0).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import compare, quick  # noqa: E402

ITERATIONS = 2000
TARGET = 2.0


def tiny(a, b, c):
    """The tiny graph: ``(a*b+c).sum()``."""
    return (a * b + c).sum()


def make_loop(lib, device: str = "cpu", compiled: bool = False):
    """One timed unit: ITERATIONS forward+backward passes of the tiny graph in ``lib`` (the
    graph ``lib.compile``d when ``compiled``)."""
    a = lib.randn(10, requires_grad=True, device=device)
    b = lib.randn(10, requires_grad=True, device=device)
    c = lib.randn(10, requires_grad=True, device=device)
    f = lib.compile(tiny) if compiled else tiny

    def run() -> None:
        for _ in range(ITERATIONS):
            f(a, b, c).backward()

    return run


def main() -> float:
    import torch

    import ember

    torch.set_num_threads(1)  # tiny tensors: threads only add overhead
    repeat = 3 if quick() else 7
    e, t = compare("(a*b+c).sum().backward() x2000", make_loop(ember), make_loop(torch), repeat=repeat,
                   target=TARGET, per=ITERATIONS)
    ratio = e / t
    print(f"ember {e * 1e6:.1f} us/iter   torch {t * 1e6:.1f} us/iter   ratio ember/torch {ratio:.2f}")
    return ratio


if __name__ == "__main__":
    main()
