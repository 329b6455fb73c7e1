"""The op declarations and the samples agree: every public op has samples, every sample names an op.

Also follows CONTRIBUTING.md's op recipe literally: a toy elementwise op declared in a
temporary module through the documented API gets its method, its export and its samples, and
the harness checks its forward values and derivatives.
"""
from __future__ import annotations

import importlib.util
import inspect
import sys
import textwrap
import types

import numpy as np
import pytest
import torch

import ember
from ember.ops import registry
from ember.ops.registry import OPS, PRIMITIVES
from harness import check_op, sample_list
from opinfo import SAMPLES, op, unary

# Exported callables that are not ops, by where they come from: they make tensors, set or read
# global state, or are the learner's tools; each has tests of its own.
NOT_OPS_MODULES = {
    "ember.creation": "makes tensors (tests/test_tensor.py)",
    "ember.dtypes": "dtype queries (tests/test_tensor.py)",
    "ember._printing": "print options",
    "ember.ops.precision": "autocast switches (tests/test_amp_autocast.py)",
    "ember.autograd.anomaly": "anomaly mode switches",
    "ember.autograd.grad_mode": "grad mode switches",
    "ember.serialization": "save/load (tests/test_serialization.py)",
    "ember.lab.derivative_check": "the learner's tools (tests/test_gradcheck.py)",
    "ember.lab.explain": "the learner's tools (tests/test_explain.py)",
    "ember.viz.summary": "the learner's tools (tests/test_summary.py)",
    "ember.tensor": "the Tensor's own attributes (tests/test_tensor.py)",
    "ember.ops.random": "random draws, checked by their statistics (tests/test_random.py)",
    "ember.generator": "random-number generators (tests/test_random.py)",
    "ember.random": "the global generator's seeds and state (tests/test_random.py)",
    "ember.ops.methods": "conversions, fills, in-place forms derived from declarations",
    "ember.ops.resize": "Tensor.resize_/resize_as_, in-place methods with samples (opinfo/core.py)",
    "ember.ops.fill_diagonal": "Tensor.fill_diagonal_, an in-place method with samples (opinfo/core.py)",
    "ember._inplace_functions": "torch.sin_(x) and the like: the declared ops' in-place methods "
                                "(tests/test_tutorial_surface.py)",
    "ember": "dtype queries",
    "ember.backend": "the default device (tests/test_torch_namespace.py)",
    "ember.threads": "thread counts (tests/test_torch_namespace.py)",
    "ember.tensor_types": "legacy tensor-type constructors (tests/test_torch_namespace.py)",
    "ember._functorch.vmap": "ember.vmap, a function transform (tests/test_vmap.py)",
    "ember.compiler": "ember.compile, a function transform (tests/test_compile.py)",
}
NAMESPACES = {**{ns: importlib.import_module(ns) for ns in registry.NAMESPACES},
              "Tensor": ember.Tensor}


def _names(o) -> set:
    """The names a sample may use for op ``o``: its own, its aliases, ``linalg.det`` style ones."""
    names = {o.name, *o.names}
    for ns in o.namespaces:
        if ns != "ember":
            names |= {f"{ns.removeprefix('ember.')}.{n}" for n in o.names}
    return names


def _exported():
    """``(where, name, fn)`` for every public callable of the namespaces and the Tensor."""
    for where, module in NAMESPACES.items():
        attrs = vars(module)
        for name, value in sorted(attrs.items()):
            if name.startswith("_") or isinstance(value, (type, types.ModuleType, property)):
                continue
            if callable(value):
                yield where, name, value


def test_every_exported_callable_is_a_declared_op_or_listed_as_no_op() -> None:
    declared = {id(o.fn) for o in OPS.values()} | {id(o.method) for o in OPS.values()}
    stray = [f"{where}.{name} ({getattr(fn, '__module__', '?')})" for where, name, fn in _exported()
             if id(fn) not in declared and getattr(fn, "__module__", None) not in NOT_OPS_MODULES]
    assert not stray, f"declare these ops (ember.ops.registry.declare): {stray}"


