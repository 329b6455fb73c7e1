"""Legacy names, ``ember.functional``, devices, threads and memory formats, checked against torch."""
from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest
import torch

import ember

LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
          "ByteTensor", "CharTensor", "BoolTensor"]


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_tensor_types_construct_cast_and_test_as_torch(name):
    def run(lib):
        T = getattr(lib, name)
        made = [T([1, 0, 2]), T(2, 3), T(), T([[1, 2]])]
        x = lib.tensor([1.5, 0.0, -2.0])
        cast = [x.type(T), x.type(f"torch.{name}")]
        return ([(str(t.dtype).split(".")[1], tuple(t.shape)) for t in made],
                [(str(t.dtype).split(".")[1], t.tolist()) for t in cast],
                isinstance(cast[0], T), isinstance(x, T), cast[0].type().split(".")[1])

    assert run(ember) == run(torch)


def test_legacy_type_refuses_another_dtype_and_set_default_tensor_type():
    for lib in (ember, torch):
        with pytest.raises(TypeError):
            lib.FloatTensor(lib.ones(2, dtype=lib.int64))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lib.set_default_tensor_type(lib.DoubleTensor)
            try:
                assert lib.tensor([1.0]).dtype == lib.float64
                with pytest.raises(TypeError, match="only floating-point types"):
                    lib.set_default_tensor_type("torch.LongTensor")
            finally:
                lib.set_default_tensor_type("torch.FloatTensor")
        assert lib.get_default_dtype() == lib.float32
    with pytest.warns(UserWarning, match="deprecated as of PyTorch 2.1"):
        ember.set_default_tensor_type(ember.FloatTensor)


FUNCTIONAL = {
    "block_diag": lambda lib, F: F.block_diag(lib.tensor([[1.0, 2], [3, 4]]), lib.tensor([5.0, 6, 7]),
                                              lib.tensor(8.0)),
    "cartesian_prod": lambda lib, F: F.cartesian_prod(lib.tensor([1, 2]), lib.tensor([3, 4, 5])),
    "atleast_3d": lambda lib, F: [t.shape for t in F.atleast_3d(lib.tensor(1.0), lib.ones(2),
                                                                lib.ones(2, 3), lib.ones(1, 2, 3, 4))],
    "atleast_2d": lambda lib, F: F.atleast_2d(lib.ones(3)).shape,
    "broadcast_shapes": lambda lib, F: F.broadcast_shapes((2, 1), (3, 1, 4), 4),
    "cdist": lambda lib, F: F.cdist(lib.tensor([[0.0, 0], [3, 4]]),
                                    lib.tensor([[0.0, 0], [1, 1], [2, 5]]), p=1.5),
    "unravel_index": lambda lib, F: F.unravel_index(lib.tensor([4, 1, 5, -1]), (2, 3)),
    "unique": lambda lib, F: F.unique(lib.tensor([3, 1, 3, 2, 1, 1]), return_inverse=True,
                                      return_counts=True),
    "unique_dim": lambda lib, F: F.unique(lib.tensor([[1, 2], [3, 4], [1, 2]]), return_inverse=True, dim=0),
    "unique_consecutive": lambda lib, F: F.unique_consecutive(lib.tensor([3, 3, 1, 1, 1, 3]),
                                                              return_inverse=True, return_counts=True),
    "unique_consecutive_dim": lambda lib, F: F.unique_consecutive(
        lib.tensor([[1, 2], [1, 2], [3, 4], [1, 2]]), return_counts=True, dim=0),
    "einsum": lambda lib, F: F.einsum("ij,jk->ik", lib.ones(2, 3), lib.ones(3, 2)),
    "split": lambda lib, F: F.split(lib.arange(5), 2),
    "meshgrid": lambda lib, F: F.meshgrid(lib.arange(2), lib.arange(3), indexing="xy"),
    "norm": lambda lib, F: F.norm(lib.tensor([3.0, 4.0])),
}


def _plain(v):
    if hasattr(v, "tolist"):
        return v.tolist()
    if isinstance(v, (tuple, list)):
        return [_plain(u) for u in v]
    return v


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_functional_module_matches_torch(name):
    got = FUNCTIONAL[name](ember, importlib.import_module("ember.functional"))
    want = FUNCTIONAL[name](torch, importlib.import_module("torch.functional"))
    g, w = _plain(got), _plain(want)
    assert str(g) == str(w) or np.allclose(np.asarray(g, dtype=float), np.asarray(w, dtype=float))


