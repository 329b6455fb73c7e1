"""Samples of the shape builders, splits, fused products, distances, covariance and the
trapezoidal rule."""
from __future__ import annotations

import numpy as np
import torch

from .specs import WITH_INT, S, T, V, fixed, function, op

M = "shape"
COV = "warns where no degrees of freedom are left, which torch checks on the host too"


def add(name, call, samples, **kw):
    return op(name, call, samples, M, **kw)


def method(name):
    """``call`` for a Tensor method: ``x.name(*args, **kwargs)``."""
    return lambda m, x, *args, **kw: getattr(x, name)(*args, **kw)


# ---------------------------------------------------------------------------- builders

add("repeat_interleave", function("repeat_interleave"), fixed(
    S(T(2, 3), 2), S(T(2, 3), 2, dim=1), S(T(2, 3), 3, -2), S(T(), 3), S(T(0, 2), 2, 0),
    S(T(3, 2), V([1, 0, 2]), dim=0), S(T(2, 2), V([2])), S(T(3), V(2), 0),
    S(T(3), V([1, 2, 0]), 0, output_size=3)),
    dtypes=WITH_INT, host_reads="tensor repeats set the result's size",
    errors=fixed(S(T(3, 2), V([1, 2]), dim=0), S(T(3), -1), S(T(3), V([1, -1, 0])),
                 S(T(3), V([[1, 2, 3]])), S(T(3), 2, output_size=5)))
add("repeat_interleave(counts)", lambda m, r: m.repeat_interleave(r), fixed(
    S(V([1, 0, 3])), S(V([], "int64"))), dtypes=("int64",),
    host_reads="the counts set the result's size")
add("repeat_interleave(method)", method("repeat_interleave"), fixed(S(T(2, 3), 2, dim=0)))
add("diag_embed", function("diag_embed"), fixed(
    S(T(2, 3)), S(T(3), 1), S(T(2, 3), -2), S(T(2, 3), 0, 0, 2), S(T(2, 3), 1, -1, 0), S(T(0, 2)),
    S(T(1))), dtypes=WITH_INT, errors=fixed(S(T(2, 3), 0, 1, 1), S(T(2, 3), 0, 0, 3)))
add("diagflat", function("diagflat"), fixed(S(T(2, 3)), S(T(3), 1), S(T(2, 2), -1), S(T())),
    dtypes=WITH_INT)
add("block_diag", function("block_diag"), fixed(
    S(T(2, 3), T(1, 1), T(2)), S(T(), T(2, 2)), S(T(2, 3)), S(T(0, 2), T(2, 0), T(1, 2))),
    dtypes=WITH_INT, errors=fixed(S(T(2, 2, 2), T(2)),))
add("block_diag(mixed dtypes)", lambda m, a, b: m.block_diag(a, b.long()), fixed(S(T(2, 2), T(3))))
add("cartesian_prod", function("cartesian_prod"), fixed(
    S(T(3), T(2)), S(T(2), T(3), T(2)), S(T(3)), S(T(0), T(2))), dtypes=WITH_INT,
    errors=fixed(S(T(2, 2), T(2)),))
add("combinations", function("combinations"), fixed(
    S(T(4)), S(T(4), 3), S(T(3), 1), S(T(3), 2, True), S(T(3), 4), S(T(3), 0), S(T(0))),
    dtypes=WITH_INT, errors=fixed(S(T(2, 2)),))
add("tril_indices", lambda m, *args, int32=False: m.tril_indices(
    *args, **({"dtype": m.int32} if int32 else {})), fixed(
    S(3, 3), S(3, 4, 1), S(4, 3, -1), S(0, 3), S(3, 3, dtype=torch.int32)), dtypes=("int64",))
add("triu_indices", lambda m, *args, **kw: m.triu_indices(*args, **kw), fixed(
    S(3, 3), S(3, 4, 1), S(4, 3, -2), S(1, 1)), dtypes=("int64",))
add("vander", function("vander"), fixed(
    S(T(3)), S(T(3), 4), S(T(3), increasing=True), S(T(2), 0), S(T(0)), S(T(3), N=1)),
    dtypes=WITH_INT, errors=fixed(S(T(2, 2)),), grad=False, gradgrad=False,
    notes="torch's own backward fails (an in-place cumprod); Ember's is gradchecked below")
add("chain_matmul", function("chain_matmul"), fixed(
    S(T(2, 3), T(3, 4), T(4, 2)), S(T(2, 3), T(3, 1)), S(T(2, 2))),
    errors=fixed(S(T(2, 3), T(3)),))

# ---------------------------------------------------------------------------- stacking and splits

add("atleast_1d", function("atleast_1d"), fixed(S(T()), S(T(3)), S(T(2, 3)), S(T(), T(2)),
                                                 S([T(), T(2, 2)])), dtypes=WITH_INT)
add("atleast_2d", function("atleast_2d"), fixed(S(T()), S(T(3)), S(T(2, 3)), S(T(1, 2, 3)),
                                                 S(T(), T(2)), S((T(3), T(2, 2)))), dtypes=WITH_INT)
