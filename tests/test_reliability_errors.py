"""Issue 15, root fixes: array-library failures become torch's exceptions naming the user's op,
tensor() refuses bad data as torch, errors name the op the user called, deep files are refused."""
import re

import numpy as np
import pytest
import torch

import ember
from test_reliability2 import _outcome, _same

NUMPY_WORDS = re.compile(r"numpy|ufunc|ndarray|remapped|gufunc|broadcast together|array is too big|"
                         r"inhomogeneous|str_|C long|Unable to allocate|\baxis\b", re.IGNORECASE)


def _clean(f):
    """``f`` raises on ember as on torch, and ember's message has no array-library wording."""
    e_cls, e_msg, _ = _outcome(ember, f)
    assert e_cls is not None and not NUMPY_WORDS.search(e_msg), e_msg
    return e_msg


# ---------------------------------------------------------------- shapes that do not fit
def test_products_and_copies_say_torch_words_not_numpys():
    m = _clean(lambda lib: lib.einsum("ij,jk->ik", lib.ones(2, 3), lib.ones(4, 5)))
    _same(lambda lib: lib.einsum("ij,jk->ik", lib.ones(2, 3), lib.ones(4, 5)),
          "einsum(): subscript j has size 4 for operand 1 which does not broadcast with "
          "previously seen size 3")
    _same(lambda lib: lib.einsum("ij,jk->ik", lib.ones(2, 1), lib.ones(4, 5)))  # size 1 broadcasts
    _same(lambda lib: lib.einsum("i...,...->i", lib.ones(2, 3), lib.ones(3)))
    _same(lambda lib: lib.tensordot(lib.ones(2, 3), lib.ones(4, 5), dims=1),
          "contracted dimensions need to match, but first has size 3 in dim -1 and second has "
          "size 4 in dim 0")
    _same(lambda lib: lib.tensordot(lib.ones(2, 3), lib.ones(3, 4), dims=([0], [1])),
          "first has size 2 in dim 0 and second has size 4 in dim 1")
    _same(lambda lib: lib.tensordot(lib.ones(2, 3), lib.ones(3, 4), dims=1))
    _same(lambda lib: lib.ones(2, 3).copy_(lib.ones(4)),
          "The size of tensor a (3) must match the size of tensor b (4) at non-singleton "
          "dimension 1")
    _same(lambda lib: lib.ones(3).copy_(lib.ones(2, 3)),
          "output with shape [3] doesn't match the broadcast shape [2, 3]")
    _same(lambda lib: lib.ones(2, 3).copy_(lib.ones(3)))
    _same(lambda lib: lib.linalg.solve(lib.ones(3, 3), lib.ones(4, 2)),
          "linalg.solve: Incompatible shapes of A and B for the equation AX = B (3x3 and 4x2)")
    _same(lambda lib: lib.linalg.solve(lib.ones(2, 3, 3), lib.ones(4)), "(3x3 and 4x1)")
    assert "einsum" in m


def test_a_failure_inside_an_array_call_names_the_users_op():
    from ember.array_errors import translate

    inputs = (ember.ones(2, 3), ember.ones(4, dtype=ember.int64))
    exc = ValueError("operands could not be broadcast together with remapped shapes "
                     "[original->remapped]: (2,3)->(2,newaxis,3)")
    err = translate(exc, "tensordot", inputs)
    assert type(err) is RuntimeError and not NUMPY_WORDS.search(str(err))
    assert str(err).startswith("tensordot(): ")
    assert "[2, 3] ember.float32, [4] ember.int64" in str(err)
    err = translate(np.exceptions.AxisError(3, 2), "sum", inputs)
    assert type(err) is IndexError and "axis" not in str(err)
    gufunc = ValueError("solve: Input operand 1 has a mismatch in its core dimension 0, with "
                        "gufunc "
                        "signature (m,m),(m,n)->(m,n) (size 4 is different from 3)")
    assert not NUMPY_WORDS.search(str(translate(gufunc, "linalg.solve", inputs)))


def test_the_op_named_is_the_outermost_public_op_running():
    from ember.ops.registry import user_op

    assert user_op("default") == "default"  # no op running
    # max(dim) runs argmax, which checks the dim: the message names max
    assert _outcome(ember, lambda lib: lib.ones(2, 0).max(dim=1))[1].startswith("max(): ")
    # tensordot runs einsum, whose array call fails: the message names tensordot
    def uneven(lib):
        return lib.tensordot(lib.ones(2, 3), lib.ones(3, 4), dims=([1], [0, 1]))

    e_msg, t_cls = _outcome(ember, uneven)[1], _outcome(torch, uneven)[0]
    assert t_cls is not None and "einsum" not in e_msg, e_msg


