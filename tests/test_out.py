"""``out=``: every function that takes it in torch takes it in Ember, with torch's semantics.

Walks the registry: for each exported op, asks torch whether its function accepts ``out=``
(by calling it with one on the op's samples from ``tests/opinfo``) and, where it does, checks
Ember's writes the same values into the given tensors, returns them, and refuses the same
``out`` dtypes torch refuses.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
from ember.ops.registry import OPS
from harness import map_arrays, sample_list
from opinfo import SAMPLES

TORCH_MODULES = {"ember": torch, "ember.linalg": torch.linalg, "ember.special": torch.special,
                 "ember.nn.functional": torch.nn.functional}
EMBER_MODULES = {"ember": ember, "ember.linalg": ember.linalg, "ember.special": ember.special,
                 "ember.nn.functional": ember.nn.functional}


def _sample_names(o, ns: str) -> set:
    """The keys a sample may name op ``o`` by (``linalg.inv`` for ``ember.linalg.inv``)."""
    prefix = "" if ns == "ember" else ns.removeprefix("ember.") + "."
    return {o.name, *o.names, *(prefix + n for n in o.names)}


CASES = sorted({(ns, o.name) for o in OPS.values() for ns in o.namespaces
                if getattr(TORCH_MODULES[ns], o.attr, None) is not None})


def _samples(o, ns: str):
    """The op's samples, float64 first, a few of each entry (``args, kwargs`` as NumPy)."""
    names = _sample_names(o, ns)
    for info in SAMPLES.values():
        if info.op not in names:
            continue
        for dtype in sorted(info.dtypes, key=lambda d: d != "float64"):
            yield from sample_list(info, dtype)[:3]


def _empties(result, flip: bool = False):
    """Empty tensors to receive ``result`` (torch's); ``flip``: of another dtype."""
    if isinstance(result, torch.Tensor):
        dtype = result.dtype
        if flip:
            dtype = torch.float32 if dtype == torch.float64 else torch.float64
        return torch.empty(0, dtype=dtype)
    return tuple(_empties(r, flip) for r in result)


def _as_ember(obj):
    if isinstance(obj, torch.Tensor):
        return ember.empty(0, dtype=getattr(ember, str(obj.dtype).removeprefix("torch.")))
    return tuple(_as_ember(o) for o in obj)


def _tensors(result) -> bool:
    if isinstance(result, torch.Tensor):
        return True
    return isinstance(result, tuple) and bool(result) and all(isinstance(r, torch.Tensor) for r in result)


def _torch_out_case(tfn, o, ns):
    """A sample on which torch's function takes ``out=``, with torch's result; None if none."""
    for args, kwargs in _samples(o, ns):
        targs, tkw = map_arrays(args, torch.tensor), map_arrays(kwargs, torch.tensor)
        try:
            want = tfn(*targs, **tkw)
        except Exception:  # noqa: BLE001 - a sample this overload of torch's does not take
            continue
        if not _tensors(want) or any(w.is_complex() for w in _flat(want)):
            continue  # Ember has no complex tensors (README)
        try:
            tfn(*targs, **tkw, out=_empties(want))
        except TypeError:
            continue
        return args, kwargs, want
    return None


def _run(fn, args, kwargs, out):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs, out=out)


def _flat(x):
    return [x] if not isinstance(x, tuple) else list(x)


@pytest.mark.parametrize("ns,name", CASES)
def test_takes_out_where_torch_does(ns: str, name: str) -> None:
    o = OPS[name]
    tfn = getattr(TORCH_MODULES[ns], o.attr)
    case = _torch_out_case(tfn, o, ns)
    if case is None:
        pytest.skip(f"torch's {o.attr} takes no out= on these samples")
    args, kwargs, want = case
    efn = getattr(EMBER_MODULES[ns], o.attr)
    assert getattr(efn, "takes_out", False), f"{ns}.{o.attr} takes no out= (torch's does)"
    eargs, ekw = map_arrays(args, ember.tensor), map_arrays(kwargs, ember.tensor)
    plain = _flat(efn(*eargs, **ekw))  # the values (checked against torch's by test_ops.py)
    out = _as_ember(want)
    got = _run(efn, eargs, ekw, out)
    assert type(got) is type(efn(*eargs, **ekw))
    for g, o_, p in zip(_flat(got), _flat(out), plain):
        assert g is o_ and g.dtype == o_.dtype
        np.testing.assert_array_equal(g.numpy(), p.numpy())
    # another out dtype: refused where torch refuses it, cast where torch casts
    targs, tkw = map_arrays(args, torch.tensor), map_arrays(kwargs, torch.tensor)
    try:
        twant = _run(tfn, targs, tkw, _empties(want, flip=True))
    except RuntimeError:
        with pytest.raises(RuntimeError):
            _run(efn, eargs, ekw, _as_ember(_empties(want, flip=True)))
        return
    got = _run(efn, eargs, ekw, _as_ember(_empties(want, flip=True)))
    for g, w, p in zip(_flat(got), _flat(twant), plain):
        assert str(g.dtype).removeprefix("ember.") == str(w.dtype).removeprefix("torch.")
        np.testing.assert_allclose(g.numpy(), p.numpy().astype(g.numpy().dtype), rtol=1e-5,
                                   atol=1e-6, equal_nan=True)


