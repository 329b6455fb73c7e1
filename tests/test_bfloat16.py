"""bfloat16 and float16 tensors against torch: dtypes, promotion, printing, the NumPy bridge,
files, and the ops of the catalog computed as torch computes them (float32 inside, one rounding)."""
from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest
import torch

import ember
from harness import map_arrays, sample_list
from opinfo import SAMPLES

LOW = ("bfloat16", "float16")
# torch.testing's default tolerances for these dtypes
TOL = {"bfloat16": (1.6e-2, 1e-5), "float16": (1e-3, 1e-5)}
DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64")


def _both(name: str):
    return getattr(ember, name), getattr(torch, name)


# ---------------------------------------------------------------------------- the dtype objects

@pytest.mark.parametrize("name", LOW)
def test_dtype_attributes_and_limits_as_torch(name):
    e, t = _both(name)
    assert repr(e) == f"ember.{name}"
    for attr in ("is_floating_point", "is_signed", "itemsize", "is_complex"):
        assert getattr(e, attr) == getattr(t, attr), attr
    ef, tf = ember.finfo(e), torch.finfo(t)
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(ef, attr) == getattr(tf, attr), attr
    assert repr(ef) == repr(tf)


def test_promotion_and_casting_tables_as_torch():
    for a, b in itertools.product(DTYPES, repeat=2):
        (ea, ta), (eb, tb) = _both(a), _both(b)
        assert ember.promote_types(ea, eb).name == str(torch.promote_types(ta, tb)).split(".")[1], (a, b)
        assert ember.can_cast(ea, eb) == torch.can_cast(ta, tb), (a, b)


@pytest.mark.parametrize("expr", [
    "m.ones(2, dtype=m.bfloat16) + m.ones(2, dtype=m.float16)",
    "m.ones(2, dtype=m.bfloat16) * 2.5",
    "m.ones(2, dtype=m.bfloat16) + m.tensor(1.0)",
    "m.ones(2, dtype=m.bfloat16) + m.tensor(1.0, dtype=m.float16)",
    "m.ones(2, dtype=m.bfloat16) + m.ones(2)",
    "m.ones(2, dtype=m.bfloat16) + m.tensor([1, 2])",
    "m.tensor([True, False]) * m.ones(2, dtype=m.bfloat16)",
    "m.ones(2, dtype=m.float16) + m.tensor(3)",
    "m.arange(3) / m.ones(3, dtype=m.bfloat16)",
])
def test_mixed_operands_promote_as_torch(expr):
    e, t = eval(expr, {"m": ember}), eval(expr, {"m": torch})
    assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1]
    assert ember.result_type(*eval(f"({expr.replace(' + ', ', ').replace(' * ', ', ').replace(' / ', ', ')})",
                                   {"m": ember})).name == str(t.dtype).split(".")[1]


# ---------------------------------------------------------------------------- tensors

def test_creation_methods_and_printing_as_torch():
    values = [[1.5, -2.25, 3.1], [1e-3, 70000.0, -0.0]]
    for name in LOW:
        e_d, t_d = _both(name)
        e, t = ember.tensor(values, dtype=e_d), torch.tensor(values, dtype=t_d)
        assert e.dtype is e_d and e.is_floating_point() and e.element_size() == 2
        assert e.tolist() == t.tolist()
        assert e[0, 2].item() == t[0, 2].item() and isinstance(e[0, 2].item(), float)
        assert repr(e) == repr(t).replace("torch.", "ember.")
        assert repr(e * 1000) == repr(t * 1000).replace("torch.", "ember.")
    x, tx = ember.tensor(values), torch.tensor(values)
    assert x.bfloat16().tolist() == tx.bfloat16().tolist()
    assert x.half().tolist() == tx.half().tolist()
    assert x.to(ember.bfloat16).to(ember.float16).tolist() == tx.bfloat16().half().tolist()
    assert ember.nn.Linear(2, 3).bfloat16().weight.dtype is ember.bfloat16


