"""Samples of the scatter and indexed-write ops (ember/ops/scatter.py), their in-place forms,
``take``, ``select``, ``Tensor.unfold``, ``argwhere`` and ``nonzero(as_tuple=True)``.

Overwriting ops get indices without repeats (torch leaves the winner of a repeat unspecified);
reducing ops get repeats on purpose, so several values meet in one position.
"""
from __future__ import annotations

from .specs import WITH_INT, Mask, S, T, V, fixed, function, inplace, op

X = "scatter"


def method(name: str):
    """``call`` for a Tensor method: ``x.name(*args, **kwargs)``."""
    return lambda m, x, *args, **kw: getattr(x, name)(*args, **kw)


_ROWS = V([[2, 0, 1, 2], [0, 2, 0, 1]])  # along dim 0 of a (3, 4): no repeats in a column
_COLS = V([[3, 0], [1, 2], [0, 3]])      # along dim 1 of a (3, 4): no repeats in a row
_REPEATS = V([[0, 0, 1, 0], [0, 2, 0, 0]])

_scatter = fixed(
    S(T(3, 4), 0, _ROWS, T(2, 4)),
    S(T(3, 4), 1, _COLS, T(3, 2)),
    S(T(3, 4), -1, _COLS, T(3, 2)),
    S(T(3, 4), 0, _ROWS, 1.5),
    S(T(3, 4), 1, _COLS, value=-2.0),
    S(T(), 0, V(0), T()),
)
_scatter_errors = fixed(
    S(T(3, 4), 0, V([[3, 0, 0, 0]]), T(2, 4)),
    S(T(3, 4), 0, V([[0.5]], None), T(2, 4)),
    S(T(3, 4), 2, _ROWS, T(2, 4)),
    S(T(3, 4), 0, _ROWS, T(1, 4)),
    S(T(3, 4), 0, _ROWS, V([[1, 2, 3, 4], [1, 2, 3, 4]])),
)
op("scatter", function("scatter"), _scatter, X, dtypes=WITH_INT, errors=_scatter_errors)
op("scatter_", inplace("scatter_"), _scatter, X, dtypes=WITH_INT)
op("scatter(empty index)", function("scatter"), fixed(S(T(3, 4), 0, V([[]]), T(2, 4))), X,
   grad=False, gradgrad=False, notes="a copy of the input (torch cannot differentiate it)")
op("scatter(reduce)", function("scatter"), fixed(
    S(T(3, 4), 0, _REPEATS, T(2, 4), reduce="add"),
    S(T(3, 4), 1, _COLS, T(3, 2), reduce="multiply"),
), X, grad=False, gradgrad=False, dtypes=WITH_INT,
   notes="torch cannot differentiate scatter with reduce=; Ember can (its scatter_reduce's rules)")

_reduce_samples = [
    S(T(3, 4, domain="nonzero"), 0, _REPEATS, T(2, 4, domain="nonzero")),
    S(T(3, 4, domain="nonzero"), 1, V([[1, 1], [0, 3], [2, 2]]), T(3, 2, domain="nonzero")),
    S(T(3, 4, domain="nonzero"), -1, V([[0, 0, 0], [3, 1, 3], [2, 2, 2]]), T(3, 3, domain="nonzero")),
    S(T(domain="nonzero"), 0, V(0), T(domain="nonzero")),
]
_PROD_JVP = ("torch's forward mode gives zero tangents for scatter_reduce \"prod\" (its reverse mode is "
             "right); tests/test_jvp_rules.py checks Ember's JVP against torch's Jacobian")
for _reduce in ("sum", "prod", "mean", "amax", "amin"):
    _domain = "distinct" if _reduce in ("amax", "amin") else "nonzero"
    _samples = [S(T(3, 4, domain=_domain), d, i, T(*s.shape, domain=_domain), _reduce,
                  include_self=inc)
                for (x, d, i, s), _ in _reduce_samples[:3] for inc in (True, False)]
    _samples.append(S(T(domain=_domain), 0, V(0), T(domain=_domain), _reduce))
    op(f"scatter_reduce({_reduce})", function("scatter_reduce"), fixed(*_samples), X,
       dtypes=WITH_INT, op="scatter_reduce", jvp_ref=_PROD_JVP if _reduce == "prod" else "")
