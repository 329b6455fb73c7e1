"""Samples of the core ops (elementwise, operators, reductions, shapes, indexing, linalg, nn).

Each entry is ``op(name, call, samples, family)`` (see ``specs``); the key is the op's name.
"""
from __future__ import annotations

from typing import Callable

from .specs import (INF, NAN, WITH_INT, WITH_INT_BOOL, Idx, Mask, S, T, V, chain, fixed,
                    function as _function, inplace as _inplace, op, reduction, reflected,
                    setitem as _setitem, unary, binary, values)

# ---------------------------------------------------------------------------- elementwise

E = "elementwise"

op("add", _function("add"), binary(), E, dtypes=WITH_INT_BOOL,
   errors=fixed(S(T(2, 3), T(4)), S(T(2, 3), "a")))
op("add(alpha)", lambda m, x, y: m.add(x, y, alpha=2), binary(), E, dtypes=WITH_INT)
op("sub", _function("sub"), binary(), E, dtypes=WITH_INT)
op("mul", _function("mul"), binary(), E, dtypes=WITH_INT_BOOL)
op("div", _function("div"), binary(dy="nonzero"), E, dtypes=WITH_INT,
   notes="integer / integer is true division (a float result)")
op("floor_divide", _function("floor_divide"), binary(dy="nonzero"), E, dtypes=WITH_INT, grad=False,
   gradgrad=False, notes="torch has no derivative; Ember's is zero")
op("remainder", _function("remainder"), binary(dy="nonzero"), E, dtypes=WITH_INT,
   notes="sign follows the divisor, as Python and torch")
op("pow", _function("pow"), fixed(
    S(T(2, 3, domain="positive"), T(2, 3)),
    S(T(3, 1, domain="positive"), T(1, 4)),
    S(T(2, 3, domain="positive"), T()),
    S(T(2, 3), 3),
    S(T(2, 3), 2.0),
    S(T(2, 3, domain="positive"), 0.5),
    S(T(2, 3, domain="positive"), -1.5),
    S(T(0, 3, domain="positive"), T(3)),
), E)
op("pow(at zero)", _function("pow"),
   fixed(S(V([0.0, 0.0, 1.0, 2.0], None), V([2.0, 3.0, 0.0, 0.5], None))), E, gradgrad=False,
   notes="first derivatives at x = 0 follow torch; torch's second is nan there")
op("neg", _function("neg"), unary(), E, dtypes=WITH_INT)
op("abs", _function("abs"), unary("nonzero"), E, dtypes=WITH_INT)
op("exp", _function("exp"), unary(), E, dtypes=WITH_INT)
op("log", _function("log"), unary("positive"), E, dtypes=WITH_INT)
op("log2", _function("log2"), unary("positive"), E)
op("log10", _function("log10"), unary("positive"), E)
op("log1p", _function("log1p"), unary("positive"), E)
op("expm1", _function("expm1"), unary(), E)
op("sqrt", _function("sqrt"), unary("positive"), E, dtypes=WITH_INT)
op("rsqrt", _function("rsqrt"), unary("positive"), E)
op("reciprocal", _function("reciprocal"), unary("nonzero"), E)
op("square", _function("square"), unary(), E, dtypes=WITH_INT)
op("sin", _function("sin"), unary(), E, dtypes=WITH_INT)
op("cos", _function("cos"), unary(), E)
op("tan", _function("tan"), unary("unit"), E)
op("tanh", _function("tanh"), unary(), E)
op("sinh", _function("sinh"), unary(), E)
op("cosh", _function("cosh"), unary(), E)
op("asin", _function("asin"), unary("unit"), E, dtypes=WITH_INT)
op("acos", _function("acos"), unary("unit"), E)
op("atan", _function("atan"), unary(), E)
op("asinh", _function("asinh"), unary(), E)
op("acosh", _function("acosh"), unary("above1"), E)
op("atanh", _function("atanh"), unary("unit"), E)
op("exp2", _function("exp2"), unary(), E, dtypes=WITH_INT)
op("atan2", _function("atan2"), binary(dy="nonzero", scalar=None), E)
op("logaddexp", _function("logaddexp"), chain(binary(scalar=None), fixed(
    S(V([INF, -INF, INF, 1.0], None), V([INF, -INF, 1.0, -INF], None)))), E,
   notes="equal infinities give that infinity")
op("clamp_min", _function("clamp_min"), fixed(S(T(2, 3), -0.2), S(T(2, 3), T(3))), E)
op("clamp_max", _function("clamp_max"), fixed(S(T(2, 3), 0.3), S(T(4), T(4))), E)
op("nan_to_num", _function("nan_to_num"), fixed(
    S(V([NAN, 1.5], None)), S(T(2, 3)), S(V([NAN, INF, -INF, 1.5], None), 1.0, 2.0, -2.0),
    S(T(3, dtype="int64"))), E, notes="the gradient passes where the input is finite")
op("isclose", _function("isclose"), fixed(
    S(T(2, 3), T(2, 3)), S(V([1.0, NAN, INF], "float64"), V([1.0 + 1e-9, NAN, INF], "float64")),
    S(V([1.0, NAN], "float64"), V([1.0, NAN], "float64"), equal_nan=True),
    S(T(2, 3), T(3), rtol=0.5)), E,
   grad=False, gradgrad=False, dtypes=WITH_INT)