add("atleast_3d", function("atleast_3d"), fixed(S(T()), S(T(3)), S(T(2, 3)), S(T(1, 2, 3)),
                                                 S(T(2, 1, 2, 3)), S(T(), T(2), T(2, 3)),
                                                 S([T(0)])), dtypes=WITH_INT)
add("hstack(scalars, ints)", function("hstack"), fixed(S([T(2), T(3)]), S([T(2, 3), T(2, 1)]), S([T(), T()])),
    dtypes=WITH_INT)
add("vstack(scalars)", function("vstack"), fixed(S([T(3), T(3)]), S([T(2, 3), T(1, 3)]), S([T(), T()])))
add("row_stack", function("row_stack"), fixed(S([T(3), T(2, 3)])))
add("dstack", function("dstack"), fixed(
    S([T(3), T(3)]), S([T(2, 3), T(2, 3)]), S([T(2, 3, 1), T(2, 3, 2)]), S([T(), T()])),
    dtypes=WITH_INT, errors=fixed(S([T(2), T(3)]), S([])))
add("column_stack", function("column_stack"), fixed(
    S([T(3), T(3, 2)]), S([T(), T()]), S([T(2, 3), T(2)]), S([T(0), T(0, 2)])), dtypes=WITH_INT,
    errors=fixed(S([T(2), T(3)]),))
add("tensor_split", function("tensor_split"), fixed(
    S(T(7, 2), 3), S(T(2, 7), 3, 1), S(T(6), [1, 4]), S(T(6), (2, -1, 10)), S(T(2, 5), [3, 1], -1),
    S(T(2, 3), 5, 1), S(T(6), V(3)), S(T(6), V([1, 5])), S(T(0, 2), 2)), dtypes=WITH_INT,
    host_reads="indices given as a tensor are read (torch wants them on the CPU)",
    errors=fixed(S(T(), 2), S(T(4), 0), S(T(4), 2, 1)))
add("hsplit", function("hsplit"), fixed(S(T(2, 4), 2), S(T(6), 3), S(T(2, 5), [1, 3])),
    errors=fixed(S(T(2, 4), 3), S(T(), 1)))
add("vsplit", function("vsplit"), fixed(S(T(4, 2), 2), S(T(5, 2), [2])),
    errors=fixed(S(T(4), 2), S(T(3, 2), 2)))
add("dsplit", function("dsplit"), fixed(S(T(2, 2, 4), 2), S(T(1, 2, 5), [1, 4])),
    errors=fixed(S(T(2, 4), 2), S(T(1, 2, 3), 2)))
add("tensor_split(method)", method("tensor_split"), fixed(S(T(5, 2), 2)))
add("movedim(ints, errors)", function("movedim"), fixed(
    S(T(2, 3, 4), 0, -1), S(T(2, 3, 4), (0, -1), (-1, 0))),
    dtypes=WITH_INT, errors=fixed(S(T(2, 3), 0, 2), S(T(2, 3), (0, 0), (0, 1))))
add("moveaxis", function("moveaxis"), fixed(S(T(2, 3, 4), 1, 0)))
add("swapaxes", function("swapaxes"), fixed(S(T(2, 3, 4), 0, -1), S(T(3), 0, 0)), dtypes=WITH_INT,
    errors=fixed(S(T(2, 3), 0, 2),))
add("swapdims", function("swapdims"), fixed(S(T(2, 3, 4), -2, 0)))
add("unflatten(empty, ints)", function("unflatten"), fixed(S(T(2, 6), -1, (2, 3)), S(T(6), 0, (-1, 2)),
                                                S(T(0, 4), 1, (2, 2))), dtypes=WITH_INT)
add("rot90", function("rot90"), fixed(
    S(T(2, 3)), S(T(2, 3), 2), S(T(2, 3), 3), S(T(2, 3), -1), S(T(2, 3), 4), S(T(2, 3, 4), 1, (1, 2)),
    S(T(2, 3, 4), 1, [-1, 0])), dtypes=WITH_INT,
    errors=fixed(S(T(3)), S(T(2, 3), 1, (0,)), S(T(2, 3), 1, (0, 0)), S(T(2, 3), 1, (0, 2))))
add("fliplr", function("fliplr"), fixed(S(T(2, 3)), S(T(2, 3, 4))), dtypes=WITH_INT,
    errors=fixed(S(T(3)),))
add("flipud", function("flipud"), fixed(S(T(2, 3)), S(T(3))), dtypes=WITH_INT,
    errors=fixed(S(T()),))
add("narrow_copy", function("narrow_copy"), fixed(S(T(4, 3), 0, 1, 2), S(T(4, 3), -1, 0, 3),
                                                    S(T(4, 3), 1, 1, 0)), dtypes=WITH_INT,
    errors=fixed(S(T(4, 3), 0, 3, 2),))
add("as_strided", function("as_strided"), fixed(
    S(T(3, 4), (2, 2), (1, 2)), S(T(9), (3, 3), (3, 1)), S(T(9), (2, 2), (1, 1), 1),
    S(T(4), (3, 2), (1, 1)), S(T(5), (0,), (1,)), S(T(6), (2, 3), (0, 1))), dtypes=WITH_INT,
    gradgrad=False, notes="torch's second derivative fails on overlapping windows",
    errors=fixed(S(T(4), (3, 3), (2, 1)), S(T(4), (2,), (1, 1))))