op("scatter_reduce(ties)", function("scatter_reduce"), fixed(
    S(V([[1.0, 2.0], [3.0, 0.5]], None), 0, V([[0, 0], [0, 0]]), V([[3.0, 2.0], [3.0, 0.0]], None),
      "amax"),
    S(V([[1.0, 2.0], [3.0, 0.5]], None), 0, V([[1, 0], [1, 1]]), V([[3.0, 0.5], [4.0, 0.5]], None),
      "amin"),
), X, notes="values that tie for the extreme share its gradient evenly, as torch (two-way ties: "
             "what finite differences see too)")
op("scatter_reduce(zeros)", function("scatter_reduce"), fixed(
    S(V([[0.0, 2.0], [3.0, 0.5]], None), 0, V([[0, 0], [1, 0]]), V([[2.0, 0.0], [0.0, 1.5]], None),
      "prod"),
    S(V([[1.0, 2.0], [3.0, 0.5]], None), 0, V([[0, 1], [0, 1]]), V([[0.0, 4.0], [2.0, 0.0]], None),
      "prod", include_self=False),
), X, notes="a lone zero's gradient is the product of the others", gradgrad=False,
   jvp_ref=_PROD_JVP)
op("scatter_reduce_", inplace("scatter_reduce_"), fixed(
    S(T(3, 4), 0, _REPEATS, T(2, 4), "sum"),
    S(T(3, 4, domain="distinct"), 1, _COLS, T(3, 2, domain="distinct"), "amax", include_self=False),
), X, errors=fixed(S(T(3, 4), 0, _REPEATS, T(2, 4), "foo"),))

_index_errors = fixed(
    S(T(3, 4), 0, V([3]), T(1, 4)),
    S(T(3, 4), 0, V([[0]]), T(1, 4)),
    S(T(3, 4), 0, V([0.0], None), T(1, 4)),
    S(T(3, 4), 0, V([0, 1]), T(3, 4)),
    S(T(3, 4), 0, V([0]), V([[1, 2, 3, 4]])),
)
op("index_add", function("index_add"), fixed(
    S(T(3, 4), 0, V([2, 0, 2]), T(3, 4)),
    S(T(3, 4), -1, V([1, 1]), T(3, 2), alpha=-2),
    S(T(3, 4), 1, V([], "int64"), T(3, 0)),
    S(T(), 0, V([0]), T()),
), X, dtypes=WITH_INT, errors=_index_errors)
op("index_add_", inplace("index_add_"), fixed(S(T(3, 4), 0, V([2, 0, 2]), T(3, 4), alpha=2)), X)
op("index_copy", function("index_copy"), fixed(
    S(T(3, 4), 0, V([2, 0]), T(2, 4)),
    S(T(3, 4), -1, V([3, 1, 0]), T(3, 3)),
    S(T(2, 0), 0, V([1]), T(1, 0)),
), X, dtypes=WITH_INT, errors=_index_errors)
op("index_copy_", inplace("index_copy_"), fixed(S(T(3, 4), 1, V([3, 1]), T(3, 2))), X)
op("index_fill", function("index_fill"), fixed(
    S(T(3, 4), 0, V([2, 0]), 1.5),
    S(T(3, 4), -1, V([3, 3]), T()),
    S(T(3, 4), 1, V([], "int64"), -1.0),
), X, dtypes=WITH_INT, errors=fixed(S(T(3, 4), 0, V([3]), 1.0), S(T(3, 4), 0, V([0]), T(2))))
op("index_fill(negative)", function("index_fill"), fixed(S(T(3, 4), 0, V([-1, 0]), 2.5)), X,
   grad=False, gradgrad=False, dtypes=WITH_INT,
   notes="negative positions count from the end (torch's own gradient fails on them)")