op("sigmoid", _function("sigmoid"), chain(unary(), fixed(S(V([-100.0, 0.0, 100.0], None)))), E,
   dtypes=WITH_INT)
op("relu", _function("relu"), unary("nonzero"), E, dtypes=WITH_INT)
op("sign", _function("sign"), unary("nonzero"), E, dtypes=WITH_INT)
op("floor", _function("floor"), unary("frac"), E, dtypes=WITH_INT)
op("ceil", _function("ceil"), unary("frac"), E)
op("round", _function("round"), unary("frac"), E)
op("trunc", _function("trunc"), unary("frac"), E)
op("clamp", _function("clamp"), fixed(
    S(T(2, 3), -0.5, 0.5),
    S(T(2, 3), min=-0.3),
    S(T(4), max=0.2),
    S(T(), -0.5, 0.5),
    S(T(0, 2), -0.5, 0.5),
    S(T(2, 3), T(3), T(2, 1)),
    S(T(2, 3), min=T(2, 3)),
    S(T(2, 3), 0.5, -0.5),
), E, dtypes=WITH_INT, errors=fixed(S(T(2, 3))))
op("maximum", _function("maximum"), binary(scalar=None), E, dtypes=WITH_INT)
op("minimum", _function("minimum"), binary(scalar=None), E, dtypes=WITH_INT)
op("where", _function("where"), fixed(
    S(Mask(2, 3), T(2, 3), T(2, 3)),
    S(Mask(2, 1), T(3), T(2, 3)),
    S(Mask(3), T(2, 3), 0.5),
    S(Mask(2, 3), 1.5, T()),
    S(Mask(0, 3), T(3), T(1, 3)),
    S(Mask(2, 3), 1.0, 0),
), E, dtypes=WITH_INT, errors=fixed(S(T(2, 3), T(2, 3), T(2, 3)), S(Mask(2, 3), T(2, 3), T(4))))


def _comparisons(scalar: bool = True) -> Callable:
    """Pairs with some equal entries, so eq/le/ge see both answers (and a scalar operand)."""

    def samples(rng, dtype: str):
        x = values(rng, (2, 3), dtype)
        y = x.copy()
        y[0] = values(rng, (3,), dtype)
        yield (x, y), {}
        yield (values(rng, (2, 3), dtype), values(rng, (3,), dtype)), {}
        if scalar:
            yield (values(rng, (2, 3), dtype), 0), {}
        yield (values(rng, (0, 3), dtype), values(rng, (), dtype)), {}

    return samples


for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    op(_name, _function(_name), _comparisons(), "comparison", grad=False, gradgrad=False,
       dtypes=WITH_INT_BOOL)
for _name in ("logical_and", "logical_or", "logical_xor"):
    op(_name, _function(_name), _comparisons(scalar=False), "comparison", grad=False,
       gradgrad=False, dtypes=WITH_INT_BOOL)
op("logical_not", _function("logical_not"), unary(), "comparison", grad=False, gradgrad=False,
   dtypes=WITH_INT_BOOL)
op("isnan", _function("isnan"), fixed(S(V([1.0, float("nan"), float("inf")], "float64"))),
   "comparison", grad=False, gradgrad=False)

# ---------------------------------------------------------------------------- operators

O = "operator"
op("x + y", lambda m, x, y: x + y, binary(), O, dtypes=WITH_INT_BOOL, op="__add__")
op("s + x", lambda m, s, x: s + x, reflected(), O, dtypes=WITH_INT, op="__radd__")
op("x - y", lambda m, x, y: x - y, binary(), O, dtypes=WITH_INT, op="__sub__")
op("s - x", lambda m, s, x: s - x, reflected(), O, dtypes=WITH_INT, op="__rsub__")
op("x * y", lambda m, x, y: x * y, binary(), O, dtypes=WITH_INT_BOOL, op="__mul__")
op("s * x", lambda m, s, x: s * x, reflected(), O, dtypes=WITH_INT, op="__rmul__")
op("x / y", lambda m, x, y: x / y, binary(dy="nonzero"), O, dtypes=WITH_INT, op="__truediv__")
op("s / x", lambda m, s, x: s / x, reflected("nonzero"), O, dtypes=WITH_INT, op="__rtruediv__")
op("x // y", lambda m, x, y: x // y, binary(dy="nonzero"), O, dtypes=WITH_INT, grad=False,
   gradgrad=False, notes="torch has no derivative", op="__floordiv__")
op("x % y", lambda m, x, y: x % y, binary(dy="nonzero"), O, dtypes=WITH_INT, op="__mod__")
op("x ** y", lambda m, x, y: x ** y, fixed(
    S(T(2, 3, domain="positive"), T(3, domain="positive")),
    S(T(2, 3), 2),
    S(T(2, 3, domain="positive"), 1.5),
    S(V([2, 3, -1, 1, -1]), V([-1, 2, -3, -2, 0])),
), O, dtypes=WITH_INT, errors=fixed(S(V([2, 3]), -1)),
   notes="integer tensors to negative integer tensor powers follow torch (2 ** -1 == 0)", op="__pow__")
op("s ** x", lambda m, s, x: s ** x, reflected(), O, op="__rpow__")
op("-x", lambda m, x: -x, unary(), O, dtypes=WITH_INT, op="__neg__")
op("x @ y", lambda m, x, y: x @ y, fixed(S(T(2, 3), T(3, 4)), S(T(3), T(3))), O, op="__matmul__")