# ---------------------------------------------------------------------------- products

add("addmm(beta=0 ignores nan)", function("addmm"), fixed(
    S(T(2, 4), T(2, 3), T(3, 4)), S(T(4), T(2, 3), T(3, 4), beta=0.5, alpha=2),
    S(V([[np.nan, 1.0]], None), T(1, 3), T(3, 2), beta=0)))
add("addmv", function("addmv"), fixed(
    S(T(2), T(2, 3), T(3)), S(T(), T(2, 3), T(3), beta=2, alpha=0.5)),
    errors=fixed(S(T(2), T(2, 3), T(4)),))
add("addmv(beta=0)", function("addmv"), fixed(S(V([np.inf, 1.0], None), T(2, 3), T(3), beta=0)),
    notes="with beta 0 the input's inf and NaN are ignored")
add("addr", function("addr"), fixed(
    S(T(2, 3), T(2), T(3)), S(T(3), T(2), T(3), alpha=3), S(T(2, 3), T(2), T(3), beta=0)),
    dtypes=WITH_INT)
add("baddbmm", function("baddbmm"), fixed(
    S(T(2, 2, 4), T(2, 2, 3), T(2, 3, 4)), S(T(4), T(2, 2, 3), T(2, 3, 4), beta=0.5, alpha=-1)),
    errors=fixed(S(T(2, 2, 4), T(2, 2, 3), T(3, 3, 4)),))
add("addbmm", function("addbmm"), fixed(
    S(T(2, 4), T(3, 2, 3), T(3, 3, 4)), S(T(1, 4), T(3, 2, 3), T(3, 3, 4), beta=2, alpha=0.5)))
add("addmv(method)", method("addmv"), fixed(S(T(2), T(2, 3), T(3))))
add("bilinear(torch.bilinear)", function("bilinear"), fixed(
    S(T(4, 3), T(4, 2), T(5, 3, 2)), S(T(4, 3), T(4, 2), T(5, 3, 2), T(5)),
    S(T(2, 4, 3), T(2, 4, 2), T(1, 3, 2)), S(T(3), T(2), T(2, 3, 2))),
    errors=fixed(S(T(4, 3), T(4, 2), T(5, 2, 2)),))

# ---------------------------------------------------------------------------- distances, statistics

add("cdist", function("cdist"), fixed(
    S(T(3, 2), T(4, 2)), S(T(2, 3, 4), T(2, 2, 4), 1.0), S(T(3, 2), T(4, 2), 3.0),
    S(T(3, 2), T(4, 2), float("inf")), S(T(2, 3, 2), T(4, 2)), S(T(0, 2), T(3, 2)),
    S(T(3, 2), T(4, 2), 0.5)), gradgrad=False, notes="torch has no second derivative here",
    errors=fixed(S(T(3, 2), T(4, 3)), S(T(3), T(3)), S(T(3, 2), T(4, 2), -1.0)))
add("pdist", function("pdist"), fixed(S(T(4, 3)), S(T(3, 2), 1.0), S(T(4, 2), float("inf")),
                                      S(T(1, 3)), S(T(3, 2), 3.0)), gradgrad=False,
    notes="torch has no second derivative here",
    errors=fixed(S(T(2, 3, 4)), S(T(4, 3), -1.0)))
add("cov", function("cov"), fixed(
    S(T(3, 5)), S(T(5)), S(T(2, 4), correction=0), S(T(2, 4), correction=2),
    S(T(2, 4), fweights=V([1, 2, 1, 3])), S(T(2, 4), aweights=T(4, domain="positive")),
    S(T(2, 4), fweights=V([1, 2, 1, 3]), aweights=T(4, domain="positive")), S(T(1, 3))),
    dtypes=WITH_INT, errors=fixed(S(T(2, 2, 2)), S(T(2, 4), fweights=V([1, 2]))), host_reads=COV)
add("cov(method)", method("cov"), fixed(S(T(3, 4))), host_reads=COV)
add("corrcoef", function("corrcoef"), fixed(S(T(3, 5)), S(T(2, 4)), S(T(4))), dtypes=WITH_INT,
    host_reads=COV)
add("trapezoid", function("trapezoid"), fixed(
    S(T(5)), S(T(3, 4), T(4)), S(T(3, 4), dx=0.5), S(T(3, 4), dim=0), S(T(3, 4), T(3, 4)),
    S(T(4, 3), T(4), dim=0), S(T(1)), S(T(0))), dtypes=WITH_INT,
    errors=fixed(S(T(3, 4), T(3)), S(T())))
add("trapz", function("trapz"), fixed(S(T(3, 4), T(4)), S(T(3, 4), dx=2.0)))
add("cumulative_trapezoid", function("cumulative_trapezoid"), fixed(
    S(T(5)), S(T(3, 4), T(4)), S(T(3, 4), dx=0.5), S(T(3, 4), dim=0), S(T(1)), S(T(3, 4), T(3, 4))))
