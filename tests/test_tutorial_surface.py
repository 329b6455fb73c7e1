"""What PyTorch's beginner tutorials touch beyond the op table, checked against torch:
in-place functions in the namespace, the order of ``next_functions`` for a number on the left,
and the older ``autograd.profiler`` interface."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
from ember import _inplace_functions

VALUES = np.array([[-0.9, 0.1, 0.5], [0.25, -0.4, 0.8]])
# the arguments a few in-place functions need besides the tensor
EXTRA = {"clamp_": (-0.3, 0.3), "clip_": (-0.3, 0.3), "clamp_max_": (0.2,), "clamp_min_": (0.2,),
         "fill_": (1.5,), "ldexp_": ("tensor",), "xlogy_": ("tensor",), "logit_": (0.1,),
         "gcd_": ("tensor",), "lcm_": ("tensor",), "resize_as_": ("tensor",),
         "as_strided_": ((3, 2), (1, 3)), "addmv_": ("matrix", "vector")}
# inputs other than VALUES, for the functions that need them (integers, a vector)
INPUTS = {"gcd_": np.array([[4, 6, 8], [9, 12, 15]]), "lcm_": np.array([[4, 6, 8], [9, 12, 15]]),
          "addmv_": np.array([0.5, -1.0])}
PARTS = {"matrix": VALUES, "vector": np.ones(3)}


def _run(lib, name):
    base = INPUTS.get(name, VALUES)
    args = [lib.tensor(np.abs(base) + 1) if a == "tensor" else lib.tensor(PARTS[a])
            if isinstance(a, str) else a for a in EXTRA.get(name, ())]
    x = lib.tensor(base)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = getattr(lib, name)(x, *args)
    return result is x, np.asarray(x.tolist(), dtype=float)


@pytest.mark.parametrize("name", _inplace_functions.NAMES)
def test_inplace_function_writes_into_its_input_as_torch(name):
    got_same, got = _run(ember, name)
    want_same, want = _run(torch, name)
    assert got_same and want_same
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12, equal_nan=True)


def test_every_inplace_function_of_torch_whose_method_exists_is_exported():
    torch_functions = {n for n in dir(torch) if n.endswith("_") and not n.startswith("_")}
    missing = [n for n in sorted(torch_functions)
               if hasattr(ember.Tensor, n) and not callable(getattr(ember, n, None))]
    assert missing == []
    assert set(_inplace_functions.NAMES) <= torch_functions  # nothing torch lacks


def test_inplace_function_refuses_a_number_and_a_bad_cast_as_torch():
    for lib in (ember, torch):
        with pytest.raises(TypeError,
                           match=r"sin_\(\): argument 'input' \(position 1\) must be Tensor, not int"):
            lib.sin_(3)
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
            lib.sin_(lib.ones(2, dtype=lib.long))


@pytest.mark.parametrize("expr", ["2 * b", "b * 2", "1 + b", "b + 1", "2.5 * (1 + b)"])
def test_number_on_the_left_keeps_the_tensor_first_in_next_functions(expr):
    def chain(lib):
        a = lib.linspace(0.0, 1.0, 5, requires_grad=True)
        b = lib.sin(a)
        node, names = eval(expr, {"b": b}).grad_fn, []
        while node is not None:
            names.append([type(n).__name__ if n is not None else None
                          for n, _ in node.next_functions])
            node = node.next_functions[0][0] if node.next_functions else None
        return names

    assert chain(ember) == chain(torch)


def test_autograd_profiler_profile_records_and_prints_a_table():
    x = ember.randn(2, 3, requires_grad=True)
    z = ember.ones(2, 3, requires_grad=True)
    with ember.autograd.profiler.profile(use_cuda=False) as prf:
        for _ in range(3):
            z = (z / x) * x
    averages = prf.key_averages()
    counts = {a.key: a.count for a in averages}
    assert counts["ember::div"] == 3 and counts["ember::mul"] == 3
    assert "Self CPU %" in averages.table(sort_by="self_cpu_time_total")
    assert len(prf.function_events) == 6


def test_autograd_profiler_warns_on_use_cuda_and_records_nothing_when_disabled():
    for lib in (ember, torch):
        with pytest.warns(FutureWarning, match="use_device = 'cuda'"):
            lib.autograd.profiler.profile(use_cuda=True)
    with ember.autograd.profiler.profile(enabled=False) as prf:
        ember.ones(2) * 2
    assert len(prf.function_events) == 0


FACTORIES = {
    "zeros": lambda lib, out: lib.zeros(2, 3, out=out),
    "ones": lambda lib, out: lib.ones((3,), out=out),
    "full": lambda lib, out: lib.full((2, 2), 7, out=out),
    "eye": lambda lib, out: lib.eye(3, 2, out=out),
    "arange": lambda lib, out: lib.arange(1, 4, out=out),
    "linspace": lambda lib, out: lib.linspace(0, 1, 5, out=out),
    "logspace": lambda lib, out: lib.logspace(0, 2, 3, out=out),
    "rand": lambda lib, out: lib.rand(2, 3, out=out),
    "randn": lambda lib, out: lib.randn(2, 2, out=out),
    "randint": lambda lib, out: lib.randint(0, 5, (4,), out=out),
    "randperm": lambda lib, out: lib.randperm(4, out=out),
}


@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_factory_writes_into_out_in_its_dtype_and_returns_it_as_torch(name, dtype):
    def run(lib):
        out = lib.zeros(2, 2, dtype=getattr(lib, dtype))  # resized to the result's shape
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch warns resizing arange's and linspace's
                result = FACTORIES[name](lib, out)
        except (RuntimeError, NotImplementedError) as e:
            return type(e).__name__
        values = out.tolist() if name not in ("rand", "randn", "randint", "randperm") else None
        return result is out, str(out.dtype).split(".")[1], tuple(out.shape), values

    assert run(ember) == run(torch)


def test_factory_out_refuses_another_dtype_and_autograd_as_torch():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError,
                           match=r"dtype Double does not match dtype of out parameter \(Float\)"):
            lib.rand(2, out=lib.zeros(2), dtype=lib.float64)
        with pytest.raises(RuntimeError, match="out=... arguments don't support automatic differentiation"):
            lib.zeros(2, out=lib.zeros(2, requires_grad=True))
        with pytest.raises(TypeError, match="argument 'out' must be Tensor, not list"):
            lib.ones(2, out=[0, 0])


def test_cross_without_dim_warns_as_torch_and_with_dim_does_not():
    previous = torch.is_warn_always_enabled()
    torch.set_warn_always(True)  # torch warns once per process: earlier tests may have used it
    try:
        for lib in (ember, torch):
            a, b = lib.tensor([0.0, 1.0, 0.0]), lib.tensor([1.0, 0.0, 0.0])
            with pytest.warns(UserWarning,
                              match="Using torch.cross without specifying the dim arg is deprecated"):
                assert lib.cross(a, b).tolist() == [0.0, 0.0, -1.0]
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                lib.cross(a, b, dim=0)
                lib.linalg.cross(a, b)
    finally:
        torch.set_warn_always(previous)