def test_numpy_bridge_as_torch():
    b = ember.ones(3, dtype=ember.bfloat16)
    with pytest.raises(TypeError, match="Got unsupported ScalarType BFloat16"):
        b.numpy()
    with pytest.raises(TypeError, match="Got unsupported ScalarType BFloat16"):
        torch.ones(3, dtype=torch.bfloat16).numpy()
    h = ember.ones(3, dtype=ember.float16)
    assert h.numpy().dtype == np.float16
    assert ember.from_numpy(np.ones(2, np.float16)).dtype is ember.float16
    import ml_dtypes
    assert ember.tensor(np.ones(2, ml_dtypes.bfloat16)).dtype is ember.bfloat16


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_files_keep_16_bit_tensors(tmp_path, suffix):
    state = {"b": ember.tensor([1.5, -2.25, 3.1], dtype=ember.bfloat16),
             "h": ember.tensor([1.5, -2.25, 3.1], dtype=ember.float16)}
    path = tmp_path / f"w{suffix}"
    ember.save(state, path)
    back = ember.load(path)
    for k, v in state.items():
        assert back[k].dtype is v.dtype and back[k].tolist() == v.tolist()
    if suffix == ".pt":
        theirs = torch.load(path)
        assert theirs["b"].dtype is torch.bfloat16 and theirs["b"].tolist() == state["b"].tolist()