# ---------------------------------------------------------------------------- reductions

R = "reduce"
op("sum", _function("sum"), reduction(), R, dtypes=WITH_INT_BOOL,
   errors=fixed(S(T(2, 3), dim=2), S(T(2, 3), dim=(0, 0))))
op("sum(dtype)", lambda m, x: m.sum(x, 0, dtype=m.float64), fixed(S(T(2, 3)), S(T(3))), R,
   dtypes=WITH_INT_BOOL)
op("mean", _function("mean"), chain(reduction(), fixed(S(T(2, 3), dim=()))), R, dtypes=WITH_INT,
   notes="zero-size reductions give nan, as torch; integer inputs are refused")
_PROD_READS = "its derivative first looks for zeros in the input (as torch's does)"
op("prod", _function("prod"), reduction("nonzero", tuple_dims=False), R, dtypes=WITH_INT,
   host_reads=_PROD_READS)
op("prod(zeros)", lambda m, x, d: m.prod(x * (x > 0), d), fixed(
    S(T(3, 4), 1), S(T(2, 3), 0)), R, notes="inputs with zeros use the product of the others",
   host_reads=_PROD_READS)
op("amax", _function("amax"), reduction("distinct", empty=False), R, dtypes=WITH_INT,
   errors=fixed(S(T(0, 3), dim=0), S(T(0, 3))))
op("amin", _function("amin"), reduction("distinct", empty=False), R, dtypes=WITH_INT)


def _ties(*dims) -> Callable:
    """Rows whose largest and smallest values each appear twice, reduced over each of ``dims``."""

    def samples(rng, dtype: str):
        x = values(rng, (2, 6), dtype, "distinct")
        x[:, 3] = x.max(axis=1)
        x[:, 4] = x.min(axis=1)
        for dim in dims:
            yield (x,) if dim is None else (x, dim), {}

    return samples


op("amax(ties)", _function("amax"), _ties(None, 1), R, notes="ties share the gradient evenly")
op("amin(ties)", _function("amin"), _ties(None, 1), R, notes="ties share the gradient evenly")
_max_samples = fixed(
    S(T(2, 3, 4, domain="distinct")),
    S(T(2, 3, 4, domain="distinct"), 1),
    S(T(2, 3, 4, domain="distinct"), -1, True),
    S(T(domain="distinct"), 0),
    S(T(2, 3, domain="distinct"), T(3, domain="distinct")),
)
_empty_extreme = fixed(S(T(0, 3)), S(T(0, 3), 0))
op("max", _function("max"), _max_samples, R, dtypes=WITH_INT, errors=_empty_extreme,
   notes="max(x), max(x, dim) -> (values, indices), max(x, other)")
op("min", _function("min"), _max_samples, R, dtypes=WITH_INT, errors=_empty_extreme,
   notes="min(x), min(x, dim) -> (values, indices), min(x, other)")
op("max(ties)", _function("max"), _ties(None), R, notes="max(x) shares the gradient of ties evenly")
op("min(ties)", _function("min"), _ties(None), R, notes="min(x) shares the gradient of ties evenly")
_arg_samples = fixed(
    S(T(2, 3, 4, domain="distinct")),
    S(T(2, 3, 4, domain="distinct"), 1),
    S(T(2, 3, 4, domain="distinct"), -1, keepdim=True),
    S(T(2, 3, domain="distinct"), keepdim=True),
    S(T(domain="distinct"), 0),
)
op("argmax", _function("argmax"), _arg_samples, R, grad=False, gradgrad=False, dtypes=WITH_INT,
   errors=fixed(S(T(0, 3)), S(T(0, 3), 0)))
op("argmin", _function("argmin"), _arg_samples, R, grad=False, gradgrad=False, dtypes=WITH_INT)
op("count_nonzero", _function("count_nonzero"), fixed(
    S(T(2, 3, domain="unit")), S(T(2, 3, domain="unit"), 1), S(T(0, 3)), S(T(2, 3), (0, 1))), R,
   grad=False, gradgrad=False, dtypes=WITH_INT_BOOL)
_SORTS = "sort"
op("sort", _function("sort"), fixed(
    S(T(2, 5, domain="distinct")), S(T(4, 3, domain="distinct"), 0),
    S(T(6, domain="distinct"), descending=True), S(T()), S(T(0, 3)),
    S(V([2.0, NAN, -1.0], "float64")), S(V([2.0, NAN, -1.0], "float64"), descending=True)), _SORTS,
   dtypes=WITH_INT, notes="NaN sorts as the largest; ties keep their order")
op("argsort", _function("argsort"), fixed(
    S(T(2, 5, domain="distinct")), S(T(4, 3, domain="distinct"), 0, True)), _SORTS,
   grad=False, gradgrad=False, dtypes=WITH_INT)
op("topk", _function("topk"), fixed(
    S(T(2, 5, domain="distinct"), 2), S(T(4, 3, domain="distinct"), 2, 0, False),
    S(T(5, domain="distinct"), 0), S(T(), 1)), _SORTS, dtypes=WITH_INT,
   errors=fixed(S(T(3), 4), S(T(), 2)))
for _name in ("all", "any"):
    op(_name, _function(_name), fixed(S(T(2, 3)), S(T(2, 3), 1), S(T(2, 3), dim=-1, keepdim=True),
                                      S(T()), S(T(0, 3), 0)), R, grad=False, gradgrad=False,
       dtypes=WITH_INT_BOOL)