def test_several_results_go_into_a_tuple_and_come_back_named() -> None:
    x = ember.tensor([[1.0, 5.0], [4.0, 2.0]])
    values, indices = ember.empty(0), ember.empty(0, dtype=ember.int64)
    got = ember.max(x, 1, out=(values, indices))
    assert got.values is values and got.indices is indices
    assert values.tolist() == [5.0, 4.0] and indices.tolist() == [1, 0]
    with pytest.raises(RuntimeError, match="Expected out tensor to have dtype Long"):
        ember.argmax(x, 1, out=ember.empty(0))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        ember.cat([ember.ones(1, requires_grad=True)], out=ember.empty(0))


def test_tensorqs_tutorial_matmul_and_mul_into_out() -> None:
    t = ember.ones(4, 4)
    t[:, 1] = 0
    y3 = ember.rand_like(t)
    ember.matmul(t, t.T, out=y3)
    z3 = ember.rand_like(t)
    ember.mul(t, t, out=z3)
    assert y3.tolist() == (t @ t.T).tolist() and z3.tolist() == (t * t).tolist()


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


FACTORIES = [("zeros", (2, 3)), ("ones", (4,)), ("empty", (2, 2)), ("full", ((2, 3), 1.5)),
             ("eye", (3,)), ("arange", (1, 7, 2)), ("linspace", (0, 1, 5)), ("logspace", (0, 2, 3)),
             ("rand", (2, 3)), ("randn", (3,)), ("randint", (0, 5, (2, 2))), ("randperm", (4,))]


@pytest.mark.parametrize("name,args", FACTORIES, ids=[f[0] for f in FACTORIES])
@pytest.mark.parametrize("dtype", ["float64", "int64"])
def test_factories_make_their_values_in_out_as_torch(name: str, args: tuple, dtype: str) -> None:
    try:
        want = getattr(torch, name)(*args, out=torch.empty(0, dtype=getattr(torch, dtype)))
    except RuntimeError:  # torch has no kernel for that dtype (randn into int64)
        with pytest.raises(RuntimeError):
            getattr(ember, name)(*args, out=ember.empty(0, dtype=getattr(ember, dtype)))
        return
    out = ember.empty(0, dtype=getattr(ember, dtype))
    got = getattr(ember, name)(*args, out=out)
    assert got is out and tuple(out.shape) == tuple(want.shape) and str(out.dtype)[6:] == dtype
    if name not in ("empty", "rand", "randn", "randint", "randperm"):
        np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-12)


DRAWS = [("normal", (np.zeros((2, 3)), 1.0)), ("normal", (0.0, 1.0, (4,))),
         ("bernoulli", (np.full((3, 2), 0.5),)), ("multinomial", (np.ones((2, 4)), 3))]


@pytest.mark.parametrize("name,args", DRAWS, ids=[f"{d[0]}-{i}" for i, d in enumerate(DRAWS)])
def test_random_draws_go_into_out_as_torch(name: str, args: tuple) -> None:
    want = getattr(torch, name)(*_convert(torch, args))
    out = _as_ember(_empties(want))
    got = getattr(ember, name)(*_convert(ember, args), out=out)
    assert got is out and tuple(out.shape) == tuple(want.shape)
    assert str(out.dtype)[6:] == str(want.dtype)[6:]


def _convert(module, args):
    return [module.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
