"""Fixtures and options shared by the whole test suite."""
from __future__ import annotations

import os

import pytest

if os.environ.get("EMBER_CUDA_DOUBLE") == "1":  # CuPy's stand-in, before Ember imports CuPy
    import cupy_double

    cupy_double.install()

from ember import backend  # noqa: E402


def pytest_configure(config) -> None:
    """One BLAS thread and one torch thread per pytest-xdist worker.

    ``make test`` runs ``-n 2`` on two cores: with every worker also starting a thread per core,
    OpenBLAS's spinning threads fight over the cores and small matrix products run ~10x slower.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    _THREAD_LIMITS.append(threadpool_limits(1))
    import torch

    torch.set_num_threads(1)


_THREAD_LIMITS: list = []  # keeps the limit in force for the whole session


def pytest_addoption(parser) -> None:
    parser.addoption("--deep", action="store_true", default=False,
                     help="run the fuzzer (tests/fuzz) with the 'deep' hypothesis profile")


@pytest.fixture
def without_sympy(monkeypatch):
    """Make ``import sympy`` fail, as on a machine without it."""
    import builtins

    real_import = builtins.__import__

    def no_sympy(name, *args, **kwargs):
        if name == "sympy" or name.startswith("sympy."):
            raise ImportError("no sympy here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sympy)


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request) -> str:
    """Each device a test runs on: the CPU always, CUDA when CuPy sees a GPU (skipped otherwise)."""
    if request.param == "cuda" and not backend.cuda_available():
        pytest.skip("CUDA needs CuPy and a GPU")
    return request.param
