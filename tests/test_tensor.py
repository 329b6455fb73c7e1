"""The Tensor and the creation functions, against torch: attributes, repr, conversions, errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

# ---------------------------------------------------------------------------- attributes


@pytest.mark.parametrize("data, dtype", [
    (1.5, "float32"), ([1.0, 2.0], "float32"), (3, "int64"), ([[1, 2]], "int64"),
    (True, "bool"), ([True, False], "bool"), ([1, 2.5], "float32"), ([], "float32"),
])
def test_default_dtypes_follow_torch(data, dtype: str) -> None:
    assert str(ember.tensor(data).dtype) == f"ember.{dtype}"
    assert str(torch.tensor(data).dtype) == f"torch.{dtype}"


def test_float64_on_request_and_from_numpy_arrays() -> None:
    assert ember.tensor([1.0], dtype=ember.float64).dtype == ember.float64
    assert ember.tensor(np.zeros(2)).dtype == ember.float64
    assert ember.tensor(np.zeros(2, dtype=np.int32)).dtype == ember.int32


def test_shape_size_ndim_numel_device() -> None:
    x = ember.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4)
    assert x.size(1) == 3 and x.size(-1) == 4
    assert x.ndim == 3 and x.dim() == 3
    assert x.numel() == 24 and len(x) == 2
    assert x.device == ember.device("cpu") and str(x.device) == "cpu"
    assert repr(x.shape) == "ember.Size([2, 3, 4])"
    with pytest.raises(IndexError):
        x.size(3)


def test_grad_attributes_of_leaves_and_results() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert x.is_leaf and x.grad is None and x.grad_fn is None
    assert not y.is_leaf and y.requires_grad and y.grad_fn.name() == "MulBackward0"
    z = ember.tensor([1.0])
    assert z.is_leaf and not z.requires_grad


def test_item_tolist_len_iteration() -> None:
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert ember.tensor(2.5).item() == 2.5
    assert isinstance(ember.tensor(3).item(), int)
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert ember.tensor(7).tolist() == 7
    assert [row.tolist() for row in x] == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        x.item()
    with pytest.raises(TypeError, match="0-d"):
        len(ember.tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(ember.tensor(1.0)).__next__()


def test_numpy_refuses_tensors_that_require_grad_as_torch() -> None:
    x = ember.tensor([1.0], requires_grad=True)
    t = torch.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError) as want:
        t.numpy()
    with pytest.raises(RuntimeError) as got:
        x.numpy()
    assert str(got.value) == str(want.value)
    assert x.detach().numpy().tolist() == [1.0]


def test_detach_shares_memory_and_leaves_the_graph() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 1).detach()
    assert not d.requires_grad and d.grad_fn is None
    x_d = x.detach()
    x_d[0] = 5.0
    assert x.tolist() == [5.0, 2.0]


def test_clone_copies_and_stays_in_the_graph() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn is not None
    c.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    d = x.detach().clone()
    d[0] = 9.0
    assert x.tolist() == [1.0, 2.0]


def test_contiguous() -> None:
    x = ember.arange(6.0).reshape(2, 3).t()
    assert not x.is_contiguous()
    y = x.contiguous()
    assert y.is_contiguous() and y.tolist() == x.tolist()
    assert y.contiguous() is y


@pytest.mark.parametrize("method, dtype", [
    ("float", "float32"), ("double", "float64"), ("long", "int64"), ("int", "int32"), ("bool", "bool"),
])
def test_cast_methods(method: str, dtype: str) -> None:
    data = [[1.7, -2.2], [0.0, 3.5]]
    got = getattr(ember.tensor(data), method)()
    want = getattr(torch.tensor(data), method)()
    assert str(got.dtype) == f"ember.{dtype}"
    assert got.tolist() == want.tolist()


def test_to_dtype_device_and_type_as() -> None:
    x = ember.tensor([1.5, 2.5])
    assert x.to(ember.float64).dtype == ember.float64
    assert x.to("cpu") is x and x.cpu() is x
    assert x.to("cpu", ember.int64).tolist() == [1, 2]
    assert x.to(dtype=ember.int32).dtype == ember.int32
    assert x.type_as(ember.tensor([1])).dtype == ember.int64
    assert x.to(ember.tensor([1.0], dtype=ember.float64)).dtype == ember.float64


def test_casts_are_differentiable_between_floats() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == ember.float32 and x.grad.tolist() == [3.0, 3.0]


# ---------------------------------------------------------------------------- repr

REPRS = [
    "m.tensor([1., 2.])", "m.tensor([1., 2.], requires_grad=True)", "m.tensor([[1.5, -2.25], [3., 4.]])",
    "m.tensor(3.5)", "m.tensor(3)", "m.tensor([1, 2, 3])", "m.tensor([True, False])",
    "m.tensor([1., 2.], dtype=m.float64)", "m.tensor([1e10, 1.])", "m.tensor([1e-5, 1.])",
    "m.tensor([])", "m.zeros(2, 0)", "m.tensor([1, 2], dtype=m.int32)",
    "m.tensor([1., 2.], requires_grad=True) * 2", "m.arange(2000.)", "m.arange(30.).reshape(3, 10) / 7",
    "m.tensor([float('nan'), float('inf'), -float('inf'), 1.])", "m.tensor([[1, -200], [3, 4]])",
    "m.tensor([1.123456789, 100.5])", "m.tensor(-0.0)", "m.tensor([123456.7, 0.5])", "m.arange(10000)",
    "m.tensor([[[1., 2.], [3., 4.]], [[5., 6.], [7., 8.]]])", "m.tensor([1., 2.], dtype=m.float16)",
    "m.tensor(2., requires_grad=True).exp()", "m.tensor([1e-10, 1e10])", "m.tensor([1., 2.]).sum()",
    "m.tensor([1.5e8, 1.])", "m.arange(12.).reshape(3, 4)[:, 1:]", "m.ones(2, 3, dtype=m.bool)",
    "m.tensor([[1, 2], [3, 4]], dtype=m.uint8)", "m.zeros(2, 0, 3)", "m.linspace(0, 1, 7)",
    "m.arange(3000.).reshape(100, 30) / 3", "m.tensor([], dtype=m.float64)",
    "m.arange(40., dtype=m.float64).reshape(2, 20) * 1.5",
    "m.tensor([[0.1, 0.2], [0.3, 0.4]], dtype=m.float64, requires_grad=True).sum()",
]


@pytest.mark.parametrize("expr", REPRS)
def test_repr_matches_torch(expr: str) -> None:
    want = repr(eval(expr, {"m": torch})).replace("torch.", "ember.")
    assert repr(eval(expr, {"m": ember})) == want


def test_print_options() -> None:
    try:
        ember.set_printoptions(precision=2)
        assert repr(ember.tensor([1.23456])) == "tensor([1.23])"
    finally:
        ember.set_printoptions(profile="default")
    assert repr(ember.tensor([1.23456])) == "tensor([1.2346])"


# ---------------------------------------------------------------------------- creation


def test_from_numpy_shares_memory_both_ways() -> None:
    a = np.arange(3.0)
    t = ember.from_numpy(a)
    a[0] = 10.0
    assert t[0].item() == 10.0
    t[1] = 20.0
    assert a[1] == 20.0
    assert t.numpy() is a or np.shares_memory(t.numpy(), a)
    with pytest.raises(TypeError):
        ember.from_numpy([1, 2])


def test_as_tensor_shares_when_it_can_and_tensor_copies() -> None:
    a = np.ones(2)
    shared = ember.as_tensor(a)
    copied = ember.tensor(a)
    a[0] = 5.0
    assert shared[0].item() == 5.0 and copied[0].item() == 1.0
    assert ember.as_tensor(a, dtype=ember.float32).dtype == ember.float32


@pytest.mark.parametrize("expr", [
    "m.zeros(2, 3)", "m.zeros((2, 3), dtype=m.int64)", "m.ones(4)", "m.ones([2, 2], dtype=m.float64)",
    "m.full((2, 2), 7)", "m.full((2,), 1.5)", "m.full((1,), True)", "m.eye(3)", "m.eye(2, 3)",
    "m.arange(5)", "m.arange(1, 4)", "m.arange(0, 1, 0.25)", "m.arange(5.0)", "m.arange(10, 0, -3)",
    "m.linspace(0, 1, 5)", "m.linspace(-1, 1, 1)", "m.empty(2, 3).shape",
    "m.zeros_like(m.ones(2, dtype=m.int32))", "m.ones_like(m.zeros(2, 2))", "m.full_like(m.zeros(3), 2.5)",
    "m.empty_like(m.zeros(2, 3, dtype=m.float64)).shape", "m.zeros(0, 3)",
])
def test_creation_matches_torch(expr: str) -> None:
    got = eval(expr, {"m": ember})
    want = eval(expr, {"m": torch})
    if isinstance(want, torch.Tensor):
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    else:
        assert tuple(got) == tuple(want)


def test_creation_keywords() -> None:
    x = ember.zeros(2, dtype=ember.float64, device="cpu", requires_grad=True)
    assert x.dtype == ember.float64 and x.device.type == "cpu" and x.requires_grad and x.is_leaf
    for fn in (ember.ones, ember.rand, ember.randn, ember.empty):
        t = fn(2, 3, dtype=ember.float64, requires_grad=True)
        assert t.shape == (2, 3) and t.dtype == ember.float64 and t.requires_grad
    assert ember.tensor([1.0], requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="negative dimension"):
        ember.zeros(-1)


def test_random_shapes_dtypes_and_ranges() -> None:
    ember.manual_seed(0)
    u = ember.rand(1000)
    assert u.dtype == ember.float32 and 0 <= u.min().item() and u.max().item() < 1
    n = ember.randn(2000, dtype=ember.float64)
    assert abs(n.mean().item()) < 0.1 and abs(n.std().item() - 1) < 0.1
    r = ember.randint(3, 7, (500,))
    assert r.dtype == ember.int64 and set(r.tolist()) == {3, 4, 5, 6}
    assert ember.randint(5, (2, 2)).shape == (2, 2)
    p = ember.randperm(10)
    assert p.dtype == ember.int64 and sorted(p.tolist()) == list(range(10))
    assert ember.rand_like(ember.zeros(2, 3)).shape == (2, 3)
    assert ember.randn_like(ember.zeros(2, dtype=ember.float64)).dtype == ember.float64


def test_manual_seed_makes_random_streams_repeat() -> None:
    def draw():
        ember.manual_seed(1234)
        return ember.rand(3).tolist(), ember.randn(2, 2).tolist(), ember.randint(0, 100, (4,)).tolist()

    first = draw()
    assert draw() == first
    ember.manual_seed(4321)
    assert ember.rand(3).tolist() != first[0]
    first_gen, second_gen = ember.Generator().manual_seed(7), ember.Generator().manual_seed(7)
    assert ember.rand(2, generator=first_gen).tolist() == ember.rand(2, generator=second_gen).tolist()


# ---------------------------------------------------------------------------- indexing


def test_getitem_and_setitem_basic_and_advanced() -> None:
    data = np.arange(12.0).reshape(3, 4)
    e, t = ember.tensor(data), torch.tensor(data)
    for idx in [(1,), (slice(None), 2), (Ellipsis, -1), ([0, 2],), (torch.tensor([True, False, True]),)]:
        e_idx = tuple(ember.tensor(i.numpy()) if isinstance(i, torch.Tensor) else i for i in idx)
        assert e[e_idx].tolist() == t[idx].tolist()
    e[0, 1:3] = ember.tensor([-1.0, -2.0])
    t[0, 1:3] = torch.tensor([-1.0, -2.0], dtype=torch.float64)
    e[e > 8] = 0.0
    t[t > 8] = 0.0
    assert e.tolist() == t.tolist()
    with pytest.raises(IndexError):
        e[3]


# ---------------------------------------------------------------------------- errors


def test_broadcast_error_names_the_op_and_both_shapes() -> None:
    with pytest.raises(RuntimeError) as err:
        ember.ones(2, 3) + ember.ones(4)
    msg = str(err.value)
    assert "add" in msg and "[2, 3]" in msg and "[4]" in msg
    assert "must match the size of tensor b" in msg


def test_matmul_error_names_the_op_and_both_shapes() -> None:
    with pytest.raises(RuntimeError) as err:
        ember.ones(2, 3) @ ember.ones(4, 5)
    msg = str(err.value)
    assert "matmul" in msg and "2x3" in msg and "4x5" in msg
    with pytest.raises(RuntimeError, match="matmul"):
        ember.matmul(ember.ones(2, 2, 3), ember.ones(3, 3, 2))


def test_int_tensors_cannot_require_grad() -> None:
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        ember.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        ember.zeros(2, dtype=ember.int64).requires_grad_()
    with pytest.raises(RuntimeError):
        torch.zeros(2, dtype=torch.int64).requires_grad_()


def test_inplace_on_a_leaf_that_requires_grad_is_refused_outside_no_grad() -> None:
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x[0] = 3.0
    with ember.no_grad():
        x.add_(1)
        x.mul_(2)
    assert x.tolist() == [4.0, 4.0] and x.grad_fn is None


@pytest.mark.parametrize("name, args, result", [
    ("add_", (ember.tensor([1.0, 2.0]),), [2.0, 4.0]),
    ("sub_", (1.0,), [0.0, 1.0]),
    ("mul_", (ember.tensor(3.0),), [3.0, 6.0]),
    ("div_", (2,), [0.5, 1.0]),
    ("clamp_", (1.5, None), [1.5, 2.0]),
    ("fill_", (7,), [7.0, 7.0]),
    ("zero_", (), [0.0, 0.0]),
    ("copy_", (ember.tensor([5.0, 6.0]),), [5.0, 6.0]),
])
def test_inplace_ops_keep_memory_and_bump_the_version(name: str, args: tuple, result: list) -> None:
    x = ember.tensor([1.0, 2.0])
    before = x._version
    data = x.numpy()
    assert getattr(x, name)(*args) is x
    assert x.tolist() == result and x._version > before
    assert np.shares_memory(x.numpy(), data)


def test_requires_grad_() -> None:
    x = ember.ones(2)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    y = ember.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_cuda_module_is_safe_without_a_gpu() -> None:
    if ember.cuda.is_available():
        pytest.skip("a GPU is present")
    assert ember.cuda.device_count() == 0
    assert ember.cuda.memory_allocated() == 0
    ember.cuda.synchronize()
    ember.cuda.manual_seed_all(0)
    with pytest.raises(RuntimeError, match="CUDA"):
        ember.zeros(2, device="cuda")


def test_tensors_on_each_device(device: str) -> None:
    x = ember.tensor([1.0, 2.0], device=device, requires_grad=True)
    assert x.device.type == device
    (x * x).sum().backward()
    assert x.grad.device.type == device and x.grad.tolist() == [2.0, 4.0]


def test_legacy_type_names_and_casts_as_torch():
    for name, dtype in [("FloatTensor", "float32"), ("DoubleTensor", "float64"),
                        ("LongTensor", "int64"), ("BoolTensor", "bool"), ("ByteTensor", "uint8")]:
        e = ember.zeros(2, dtype=getattr(ember, dtype) if dtype != "bool" else ember.bool)
        t = torch.zeros(2, dtype=getattr(torch, dtype))
        assert e.type() == f"ember.{name}" and t.type() == f"torch.{name}"
        assert ember.typename(e) == e.type()
    x = ember.ones(2)
    assert x.type(ember.float64).dtype == ember.float64 and x.type(ember.float32) is x
    assert x.type("torch.IntTensor").dtype == ember.int32  # torch's strings, as written for torch
    with pytest.raises(RuntimeError, match="invalid type: 'torch.NopeTensor'"):
        x.type("torch.NopeTensor")
    assert ember.typename(ember.nn.Linear) == "ember.nn.modules.linear.Linear"


def test_strides_offsets_and_sizes_as_torch():
    def layout(L):
        x = L.zeros(4, 3, 2)
        v = x.permute(2, 0, 1)[1:, ::2]
        e = L.ones(3, 1).expand(3, 4)
        return (x.stride(), v.stride(), v.stride(-1), v.storage_offset(), e.stride(),
                x[1:, 1].storage_offset(), x.nbytes, x.itemsize, x.is_contiguous(), v.is_contiguous())

    assert layout(ember) == layout(torch)


def test_backends_switches_scripts_set():
    import ember.backends.cudnn as cudnn

    cudnn.benchmark = True  # accepted; Ember does not call cuDNN
    assert ember.backends.cudnn.benchmark and not ember.backends.cudnn.is_available()
    assert not ember.backends.mps.is_available()
    assert ember.backends.cuda.is_built() == (ember.backend.cuda_module_importable())
    device = "cuda" if ember.cuda.is_available() else "mps" if ember.backends.mps.is_available() \
        else "cpu"
    assert ember.zeros(1, device=device).device.type == device
