"""Fixtures and options shared by the whole test suite."""
from __future__ import annotations

import pytest

from ember import backend


def pytest_addoption(parser) -> None:
    parser.addoption("--deep", action="store_true", default=False,
                     help="run the fuzzer (tests/fuzz) with the 'deep' hypothesis profile")


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request) -> str:
    """Each device a test runs on: the CPU always, CUDA when CuPy sees a GPU (skipped otherwise)."""
    if request.param == "cuda" and not backend.cuda_available():
        pytest.skip("CUDA needs CuPy and a GPU")
    return request.param