def test_every_public_op_has_samples() -> None:
    covered = {info.op for info in SAMPLES.values()}
    missing = sorted(o.name for o in OPS.values() if not _names(o) & covered)
    assert not missing, f"add samples in tests/opinfo/ for: {missing}"


def test_every_sample_names_an_op() -> None:
    known = set().union(*(_names(o) for o in OPS.values()))
    unknown = sorted(info.name for info in SAMPLES.values()
                     if info.op not in known and not hasattr(ember.Tensor, info.op))
    assert not unknown, f"samples naming no op: {unknown}"


# Tensor methods that are no op of their own, and why they have no samples.
METHODS_WITHOUT_SAMPLES = {
    "cuda": "moves to a GPU (tests/test_cuda_paths.py)",
    "type": "a type name or a cast by name (tests/test_tensor.py)",
    "new_zeros": "makes a tensor (tests/test_tensor.py)",
    "new_ones": "makes a tensor (tests/test_tensor.py)",
    "new_empty": "makes a tensor (tests/test_tensor.py)",
    "new_tensor": "makes a tensor (tests/test_tensor.py)",
    "new_full": "makes a tensor (tests/test_tensor.py)",
    "uniform_": "random (tests/test_init.py)",
    "normal_": "random (tests/test_init.py)",
}


def test_every_tensor_only_method_has_samples() -> None:
    """The methods written in ops/methods.py (not derived from a declaration) have samples too;
    the in-place forms derived from declarations are checked below."""
    covered = {info.op for info in SAMPLES.values()}
    derived = {n for o in OPS.values() if o.inplace for n in o.names}
    missing = sorted(
        name for name, value in vars(ember.Tensor).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == "ember.ops.methods"
        and name not in covered and name not in METHODS_WITHOUT_SAMPLES
        and not (name.endswith("_") and name[:-1] in derived)
    )
    assert not missing, f"add samples in tests/opinfo/ for Tensor methods: {missing}"


def _fits(o, out, x: np.ndarray) -> bool:
    """The op's result can be written into ``x`` in place: its shape, a dtype ``x`` can hold
    (any shape for an in-place view form, ``t_``)."""
    if not isinstance(out, ember.Tensor):
        return False
    if o.inplace == "view":
        return True
    holds = {"b": "b", "i": "biu", "u": "biu", "f": "biuf"}[x.dtype.kind]
    return tuple(out.shape) == x.shape and out.numpy().dtype.kind in holds


def _fitting_sample(o):
    """The op's first sample (float64 first) whose result its first input can hold."""
    for info in (i for i in SAMPLES.values() if i.op in _names(o)):
        for dtype in sorted(info.dtypes, key=lambda d: d != "float64"):
            for args, kwargs in sample_list(info, dtype):
                if not args or not isinstance(args[0], np.ndarray) or args[0].dtype != dtype:
                    continue
                if _fits(o, info.fn(*_as_ember(args), **_as_ember(kwargs)), args[0]):
                    return info, (args, kwargs)
    return None


def _inplace_cases():
    """``(op, method name, info, sample)``: each declared in-place form with its op's first
    sample its first input can hold. An op whose method takes other arguments than its
    function (``x.polygamma_(n)``) is checked in test_inplace_walk.py."""
    for o in OPS.values():
        if not o.inplace or o.method is not True:
            continue
        found = _fitting_sample(o)
        if found is not None:
            for name in o.names:
                yield pytest.param(o, f"{name}_", *found, id=f"{name}_")