# ---------------------------------------------------------------- memory
def test_huge_sizes_are_torchs_runtime_error_naming_the_bytes():
    _same(lambda lib: lib.empty(2 ** 40, 2 ** 30),
          "Storage size calculation overflowed with sizes=[1099511627776, 1073741824]")
    _same(lambda lib: lib.ones(2 ** 62), "Storage size calculation overflowed")
    _same(lambda lib: lib.zeros(2 ** 40), "you tried to allocate 4398046511104 bytes")
    _same(lambda lib: lib.full((2 ** 40,), 1.0), "you tried to allocate 4398046511104 bytes")
    _same(lambda lib: lib.zeros(2 ** 40, dtype=lib.int8), "allocate 1099511627776 bytes")
    _same(lambda lib: lib.arange(2 ** 40), "you tried to allocate 8796093022208 bytes")
    _same(lambda lib: lib.randn(2 ** 40), "can't allocate memory")
    _same(lambda lib: lib.linspace(0, 1, 2 ** 40), "you tried to allocate 4398046511104 bytes")
    _same(lambda lib: lib.eye(2 ** 40))  # torch: an overflow of the element count
    # inside an op: the result the array library could not allocate
    _same(lambda lib: lib.ones(2 ** 20).expand(2 ** 20, 2 ** 20).contiguous(),
          "you tried to allocate 4398046511104 bytes")
    _same(lambda lib: lib.ones(2 ** 20).expand(2 ** 20, 2 ** 20) + 1, "4398046511104 bytes")
    _same(lambda lib: lib.ones(3).repeat(2 ** 40), "you tried to allocate 13194139533312 bytes")


# ---------------------------------------------------------------- tensor() from data
DATA = [
    ("a", "invalid data type 'str'"), (b"a", "invalid data type 'bytes'"),
    (["a"], "too many dimensions 'str'"), ([1, "a"], "invalid data type 'str'"),
    ([[1], ["a"]], "invalid data type 'str'"), (None, "Could not infer dtype of NoneType"),
    ([None], "Could not infer dtype of NoneType"), ([1, None], "Could not infer dtype of NoneType"),
    ({}, "Could not infer dtype of dict"), (object(), "Could not infer dtype of object"),
    (2 ** 70, "Overflow when unpacking long long"), ([2 ** 70], "Overflow when unpacking long"),
    (2 ** 63, "Overflow"), ([2 ** 63], "Overflow"), (2 ** 64 - 1, "Overflow"),
    ([True, 2 ** 70], "Overflow"),
    ([[1, 2], [3]], "expected sequence of length 2 at dim 1 (got 1)"),
    ([[1, 2], [3, 4, 5]], "expected sequence of length 2 at dim 1 (got 3)"),
    ([[[1, 2], [3, 4]], [[1, 2], [3]]], "expected sequence of length 2 at dim 2 (got 1)"),
    ([(1, 2), (3,)], "expected sequence of length 2 at dim 1 (got 1)"),
    ([[1, 2], 3], "not a sequence"), ([1, [2]], None),
    ([1.5, [2]], "must be real number, not list"),
    # accepted
    (-2 ** 63, None), ([1.5, 2 ** 70], None), ([[], [1]], None), (1e400, None),
    ([[1, 2], [3, 4]], None), ([], None),
]


def _data_id(data) -> str:
    """A test id that is the same in every process (an object's repr holds its address)."""
    return type(data).__name__ if type(data) is object else repr(data)[:30]


@pytest.mark.parametrize("data,message", DATA, ids=[_data_id(d) for d, _ in DATA])
def test_tensor_refuses_data_as_torch(data, message):
    _same(lambda lib: lib.tensor(data), message)
    if _outcome(torch, lambda lib: lib.tensor(data))[0] is None:
        assert ember.tensor(data).tolist() == torch.tensor(data).tolist()
    else:
        _clean(lambda lib: lib.tensor(data))
        assert "tensor()" in _outcome(ember, lambda lib: lib.tensor(data))[1]


def test_tensor_with_a_dtype_checks_the_range():
    _same(lambda lib: lib.tensor(2 ** 70, dtype=lib.int32), "Overflow when unpacking long long")
    _same(lambda lib: lib.tensor(300, dtype=lib.uint8), "cannot be converted to type")
    _same(lambda lib: lib.tensor([300], dtype=lib.uint8), "cannot be converted to type")
    _same(lambda lib: lib.tensor(2 ** 70, dtype=lib.float32))
    _same(lambda lib: lib.tensor([lib.ones(2), lib.ones(3)]), "only one element tensors")


# ---------------------------------------------------------------- the op the user called
@pytest.mark.parametrize("op", ["max", "min", "median", "kthvalue", "mode", "argmax", "argmin",
                                "amax", "amin", "nanmedian"])
