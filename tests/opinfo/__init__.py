"""The op samples: how each public op is checked against torch, keyed by the op's name.

``SAMPLES`` maps an entry's name to its ``OpInfo`` (see ``specs``); the entries live in one
module per family. Readers: the harness (tests/test_ops.py), the fuzzer, the coverage table
(tools/gen_coverage.py) and the test that every public op has samples (tests/test_registry.py).
"""
from __future__ import annotations

# each family module adds its entries to SAMPLES
from . import (arith, attention, builders, core, gamma, linalg_ext, nn, nn_extra,  # noqa: F401
               scatter, sets, special,
               statistics, vision)
from .specs import (FLOATS, INF, NAN, SAMPLES, WITH_INT, WITH_INT_BOOL, Idx, Mask, OpInfo, S, T, V,
                    binary, chain, fixed, function, inplace, op, reduction, reflected, unary,
                    values)

__all__ = ["FLOATS", "INF", "NAN", "SAMPLES", "WITH_INT", "WITH_INT_BOOL", "Idx", "Mask", "OpInfo",
           "S", "T", "V", "binary", "chain", "fixed", "function", "inplace", "op", "reduction",
           "reflected", "unary", "values"]