op("var", _function("var"), fixed(
    S(T(2, 3, 4)),
    S(T(2, 3, 4), 1),
    S(T(2, 3, 4), dim=-1, keepdim=True),
    S(T(2, 3, 4), dim=(0, 2), correction=0),
    S(T(2, 3, 4), 1, unbiased=False),
    S(T(2, 3, 4), dim=1, correction=2),
    S(T(3, 4), dim=0, unbiased=True, keepdim=True),
    S(T(1, 3), 0),
), R, notes="one element with correction 1 gives nan, as torch",
   errors=fixed(S(T(2, 3), 2), S(V([1, 2, 3]))))
op("std", _function("std"), fixed(
    S(T(2, 3, 4)),
    S(T(2, 3, 4), -2),
    S(T(2, 3, 4), dim=(0, -1), keepdim=True),
    S(T(2, 3, 4), 1, unbiased=False),
    S(T(2, 3, 4), dim=2, correction=0),
), R)
op("norm", _function("norm"), fixed(
    S(T(2, 3, domain="nonzero")),
    S(T(2, 3, domain="nonzero"), dim=1),
    S(T(2, 3, 4, domain="nonzero"), dim=(0, 2), keepdim=True),
    S(T(2, 3, domain="nonzero"), p=1, dim=-1),
    S(T(2, 3, domain="distinct"), p=float("inf"), dim=0),
    S(T(2, 3, domain="nonzero"), p=3),
    S(T(2, 3, domain="nonzero"), p="fro"),
    S(T(2, 3, domain="distinct"), p=float("-inf"), dim=1),
    S(T(2, 3, domain="positive"), p=0.5),
    S(T(2, 3, domain="nonzero"), p=0, dim=0),
    S(T(domain="nonzero")),
), R)
op("norm(at zero)", _function("norm"), fixed(S(V([[0.0, 0.0], [1.0, 2.0]], None), dim=1)), R,
   gradgrad=False, notes="the gradient at 0 is 0, as torch; no second derivative exists there")
op("logsumexp(int)", _function("logsumexp"), fixed(S(V([[1, 2], [3, 4]]), 1)), R, grad=False,
   gradgrad=False, notes="integer inputs give the default float type")
op("logsumexp", _function("logsumexp"), chain(
    reduction(full=False, empty=False),
    fixed(S(V([[float("-inf"), 0.0], [float("-inf"), float("-inf")]], None), 1)),
), R)
op("cumsum", _function("cumsum"), fixed(
    S(T(2, 3, 4), 1),
    S(T(2, 3, 4), -1),
    S(T(5), 0),
    S(T(), 0),
    S(T(0, 3), 1),
), R, dtypes=WITH_INT_BOOL,
   errors=fixed(S(T(2, 3), 2),))

# ---------------------------------------------------------------------------- activations

A = "activation"
_softmax_samples = fixed(
    S(V([[1000.0, 0.0, -1000.0]], None), 1),
    S(T(3, 4), 1),
    S(T(3, 4), dim=0),
    S(T(2, 3, 4), -1),
    S(T(), 0),
    S(T(0, 3), 1),
)
op("softmax", _function("softmax"), _softmax_samples, A,
   errors=fixed(S(T(2, 3), 2),))
op("log_softmax", _function("log_softmax"), _softmax_samples, A,
   errors=fixed(S(T(2, 3), -3),))


def _nnf(name: str) -> Callable:
    """``call`` for ``module.nn.functional.name(*args, **kwargs)``."""
    return lambda m, *args, **kw: getattr(m.nn.functional, name)(*args, **kw)


_KINKED = chain(unary("nonzero"), fixed(S(V([-4.0, -2.5, -0.5, 0.0, 0.5, 2.5, 4.0], None))))
for _name in ("selu", "celu", "softsign", "mish", "hardswish", "tanhshrink"):
    op(_name, _nnf(_name), unary(), A)
op("hardsigmoid", _nnf("hardsigmoid"), _KINKED, A, gradgrad=False,
   notes="torch has no second derivative")
op("hardshrink", _nnf("hardshrink"), chain(unary("nonzero"), fixed(S(T(2, 3), 0.3))), A)
op("softshrink", _nnf("softshrink"), chain(unary("nonzero"), fixed(S(T(2, 3), 0.3))), A)
op("threshold", _nnf("threshold"), fixed(S(T(2, 3, domain="nonzero"), 0.1, 20.0)), A)
op("softmin", _nnf("softmin"), _softmax_samples, A)
op("glu", _nnf("glu"), fixed(S(T(2, 4)), S(T(4, 3), 0), S(T(2, 2, 6), -1)), A,
   errors=fixed(S(T(2, 3)),))
op("prelu", _nnf("prelu"), fixed(
    S(T(2, 3, 4, domain="nonzero"), T(3)), S(T(2, 3, domain="nonzero"), T(1)),
    S(T(5, domain="nonzero"), T(1))), A)

# ---------------------------------------------------------------------------- special functions

SP = "special"
_erf_tails = fixed(S(V([-30.0, -6.0, -4.0, -0.46875, 0.0, 0.3, 4.5, 27.0], None)))
op("erf", _function("erf"), chain(unary(), _erf_tails), SP, dtypes=WITH_INT)
op("erfc", _function("erfc"), chain(unary(), _erf_tails), SP)
op("erfinv", _function("erfinv"), chain(unary("unit"), fixed(S(V([-0.995, 0.0, 0.5, 0.99], None)))),
   SP)