op("index_fill_", inplace("index_fill_"), fixed(S(T(3, 4), 1, V([1]), T())), X)
for _reduce in ("prod", "mean", "amax", "amin"):
    _domain = "distinct" if _reduce in ("amax", "amin") else "nonzero"
    op(f"index_reduce({_reduce})", function("index_reduce"), fixed(
        S(T(3, 4, domain=_domain), 0, V([2, 0, 2]), T(3, 4, domain=_domain), _reduce),
        S(T(3, 4, domain=_domain), -1, V([1, 1, 0]), T(3, 3, domain=_domain), _reduce,
          include_self=False),
    ), X, dtypes=WITH_INT, op="index_reduce")
op("index_reduce_", inplace("index_reduce_"), fixed(
    S(T(3, 4, domain="nonzero"), 0, V([1, 1]), T(2, 4, domain="nonzero"), "prod")), X,
   errors=fixed(S(T(3, 4), 0, V([1]), T(1, 4), "sum"),))

_put_samples = fixed(
    S(T(4, 5), (V([0, 2]),), T(2, 5)),
    S(T(4, 5), (V([0, 3]), V([1, -1])), T(2)),
    S(T(4, 5), (V([[1], [2]]), V([0, 4])), T(2, 2)),
    S(T(4, 5), (Mask(4, 5),), T()),
)
op("index_put", function("index_put"), _put_samples, X, dtypes=WITH_INT,
   errors=fixed(S(T(4, 5), (V([4]),), T(5)), S(T(4, 5), (V([0]),), T(3)),
                S(T(4, 5), (V([0.0], None),), T(5))),
   host_reads="a boolean mask's count of true values sets the shape (torch reads it too)")
op("index_put(accumulate)", function("index_put"), fixed(
    S(T(4, 5), (V([0, 2, 0]),), T(3, 5), True),
    S(T(4, 5), (V([0, 0]), V([1, 1])), T(2), accumulate=True),
    S(T(4, 5), (V([1, 1]), V([0, -1])), T(), accumulate=True),
), X, dtypes=WITH_INT, errors=fixed(S(T(4, 5), (V([0]),), V([1, 2, 3, 4, 5]), True),))
op("torch.index_put_", lambda m, x, *a, **k: m.index_put_(x.clone(), *a, **k), fixed(
    S(T(4, 5), (V([3, 1]),), T(5)), S(T(4, 5), (V([2, 2]), V([0, 0])), T(2), True)), X,
   op="index_put_")
op("index_put_", inplace("index_put_"), fixed(
    S(T(4, 5), (V([3, 1]),), T(5)), S(T(4, 5), (V([3, 3]), V([0, 0])), T(2), True)), X)

op("take", function("take"), fixed(
    S(T(3, 4), V([0, 11, -1, 5])), S(T(3, 4), V([[2, 2], [0, 1]])), S(T(3, 4), V(7)),
    S(T(), V([0, 0])), S(T(3, 4), V([], "int64")),
), X, dtypes=WITH_INT, errors=fixed(S(T(3, 4), V([12])), S(T(3), V([0.0], None))))
_put = fixed(
    S(T(3, 4), V([0, 11, -2]), T(3)),
    S(T(3, 4), V([[1, 5], [6, 0]]), T(4)),
    S(T(3, 4), V([1, 5, 1]), T(3), accumulate=True),
    S(T(3, 4), V([], "int64"), T(0)),
)
op("put", function("put"), _put, X, dtypes=WITH_INT,
   errors=fixed(S(T(3, 4), V([12]), T(1)), S(T(3, 4), V([0, 1]), T(3))))
op("put_", inplace("put_"), _put, X, dtypes=WITH_INT)
op("masked_scatter", function("masked_scatter"), fixed(
    S(T(3, 4), Mask(3, 4), T(12)),
    S(T(3, 4), Mask(4), T(4, 4)),
    S(T(4), Mask(2, 4), T(3, 3)),
    S(T(3, 4), V([[False] * 4] * 3, "bool"), T(0)),
), X, dtypes=WITH_INT, host_reads="the mask's count of true values says how much of the source is "
                                  "used (torch reads it too)",
   errors=fixed(S(T(3), V([True, True, True], "bool"), T(2)), S(T(3), V([1, 0, 1]), T(3))))
