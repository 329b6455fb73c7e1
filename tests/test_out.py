"""``out=``: every op declared with it writes its result into the given tensor as torch's does
(values, dtype, resizing with torch's warning), and refuses it under autograd."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
from ember.ops.registry import OPS
from harness import sample_list
from opinfo import SAMPLES

OUT_OPS = sorted(o.name for o in OPS.values() if getattr(o.fn, "takes_out", False)
                 and "ember" in o.namespaces and hasattr(torch, o.attr))


def _sample(name: str):
    """The op's first float64 sample whose arguments are plain (tensors and numbers)."""
    for info in SAMPLES.values():
        if info.op != name or "float64" not in info.dtypes:
            continue
        for args, kwargs in sample_list(info, "float64"):
            if args and not kwargs and all(isinstance(a, (np.ndarray, float, int)) for a in args):
                return args
    pytest.skip(f"no plain float64 sample for {name}")


def _convert(module, args):
    return [module.tensor(a) if isinstance(a, np.ndarray) else a for a in args]


@pytest.mark.parametrize("name", OUT_OPS)
def test_out_writes_what_torch_writes(name: str) -> None:
    args = _sample(name)
    want = getattr(torch, name)(*_convert(torch, args))
    out = ember.empty(0, dtype=getattr(ember, str(want.dtype).removeprefix("torch.")))
    got = getattr(ember, name)(*_convert(ember, args), out=out)
    assert got is out and tuple(out.shape) == tuple(want.shape)
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-10, atol=1e-12, equal_nan=True)


def test_out_resizes_with_torch_warning_and_refuses_autograd() -> None:
    x = ember.tensor([1.0, 2.0])
    out = ember.empty(3)
    with pytest.warns(UserWarning, match="was resized since it had shape \\[3\\]"):
        ember.exp(x, out=out)
    assert out.shape == (2,)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.add(x, 1, out=ember.empty(0))  # an empty out resizes silently
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        ember.exp(ember.tensor([1.0], requires_grad=True), out=ember.empty(1))
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        ember.exp(x, out=ember.empty(2, dtype=ember.int64))
