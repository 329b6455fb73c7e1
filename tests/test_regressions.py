"""One regression test per mismatch the fuzzer (tests/fuzz) found between Ember and torch.

The fuzzer found 87 distinct mismatches (counted by cause: a wrong value or gradient, a wrong
exception class, an error where torch computes or the reverse, NumPy's words in a message);
all are fixed and each has a test below (related causes share one test function).

Each test runs the same code with ``lib`` = ember and ``lib`` = torch through ``same``: the
results must agree (dtype, shape, values with nan where torch has nan), or both must raise the
same exception class, Ember's message containing ``match``.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

import ember

NAN = math.nan
INF = math.inf


def _run(fn, lib):
    try:
        return fn(lib), None
    except Exception as exc:  # noqa: BLE001 - compared below
        return None, exc


def _as_numpy(x):
    if isinstance(x, (torch.Tensor, ember.Tensor)):
        return x.detach().numpy()
    return x


def _assert_equal(e, t) -> None:
    if t is None and isinstance(e, ember.Tensor):  # torch's "no gradient" is Ember's zeros
        assert not e.detach().numpy().any(), e
        return
    if isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)) and len(e) == len(t), (e, t)
        for ei, ti in zip(e, t):
            _assert_equal(ei, ti)
        return
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), type(e)
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (e.dtype, t.dtype)
        assert tuple(e.shape) == tuple(t.shape), (e.shape, t.shape)
        a, b = _as_numpy(e), _as_numpy(t)
        if a.dtype.kind == "f":
            rtol = 1e-5 if a.dtype == np.float32 else 1e-10
            np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-30, equal_nan=True)
        else:
            np.testing.assert_array_equal(a, b)
        return
    assert type(e) is type(t) and (e == t or (e != e and t != t)), (e, t)


def same(fn, raises: type | None = None, match: str = "") -> None:
    """``fn(ember)`` and ``fn(torch)`` agree; with ``raises`` both raise it (Ember matching ``match``)."""
    t_out, t_exc = _run(fn, torch)
    e_out, e_exc = _run(fn, ember)
    if raises is not None:
        assert isinstance(t_exc, raises), f"torch gave {t_exc!r} / {t_out!r}"
        assert isinstance(e_exc, raises), f"ember gave {e_exc!r} / {e_out!r}"
        assert re.search(match, str(e_exc)), f"{match!r} not in {str(e_exc)!r}"
        return
    assert t_exc is None, f"torch raised {t_exc!r}"
    assert e_exc is None, f"ember raised {e_exc!r}"
    _assert_equal(e_out, t_out)


def grad_of(fn, *values, dtype="float64"):
    """A function of ``lib`` giving the gradients of ``fn(lib, *leaves).sum()`` for these values."""

    def run(lib):
        leaves = [lib.tensor(v, dtype=getattr(lib, dtype), requires_grad=True) for v in values]
        out = fn(lib, *leaves)
        return lib.autograd.grad(out.sum(), leaves, allow_unused=True)

    return run


# ---------------------------------------------------------------------------- elementwise: dtypes


@pytest.mark.parametrize("name", ["abs", "floor", "ceil", "round", "trunc"])
def test_no_bool_kernel(name):
    same(lambda L: getattr(L, name)(L.tensor([True, False])), NotImplementedError,
         f'"{name}" not implemented for \'Bool\'')


def test_neg_of_bool():
    same(lambda L: -L.tensor([True]), RuntimeError, "Negation, the `-` operator, on a bool tensor")


def test_relu_of_bool():
    same(lambda L: L.relu(L.tensor([True])), RuntimeError, "Boolean inputs not supported for relu")


@pytest.mark.parametrize("fn", [
    lambda L: L.tensor([True]) - L.tensor([False]),
    lambda L: L.tensor([1.5]) - True,
    lambda L: 2 - L.tensor([True]),
    lambda L: L.sub(L.tensor([3]), L.tensor([True])),
], ids=["bool-bool", "float-pybool", "int-bool", "long-bool"])
def test_sub_with_bool(fn):
    same(fn, RuntimeError, "Subtraction, the `-` operator, with")


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor"])
def test_bitwise_on_floats(name):
    same(lambda L: getattr(L, name)(L.tensor([1.0]), L.tensor([2.0])), NotImplementedError,
         f'"{name}" not implemented for \'Float\'')
    same(lambda L: getattr(L, name)(L.tensor([1, 2]), 1.5), NotImplementedError, "'Float'")


def test_bitwise_not_on_floats():
    same(lambda L: L.bitwise_not(L.tensor([1.0], dtype=L.float64)), NotImplementedError, "'Double'")
    same(lambda L: ~L.tensor([1.0]), TypeError, r"~ \(operator.invert\) is only implemented on integer")


@pytest.mark.parametrize("name", ["pow", "floor_divide", "remainder"])
def test_bool_arithmetic_without_kernel(name):
    same(lambda L: getattr(L, name)(L.tensor([True]), L.tensor([True])), NotImplementedError, "'Bool'")


@pytest.mark.parametrize("name", ["floor_divide", "remainder"])
def test_integer_division_by_zero(name):
    same(lambda L: getattr(L, name)(L.tensor([3, 4]), L.tensor([1, 0])), RuntimeError, "ZeroDivisionError")
    same(lambda L: getattr(L, name)(L.tensor([3, 4]), 0), RuntimeError, "ZeroDivisionError")
    same(lambda L: getattr(L, name)(L.tensor([], dtype=L.int64), L.tensor([0])))  # nothing divided


def test_bool_pow_special_cases():
    same(lambda L: L.tensor([True, False]) ** True)
    same(lambda L: L.tensor([True, False]) ** False)
    same(lambda L: L.tensor([True, False]) ** -7, RuntimeError, "negative integer powers")


def test_square_of_bool_is_long():
    same(lambda L: L.square(L.tensor([True, False])))


def test_sign_of_nan_bool_and_0d():
    same(lambda L: L.sign(L.tensor([NAN, -2.0, 0.0, INF])))
    same(lambda L: L.sign(L.tensor([True, False])))
    same(lambda L: L.sign(L.tensor(NAN)))


# ---------------------------------------------------------------------------- elementwise: arguments


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparison_needs_tensor_first(name):
    same(lambda L: getattr(L, name)(2, L.tensor([1, 2])), TypeError, "argument 'input'")
    same(lambda L: getattr(L, name)(L.tensor([1, 2]), 2))


@pytest.mark.parametrize("name", ["maximum", "minimum", "logical_and", "logical_or", "logical_xor"])
def test_two_tensors_required(name):
    same(lambda L: getattr(L, name)(L.tensor([1.0]), 2.0), TypeError, "argument 'other'")
    same(lambda L: getattr(L, name)(True, L.tensor([1.0])), TypeError, "argument 'input'")


def test_reflected_bitwise_operators():
    same(lambda L: True & L.tensor([True, False]))
    same(lambda L: 6 | L.tensor([1, 2]))
    same(lambda L: 3 ^ L.tensor([1, 2]))
    same(lambda L: 1.5 & L.tensor([1]), NotImplementedError, "'Float'")


def test_operators_with_other_types():
    same(lambda L: L.tensor([1.0]) == None)  # noqa: E711 - the point of the test
    same(lambda L: L.tensor([1.0]) != "a")
    same(lambda L: L.tensor([1.0]) + "a", TypeError, r"unsupported operand type\(s\) for \+")
    same(lambda L: L.tensor([1.0]) * {}, TypeError, "unsupported operand")
    same(lambda L: L.tensor([1.0]) * [1.0], TypeError, "index")  # Python tries list repetition
    same(lambda L: L.tensor([1.0, 2.0]) + np.ones(2))


def test_scalar_divided_by_tensor_uses_reciprocal():
    # torch computes ``s / t`` as ``t.reciprocal() * s``: 0 / subnormal is nan, not -0.
    same(lambda L: False / L.tensor(-2.225073858507203e-309, dtype=L.float64))
    same(grad_of(lambda L, y: 0 / y, [-2.8550651860483425e-178]))


# ---------------------------------------------------------------------------- elementwise: gradients


def test_div_grad_of_divisor_does_not_square():
    # torch: -g * ((x / y) / y); squaring y underflows to 0 and gave nan.
    same(grad_of(lambda L, x, y: x / y, [0.0], [-2.2250738585072014e-308]))


def test_remainder_grad_with_infinite_dividend():
    same(grad_of(lambda L, x, y: L.remainder(x, y), [-INF, 6.8], [-3.0, -10.0], dtype="float32"))


def test_relu_grad_at_nan():
    same(grad_of(lambda L, x: L.relu(x), [NAN, 5.0, -8.0, 0.0]))


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_grad_with_nan_and_ties(name):
    same(grad_of(lambda L, x, y: getattr(L, name)(x, y), [NAN, 1.0, 2.0, 3.0], [1.0, NAN, 2.0, 0.0]))


def test_pow_grad_of_exponent_at_zero_base():
    same(grad_of(lambda L, x, y: L.pow(x, y), [0.0, 0.0, 0.0], [0.0, 3.0, -5.3], dtype="float32"))


# ---------------------------------------------------------------------------- shape ops


def test_swapaxes_swapdims_methods():
    same(lambda L: L.zeros(2, 3).swapaxes(0, 1))
    same(lambda L: L.zeros(2, 3).swapdims(1, 0))
    same(lambda L: L.swapdims(L.zeros(2, 3), 0, 1))


@pytest.mark.parametrize("fn, match", [
    (lambda L: L.chunk(L.tensor(1.0), 2), "chunk expects at least a 1-dimensional tensor"),
    (lambda L: L.split(L.tensor(1.0), 1), "split expects at least a 1-dimensional tensor"),
    (lambda L: L.narrow(L.tensor(1.0), 0, 0, 1), r"narrow\(\) cannot be applied to a 0-dim tensor"),
    (lambda L: L.unflatten(L.tensor(1.0), 0, (1,)), "Dimension specified as 0 but tensor has no dimensions"),
], ids=["chunk", "split", "narrow", "unflatten"])
def test_zero_dim_refused(fn, match):
    same(fn, RuntimeError, match)


def test_unbind_zero_dim():
    same(lambda L: L.unbind(L.tensor(1.0)), IndexError, "Dimension specified as 0")


def test_unbind_and_chunk_of_empty_dim():
    same(lambda L: L.unbind(L.zeros(0)))
    same(lambda L: L.chunk(L.zeros(0), 5))
    same(lambda L: L.chunk(L.zeros(3, 0), 2, 1))


def test_zero_dim_dims_are_checked():
    same(lambda L: L.flatten(L.tensor(1.0), -2, 0), IndexError, "Dimension out of range")
    same(lambda L: L.transpose(L.tensor(1.0), 1, 0), IndexError, "Dimension out of range")
    same(lambda L: L.transpose(L.tensor(1.0), 0, -1))
    same(lambda L: L.movedim(L.tensor(1.0), 0, 0))
    same(lambda L: L.flip(L.tensor(1.0), (0,)))


def test_cat_edge_cases():
    same(lambda L: L.cat([]), ValueError, "expected a non-empty list of Tensors")
    same(lambda L: L.cat([L.zeros(0), L.tensor(1.0)]), RuntimeError,
         r"zero-dimensional tensor \(at position 1\)")
    same(lambda L: L.cat([L.zeros(1), L.zeros(0, dtype=L.float64)]))  # promotes with the skipped one
    same(lambda L: L.cat([L.zeros(0)], dim=2))  # only empty 1-D inputs: torch checks no dim


def test_cat_of_one_tensor_is_a_copy():
    def write_through(lib):
        x = lib.zeros(3)
        lib.cat([x])[0] = 5.0
        return x

    same(write_through)


def test_hstack_vstack():
    same(lambda L: L.hstack([L.tensor(1.0), L.tensor(2.0)]))
    same(lambda L: L.vstack([L.tensor(1.0), L.tensor(2.0)]))
    same(lambda L: L.hstack([]), RuntimeError, "hstack expects a non-empty TensorList")
    same(lambda L: L.vstack([]), RuntimeError, "vstack expects a non-empty TensorList")


def test_stack_checks_dim_before_shapes():
    same(lambda L: L.stack([L.tensor(1), L.zeros(3, 1)], dim=-3), IndexError, "Dimension out of range")


def test_repeat_negative():
    same(lambda L: L.tensor(2).repeat(-1, 2), RuntimeError, "negative dimension -1")


def test_narrow_negative_length():
    same(lambda L: L.zeros(4).narrow(0, 1, -1), RuntimeError, "length must be non-negative")


# ---------------------------------------------------------------------------- matrix products


@pytest.mark.parametrize("fn", [
    lambda L: L.mm(L.ones(2, 3, dtype=L.bool), L.ones(3, 2, dtype=L.bool)),
    lambda L: L.dot(L.ones(3, dtype=L.bool), L.ones(3, dtype=L.bool)),
    lambda L: L.matmul(L.ones(2, 3, dtype=L.bool), L.ones(3, dtype=L.bool)),
], ids=["mm", "dot", "mv"])
def test_bool_matrix_products(fn):
    same(fn, NotImplementedError, "not implemented for 'Bool'")


def test_bool_matrix_product_of_nothing():
    same(lambda L: L.mm(L.ones(2, 0, dtype=L.bool), L.ones(0, 2, dtype=L.bool)))


def test_inner_is_not_dot():
    same(lambda L: L.inner(L.arange(6.0).reshape(2, 3), L.arange(12.0).reshape(4, 3)))
    same(lambda L: L.inner(L.tensor(2.0), L.ones(2, 3)))
    same(lambda L: L.inner(L.zeros(2, 3, 1, 0), L.zeros(2, 3, 0, 0)))
    same(lambda L: L.inner(L.ones(2, 3), L.ones(4)), RuntimeError, "last dimension must match")


def test_dot_dtype_message():
    same(lambda L: L.dot(L.ones(3), L.ones(3, dtype=L.float64)), RuntimeError, "found Float and Double")


def test_mv_zero_dim_matrix():
    same(lambda L: L.mv(L.tensor(1.0), L.ones(3)), IndexError, "no dimensions")
    same(lambda L: L.mv(L.ones(2, 3), L.tensor(1.0)), RuntimeError, "vector")


# ---------------------------------------------------------------------------- fused ops, clamp


def test_addcmul_grad_reduces_after_multiplying():
    # the broadcast gradient of tensor2 is sum(g * tensor1): with an empty output it is 0, not nan
    def run(lib):
        x = lib.zeros(2, 0, 1, requires_grad=True)
        t1 = lib.tensor([NAN, 0.5, -10.0], requires_grad=True)
        t2 = lib.tensor(-2.0, requires_grad=True)
        return lib.autograd.grad(lib.addcmul(x, t1, t2, value=0.5).sum(), [x, t1, t2])

    same(run)


def test_addcdiv_grad_squares_divisor_as_torch():
    same(grad_of(lambda L, x, a, b: L.addcdiv(x, a, b, value=-2), [-6.9, 5.6], [-1.4e-45, 1.0],
                 [1.1754943508222875e-38, 1.0], dtype="float32"))


def test_addcmul_addcdiv_dtypes():
    same(lambda L: L.addcmul(L.zeros(2), L.ones(2, dtype=L.float64), L.ones(2)))
    same(lambda L: L.addcmul(L.tensor([1, 2]), L.tensor([1, 2]), L.tensor([3, 4]), value=0.5))
    same(lambda L: L.addcdiv(L.zeros(2), L.tensor([1, 2]), L.tensor([3, 4])), RuntimeError,
         "Integer division with addcdiv")
    same(lambda L: L.addcmul(*[L.ones(2, dtype=L.bool)] * 3), NotImplementedError, "'Bool'")


def test_lerp_grads_are_torch_formulas():
    # a composite where() sends 0 * inf = nan into the unused branch; torch's rule does not
    same(grad_of(lambda L, s, e, w: L.lerp(s, e, w), [-1.4e-45, INF, 8.9], [0.55, 0.55, 0.55],
                 [5.9, 5.9, 0.2], dtype="float32"))
    same(grad_of(lambda L, s, e: L.lerp(s, e, 0.75), [1.0, -INF], [2.0, 3.0]))


def test_lerp_dtypes():
    same(lambda L: L.lerp(L.zeros(2), L.zeros(2, dtype=L.float64), 0.5), RuntimeError,
         "expected dtype float for `end` but got dtype double")
    same(lambda L: L.lerp(L.zeros(2, dtype=L.int64), L.zeros(2, dtype=L.int64), 0.5),
         NotImplementedError, "'Long'")


def test_clamp_number_and_tensor_bounds():
    x = [[1.0, -4.0, 2.0]]
    same(lambda L: L.clamp(L.tensor(x), min=L.tensor([[4.0, -9.0, 1.0]], requires_grad=True), max=1),
         TypeError, "both be tensors or both be numbers")
    same(lambda L: L.clamp(L.tensor(x), min=L.tensor(0.0), max=2))  # a 0-d tensor counts as a number


def test_clamp_tensor_bounds_grads():
    same(grad_of(lambda L, x, lo, hi: L.clamp(x, lo, hi), [NAN, -7.0, 0.5, 3.0], [0.0, 0.0, 0.0, 1.0],
                 [0.0, 1.0, 1.0, -1.0]))
    same(grad_of(lambda L, x, lo: L.clamp(x, min=lo), [NAN, -7.0, 0.5], [0.0, 0.0, 1.0]))


def test_clamp_promotes_bool_and_int():
    same(lambda L: L.clamp(L.tensor([True, False]), 0, 1))
    same(lambda L: L.clamp(L.tensor([3, 0]), 0.5))


@pytest.mark.parametrize("fn, ctype", [
    (lambda L: L.full((2,), 1e308), "float"),
    (lambda L: L.full((2,), NAN, dtype=L.int64), "int64_t"),
    (lambda L: L.zeros(2).fill_(1e300), "float"),
    (lambda L: L.where(L.tensor([True, False]), 1e300, 0.0), "float"),
    (lambda L: L.clamp(L.zeros(2), 1e300), "float"),
    (lambda L: L.zeros(2).masked_fill(L.tensor([True, False]), 1e300), "float"),
    (lambda L: L.tensor([1, 2]).masked_fill(L.tensor([True, False]), NAN), "int64_t"),
    (lambda L: L.linspace(INF, NAN, 1, dtype=L.int64), "int64_t"),
], ids=["full", "full-int", "fill_", "where", "clamp", "masked_fill", "masked_fill-int", "linspace"])
def test_scalar_that_does_not_fit(fn, ctype):
    same(fn, RuntimeError, f"cannot be converted to type {ctype} without overflow")


def test_setitem_scalar_that_does_not_fit():
    def run(lib):
        x = lib.zeros(2)
        x[0] = 1e300

    same(run, RuntimeError, "cannot be converted to type float without overflow")


# ---------------------------------------------------------------------------- creation


def test_arange_edge_cases():
    same(lambda L: L.arange(0.0, 1.814, dtype=L.int64))  # int64 truncates the bounds first
    same(lambda L: L.arange(-6.1e-156, dtype=L.int64), RuntimeError, "inconsistent with step sign")
    same(lambda L: L.arange(2.2e-313, 0.0, 2.2e-313, dtype=L.int64), RuntimeError, "inconsistent")
    same(lambda L: L.arange(NAN), RuntimeError, "unsupported range")
    same(lambda L: L.arange(0.87, 3.7, NAN), RuntimeError, "step must be nonzero")
    same(lambda L: L.arange(0, 5, dtype=L.bool), NotImplementedError, "'Bool'")
    same(lambda L: L.arange(-3.45, 6, 2.1e-74), RuntimeError, "invalid size, possible overflow")


def test_linspace_is_torch_kernel():
    same(lambda L: L.linspace(-3, INF, 4))  # torch's two halves: [nan, inf, nan, nan]
    same(lambda L: L.linspace(0, 10, 4, dtype=L.int64))
    same(lambda L: L.linspace(2.94, NAN, 1, dtype=L.int64))  # one step writes only the start
    same(lambda L: L.linspace(NAN, NAN, 0, dtype=L.int64))
    same(lambda L: L.linspace(7, NAN, 5, dtype=L.bool), NotImplementedError, "'Bool'")


# ---------------------------------------------------------------------------- indexing


def _arange(L, *shape):
    return L.arange(float(math.prod(shape))).reshape(*shape)


@pytest.mark.parametrize("idx", [True, (False, 0), (0, Ellipsis, False), (Ellipsis, 0, Ellipsis)],
                         ids=["true", "false-int", "int-ellipsis-false", "two-ellipses"])
def test_getitem_python_bool_and_ellipses(idx):
    same(lambda L: _arange(L, 2, 3)[idx])


def test_getitem_integer_with_index_tensor_keeps_torch_order():
    # NumPy counts 0 as an advanced index and moves the dims: (2, 3) instead of torch's (3, 2)
    same(lambda L: _arange(L, 2, 3, 4)[0, :, [1, 2]])
    same(grad_of(lambda L, x: x.reshape(2, 3, 2)[1, :, L.tensor([1, 0])] * L.arange(6.0).reshape(3, 2),
                 list(range(12))))


def test_getitem_zero_dim_long_tensor_is_an_integer():
    same(lambda L: _arange(L, 2, 2, 2)[L.tensor(0), :, True])


def test_setitem_integer_with_index_tensor():
    def run(lib):
        x = lib.zeros(2, 3, 4)
        x[0, :, [1, 2]] = lib.arange(6.0).reshape(3, 2)
        return x

    same(run)


@pytest.mark.parametrize("idx, error, match", [
    (([True, False, True],), IndexError, r"The shape of the mask \[3\] at index 0 does not match"),
    ((0, [0, 7]), IndexError, "index 7 is out of bounds for dimension 1 with size 3"),
    (([0, 1], [0, 1, 2]), IndexError, "indexing tensors could not be broadcast together"),
    ((slice(None, None, -1),), ValueError, "step must be greater than zero"),
], ids=["mask", "long-range", "broadcast", "step"])
def test_getitem_errors_in_torch_words(idx, error, match):
    same(lambda L: _arange(L, 2, 3)[tuple(L.tensor(i) if isinstance(i, list) else i for i in idx)],
         error, match)


def test_getitem_empty_list():
    same(lambda L: L.zeros(0, 0, dtype=L.int64)[[]])


def test_setitem_dtype_and_shape_checks():
    def long_into_double(lib):
        x = lib.zeros(4, dtype=lib.float64)
        x[lib.tensor([0])] = lib.tensor(1)

    def too_wide(lib):
        x = lib.zeros(1)
        x[[0, 0, 0], None] = lib.zeros(3, 2)

    same(long_into_double, RuntimeError, "Index put requires the source and destination dtypes match")
    same(too_wide, RuntimeError, r"value tensor of shape \[3, 2\] cannot be broadcast to indexing "
                                 r"result of shape \[3, 1\]")


def test_setitem_value_with_leading_ones():
    def run(lib):
        x = lib.zeros(4, dtype=lib.float64)
        x[-3] = lib.tensor([[2.5]], dtype=lib.float64)
        return x

    same(run)


def test_setitem_bare_false_is_a_no_op():
    def run(lib):
        x = lib.zeros(3)
        x[False] = lib.ones(1, 2)
        return x

    same(run)


def test_index_select_edge_cases():
    same(lambda L: L.index_select(L.tensor(1.5), 0, L.tensor(0)))
    same(lambda L: L.index_select(L.tensor(1.5), 0, L.tensor([0, 0])), RuntimeError,
         "Index to scalar can have only 1 value")
    same(lambda L: L.index_select(L.zeros(3, dtype=L.int64), 0, L.tensor([-1])), IndexError, "-1")
    same(lambda L: L.index_select(L.zeros(3, dtype=L.int64), 0, L.tensor(3)), IndexError, "out of")


def test_gather_scatter_treat_zero_dim_as_one_dim():
    same(lambda L: L.gather(L.tensor(1.5), 0, L.tensor([0, 0])))
    same(lambda L: L.scatter_add(L.tensor(1.5), 0, L.tensor(0), L.tensor(2.0)))
    same(lambda L: L.scatter_add(L.tensor(-1.0), 0, L.zeros(0, 4, dtype=L.int64), L.zeros(0, 4)))
    same(lambda L: L.gather(L.zeros(1, 2, 2), 0, L.zeros(0, 2, dtype=L.int64)))  # empty: unchecked
    same(lambda L: L.gather(_arange(L, 2, 3), 1, L.tensor([[0, -1]])), RuntimeError,
         "index -1 is out of bounds for dimension 1 with size 3")


def test_gather_of_nothing_stays_in_graph():
    same(grad_of(lambda L, x: L.gather(x, 0, L.zeros(2, 0, dtype=L.int64)).sum() + x.sum(),
                 [[1.0, 2.0], [3.0, 4.0]]))


def test_take_along_dim():
    same(lambda L: L.take_along_dim(_arange(L, 2, 3), L.tensor([[0], [2]])))  # no dim: flattened
    same(lambda L: L.take_along_dim(_arange(L, 2, 3), L.tensor([[-1]]), 0))  # negative, broadcast
    same(lambda L: L.take_along_dim(L.tensor(0.0), L.zeros(3, 2, dtype=L.int64), -1), RuntimeError,
         "should have the same number of dimensions")
    same(lambda L: L.take_along_dim(L.tensor(0.0), L.tensor(0), 0), IndexError, "no dimensions")


# ---------------------------------------------------------------------------- reductions


@pytest.mark.parametrize("fn, error, match", [
    (lambda L: L.argmax(L.tensor([True, False])), RuntimeError, r"argmax\(\): does not support bool input"),
    (lambda L: L.argmin(L.tensor([[True]]), dim=4), RuntimeError, "does not support bool input"),
    (lambda L: L.var(L.tensor([1, 2])), RuntimeError, "std and var only support floating point"),
    (lambda L: L.std(L.tensor([True]), dim=1), RuntimeError, "std and var only support floating point"),
    (lambda L: L.norm(L.tensor([1, 2])), RuntimeError, "Expected a floating point or complex tensor"),
    (lambda L: L.norm(L.ones(2, 2), p="fro", dim=(-2, 1, 2)), RuntimeError, "dim must be a 2-tuple"),
    (lambda L: L.softmax(L.tensor([1, 2]), 0), NotImplementedError, "not implemented for 'Long'"),
    (lambda L: L.log_softmax(L.tensor([True]), 0), NotImplementedError, "not implemented for 'Bool'"),
    (lambda L: L.softmax(L.tensor(2.0), -2), IndexError, "Dimension out of range"),
    (lambda L: L.cumsum(L.tensor(True), 1), IndexError, "Dimension out of range"),
    (lambda L: L.amin(L.zeros(0, 2), dim=(-2, 0, -2)), IndexError, "to have non-zero size"),
], ids=["argmax-bool", "argmin-bool-first", "var-int", "std-bool-first", "norm-int", "norm-fro-3",
        "softmax-int", "log_softmax-bool", "softmax-0d-dim", "cumsum-0d-dim", "amin-empty-first"])
def test_reduction_errors(fn, error, match):
    same(fn, error, match)


def test_reduction_keeps_bool_and_empty_paths():
    same(lambda L: L.max(L.tensor([[True, False], [False, False]]), dim=1))
    same(lambda L: L.softmax(L.zeros(0, 2, dtype=L.int64), 1))  # nothing computed: dtype kept


def test_integer_dtype_of_reduction_needs_no_grad():
    same(lambda L: L.sum(L.ones(2, requires_grad=True), 0, dtype=L.int64), RuntimeError,
         "Autograd not support dtype: Long")
    same(lambda L: L.sum(L.ones(2, requires_grad=True), 5, dtype=L.int64), IndexError, "out of range")


@pytest.mark.parametrize("row", [[INF, 1.0], [-INF, -INF], [NAN, 1.0], [-INF, 1.0]],
                         ids=["inf", "all-minus-inf", "nan", "minus-inf"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_rows_with_infinities(name, row):
    same(grad_of(lambda L, x: getattr(L, name)(x, 0) * L.tensor([1.0, 2.0]), row))
    same(lambda L: getattr(L, name)(L.tensor(row), 0))


def test_log_softmax_of_zero_dim_nan():
    same(grad_of(lambda L, x: L.log_softmax(x, 0), NAN))


def test_max_of_everything_gradient_with_nan():
    same(grad_of(lambda L, x: x.max(), [NAN, 1.0, NAN]))
    same(grad_of(lambda L, x: x.min(), [NAN, 1.0]))
    same(grad_of(lambda L, x: x.amax(0), [NAN, 1.0]))  # amax keeps nan gradients


def test_prod_gradients_as_torch():
    same(grad_of(lambda L, x: x.prod(), -INF))  # 0-d: the gradient is the incoming one
    same(grad_of(lambda L, x: x.prod(), [[0.0, -0.0], [NAN, 2.0]]))  # two zeros: all 0
    same(grad_of(lambda L, x: x.prod(), [1.0, 3.0, NAN, -0.0]))  # one zero: others' products
    same(grad_of(lambda L, x: x.prod(0), [[0.0, 2.0], [3.0, 4.0]]))


def test_var_std_gradients_as_torch():
    same(grad_of(lambda L, x: L.var(x, 1, correction=2), [[-1.0, 4.2]]))  # n - correction < 0
    same(grad_of(lambda L, x: L.var(x, 0, correction=2, keepdim=True), -0.5))  # 0-d: nan
    same(grad_of(lambda L, x: L.var(x), [INF]))
    same(grad_of(lambda L, x: L.std(x, 0), [0.0, 0.0, 0.0]))  # std 0: gradient 0, not nan


def test_var_accumulates_in_double():
    same(lambda L: L.std(L.tensor([[0.0, -1.4e-45], [1e15, 1.4e-45]]), dim=1, correction=2))


@pytest.mark.parametrize("p", [0, 1, 2, 3, 0.5, -1.5, INF, -INF])
def test_norm_gradients_as_torch(p):
    same(grad_of(lambda L, x: L.norm(x, p=p, dim=1), [[1.0, -2.0, 0.0], [0.0, 0.0, 0.0], [NAN, 1.0, 2.0]]))


def test_norm_without_underflow():
    same(grad_of(lambda L, x: L.norm(x), [2.2250738585072014e-308]))
    same(lambda L: L.norm(L.tensor([1e200, 1e200], dtype=L.float64)))  # torch: inf
    same(lambda L: L.norm(L.tensor([2.2e-308, 2.2e-308], dtype=L.float64)))  # torch: 0


def test_logsumexp_gradient_with_infinity():
    same(grad_of(lambda L, x: L.logsumexp(x, 0), [INF, 1.0]))
    same(grad_of(lambda L, x: L.logsumexp(x, 0), [-INF, -INF]))


def test_unary_plus_of_bool():
    same(lambda L: +L.tensor(False), RuntimeError, r"The `\+` operator, on a bool tensor is not supported")


# ---------------------------------------------------------------------------- catalog ops


@pytest.mark.parametrize("exponent", [0.5, -0.5, -1.0, -2.0, 2.0, 3.0])
def test_pow_scalar_exponents_use_torch_kernels(exponent):
    # torch: sqrt, rsqrt, reciprocal... so (-0.0) ** -0.5 is -inf and its gradient -inf too
    same(lambda L: L.pow(L.tensor([-0.0, 0.0, 4.0], dtype=L.float64), exponent))
    same(grad_of(lambda L, x: L.pow(x, exponent), [-0.0, 1.65, 4.0]))


def test_prod_of_others_overflows_where_torch_does():
    # products of the others from both ends, as torch: 2.4 * 3.4e38 * 0.035 is finite there
    same(grad_of(lambda L, x: (x * (x > 0)).prod(1),
                 [[-0.27, 2.44, 3.4028234663852886e+38, 0.035]], dtype="float32"))


def test_adaptive_avg_pool_keeps_nan_in_its_window():
    def run(lib):
        x = lib.arange(36.0).reshape(1, 6, 6)
        x[0, 1, 4] = NAN
        return lib.nn.functional.adaptive_avg_pool2d(x, (2, 2))

    same(run)


@pytest.mark.parametrize("mode, kw", [("bilinear", {}), ("bilinear", {"align_corners": True}),
                                      ("nearest", {})])
def test_interpolate_nan_reaches_torchs_positions(mode, kw):
    def run(lib):
        x = lib.arange(20.0, dtype=lib.float64).reshape(1, 1, 4, 5)
        x[0, 0, 1, 3] = NAN
        return lib.nn.functional.interpolate(x, size=(7, 3), mode=mode, **kw)

    same(run)


# ---------------------------------------------------------------------------- deep-profile finds


def test_std_root_taken_in_double():
    # var of 1.2e-38 underflows to 0 in float32, its square root 8.3e-39 does not (torch: double)
    same(grad_of(lambda L, x: L.std(x, 1), [[1.1754943508222875e-38, -0.0], [0.0, 0.0]], dtype="float32"))


def test_cat_keeps_empty_float_input_in_graph():
    same(grad_of(lambda L, x: L.cat([L.tensor([[1], [2]]), x.reshape(0)], dim=-1) * 1.0, []))
    same(lambda L: L.hstack([L.tensor(False), L.tensor([0, 0]),
                             L.zeros(0, requires_grad=True)]).requires_grad)


@pytest.mark.parametrize("fn, error, match", [
    (lambda L: L.split(L.zeros(3, 0, 2), -1, 4), RuntimeError, "split_size be non-negative"),
    (lambda L: L.narrow(L.zeros(3, 3), 2, -2, -1), RuntimeError, "length must be non-negative"),
    (lambda L: L.unflatten(L.tensor(True), 1, [1, 4]), IndexError, "Dimension out of range"),
    (lambda L: L.arange(-0.37, -0.37, INF, dtype=L.int64), RuntimeError, "cannot be converted"),
], ids=["split", "narrow", "unflatten", "arange"])
def test_which_error_comes_first(fn, error, match):
    same(fn, error, match)


def test_repeat_checks_the_result_size():
    same(lambda L: L.zeros(0, 1, 2, 0).repeat(1, 3, 0, -1))  # 0 * -1 is no negative size
    same(lambda L: L.ones(2).repeat(-1), RuntimeError, "negative dimension -2")


def test_tensor_exponent_uses_general_pow():
    # torch's special kernels (sqrt for 0.5) are for a Python number exponent only
    same(grad_of(lambda L, x: x ** L.tensor(0.5, dtype=L.float64), [-0.0, 4.0]))
    same(lambda L: L.tensor([-0.0], dtype=L.float64) ** L.tensor(-0.5, dtype=L.float64))


def test_arange_with_infinitely_many_steps():
    same(lambda L: L.arange(1, 7, 5e-324, dtype=L.float32), RuntimeError, "invalid size, possible overflow")


@pytest.mark.parametrize("p", [1, 2, 3, 0.5, INF])
def test_norm_of_one_element_is_its_absolute_value(p):
    same(grad_of(lambda L, x: L.norm(x, p=p, dim=-1, keepdim=True), [[-1.4e-45], [1.0], [INF]],
                 dtype="float32"))


@pytest.mark.parametrize("dim, p, message", [
    ((0, -2), INF, "on the dimension 0because"),  # an empty dim refused before a bad one
    (0, -1.0, "cannot compute the -1 norm"),  # negative orders have no identity either
    (None, INF, "on an empty tensor"),
])
def test_norms_without_identity_of_empty_tensors(dim, p, message):
    same(lambda L: L.norm(L.zeros(0), dim=dim, p=p), RuntimeError, message)


def test_norm_of_a_0d_tensor_given_a_dim_squares_first():
    # torch: |x| for one element, except a 0-d tensor with a dim (x * x underflows to 0 here)
    for dim in (0, None):
        same(grad_of(lambda L, x: L.norm(x, p=2, dim=dim), 1.1754944e-38, dtype="float32"))


def test_number_base_power_takes_the_log_of_the_number():
    # torch's pow(Scalar, Tensor) derivative uses log(base) in double: finite for 1.8e308
    same(grad_of(lambda L, y: 1.7976931348623157e308 ** y, [0.0], dtype="float32"))
    same(grad_of(lambda L, y: 2.0 ** y, [0.5, -1.0, 3.0]))


def test_bool_inner_with_one_output_is_refused_as_dot():
    same(lambda L: L.inner(L.ones(0, dtype=L.bool), L.ones(1, 1, 0, dtype=L.bool)),
         NotImplementedError, "not implemented for 'Bool'")


def test_nan_to_num_puts_the_dtypes_extremes_for_infinities():
    for dtype in ("float32", "float64"):
        same(lambda L: L.nan_to_num(L.tensor([NAN, INF, -INF, 1.5], dtype=getattr(L, dtype))))


def test_allclose_answers_a_python_bool_as_torch():
    for L in (ember, torch):
        x = L.tensor([1.0, NAN])
        assert L.allclose(x, x) is False and L.allclose(x, x, equal_nan=True) is True
        assert L.allclose(x[:1], x[:1] + 1e-9) is True


def test_atan2_has_no_gradient_at_the_origin():
    same(grad_of(lambda L, y, x: L.atan2(y, x), [0.0, 1.0], [0.0, -2.0]))
