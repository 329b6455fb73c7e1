"""Thread counts of the CPU kernels: NumPy's BLAS pool, set through threadpoolctl.

``set_num_threads`` changes the threads BLAS uses for matrix products, as torch's changes its
intra-op pool; threadpoolctl (``pip install threadpoolctl``) is needed for that.
"""
from __future__ import annotations

import os

_STATE = {"limiter": None, "interop": None}


def _controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        raise ImportError("ember.set_num_threads/get_num_threads need threadpoolctl to control "
                          "NumPy's BLAS threads: pip install threadpoolctl") from None
    return ThreadpoolController()


def get_num_threads() -> int:
    """The threads BLAS kernels use now (the CPU count when no BLAS pool is found)."""
    pools = [p for p in _controller().info() if p.get("user_api") == "blas"]
    if not pools:
        return os.cpu_count() or 1
    return max(int(p["num_threads"]) for p in pools)


def set_num_threads(num: int) -> None:
    """Use ``num`` threads in the BLAS kernels behind matrix products from now on."""
    if isinstance(num, bool) or not isinstance(num, int) or num <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _STATE["limiter"] = _controller().limit(limits=num, user_api="blas")


def get_num_interop_threads() -> int:
    """Threads for running independent ops in parallel (Ember runs ops one after another)."""
    n = _STATE["interop"]
    return n if n is not None else (os.cpu_count() or 1)


def set_num_interop_threads(num: int) -> None:
    """Record the inter-op thread count (torch allows setting it once, before any parallel work)."""
    if isinstance(num, bool) or not isinstance(num, int) or num <= 0:
        raise RuntimeError("Expected positive number of threads")
    if _STATE["interop"] is not None:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work has "
                           "started or set_num_interop_threads called")
    _STATE["interop"] = num