# ---------------------------------------------------------------------------- matrix products

L = "linalg"
op("matmul", _function("matmul"), fixed(
    S(T(3), T(3)),
    S(T(2, 3), T(3)),
    S(T(3), T(3, 4)),
    S(T(2, 3), T(3, 4)),
    S(T(2, 1, 3, 4), T(3, 4, 2)),
    S(T(3), T(2, 3, 4)),
    S(T(2, 3, 4), T(4)),
    S(T(0, 3), T(3, 2)),
    S(T(2, 0), T(0, 3)),
), L,
   errors=fixed(S(T(2, 3), T(4, 5)), S(T(3), T(4)), S(T(), T(3)), S(T(2, 2, 3), T(3, 3, 2))))
op("dot", _function("dot"), fixed(S(T(3), T(3)), S(T(0), T(0))), L, dtypes=WITH_INT,
   errors=fixed(S(T(3), T(4)), S(T(2, 3), T(3))))
op("outer", _function("outer"), fixed(S(T(3), T(4)), S(T(1), T(2))), L, dtypes=WITH_INT)
op("mm", _function("mm"), fixed(S(T(2, 3), T(3, 4)), S(T(1, 1), T(1, 2))), L, dtypes=WITH_INT,
   errors=fixed(S(T(3), T(3, 2)), S(T(2, 3), T(2, 3))))
op("bmm", _function("bmm"), fixed(S(T(2, 2, 3), T(2, 3, 4)), S(T(1, 3, 1), T(1, 1, 2))), L,
   errors=fixed(S(T(2, 3, 4), T(3, 4, 5)), S(T(2, 3), T(2, 3, 4))))
op("mv", _function("mv"), fixed(S(T(2, 3), T(3))), L)
op("diag", _function("diag"), fixed(S(T(3)), S(T(3), 1), S(T(2), -2), S(T(3, 4)), S(T(3, 4), 1),
                                    S(T(4, 3), -2)), L, dtypes=WITH_INT,
   errors=fixed(S(T(2, 2, 2)),))
op("diagonal", _function("diagonal"), fixed(S(T(3, 4)), S(T(2, 3, 4), 1, 0, 2), S(T(3, 3), -1)), L)
op("einsum", _function("einsum"), fixed(
    S("bij,bjk->bik", T(2, 3, 4), T(2, 4, 5)), S("...ij,...jk", T(2, 3, 4), T(4, 5)),
    S("bij->j", T(2, 3, 4)), S("i,i->", T(3), T(3)), S("i,j->ij", T(3), T(2)), S("ji", T(3, 3)),
    S("bij,bkj->bik", T(2, 3, 4), T(1, 5, 4)), S("ii->i", T(3, 3)), S("ii", T(3, 3)),
    S("iij,j->i", T(2, 2, 3), T(3))), L,
   errors=fixed(S("ij,jk->ik", T(2, 3)), S("ijk", T(2, 3))))
op("tensordot", _function("tensordot"), fixed(
    S(T(3, 4, 5), T(4, 5, 2)), S(T(3, 4, 5), T(5, 2), 1), S(T(3, 4), T(4, 3), ([1], [0])),
    S(T(2, 3), T(3, 2), 0)), L)
_M3 = [[2.0, 0.5, -0.3], [0.1, 1.5, 0.4], [-0.2, 0.3, 1.8]]
_M3B = [_M3, [[1.2, -0.4, 0.0], [0.3, 2.2, -0.5], [0.6, 0.1, 1.4]]]
op("linalg.inv", lambda m, a: m.linalg.inv(a), fixed(S(V(_M3, None)), S(V(_M3B, None))), L,
   errors=fixed(S(T(2, 3)), S(V([[1.0, 2.0], [2.0, 4.0]], None))))
op("linalg.det", lambda m, a: m.linalg.det(a), fixed(S(V(_M3, None)), S(V(_M3B, None))), L)
op("linalg.solve", lambda m, a, b: m.linalg.solve(a, b), fixed(
    S(V(_M3, None), T(3, 2)), S(V(_M3B, None), T(2, 3, 4)), S(V(_M3, None), T(3)),
    S(V(_M3B, None), T(2, 3))), L)
op("trace", _function("trace"), fixed(S(T(3, 4)), S(T(3, 3))), L, errors=fixed(S(T(3)),))

# ---------------------------------------------------------------------------- shapes

M = "shape"
op("t", _function("t"), fixed(S(T(2, 3)), S(T(3)), S(T())), M, dtypes=WITH_INT)
op("T", lambda m, x: x.T, fixed(S(T(2, 3)), S(T(1, 4))), M)
op("mT", lambda m, x: x.mT, fixed(S(T(2, 3)), S(T(2, 3, 4))), M)
op("transpose", _function("transpose"), fixed(
    S(T(2, 3, 4), 0, 2), S(T(2, 3), -1, 0), S(T(3), 0, -1)), M, dtypes=WITH_INT,
   errors=fixed(S(T(2, 3), 0, 2),))
op("reshape", _function("reshape"), fixed(
    S(T(2, 3, 4), (4, 6)), S(T(2, 3, 4), (-1,)), S(T(2, 3, 4), (3, -1, 2)),
    S(T(), (1, 1)), S(T(1, 1), ()), S(T(0, 3), (3, 0))), M, dtypes=WITH_INT,
   errors=fixed(S(T(2, 3), (4, 2)), S(T(2, 3), (-1, -1))))
