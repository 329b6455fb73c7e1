"""In-place forms: every ``Tensor.<op>_`` torch has, Ember has too (but the few listed).

Walks ``dir(torch.Tensor)``; each in-place form runs on the op's samples from ``tests/opinfo``
beside torch's: the same values written into the same tensor, the same refusals (a result that
can't be cast to the tensor's dtype, a leaf that requires grad), and through a non-leaf the
same gradients.
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

# torch's in-place forms Ember leaves out on purpose, and why.
OUT_OF_SCOPE = {
    "resize_as_sparse_": "sparse tensors",
    "sparse_resize_": "sparse tensors",
    "sparse_resize_and_clear_": "sparse tensors",
    "conj_physical_": "complex tensors (README)",
    "set_": "storage sharing between tensors (no Storage objects)",
    "apply_": "a Python callable per element, CPU only (torch: not for code that needs speed)",
    "map_": "as apply_",
    "map2_": "as apply_",
}

# torch's in-place forms of ops without a derivative that keep the tensor's old history (its
# gradient flows on as if nothing had changed); Ember's, as torch's eq_, pass a zero gradient.
KEEPS_OLD_HISTORY_IN_TORCH = {"logical_and_", "logical_or_", "logical_xor_", "nextafter_"}

INPLACE = sorted(n for n in dir(torch.Tensor) if n.endswith("_") and not n.startswith("_"))


def test_every_inplace_form_torch_has_is_there() -> None:
    missing = [n for n in INPLACE if n not in OUT_OF_SCOPE and not hasattr(ember.Tensor, n)]
    assert not missing, f"Tensor lacks torch's in-place forms {missing}"


ALIASES = {n: o.name for o in OPS.values() for n in o.aliases}


def _samples(name: str):
    """Samples of the op ``name`` whose first argument is a tensor (the method's ``self``)."""
    name = ALIASES.get(name, name)
    for info in SAMPLES.values():
        if info.op != name:
            continue
        for dtype in info.dtypes:
            for args, kwargs in sample_list(info, dtype)[:2]:
                if args and isinstance(args[0], np.ndarray):
                    yield args, kwargs


def _call(module, method: str, args, kwargs, grad: bool = False):
    """``x.<method>(*rest)`` on a fresh copy of the first argument; the tensor and the result."""
    lib = torch if module is torch else ember
    args, kwargs = map_arrays((args, kwargs), lib.tensor)
    x = args[0]
    if grad:
        leaf = x.requires_grad_()
        x = leaf * 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return x, getattr(x, method)(*args[1:], **kwargs)


def _agree(method: str, args, kwargs) -> bool:
    """Run torch's and Ember's in-place form on one sample; False where torch can't run it."""
    try:
        tx, tgot = _call(torch, method, args, kwargs)
    except TypeError:
        return False  # the method's arguments differ from the function's (polygamma_(n))
    except RuntimeError:
        with pytest.raises(RuntimeError):
            _call(ember, method, args, kwargs)
        return True
    ex, egot = _call(ember, method, args, kwargs)
    assert egot is ex and tgot is tx
    assert str(ex.dtype).removeprefix("ember.") == str(tx.dtype).removeprefix("torch.")
    assert tuple(ex.shape) == tuple(tx.shape)
    np.testing.assert_allclose(ex.numpy(), tx.numpy(), rtol=1e-5, atol=1e-6, equal_nan=True)
    return True


def _grads_agree(method: str, args, kwargs) -> None:
    """Through a non-leaf the gradient reaches the leaf as torch's; a leaf itself is refused."""
    try:
        leaf = torch.tensor(args[0], requires_grad=True)
        tx, _ = _call(torch, method, args, kwargs, grad=True)
    except RuntimeError:
        return
    if tx.grad_fn is None or method in KEEPS_OLD_HISTORY_IN_TORCH:
        return
    torch_args = map_arrays(args, torch.tensor)
    tleaf = torch_args[0].requires_grad_()
    ex_args = map_arrays(args, ember.tensor)
    eleaf = ex_args[0].requires_grad_()
    tout = getattr(tleaf * 1, method)(*torch_args[1:], **map_arrays(kwargs, torch.tensor))
    eout = getattr(eleaf * 1, method)(*ex_args[1:], **map_arrays(kwargs, ember.tensor))
    try:
        (tout * tout).sum().backward()
    except (RuntimeError, NotImplementedError):
        return  # torch has no derivative for this in-place form (acosh_, heaviside_)
    (eout * eout).sum().backward()
    np.testing.assert_allclose(eleaf.grad.numpy(), tleaf.grad.numpy(force=True), rtol=1e-5,
                               atol=1e-6)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        getattr(ember.tensor(args[0], requires_grad=True), method)(*ex_args[1:])
    del leaf


@pytest.mark.parametrize("method", [n for n in INPLACE if n not in OUT_OF_SCOPE])
def test_inplace_form_does_what_torch_does(method: str) -> None:
    if not hasattr(ember.Tensor, method):
        pytest.skip("missing (the test above names it)")
    checked = False
    for args, kwargs in _samples(method[:-1]):
        if _agree(method, args, kwargs):
            checked = True
            if args[0].dtype.kind == "f":
                _grads_agree(method, args, kwargs)
            break
    if not checked:
        pytest.skip(f"no sample of {method[:-1]} runs as a method")


def test_polygamma_inplace_takes_the_order_first_as_torch() -> None:
    x = np.array([0.5, 1.5, 3.0])
    want = torch.tensor(x).polygamma_(2)
    got = ember.tensor(x).polygamma_(2)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_inplace_view_forms_keep_the_memory_and_the_history() -> None:
    leaf = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    x = leaf * 1
    version = x._version
    assert x.t_() is x and tuple(x.shape) == (3, 2) and x._version == version + 1
    x.unsqueeze_(0).squeeze_(0).transpose_(0, 1)
    (x * ember.tensor([[1.0], [2.0]])).sum().backward()
    assert leaf.grad.tolist() == [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