def test_cdist_gradient_matches_torch_including_zero_distance():
    grads = []
    for lib in (ember, torch):
        x = lib.tensor([[0.0, 0.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=lib.float64)
        lib.functional.cdist(x, y).sum().backward()
        grads.append(x.grad.tolist())
    np.testing.assert_allclose(grads[0], grads[1])


def test_default_device_and_device_context():
    assert ember.get_default_device() == ember.device("cpu")
    with ember.device("cpu"):
        assert ember.ones(2).device == ember.device("cpu")
    ember.set_default_device("cpu")
    try:
        assert ember.tensor([1.0]).device.type == "cpu" and ember.randn(2).device.type == "cpu"
    finally:
        ember.set_default_device(None)
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        ember.set_default_device("tpu")


def test_accelerator_without_a_gpu_answers_as_torch_on_a_cpu():
    if ember.cuda.is_available():
        pytest.skip("a GPU is present")
    assert ember.accelerator.is_available() is False
    assert ember.accelerator.current_accelerator() is None
    assert ember.accelerator.device_count() == 0
    for call in (ember.accelerator.current_device_index, ember.accelerator.synchronize,
                 lambda: ember.accelerator.set_device_index(0)):
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none"):
            call()
    assert ember.cuda.is_bf16_supported() is False


def test_set_num_threads_sets_blas_threads():
    pytest.importorskip("threadpoolctl")
    from threadpoolctl import threadpool_info

    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1
        assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")
    finally:
        ember.set_num_threads(before)
    for bad in (0, -1, 1.5):
        with pytest.raises(RuntimeError, match="set_num_threads expects a positive integer"):
            ember.set_num_threads(bad)
    assert ember.get_num_interop_threads() >= 1


def test_memory_format_strides_as_torch():
    def run(lib):
        x = lib.arange(120.0).reshape(2, 3, 4, 5)
        y = x.to(memory_format=lib.channels_last)
        z = x.contiguous(memory_format=lib.channels_last)
        return (y.stride(), y.is_contiguous(), y.is_contiguous(memory_format=lib.channels_last),
                y.contiguous().stride(), z.stride(), (y + 1).shape, y.tolist() == x.tolist())

    assert run(ember) == run(torch)
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
            lib.ones(2, 3).contiguous(memory_format=lib.channels_last)
    strides = [lib.nn.Conv2d(3, 8, 3).to(memory_format=lib.channels_last).weight.stride()
               for lib in (ember, torch)]
    assert strides[0] == strides[1]
    x = ember.randn(2, 3, 4, 5, requires_grad=True)
    (x.to(memory_format=ember.channels_last) * 2).sum().backward()
    assert x.grad.tolist() == (ember.ones(2, 3, 4, 5) * 2).tolist()


@pytest.mark.cuda
@pytest.mark.skipif(not ember.backend.cuda_available(), reason="CUDA needs CuPy and a GPU")
def test_default_device_cuda_and_accelerator():
    ember.set_default_device("cuda")
    try:
        assert ember.get_default_device() == ember.device("cuda", 0)
        made = [ember.ones(2), ember.tensor([1.0]), ember.randn(2), ember.arange(3), ember.tensor(2.0)]
        assert all(t.device.type == "cuda" for t in made)
        with ember.device("cpu"):
            assert ember.zeros(1).device.type == "cpu"
        assert ember.Generator().device.type == "cpu"  # a generator's default stays the CPU
    finally:
        ember.set_default_device(None)
    assert ember.ones(1).device.type == "cpu"
    assert ember.accelerator.is_available() and ember.accelerator.device_count() >= 1
    assert ember.accelerator.current_accelerator() == ember.device("cuda")
    assert ember.accelerator.current_device_index() == 0
    ember.accelerator.set_device_index(0)
    ember.accelerator.synchronize()
    x = ember.randn(2, 3, 4, 5, device="cuda").to(memory_format=ember.channels_last)
    assert x.is_contiguous(memory_format=ember.channels_last) and x.device.type == "cuda"
