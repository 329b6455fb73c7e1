"""Samples of the running reductions (ember/ops/cumulative.py) and the order statistics and
nan-aware reductions (ember/ops/statistics.py), plus more of var_mean and std_mean."""
from __future__ import annotations

from .specs import NAN, WITH_INT, WITH_INT_BOOL, S, T, V, chain, fixed, function, inplace, op

C = "cumulative"
Q = "statistics"
_ZERO_READS = "its derivative first looks for zeros in the input (as torch's does)"
_F32 = {"float32": (1e-4, 1e-5)}  # products' second derivatives cancel in float32
_TIES = ("float32", "int64")  # finite differences cannot see through a tie: no float64 run

op("cumprod", function("cumprod"), fixed(
    S(T(2, 3, 4, domain="nonzero"), 1), S(T(2, 3, 4, domain="nonzero"), -1), S(T(5, domain="nonzero"), 0),
    S(T(domain="nonzero"), 0), S(T(0, 3), 1),
), C, dtypes=WITH_INT_BOOL, errors=fixed(S(T(2, 3), 2),), host_reads=_ZERO_READS, tol=_F32)
op("cumprod(zeros)", function("cumprod"), fixed(
    S(V([[2.0, 0.0, 3.0, -1.5], [0.0, 1.5, 0.0, 2.0]], None), 1),
    S(V([[2.0, 0.5], [0.0, 3.0], [1.5, -2.0]], None), 0),
    S(V([[0.0, 2.0, 0.0, 3.0], [1.5, 0.0, 2.0, 0.0]], None), 1),
    S(V([0.0], None), 0),
), C, host_reads=_ZERO_READS, notes="with zeros the gradient is the product of the other factors")
op("cumprod(dtype)", lambda m, x: m.cumprod(x, 0, dtype=m.float64), fixed(S(T(4, 2))), C,
   dtypes=WITH_INT_BOOL, grad=False, gradgrad=False)
op("cumprod_", inplace("cumprod_"), fixed(S(T(3, 4, domain="nonzero"), 1)), C, host_reads=_ZERO_READS,
   tol=_F32)
_scan = fixed(
    S(T(2, 5, domain="distinct"), 1), S(T(4, 3, domain="distinct"), 0), S(T(2, 3, 4, domain="distinct"), -1),
    S(V([1.0, NAN, 3.0, NAN, 0.5], "float64"), 0),
)
_scan_ties = fixed(S(V([1.0, 3.0, 3.0, 2.0, 5.0, 1.0], None), 0), S(V([[2.0, 2.0], [1.0, 2.0]], None), 1))
for _name in ("cummax", "cummin"):
    op(_name, function(_name), _scan, C, dtypes=WITH_INT, errors=fixed(S(T(3), 1),))
    op(f"{_name}(ties)", function(_name), _scan_ties, C, dtypes=_TIES,
       notes="a tie or a nan takes the later position, as torch")
    op(f"{_name}(0-d, empty)", function(_name), fixed(S(T(), 0), S(T(), -1), S(T(0, 3), 1)), C,
       grad=False, gradgrad=False,
       notes="forward only: torch's gradient here is not one the fuzzer can read back")
op("logcumsumexp", function("logcumsumexp"), fixed(
    S(T(2, 5), 1), S(T(4, 3), 0), S(T(2, 3, 4), -1), S(T(), 0), S(T(0, 3), 1),
), C, errors=fixed(S(T(3), 1), S(V([1, 2]), 0)))
op("logcumsumexp(extreme)", function("logcumsumexp"), fixed(
    S(V([-1000.0, 0.0, 1000.0, -5.0], None), 0),
), C, jvp_ref="torch's forward mode underflows to 0 where a later entry dwarfs an earlier one; "
              "tests/test_jvp_rules.py checks Ember's against torch's reverse-mode Jacobian")

op("kthvalue", function("kthvalue"), fixed(
    S(T(2, 5, domain="distinct"), 2), S(T(4, 3, domain="distinct"), 4, 0),
    S(T(2, 3, 4, domain="distinct"), 1, -1, True), S(T(), 1), S(T(5, domain="distinct"), 5),
), Q, dtypes=WITH_INT, errors=fixed(S(T(3), 4), S(T(3), 0), S(T(2, 0), 1)))
_median = fixed(
    S(T(2, 5, domain="distinct")), S(T(2, 5, domain="distinct"), 1), S(T(4, 3, domain="distinct"), 0, True),
    S(T(2, 3, 4, domain="distinct"), -1), S(T()), S(T(), 0), S(T(0, 3)),
    S(V([[1.0, 2.0, 2.0, 3.0], [4.0, 4.0, 1.0, 1.0]], None)),
    S(V([[1.0, NAN, 2.0], [3.0, 0.0, 5.0], [NAN, NAN, NAN]], "float64"), 1),
)
_NAN_OVER_ALL = fixed(S(V([[1.0, NAN, 2.0], [3.0, 0.0, 5.0]], "float64")))
op("median", function("median"), _median, Q, dtypes=WITH_INT,
   notes="over everything, ties share the gradient evenly (torch's rule)",
   errors=fixed(S(T(2, 0), 1), S(T(3), 1)))
