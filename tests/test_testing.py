"""``ember.testing.assert_close`` and ``make_tensor`` against torch.testing: same verdicts, same reports."""
from __future__ import annotations

import importlib

import pytest
import torch

import ember

NAN, INF = float("nan"), float("inf")
CASES = {
    "close_float": lambda t: ((t.tensor([1.0, 2.0, 3.0]), t.tensor([1.0, 2.5, 3.0])), {}),
    "shape": lambda t: ((t.tensor([1.0, 2.0, 3.0]), t.tensor([1.0, 2.0])), {}),
    "dtype": lambda t: ((t.tensor([1.0], dtype=t.float64), t.tensor([1.0])), {}),
    "dtype_unchecked": lambda t: ((t.tensor([1.0, 2.0]), t.tensor([1.0, 2.00001], dtype=t.float64)),
                                  {"check_dtype": False}),
    "ints": lambda t: ((t.tensor([1, 2, 3]), t.tensor([1, 2, 4])), {}),
    "bools": lambda t: ((t.tensor([True, False]), t.tensor([True, True])), {}),
    "scalar_tensor": lambda t: ((t.tensor(1.0), t.tensor(2.0)), {}),
    "nan": lambda t: ((t.tensor([NAN]), t.tensor([NAN])), {}),
    "nan_equal": lambda t: ((t.tensor([NAN]), t.tensor([NAN])), {"equal_nan": True}),
    "inf": lambda t: ((t.tensor([1.0, INF]), t.tensor([1.0, INF])), {}),
    "list": lambda t: (([t.tensor(1.0), t.tensor(2.0)], [t.tensor(1.0), t.tensor(3.0)]), {}),
    "dict": lambda t: (({"a": t.tensor(1.0)}, {"a": t.tensor(3.0)}), {}),
    "nested": lambda t: (([[t.tensor([1.0, 2.0])]], [[t.tensor([1.0, 2.5])]]), {}),
    "float_numbers": lambda t: ((1.0, 1.1), {}),
    "int_numbers": lambda t: ((1, 2), {}),
    "msg": lambda t: ((t.tensor([1.0, 2.0]), t.tensor([1.0, 3.0])), {"msg": "custom"}),
    "msg_callable": lambda t: ((t.tensor([1.0, 2.0]), t.tensor([1.0, 3.0])),
                               {"msg": lambda m: m + " EXTRA"}),
    "only_rtol": lambda t: ((t.tensor([1.0, 2.0]), t.tensor([1.0, 3.0])), {"rtol": 0.1}),
    "tensor_vs_list": lambda t: ((t.tensor([1.0, 2.0]), [1.0, 2.0]), {}),
    "explicit_tols": lambda t: ((t.tensor([1.0, 2.0]), t.tensor([1.0, 2.1])), {"rtol": 0, "atol": 0.2}),
    "equality": lambda t: ((t.tensor([0.0, 2.0]), t.tensor([1e-3, 2.0])), {"rtol": 0, "atol": 0}),
    "matrix": lambda t: ((t.tensor([[1.0, 2.0], [3, 4]]), t.tensor([[1.0, 2.0], [3, 5]])), {}),
    "half": lambda t: ((t.tensor([1.0, 2.0], dtype=t.float16), t.tensor([1.0, 2.001], dtype=t.float16)), {}),
    "tiny": lambda t: ((t.tensor([1.0, 0.0]), t.tensor([1.0, 1e-9])), {}),
    "zero_expected": lambda t: ((t.tensor([0.0, 1.0]), t.tensor([1.0, 0.0])), {}),
    "requires_grad": lambda t: ((t.tensor([1.0, 2.0], requires_grad=True), t.tensor([1.0, 2.0])), {}),
    "lengths": lambda t: (((1, 2), (1, 2, 3)), {}),
    "stride": lambda t: ((t.ones(2, 3).t(), t.ones(3, 2)), {"check_stride": True}),
}


def _outcome(lib, name):
    args, kwargs = CASES[name](lib)
    try:
        importlib.import_module(f"{lib.__name__}.testing").assert_close(*args, **kwargs)
    except Exception as exc:  # the verdict and the report are what is compared
        return type(exc).__name__, str(exc).replace("torch.", "").replace("ember.", "")
    return "passed", ""


@pytest.mark.parametrize("name", sorted(CASES))
def test_assert_close_verdict_and_report_match_torch(name):
    got, want = _outcome(ember, name), _outcome(torch, name)
    if name in ("tensor_vs_list",):  # the class path in the TypeError names each library's module
        assert got[0] == want[0] == "TypeError"
        return
    assert got == want


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "bool"])
def test_make_tensor_ranges_and_options(dtype):
    from ember.testing import make_tensor

    d = getattr(ember, dtype)
    t = make_tensor(40, 50, dtype=d, device="cpu")
    assert t.shape == (40, 50) and t.dtype == d
    if dtype not in ("bool",):
        lo = 0 if dtype == "uint8" else -9
        assert t.min().item() >= lo and t.max().item() <= 9
    if dtype.startswith("float"):
        u = make_tensor((3, 4), dtype=d, device="cpu", low=0.5, high=0.75, noncontiguous=True,
                        requires_grad=True, exclude_zero=True)
        assert not u.is_contiguous() and u.is_leaf and u.requires_grad
        assert 0.5 <= u.min().item() and u.max().item() <= 0.75
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="`low` must be less than `high`, but got 5 >= 1"):
            importlib.import_module(f"{lib.__name__}.testing").make_tensor(
                2, dtype=getattr(lib, dtype), device="cpu", low=5, high=1)
