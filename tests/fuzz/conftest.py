"""Hypothesis profiles for the fuzzer: ``ci`` (the default, deterministic, no deadline) and
``deep`` (many more random examples), chosen with ``pytest --deep`` or HYPOTHESIS_PROFILE=deep."""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

# ``ci``: every test's max_examples is set at the test (they sum to >= 2000), derandomized so
# CI is reproducible; no deadline, since a 2-core CI box is slow and shared.
settings.register_profile("ci", deadline=None, derandomize=True, database=None,
                          suppress_health_check=_QUIET, print_blob=True)
# ``deep``: random, ten times the examples, failures saved to .hypothesis/ and replayed.
settings.register_profile("deep", deadline=None, suppress_health_check=_QUIET, print_blob=True)


def pytest_configure(config) -> None:
    deep = config.getoption("--deep", default=False)
    settings.load_profile("deep" if deep else os.environ.get("HYPOTHESIS_PROFILE", "ci"))