def _as_ember(obj):
    if isinstance(obj, np.ndarray):
        return ember.tensor(obj)
    if isinstance(obj, (tuple, list)):
        return type(obj)(_as_ember(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _as_ember(v) for k, v in obj.items()}
    return obj


@pytest.mark.parametrize("op_, method, info, sample", list(_inplace_cases()))
def test_every_inplace_form_writes_its_op_into_the_tensor(op_, method, info, sample) -> None:
    args, kwargs = sample
    want = info.fn(*_as_ember(args), **_as_ember(kwargs))
    x = ember.tensor(args[0])
    memory = x.data_ptr()
    got = getattr(x, method)(*_as_ember(args[1:]), **_as_ember(kwargs))
    assert got is x and x.data_ptr() == memory, f"{method} must write into the tensor"
    np.testing.assert_allclose(x.numpy(), want.numpy(), rtol=1e-12, atol=1e-12, equal_nan=True)


def test_every_inplace_op_is_checked() -> None:
    checked = {o.name for o, *_ in (c.values for c in _inplace_cases())}
    missing = sorted(o.name for o in OPS.values()
                     if o.inplace and o.method is True and o.name not in checked)
    assert not missing, f"no sample keeps the shape and dtype for the in-place forms of {missing}"


def test_declared_methods_and_exports_are_installed() -> None:
    for o in OPS.values():
        for name in o.names:
            for ns in o.namespaces:
                assert getattr(NAMESPACES[ns], name) is o.fn, f"{ns}.{name}"
            if o.method:
                assert hasattr(ember.Tensor, name), f"Tensor.{name}"
            if o.inplace:
                assert hasattr(ember.Tensor, f"{name}_"), f"Tensor.{name}_"


FUSED = ("linear", "linear_bias", "log_softmax", "cross_entropy", "binary_cross_entropy", "std",
         "var", "norm", "logsumexp", "celu", "mish", "hardsigmoid", "addcmul", "addcdiv", "lerp",
         "clamp_tensors")


@pytest.mark.parametrize("name", FUSED)
def test_a_fused_primitive_says_why_it_is_one(name: str) -> None:
    """Each op a composite could express is a composite, or a primitive that says why not."""
    if name in PRIMITIVES:
        assert PRIMITIVES[name].fused, f"{name}: say why it is a primitive (fused=...)"


# ---------------------------------------------------------------------------- the recipe

TOY_MODULE = '''
"""A toy family: one elementwise op declared through the documented API."""
from ember.ops import elementwise as E
from ember.ops.registry import apply, declare
from ember.tensor import Tensor


@declare(forward=lambda xp, x: x * x * x, rule=lambda g, out, x: (E.mul(g, E.mul(E.mul(x, x), 3)),),
         jvp="elementwise", formula="d/dx x^3 = 3 x^2", method=True, inplace=True,
         sympy=lambda sp, a: a ** 3)
def toy_cube(x: Tensor) -> Tensor:
    """x cubed."""
    return apply(toy_cube.primitive, E.to_float(x))
'''


@pytest.fixture
def toy_module(tmp_path):
    path = tmp_path / "toy_family.py"
    path.write_text(textwrap.dedent(TOY_MODULE))
    spec = importlib.util.spec_from_file_location("toy_family", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["toy_family"] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules["toy_family"]
    OPS.pop("toy_cube")
    PRIMITIVES.pop("toy_cube")
    SAMPLES.pop("toy_cube", None)
    for name in ("toy_cube", "toy_cube_"):
        delattr(ember.Tensor, name)
    del ember.toy_cube


def test_a_toy_op_declared_by_the_recipe_is_complete(toy_module) -> None:
    assert inspect.unwrap(ember.toy_cube) is toy_module.toy_cube  # exported behind one wrapper
    assert inspect.ismethod(ember.tensor([2.0]).toy_cube)
    x = ember.tensor([1.0, -2.0])
    x.toy_cube_()
    assert x.tolist() == [1.0, -8.0]
    assert OPS["toy_cube"].primitive.formula == "d/dx x^3 = 3 x^2"

    def call(m, x):
        return m.toy_cube(x) if m is ember else torch.pow(x, 3)

    info = op("toy_cube", call, unary(), "toy")
    test_every_sample_names_an_op()
    for dtype in info.dtypes:
        for sample in sample_list(info, dtype):
            check_op(info, sample, dtype)
