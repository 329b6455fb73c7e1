"""Bad inputs at public entry points: torch's exception class and a message naming the op and values.

Each row runs ``call(lib)`` with ``lib`` = ember and ``lib`` = torch. Both must raise the
expected class (so the table stays honest about what torch does); Ember's message must contain
every fragment listed, which name the op and the offending values or shapes.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember import backend


def _ones(L, *shape, dtype=None):
    return L.ones(*shape, dtype=dtype)


def _linear(L, x):
    return L.nn.Linear(3, 4)(x)


def _backward_twice(L):
    x = L.ones(2, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _leaf_in_place(L):
    x = L.ones(2, requires_grad=True)
    x.add_(1)


def _int_add_float_in_place(L):
    x = L.ones(2, dtype=L.int64)
    x.add_(1.5)


def _set_wrong_shape(L):
    x = L.zeros(2, 3)
    x[0] = L.ones(4)


def _modified_after_save(L):
    x = L.ones(3, requires_grad=True)
    y = x * 2
    z = y.sin()  # sin saves its input for backward
    y.add_(1)
    z.sum().backward()


CASES = [
    # ------------------------------------------------------------------ wrong types
    ("add str", lambda L: L.add(L.ones(2), "a"), TypeError, ["add", "other", "str"]),
    ("exp list", lambda L: L.exp([1.0, 2.0]), TypeError, ["exp", "input", "list"]),
    ("matmul int", lambda L: L.matmul(L.ones(2, 2), 3), TypeError, ["matmul", "other", "int"]),
    ("maximum float", lambda L: L.maximum(L.ones(2), 1.0), TypeError, ["maximum", "other", "float"]),
    ("eq number first", lambda L: L.eq(1, L.ones(2)), TypeError, ["eq", "input", "int"]),
    ("zeros str", lambda L: L.zeros("3"), TypeError, ["zeros", "str"]),
    ("tensor str", lambda L: L.tensor("abc"), TypeError, ["tensor", "str"]),
    ("cat tensor", lambda L: L.cat(L.ones(2)), TypeError, ["cat", "tensors", "Tensor"]),
    ("reshape str", lambda L: L.ones(6).reshape(2, "3"), TypeError, ["reshape", "str"]),
    ("sum dim str", lambda L: L.ones(2, 3).sum(dim="a"), TypeError, ["sum", "dim", "str"]),
    ("device float", lambda L: L.device(3.5), TypeError, ["device", "3.5"]),
    ("index float tensor", lambda L: L.ones(3)[L.tensor([0.0])], IndexError,
     ["tensors used as indices must be long, int, byte or bool"]),
    ("operator str", lambda L: L.ones(2) + "a", TypeError, ["+", "Tensor", "str"]),
    # ------------------------------------------------------------------ shapes
    ("add broadcast", lambda L: L.add(L.ones(2, 3), L.ones(4)), RuntimeError,
     ["add", "size of tensor a (3)", "size of tensor b (4)", "dimension 1"]),
    ("matmul shapes", lambda L: L.matmul(L.ones(2, 3), L.ones(4, 5)), RuntimeError,
     ["mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"]),
    ("reshape size", lambda L: L.ones(6).reshape(4, 2),
     RuntimeError, ["shape '[4, 2]' is invalid", "size 6"]),
    ("view two -1", lambda L: L.ones(6).view(-1, -1), RuntimeError, ["only one dimension can be inferred"]),
    ("expand", lambda L: L.ones(2, 3).expand(4, 3),
     RuntimeError, ["expanded size", "(4)", "existing size (2)"]),
    ("cat sizes", lambda L: L.cat([L.ones(2, 3), L.ones(2, 4)]), RuntimeError,
     ["Sizes of tensors must match except in dimension 0", "[2, 4]"]),
    ("stack sizes", lambda L: L.stack([L.ones(2), L.ones(3)]), RuntimeError,
     ["stack expects each tensor to be equal size", "[2]", "[3]"]),
    ("bmm 2D", lambda L: L.bmm(L.ones(2, 3), L.ones(3, 2)), RuntimeError, ["batch1 must be a 3D tensor"]),
    ("dot 2D", lambda L: L.dot(L.ones(2, 2), L.ones(2)), RuntimeError, ["1D tensors expected", "2D"]),
    ("linear in_features", lambda L: _linear(L, L.ones(2, 5)), RuntimeError,
     ["mat1 and mat2 shapes cannot be multiplied (2x5 and 3x4)"]),
    ("backward non-scalar", lambda L: (L.ones(2, requires_grad=True) * 2).backward(), RuntimeError,
     ["grad can be implicitly created only for scalar outputs"]),
    ("backward grad shape", lambda L: (L.ones(2, requires_grad=True) * 2).backward(L.ones(3)),
     RuntimeError, ["Mismatch in shape", "[3]", "[2]"]),
    ("setitem shape", _set_wrong_shape, RuntimeError, ["[4]", "[3]"]),
    ("permute length", lambda L: L.ones(2, 3).permute(0), RuntimeError, ["permute", "2", "1"]),
    ("split sizes", lambda L: L.ones(5).split([2, 2]),
     RuntimeError, ["split_with_sizes", "sum exactly to 5"]),
    # ------------------------------------------------------------------ dtypes
    ("int requires grad", lambda L: L.ones(3, dtype=L.int64).requires_grad_(), RuntimeError,
     ["only Tensors of floating point dtype can require gradients"]),
    ("tensor int grad", lambda L: L.tensor([1, 2], requires_grad=True), RuntimeError,
     ["only Tensors of floating point dtype can require gradients"]),
    ("zeros long grad", lambda L: L.zeros(2, dtype=L.int64, requires_grad=True), RuntimeError,
     ["only Tensors of floating point dtype can require gradients"]),
    ("matmul dtypes", lambda L: L.matmul(L.ones(2, 2), L.ones(2, 2, dtype=L.float64)), RuntimeError,
     ["expected m1 and m2 to have the same dtype"]),
    ("mean of ints", lambda L: L.ones(3, dtype=L.int64).mean(), RuntimeError,
     ["mean(): could not infer output dtype", "Long"]),
    ("bitwise floats", lambda L: L.bitwise_and(L.ones(2), L.ones(2)), NotImplementedError,
     ["bitwise_and", "Float"]),
    ("where int cond", lambda L: L.where(L.tensor([1, 0]), L.ones(2), L.zeros(2)), RuntimeError,
     ["where expected condition to be a boolean tensor", "Long"]),
    ("gather float index", lambda L: L.gather(L.ones(3), 0, L.tensor([0.0])), RuntimeError,
     ["gather", "Expected dtype int64 for index"]),
    ("int add_ float", _int_add_float_in_place, RuntimeError,
     ["result type Float can't be cast to the desired output type Long"]),
    ("sub bools", lambda L: L.tensor([True]) - L.tensor([False]), RuntimeError,
     ["Subtraction, the `-` operator, with two bool tensors"]),
    ("var of ints", lambda L: L.tensor([1, 2]).var(),
     RuntimeError, ["std and var only support floating point"]),
    ("softmax of ints", lambda L: L.tensor([1, 2]).softmax(0), NotImplementedError, ["softmax", "Long"]),
    ("value overflow", lambda L: L.full((2,), 1e300), RuntimeError,
     ["full", "1e+300", "cannot be converted to type float without overflow"]),
    # ------------------------------------------------------------------ dims and indices
    ("sum dim", lambda L: L.ones(2, 3).sum(dim=2), IndexError,
     ["sum", "Dimension out of range", "[-2, 1]", "got 2"]),
    ("index too big", lambda L: L.ones(3)[5],
     IndexError, ["index 5 is out of bounds for dimension 0 with size 3"]),
    ("too many indices", lambda L: L.ones(2, 2)[0, 0, 0],
     IndexError, ["too many indices for tensor of dimension 2"]),
    ("index tensor too big", lambda L: L.ones(2, 3)[:, L.tensor([0, 7])], IndexError,
     ["index 7 is out of bounds for dimension 1 with size 3"]),
    ("mask shape", lambda L: L.ones(2, 3)[L.tensor([True, False, True])], IndexError,
     ["mask [3]", "[2, 3]"]),
    ("transpose dim", lambda L: L.ones(2, 3).transpose(0, 3),
     IndexError, ["transpose", "Dimension out of range", "got 3"]),
    ("softmax dim", lambda L: L.ones(2, 3).softmax(3),
     IndexError, ["softmax", "Dimension out of range", "got 3"]),
    ("unsqueeze dim", lambda L: L.ones(2).unsqueeze(5),
     IndexError, ["unsqueeze", "Dimension out of range", "got 5"]),
    ("narrow length", lambda L: L.ones(4).narrow(0, 2, 3),
     RuntimeError, ["narrow", "start (2) + length (3) exceeds dimension size (4)"]),
    ("gather index range", lambda L: L.gather(L.ones(3), 0, L.tensor([5])), RuntimeError,
     ["gather", "index 5 is out of bounds for dimension 0 with size 3"]),
    ("index_select range", lambda L: L.index_select(L.ones(3, dtype=L.int64), 0, L.tensor([3])), IndexError,
     ["index_select", "3", "size 3"]),
    ("chunk zero", lambda L: L.ones(3).chunk(0),
     RuntimeError, ["chunk expects `chunks` to be greater than 0, got: 0"]),
    ("flatten order", lambda L: L.ones(2, 3).flatten(1, 0),
     RuntimeError, ["flatten", "start_dim cannot come after end_dim"]),
    ("slice step", lambda L: L.ones(3)[::-1], ValueError, ["step must be greater than zero", "-1"]),
    # ------------------------------------------------------------------ negative sizes and ranges
    ("zeros negative", lambda L: L.zeros(-1), RuntimeError, ["negative dimension -1"]),
    ("randn negative", lambda L: L.randn(2, -3), RuntimeError, ["negative dimension -3", "[2, -3]"]),
    ("empty negative", lambda L: L.empty(2, -1), RuntimeError, ["negative dimension -1"]),
    ("full negative", lambda L: L.full((-1,), 1.0), RuntimeError, ["negative dimension -1"]),
    ("reshape negative", lambda L: L.ones(6).reshape(-2, 3),
     RuntimeError, ["reshape", "invalid shape dimension -2"]),
    ("repeat negative", lambda L: L.ones(2).repeat(-1), RuntimeError, ["repeat", "negative dimension -2"]),
    ("arange zero step", lambda L: L.arange(0, 10, 0), RuntimeError, ["arange", "step must be nonzero"]),
    ("arange sign", lambda L: L.arange(10, 0),
     RuntimeError, ["arange", "inconsistent with step sign", "start=10"]),
    ("linspace steps", lambda L: L.linspace(0, 1, -1),
     RuntimeError, ["linspace", "number of steps must be non-negative"]),
    ("eye negative", lambda L: L.eye(-1), RuntimeError, ["eye", "-1"]),
    ("randint range", lambda L: L.randint(5, 2, (3,)), RuntimeError, ["from=5", "to=2"]),
    ("randperm negative", lambda L: L.randperm(-1), RuntimeError, ["randperm", "-1"]),
    # ------------------------------------------------------------------ devices
    ("device name", lambda L: L.device("gpu"), RuntimeError, ["Expected one of cpu, cuda", "gpu"]),
    ("device index", lambda L: L.device("cuda:x"), RuntimeError, ["Invalid device string", "cuda:x"]),
    # ------------------------------------------------------------------ autograd misuse
    ("backward twice", _backward_twice, RuntimeError, ["Trying to backward through the graph a second time"]),
    ("leaf in place", _leaf_in_place, RuntimeError, ["a leaf Variable that requires grad", "in-place"]),
    ("modified saved", _modified_after_save, RuntimeError,
     ["modified by an inplace operation", "SinBackward0", "version"]),
    ("numpy of grad", lambda L: L.ones(2, requires_grad=True).numpy(), RuntimeError,
     ["Can't call numpy() on Tensor that requires grad"]),
    ("item of many", lambda L: L.ones(2).item(),
     RuntimeError, ["a Tensor with 2 elements cannot be converted to Scalar"]),
    ("bool of many", lambda L: bool(L.ones(2)),
     RuntimeError, ["Boolean value of Tensor with more than one value is ambiguous"]),
]


@pytest.mark.parametrize("call, error, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, error, fragments):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error) as info:
        call(ember)
    message = str(info.value)
    missing = [f for f in fragments if f not in message]
    assert not missing, f"Ember's message {message!r} lacks {missing}"
    assert "ndarray" not in message and "np." not in message  # never NumPy's own words


def test_table_is_big_enough():
    assert len(CASES) >= 40


# ---------------------------------------------------------------------------- devices without a GPU


class _FakeCudaArray:
    """Stands for a CuPy array on cuda:0: shape and dtype like the host array it wraps, and no
    array arithmetic (an op must refuse it before computing), to test device checks without a GPU."""

    def __init__(self, host: np.ndarray) -> None:
        self.host = host
        self.shape, self.dtype, self.ndim, self.size = host.shape, host.dtype, host.ndim, host.size


@pytest.fixture
def fake_cuda(monkeypatch):
    """Make backend.device_of report cuda:0 for _FakeCudaArray (no CuPy or GPU needed)."""
    real = backend.device_of
    monkeypatch.setattr(backend, "device_of",
                        lambda a: backend.device("cuda", 0) if isinstance(a, _FakeCudaArray) else real(a))
    return lambda t: ember.Tensor._make(_FakeCudaArray(t._data))


def test_module_for_names_op_and_devices(fake_cuda):
    a = np.ones(2)
    b = _FakeCudaArray(np.ones(2))
    with pytest.raises(RuntimeError) as info:
        backend.module_for([a, b], "add")
    msg = str(info.value)
    assert "Expected all tensors to be on the same device" in msg
    assert "cuda:0" in msg and "cpu" in msg and "(in add)" in msg


@pytest.mark.parametrize("op", ["add", "mul", "matmul", "where"])
def test_ops_refuse_mixed_devices(fake_cuda, op):
    x = ember.ones(2, 2)
    y = fake_cuda(ember.ones(2, 2))
    calls = {"add": lambda: ember.add(x, y), "mul": lambda: x * y, "matmul": lambda: x @ y,
             "where": lambda: ember.where(ember.ones(2, 2, dtype=ember.bool), x, y)}
    with pytest.raises(RuntimeError, match=r"same device.*cuda:0.*cpu"):
        calls[op]()


def test_cuda_without_cupy_says_how_to_get_it():
    if backend.cuda_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="CuPy"):
        ember.ones(2, device="cuda")