def test_reductions_of_an_empty_dim_name_the_op_called(op):
    args = (1,) if op == "kthvalue" else ()
    _same(lambda lib: getattr(lib, op)(lib.ones(2, 0), *args, dim=1),
          f"{op}(): Expected reduction dim 1 to have non-zero size.")
    _same(lambda lib: getattr(lib.ones(2, 0), op)(*args, dim=1),
          f"{op}(): Expected reduction dim 1")


def test_a_broadcasting_error_inside_a_loss_names_the_loss():
    for loss in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"):
        e_msg = _outcome(ember, lambda lib: getattr(lib.nn.functional, loss)(
            lib.ones(2, 3), lib.ones(2, 4)))[1]
        assert e_msg.startswith(f"{loss}: The size of tensor a (3) must match"), e_msg
        _same(lambda lib: getattr(lib.nn.functional, loss)(lib.ones(2, 3), lib.ones(2, 4)))
    _same(lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(2, 5)), "batch_norm: running_mean")
    _same(lambda lib: lib.nn.functional.layer_norm(lib.ones(2, 3), (3,), weight=lib.ones(4)),
          "layer_norm: expected weight")


# ---------------------------------------------------------------- saved files
def _forged(tmp_path, structure: str):
    """A safetensors file whose structure entry is ``structure``, with a matching digest (as
    anyone editing a file can make)."""
    from safetensors.numpy import save_file

    from ember import serialization as S

    arrays = {"t0": np.ones(2, np.float32)}
    path = tmp_path / "forged.safetensors"
    save_file(arrays, str(path), metadata={
        "format": "ember", "ember.version": str(S.FORMAT_VERSION), S.STRUCTURE_KEY: structure,
        S.DIGEST_KEY: S._digest(structure, arrays)})
    return path


@pytest.mark.parametrize("depth", [10 ** 3, 10 ** 5])
def test_a_deeply_nested_saved_file_is_refused_clearly(tmp_path, depth):
    structure = '{"list":[' * depth + '{"tensor":"t0"}' + "]}" * depth
    with pytest.raises(ValueError, match=f"nested {2 * depth + 1} levels deep"):
        ember.load(_forged(tmp_path, structure))


def test_nesting_within_the_bound_loads(tmp_path):
    obj = ember.ones(2)
    for _ in range(150):
        obj = [obj]
    ember.save({"a": obj, "b": "[[[[{{{{ brackets in a string"}, tmp_path / "ok.safetensors")
    back = ember.load(tmp_path / "ok.safetensors")
    assert back["b"].startswith("[[[[")
    structure = '{"list":[' * 150 + '{"tensor":"t0"}' + "]}" * 150
    got = ember.load(_forged(tmp_path, structure))
    for _ in range(150):
        got = got[0]
    assert got.tolist() == [1.0, 1.0]


def test_out_of_memory_sizes_from_either_array_library():
    from ember import backend
    from ember.array_errors import out_of_memory

    class CupyStyle(MemoryError):  # CuPy's OutOfMemoryError is a MemoryError saying the size
        pass

    assert backend.allocation_bytes(CupyStyle("Out of memory allocating 1,024 bytes "
                                              "(allocated so far: 0 bytes).")) == 1024
    try:
        np.zeros(2 ** 50, np.int8)
    except MemoryError as exc:
        assert backend.allocation_bytes(exc) == 2 ** 50
    assert backend.allocation_bytes(ValueError("x")) is None
    assert "CUDA out of memory. Tried to allocate 1024 bytes" in str(
        out_of_memory(1024, ember.device("cuda")))


def test_python_float_as_dtype_is_float64_as_torch() -> None:
    """``dtype=float`` is torch.float64 whatever the default dtype (a Python float is a double)."""
    assert ember.tensor([1], dtype=float).dtype == ember.float64
    assert ember.ones(2).to(float).dtype == ember.float64
    assert str(torch.tensor([1], dtype=float).dtype) == "torch.float64"


@pytest.mark.parametrize("call", [
    lambda m: m.sum([1.0, 2.0]),
    lambda m: m.exp("a"),
    lambda m: m.cat([m.ones(2), "a"]),
    lambda m: m.nn.functional.mse_loss([1.0], m.ones(1)),
])
def test_a_non_tensor_argument_is_named_in_torchs_class(call) -> None:
    """One wrapper per exported op names the argument that is not a tensor, with an exception
    that is torch's TypeError (its C++ ops) and AttributeError (its Python-level functions)."""
    with pytest.raises(Exception) as t_info:
        call(torch)
    with pytest.raises(type(t_info.value)) as info:
        call(ember)
    assert isinstance(info.value, TypeError) and isinstance(info.value, AttributeError)
    assert "must be Tensor" in str(info.value) or "expected Tensor" in str(info.value)
    assert "has no attribute" not in str(info.value)