op("median(nan over all)", function("median"), _NAN_OVER_ALL, Q, dtypes=("float64",),
   jvp_ref="torch's forward formula divides by the count of entries equal to the nan median, "
           "none, so its tangent's derivative by every tangent entry is nan; Ember's is nan only "
           "at the nan entries. The tangent itself (nan, as torch's) is checked in "
           "tests/test_forward_ad.py")
op("nanmedian", function("nanmedian"), chain(_median, _NAN_OVER_ALL), Q, dtypes=WITH_INT)
op("mode", function("mode"), fixed(
    S(V([[3.0, 1.0, 3.0, 2.0, 1.0, 5.0], [1.0, 2.0, 2.0, 1.0, 0.0, 2.0]], None)),
    S(V([[3.0, 1.0], [3.0, 2.0], [1.0, 1.0]], None), 0, True),
), Q, dtypes=_TIES, errors=fixed(S(T(2, 0), 1),),
   notes="the smallest of the most frequent values, at its last position")
op("mode(distinct)", function("mode"), fixed(
    S(T(2, 4, domain="distinct"), -1), S(T()), S(T(3, 2, domain="distinct"), 0)), Q, dtypes=WITH_INT)
op("mode(bool)", function("mode"), fixed(S(V([True, False, True], "bool"))), Q, dtypes=("bool",))
for _name in ("quantile", "nanquantile"):
    _base = [
        S(T(2, 5), 0.3), S(T(2, 5), 0.3, 1), S(T(4, 3), V([0.05, 0.25, 0.95], None), 0),
        S(T(2, 3, 4), V([0.5, 0.1], None), -1, True), S(T(2, 3), 0.75, keepdim=True),
        S(T(), 0.4), S(T(5), V(0.6, None)), S(T(2, 3), V([], None), 1),
        S(V([[1.0, NAN, 2.0, 4.0], [3.0, 0.0, 5.0, 1.0], [NAN, NAN, NAN, NAN]], "float64"),
          V([0.2, 0.9], None), 1),
    ]
    _modes = [S(T(3, 5), V([0.1, 0.3, 0.8], None), 1, interpolation=i)
              for i in ("lower", "higher", "midpoint", "nearest")]
    op(f"{_name}(ends)", function(_name), fixed(
        S(T(4, 3), V([0.0, 0.5, 1.0], None), 0), S(T(3, 5), V([0.0, 0.5, 1.0], None), 1,
                                                    interpolation="nearest")), Q, dtypes=_TIES,
       op=_name, notes="q at 0, 1 and whole or half ranks (where the derivative in q jumps)")
    op(_name, function(_name), fixed(*_base, *_modes), Q,
       notes="q gets a gradient through the interpolation weight, as torch's (q away from 0, 1 "
             "and whole ranks: finite differences)",
       errors=fixed(S(T(3), 1.5), S(V([1, 2]), 0.5), S(T(3), 0.5, interpolation="cubic"),
                    S(T(0), 0.5), S(T(3), V([[0.5]], None))))

op("nansum", function("nansum"), fixed(
    S(T(2, 3, 4), 1), S(T(2, 3, 4), (0, -1), True), S(T(2, 3)), S(T()), S(T(0, 3), 1),
    S(V([[1.0, NAN], [NAN, NAN]], "float64"), 1), S(V([[1.0, NAN], [2.0, 3.0]], "float64")),
), Q, dtypes=WITH_INT_BOOL)
op("nanmean", function("nanmean"), fixed(
    S(T(2, 3, 4), 1), S(T(2, 3, 4), (0, -1), True), S(T(2, 3)), S(T()), S(T(0, 3), 1),
    S(V([[1.0, NAN], [NAN, NAN]], "float64"), 1), S(V([[1.0, NAN], [2.0, 3.0]], "float64")),
), Q, errors=fixed(S(V([1, 2])),), notes="an all-nan slice is nan, its gradient too (as torch)")
op("aminmax", function("aminmax"), fixed(
    S(T(2, 3, 4, domain="distinct")), S(T(2, 3, 4, domain="distinct"), dim=1),
    S(T(2, 3, 4, domain="distinct"), dim=-1, keepdim=True), S(T(2, 3, domain="distinct"), keepdim=True),
    S(T(domain="distinct")), S(T(domain="distinct"), dim=0),
), Q, dtypes=WITH_INT_BOOL, errors=fixed(S(T(0, 3)), S(T(0, 3), dim=0)))
for _name in ("var_mean", "std_mean"):
    op(f"{_name}(more)", function(_name), fixed(
        S(T(2, 3, 4)), S(T(2, 3, 4), (0, 2)), S(T(2, 3, 4), 1, correction=0),
        S(T(2, 3, 4), dim=-1, unbiased=False, keepdim=True), S(T(3, 4), 0, correction=2),
    ), "reduce", op=_name, errors=fixed(S(V([1, 2])),))