op("view", lambda m, x, *shape: x.view(*shape), fixed(
    S(T(2, 3, 4), 4, 6), S(T(2, 3, 4), (-1,)), S(T(6), 3, -1)), M,
   errors=fixed(S(T(2, 3), 4, 2)))
op("flatten", _function("flatten"), fixed(
    S(T(2, 3, 4)), S(T(2, 3, 4), 1), S(T(2, 3, 4), 0, 1), S(T(2, 3, 4), -2, -1), S(T())), M,
   errors=fixed(S(T(2, 3, 4), 2, 1),))
op("unflatten", _function("unflatten"), fixed(
    S(T(2, 12), 1, (3, 4)), S(T(6), 0, (2, -1)), S(T(2, 6, 2), -2, (3, 2))), M,
   errors=fixed(S(T(2, 12), 1, (5, 2)),))
op("squeeze", _function("squeeze"), fixed(
    S(T(2, 1, 3, 1)), S(T(2, 1, 3, 1), 1), S(T(2, 1, 3, 1), -1), S(T(2, 1, 3, 1), (1, 3)),
    S(T(2, 1, 3), 0), S(T()), S(T(1))), M,
   errors=fixed(S(T(2, 1), 2),))
op("unsqueeze", _function("unsqueeze"), fixed(
    S(T(2, 3), 0), S(T(2, 3), -1), S(T(2, 3), 1), S(T(), 0)), M, dtypes=WITH_INT,
   errors=fixed(S(T(2, 3), 3), S(T(2, 3), -4)))
op("permute", _function("permute"), fixed(
    S(T(2, 3, 4), (2, 0, 1)), S(T(2, 3, 4), (-1, 0, 1)), S(T(2, 3), (0, 1))), M,
   errors=fixed(S(T(2, 3), (0,)), S(T(2, 3), (0, 0)), S(T(2, 3), (0, 2))))
op("permute(method)", lambda m, x: x.permute(1, 0), fixed(S(T(2, 3))), M)
op("expand", lambda m, x, *shape: x.expand(*shape), fixed(
    S(T(3, 1), 3, 4), S(T(3, 1), (2, 3, -1)), S(T(), 2, 2), S(T(1), 0)), M,
   errors=fixed(S(T(3, 2), 3, 3), S(T(3, 2), 2)))
op("repeat", lambda m, x, *sizes: x.repeat(*sizes), fixed(
    S(T(2, 3), 2, 1), S(T(2, 3), (1, 2, 2)), S(T(3), 2), S(T(), 2, 3)), M,
   errors=fixed(S(T(2, 3), 2),))
op("roll", _function("roll"), fixed(
    S(T(2, 3), 1, 1), S(T(2, 3), (1, -1), (0, 1)), S(T(5), 7), S(T(2, 3), -2), S(T(0, 2), 1, 0)),
   M, dtypes=WITH_INT)
op("tile", _function("tile"), fixed(S(T(2, 3), (2, 1)), S(T(3), (2, 2)), S(T(), (3,))), M)
op("diff", _function("diff"), fixed(
    S(T(5)), S(T(3, 4), 2, 1), S(T(3, 4), 1, 0, T(1, 4), T(2, 4)), S(T(2, 3), 4), S(T(2, 1))), M,
   dtypes=WITH_INT, errors=fixed(S(T()),))
op("kron", _function("kron"), fixed(S(T(2, 3), T(3, 2)), S(T(2), T(3)), S(T(2, 2), T(3)),
                                    S(T(2, 1, 2), T(2, 3))), M, dtypes=WITH_INT)
op("cross", _function("cross"), fixed(
    S(T(3), T(3)), S(T(4, 3), T(4, 3), 1), S(T(3, 2), T(3, 2)), S(T(2, 3), T(1, 3), -1)), M,
   dtypes=WITH_INT, errors=fixed(S(T(2, 4), T(2, 4), 1), S(T(2, 3), T(3), -1)))
op("meshgrid", _function("meshgrid"), fixed(
    S(T(3), T(2)), S(T(3), T(2), indexing="xy"), S(T(2), T(3), T(4), indexing="xy"), S(T())), M)
op("flip", _function("flip"), fixed(
    S(T(2, 3, 4), (0,)), S(T(2, 3, 4), (-1, 0)), S(T(3), (0,)), S(T(2, 3), ())), M,
   errors=fixed(S(T(2, 3), (2,)), S(T(2, 3), (0, 0))))
op("cat", _function("cat"), fixed(
    S([T(2, 3), T(1, 3)]),
    S([T(2, 3), T(2, 2), T(2, 1)], 1),
    S([T(2, 3), T(2, 3)], dim=-1),
    S([T(0, 3), T(2, 3)]),
    S([T(2, 3), T(0)]),
), M, dtypes=WITH_INT,
   errors=fixed(S([T(2, 3), T(2, 4)]), S([T(), T()]), S([T(2, 3)], 2)))
op("stack", _function("stack"), fixed(
    S([T(2, 3), T(2, 3)]), S([T(2, 3), T(2, 3), T(2, 3)], -1), S([T(), T()]), S([T(0, 2)], 1)), M,
   errors=fixed(S([T(2, 3), T(3, 2)]), S([T(2, 3)], 3)))