op("masked_scatter_", inplace("masked_scatter_"), fixed(S(T(3, 4), Mask(3, 4), T(12))), X,
   host_reads="the mask's count of true values says how much of the source is used")

op("select", function("select"), fixed(
    S(T(3, 4), 0, 2), S(T(3, 4), -1, -4), S(T(2, 3, 4), 1, 0)), X, dtypes=WITH_INT,
   errors=fixed(S(T(3, 4), 0, 3), S(T(3, 4), 2, 0), S(T(), 0, 0)))
op("select_scatter", function("select_scatter"), fixed(
    S(T(3, 4), T(4), 0, 2), S(T(3, 4), T(3), -1, -1), S(T(2, 3, 4), T(2, 4), 1, 0)), X,
   dtypes=WITH_INT, errors=fixed(S(T(3, 4), T(3), 0, 0), S(T(3, 4), T(4), 0, 5)))
op("slice_scatter", function("slice_scatter"), fixed(
    S(T(5, 4), T(2, 4), 0, 1, 3),
    S(T(5, 4), T(5, 2), -1, None, None, 2),
    S(T(5, 4), T(5, 4)),
    S(T(5, 4), T(0, 4), 0, 2, 2),
    S(T(5, 4), T(3, 4), start=-3),
), X, dtypes=WITH_INT, errors=fixed(S(T(5, 4), T(2, 4), 0, 0, 3),))
op("Tensor.select_scatter", lambda m, x, *a: x.select_scatter(*a), fixed(S(T(3, 4), T(4), 0, 2)), X,
   op="select_scatter")
op("diagonal_scatter", function("diagonal_scatter"), fixed(
    S(T(3, 3), T(3)),
    S(T(3, 4), T(3), 1),
    S(T(4, 3), T(2), -2),
    S(T(2, 3, 4), T(2, 3), 0, -1, 0),
    S(T(2, 3, 4), T(3, 1), 3, 0, 2),
), X, dtypes=WITH_INT, errors=fixed(S(T(3, 3), T(2)), S(T(3, 3), T(3), 0, 1, 1)))
op("Tensor.unfold", method("unfold"), fixed(
    S(T(7), 0, 2, 1),
    S(T(3, 7), 1, 3, 2),
    S(T(4, 5), 0, 4, 3),
    S(T(4, 5), -1, 0, 1),
    S(T(), 0, 1, 1),
), X, dtypes=WITH_INT, errors=fixed(S(T(3), 0, 4, 1), S(T(3), 0, 2, 0)),
   notes="a view, as torch's: windows overlap when step < size, and their gradients add up")
op("argwhere", function("argwhere"), fixed(
    S(V([[0.0, 1.5], [2.0, 0.0]], None)), S(T(2, 3, domain="unit")), S(T()), S(T(0, 3))), X,
   grad=False, gradgrad=False, dtypes=WITH_INT,
   host_reads="the count of nonzero values sets the output's shape (torch reads it too)")
op("nonzero(as_tuple)", lambda m, x: m.nonzero(x, as_tuple=True), fixed(
    S(V([[0.0, 1.5], [2.0, 0.0]], None)), S(T(2, 3, domain="unit")), S(T()), S(T(0, 3))), X,
   grad=False, gradgrad=False, dtypes=WITH_INT, op="nonzero",
   host_reads="the count of nonzero values sets the output's shape (torch reads it too)")
op("take_along_dim(broadcast)", function("take_along_dim"), fixed(
    S(T(3, 4), V([[0, -1]]), dim=-1),
    S(T(1, 4), V([[2], [0], [1]]), dim=1),
    S(T(2, 3, 4), V([[[1, 0, 3]]]), -1),
    S(T(3, 0), V([[]] * 3), dim=1),
), X, dtypes=WITH_INT, op="take_along_dim",
   notes="input and indices broadcast against each other except along dim; negatives count back",
   errors=fixed(S(T(3, 4), V([0, 1]), dim=1), S(T(3, 4), V([[0.5]], None), dim=1)))