def test_import_without_ml_dtypes_names_the_package():
    code = ("import sys; sys.modules['ml_dtypes'] = None\n"
            "import ember\n"
            "x = ember.ones(2, 2, dtype=ember.float16) * 2\n"
            "with ember.autocast('cpu', dtype=ember.float16):\n"
            "    assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype is ember.float16\n"
            "try:\n    ember.bfloat16\nexcept ImportError as e:\n    print('refused:', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "refused:" in out.stdout and "ml_dtypes" in out.stdout


# ---------------------------------------------------------------------------- ops

COMMON = {
    "add": lambda m, a, b: a + b, "mul": lambda m, a, b: a * b, "exp": lambda m, a, b: a.exp(),
    "tanh": lambda m, a, b: a.tanh(), "sigmoid": lambda m, a, b: a.sigmoid(),
    "matmul": lambda m, a, b: a @ b.T, "sum": lambda m, a, b: a.sum(), "sum(dim)": lambda m, a, b: a.sum(1),
    "softmax": lambda m, a, b: m.softmax(a, -1), "relu": lambda m, a, b: m.nn.functional.relu(a),
    "layer_norm": lambda m, a, b: m.nn.functional.layer_norm(a, (a.shape[-1],)),
    "gelu": lambda m, a, b: m.nn.functional.gelu(a),
    "conv2d": lambda m, a, b: m.nn.functional.conv2d(a.reshape(2, 3, 8, 8),
                                                     b.reshape(-1)[:108].reshape(4, 3, 3, 3)),
}


@pytest.mark.parametrize("name", LOW)
@pytest.mark.parametrize("op", COMMON)
def test_common_ops_bitwise_as_torch(op, name):
    """torch's CPU kernels widen 16-bit inputs to float32 and round once: the same bits here."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((16, 24)).astype(np.float32) for _ in range(2))
    e_d, t_d = _both(name)
    e = COMMON[op](ember, ember.tensor(a).to(e_d), ember.tensor(b).to(e_d))
    t = COMMON[op](torch, torch.tensor(a).to(t_d), torch.tensor(b).to(t_d))
    assert e.dtype is e_d and t.dtype is t_d
    if op == "conv2d" and name == "float16":  # torch's float16 convolution sums in another order
        np.testing.assert_allclose(e.float().tolist(), t.float().tolist(), *TOL[name])
        return
    assert e.float().tolist() == t.float().tolist()


WALKED = [name for name, info in SAMPLES.items()
          if info.family in ("elementwise", "reduce", "activation", "operator") and "float32" in info.dtypes]


def _as(lib, arr, name, leaves):
    if arr.dtype.kind != "f":
        return lib.tensor(arr)
    t = lib.tensor(arr).to(getattr(lib, name))
    if leaves is not None:
        t.requires_grad_(True)
        leaves.append(t)
    return t


def _floats(out) -> list:
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if hasattr(o, "dtype") and o.dtype.is_floating_point]


def _exact(arr, name):
    """A sample array as the 16-bit value both libraries start from, held in float64."""
    t = torch.tensor(arr)
    return t.to(getattr(torch, name)).double() if arr.dtype.kind == "f" else t


def _assert_close_or_closer(e, t, exact, rtol, atol):
    """Ember's values within torch.testing's tolerance of torch's, or, where torch's kernel keeps
    intermediates in 16 bits (log_softmax, logaddexp2, lerp), no farther from the exact value."""
    if np.allclose(e, t, rtol=rtol, atol=atol, equal_nan=True):
        return
    ours, theirs = np.abs(e - exact), np.abs(t - exact)
    assert np.nanmax(ours - theirs) <= atol, f"farther from exact than torch: {e} vs {t} (exact {exact})"


@pytest.mark.parametrize("name", LOW)
@pytest.mark.parametrize("op", WALKED)
def test_catalog_ops_in_16_bit_as_torch(op, name):
    """Each elementwise, reduction and activation sample in 16 bits: torch's dtype and values
    (torch.testing's tolerances for the dtype), and the gradients through it."""
    info = SAMPLES[op]
    rtol, atol = TOL[name]
    for args, kwargs in sample_list(info, "float32")[:3]:
        t_leaves, e_leaves = [], []
        t_args = map_arrays((args, kwargs), lambda a: _as(torch, a, name, t_leaves if info.grad else None))
        try:
            t_out = info.ref(torch, *t_args[0], **t_args[1])
        except (RuntimeError, NotImplementedError, TypeError):
            continue  # no such kernel for this dtype on torch's CPU
        e_args = map_arrays((args, kwargs), lambda a: _as(ember, a, name, e_leaves if info.grad else None))
        e_out = info.fn(*e_args[0], **e_args[1])
        t_f, e_f = _floats(t_out), _floats(e_out)
        assert len(t_f) == len(e_f)
        exact = _floats(info.ref(torch, *map_arrays((args, kwargs), lambda a: _exact(a, name))[0],
                                 **map_arrays((args, kwargs), lambda a: _exact(a, name))[1]))
        for e, t, x in zip(e_f, t_f, exact):
            assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1]
            _assert_close_or_closer(e.detach().float().numpy(), t.detach().float().numpy(),
                                    x.detach().numpy(), rtol, atol)
        if not (info.grad and t_f and t_leaves and all(o.requires_grad for o in t_f)):
            continue
        cot = [np.random.default_rng(1).standard_normal(t.shape).astype(np.float32) for t in t_f]
        t_g = torch.autograd.grad([(o.float() * torch.tensor(c)).sum() for o, c in zip(t_f, cot)],
                                  t_leaves, allow_unused=True)
        e_g = ember.autograd.grad([(o.float() * ember.tensor(c)).sum() for o, c in zip(e_f, cot)],
                                  e_leaves, allow_unused=True)
        for e, t in zip(e_g, t_g):
            assert (e is None) == (t is None)
            if t is not None:
                assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1]
                scale = max([1.0] + t.float().abs().reshape(-1).tolist())
                np.testing.assert_allclose(e.float().tolist(), t.float().tolist(), rtol=2 * rtol,
                                           atol=2 * rtol * scale, equal_nan=True)


def test_compiled_16_bit_code_gives_eager_bits():
    """ember.compile replays each op as apply runs it: widened to float32, rounded once."""
    def f(a):
        return ember.nn.functional.softmax(a.exp() * 0.1, -1).sum(1)

    compiled = ember.compile(f)
    for name in LOW:
        x = ember.tensor(np.random.default_rng(0).standard_normal((8, 16)).astype(np.float32))
        x = x.to(getattr(ember, name))
        eager, first, second = f(x), compiled(x), compiled(x)
        assert eager.dtype is second.dtype is getattr(ember, name)
        assert eager.float().tolist() == first.float().tolist() == second.float().tolist()