op("split", _function("split"), fixed(
    S(T(5, 2), 2), S(T(5, 2), [1, 4]), S(T(2, 5), 2, 1), S(T(2, 5), 5, dim=-1), S(T(0, 2), 2),
    S(T(4, 2), [0, 4])), M,
   errors=fixed(S(T(5, 2), [1, 2]),))
op("chunk", _function("chunk"), fixed(
    S(T(5, 2), 2), S(T(5, 2), 3, 0), S(T(2, 6), 4, -1), S(T(2, 3), 5), S(T(0, 3), 2)), M,
   errors=fixed(S(T(5, 2), 0),))
op("unbind", _function("unbind"), fixed(S(T(2, 3), 0), S(T(2, 3), 1)), M)
op("movedim", _function("movedim"), fixed(
    S(T(2, 3, 4), 0, -1), S(T(2, 3, 4), (0, 1), (2, 0))), M)
op("broadcast_to", _function("broadcast_to"), fixed(S(T(3, 1), (2, 3, 4))), M)
op("contiguous", lambda m, x: x.T.contiguous(), fixed(S(T(2, 3))), M)
op("clone", _function("clone"), unary(), M)

# ---------------------------------------------------------------------------- indexing

X = "index"
op("gather", _function("gather"), fixed(
    S(T(3, 4), 1, Idx(4, 3, 2)),
    S(T(3, 4), 0, Idx(3, 2, 4)),
    S(T(3, 4), -1, Idx(4, 3, 5)),
), X, dtypes=WITH_INT,
   errors=fixed(S(T(3, 4), 1, V([[5]])), S(T(3, 4), 1, V([[0.5]], None)), S(T(3, 4), 0, V([1])),
                 S(T(3, 4), 1, V([[-1]]))))
op("scatter_add", _function("scatter_add"), fixed(
    S(T(3, 4), 1, Idx(4, 3, 2), T(3, 2)),
    S(T(3, 4), 0, Idx(3, 2, 4), T(2, 4)),
    S(T(3, 4), -1, Idx(4, 3, 6), T(3, 6)),
), X, dtypes=WITH_INT,
   errors=fixed(S(T(3, 4), 0, Idx(3, 2, 4), V([[1, 1, 1, 1], [2, 2, 2, 2]])),))
op("scatter_add(larger src)", _function("scatter_add"), fixed(S(T(3, 4), 0, Idx(3, 2, 3), T(3, 4))),
   X, grad=False, gradgrad=False,
   notes="src larger than index: torch cannot differentiate it; Ember can (tested in test_autograd)")
op("index_select", _function("index_select"), fixed(
    S(T(3, 4), 0, V([2, 0, 2])),
    S(T(3, 4), -1, V([1])),
    S(T(3, 4), 1, V([], "int64")),
), X, dtypes=WITH_INT,
   errors=fixed(S(T(3, 4), 0, V([3])), S(T(3, 4), 0, V([[0]])), S(T(3, 4), 2, V([0]))))
op("narrow", _function("narrow"), fixed(S(T(4, 3), 0, 1, 2), S(T(4, 3), -1, 0, 3)), X,
   errors=fixed(S(T(4, 3), 0, 3, 2),))
op("masked_fill", _function("masked_fill"), fixed(
    S(T(3, 4), Mask(3, 4), -1.5),
    S(T(3, 4), Mask(4), T()),
    S(T(3), Mask(3), 2),
), X, dtypes=WITH_INT,
   errors=fixed(S(T(3), V([1, 0, 1]), 0.0), S(T(3), Mask(3), T(1))))
op("tril", _function("tril"), fixed(
    S(T(3, 4)), S(T(4, 3), 1), S(T(2, 3, 3), diagonal=-1), S(T(0, 3)), S(T(2, 3), -5), S(T(2, 3), 7)), X,
   dtypes=WITH_INT,
   errors=fixed(S(T(3)),))
op("triu", _function("triu"), fixed(
    S(T(3, 4)), S(T(4, 3), 1), S(T(2, 3, 3), diagonal=-1), S(T(0, 3)), S(T(2, 3), -5), S(T(2, 3), 7)), X,
   dtypes=WITH_INT)
_getitem = lambda m, x, idx: x[idx]
op("getitem(basic)", _getitem, fixed(
    S(T(4, 5), 1),
    S(T(4, 5), -1),
    S(T(4, 5), (slice(1, 3), 2)),
    S(T(4, 5), (slice(None, None, 2), slice(-3, None))),
    S(T(2, 3, 4), (Ellipsis, 1)),
    S(T(2, 3), (None, 1, None)),
    S(T(4), slice(5, 7)),
    S(T(), ()),
), X, dtypes=WITH_INT,
   errors=fixed(S(T(3), 5), S(T(3), (0, 0)), S(T(2, 3), (slice(None), -4)),
                 S(T(3), slice(None, None, -1))), op="__getitem__")
op("getitem(advanced)", _getitem, fixed(
    S(T(4, 5), V([0, 2, 2])),
    S(T(4, 5), V([[0, -1], [3, 3]])),
    S(T(4, 5), [1, 3, 1]),
    S(T(4, 5), (slice(1, None), V([4, 0]))),
    S(T(4, 5, 2), (V([0, 2]), slice(None), V([1, 0]))),
    S(T(4, 5, 2), (V([0, 3]), V([1, 1]))),
    S(T(3, 2), (V([], "int64"),)),
), X, dtypes=WITH_INT, notes="repeated indices accumulate their gradients",
   errors=fixed(S(T(3), V([3])), S(T(3), V([0.5], None))), op="__getitem__")
