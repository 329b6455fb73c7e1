"""Samples of the set, counting and search ops (ember/ops/sets.py): none has a derivative, so
each is checked forward only, on float, integer and (where torch allows) bool inputs."""
from __future__ import annotations

from .specs import WITH_INT, WITH_INT_BOOL, Idx, S, T, V, fixed, function, op

X = "sets"
_SHAPE_READS = "the number of distinct values sets the output's shape (torch reads it too)"
_REPEATS = V([[2, 1, 2], [0, 1, 1], [2, 1, 2]], None)

op("unique", function("unique"), fixed(
    S(T(3, 4, domain="unit")),
    S(_REPEATS, return_inverse=True, return_counts=True),
    S(_REPEATS, sorted=False, return_counts=True),
    S(_REPEATS, dim=0, return_inverse=True, return_counts=True),
    S(_REPEATS, return_inverse=True, dim=-1),
    S(T()), S(T(0, 3)), S(T(0, 3), dim=1, return_counts=True),
), X, grad=False, gradgrad=False, dtypes=WITH_INT_BOOL, host_reads=_SHAPE_READS)
op("unique_consecutive", function("unique_consecutive"), fixed(
    S(V([1, 1, 2, 2, 3, 1, 1, 2], None)),
    S(V([1, 1, 2, 2, 3, 1, 1, 2], None), return_inverse=True, return_counts=True),
    S(V([[1, 1, 2], [1, 1, 2], [0, 1, 1]], None), dim=0, return_inverse=True, return_counts=True),
    S(V([[1, 1, 2], [1, 1, 2], [0, 1, 1]], None), return_counts=True, dim=1),
    S(T(3, 4, domain="unit"), return_inverse=True),
    S(T()), S(T(0, 2), return_counts=True),
), X, grad=False, gradgrad=False, dtypes=WITH_INT_BOOL, host_reads=_SHAPE_READS)
op("bincount", function("bincount"), fixed(
    S(Idx(5, 8)), S(Idx(5, 8), minlength=9), S(V([], "int64")), S(V([3, 0, 3]), minlength=2),
    S(Idx(4, 6), T(6)), S(Idx(4, 6), weights=V([1, 2, 3, 4, 5, 6])),
), X, grad=False, gradgrad=False,
   errors=fixed(S(V([[1]])), S(V([-1, 2])), S(V([1.0], None)), S(V([1, 2]), T(3))),
   host_reads="the largest value sets the output's length (torch reads it too)")
op("histc", function("histc"), fixed(
    S(T(20), bins=5), S(T(4, 5), 4, -1.0, 1.0), S(T(6), bins=3, min=0.0, max=0.5), S(T(0)),
    S(V([1.0, 1.0, 1.0], None), 4),
), X, grad=False, gradgrad=False,
   errors=fixed(S(T(4), 0), S(T(4), 3, 1.0, 0.0), S(V([1, 2]))),
   host_reads="without min and max, the data's extremes set the bins (torch reads them too)")
op("histogram", function("histogram"), fixed(
    S(T(20), 5), S(T(4, 5), 4, range=(-1.0, 1.0)), S(T(10), V([-1.0, 0.0, 0.5, 2.0], None)),
    S(T(10), 3, weight=T(10, domain="positive")), S(T(10), 4, density=True),
    S(T(10), V([-1.0, 0.0, 2.0], None), weight=T(10), density=True),
), X, grad=False, gradgrad=False, dtypes=("float32", "float64"),
   errors=fixed(S(T(5), 0), S(V([1, 2]), 3), S(T(5), 3, range=(1.0, 0.0))),
   host_reads="without a range, the data's extremes set the bins (torch reads them too)")
_SORTED = V([-1.0, 0.0, 0.0, 1.5, 3.0], None)
op("searchsorted", function("searchsorted"), fixed(
    S(_SORTED, T(3, 4)),
    S(_SORTED, V([0.0, 1.5, -2.0, 7.0], None), right=True),
    S(_SORTED, V([0.0, 1.5], None), side="right"),
    S(_SORTED, 0.0),
    S(V([[1.0, 2.0, 3.0], [0.0, 0.0, 5.0]], None), V([[2.0, 0.5], [0.0, 6.0]], None)),
    S(V([[1.0, 2.0, 3.0], [0.0, 0.0, 5.0]], None), V([[2.0, 0.5], [0.0, 6.0]], None), right=True),
    S(V([3.0, -1.0, 1.5], None), V([0.0, 2.0], None), sorter=V([1, 2, 0])),
    S(_SORTED, T(3), out_int32=True),
    S(_SORTED, T(0, 2)),
), X, grad=False, gradgrad=False, dtypes=WITH_INT,
   errors=fixed(S(T(), T(2)), S(_SORTED, T(2), right=True, side="left"),
                S(V([[1.0, 2.0]], None), T(3, 2))))
op("bucketize", function("bucketize"), fixed(
    S(T(3, 4), _SORTED), S(V([0.0, 1.5, -2.0, 7.0], None), _SORTED, right=True),
    S(0.0, _SORTED), S(T(3), _SORTED, out_int32=True),
), X, grad=False, gradgrad=False, dtypes=WITH_INT,
   errors=fixed(S(T(3), V([[0.0, 1.0]], None)),))
op("isin", function("isin"), fixed(
    S(V([[1, 2], [3, 4]], None), V([2, 3, 9], None)),
    S(V([[1, 2], [3, 4]], None), V([2, 3], None), invert=True),
    S(V([1, 2, 5], None), 2),
    S(3, V([1, 2, 3], None)),
    S(T(0, 2), T(3)),
), X, grad=False, gradgrad=False, dtypes=WITH_INT)