_MASK_READS = "a boolean mask's count of true values sets the shape (torch reads it too)"
op("getitem(mask)", _getitem, fixed(S(T(4, 5), Mask(4, 5)), S(T(4, 5), (Mask(4),))), X,
   dtypes=WITH_INT, errors=fixed(S(T(3, 2), Mask(2))), host_reads=_MASK_READS, op="__getitem__")
op("masked_select", _function("masked_select"), fixed(
    S(T(2, 3), Mask(2, 3)), S(T(2, 3), Mask(3)), S(T(3), Mask(2, 3))), X, dtypes=WITH_INT,
   host_reads=_MASK_READS)
op("setitem", _setitem, fixed(
    S(T(4, 5), 1, T(5)),
    S(T(4, 5), (slice(1, 3), slice(None, None, 2)), T(1, 3)),
    S(T(4, 5), (Ellipsis, 0), 2.5),
    S(T(4, 5), V([0, 2]), T(5)),
    S(T(4, 5), (V([0, 3]), V([1, 4])), T(2)),
), X, dtypes=WITH_INT, notes="x[idx] = v; the assigned positions' gradient goes to v", op="__setitem__")
op("setitem(mask)", _setitem, fixed(S(T(4, 5), Mask(4, 5), 0.0), S(T(4, 5), (Mask(4),), T())), X,
   dtypes=WITH_INT, notes="x[mask] = v", host_reads=_MASK_READS, op="__setitem__")

# ---------------------------------------------------------------------------- in-place and casts

P = "in-place"
op("add_", _inplace("add_"), fixed(
    S(T(2, 3), T(2, 3)), S(T(2, 3), T(3)), S(T(2, 3), 2.0), S(T(2, 3), T(1, 3), alpha=-2)), P,
   dtypes=WITH_INT)
op("sub_", _inplace("sub_"), fixed(S(T(2, 3), T(2, 3)), S(T(2, 3), T()), S(T(4), 1)), P,
   dtypes=WITH_INT)
op("mul_", _inplace("mul_"), fixed(S(T(2, 3), T(2, 3)), S(T(2, 3), T(2, 1)), S(T(4), 1.5)), P,
   dtypes=WITH_INT)
op("div_", _inplace("div_"), fixed(
    S(T(2, 3), T(2, 3, domain="nonzero")), S(T(2, 3), T(3, domain="nonzero")), S(T(4), 4.0)), P,
   errors=fixed(S(V([1, 2]), 2.0),))
for _alias, _samples in (("divide_", fixed(S(T(2, 3), T(3, domain="nonzero")))),
                         ("true_divide_", fixed(S(T(2, 3), T(2, 3, domain="nonzero")))),
                         ("multiply_", fixed(S(T(2, 3), T(2, 1)))), ("subtract_", fixed(S(T(4), 1)))):
    op(_alias, _inplace(_alias), _samples, P)
op("zero_", _inplace("zero_"), unary(), P, dtypes=WITH_INT)
# resize_ keeps the elements that fit: the samples shrink or keep the size (growth is
# uninitialized memory in torch)
op("resize_", _inplace("resize_"), fixed(S(T(2, 3), 3, 2), S(T(2, 3), (4,)), S(T(4), 1, 2)), P,
   dtypes=WITH_INT, grad=False, gradgrad=False)
op("resize_as_", _inplace("resize_as_"), fixed(S(T(2, 3), T(5))), P, grad=False, gradgrad=False)
op("fill_", _inplace("fill_"), fixed(S(T(2, 3), 1.5), S(T(2, 3), T()), S(T(0, 2), 3)), P,
   dtypes=WITH_INT)
op("copy_", _inplace("copy_"), fixed(S(T(2, 3), T(2, 3)), S(T(2, 3), T(3)), S(T(), T())), P,
   dtypes=WITH_INT)
op("clamp_", _inplace("clamp_"), fixed(S(T(2, 3), -0.5, 0.5), S(T(4), min=0.1)), P)
op("masked_fill_", _inplace("masked_fill_"), fixed(S(T(3, 4), Mask(3, 4), 0.5)), P)
op("fill_diagonal_", _inplace("fill_diagonal_"), fixed(
    S(T(3, 4), 0.5), S(T(7, 3), 2.0, wrap=True), S(T(7, 3), 2.0), S(T(3, 3, 3), -1.0)), P,
   errors=fixed(S(T(3), 1.0), S(T(2, 3, 3), 1.0)))
op("renorm", _function("renorm"), fixed(
    S(T(3, 4), 2, 0, 1.0), S(T(3, 4, 2), 1, -1, 0.5), S(T(2, 3), 3, 1, 10.0), S(T(0, 3), 2, 1, 1.0)),
   R, errors=fixed(S(T(3), 2, 0, 1.0), S(T(2, 3), 0, 0, 1.0), S(T(2, 3), 2, 0, -1.0)))
op("to(float64)", lambda m, x: x.to(m.float64), unary(), "cast",
   notes="differentiable between floating types")
op("float", lambda m, x: x.float(), unary(), "cast")
op("double", lambda m, x: x.double(), unary(), "cast")
