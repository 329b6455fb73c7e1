"""Samples for the arithmetic in ``ember/ops/arith.py``: hypot, fmod, copysign, fmax/fmin, gcd,
shifts, angle conversions, sign and infinity tests."""
from __future__ import annotations

from .specs import INF, NAN, WITH_INT, S, T, V, binary, chain, fixed, function, op, unary

E = "elementwise"
_TENSORS = binary(scalar=None)
_EDGES = fixed(S(V([1.5, -2.0, 0.0, -0.0, INF, -INF, NAN], None)))
_INTS = fixed(S(V([4, 6, -9, 0, 7]), V([6, -9, 3, 0, 14])), S(V([12, 5]), V([3])))
_NANS = fixed(S(V([1.0, NAN, 2.0, NAN], None), V([NAN, 3.0, 2.0, NAN], None)))
_NO_GRAD = dict(grad=False, gradgrad=False, notes="torch has no derivative")

op("hypot", function("hypot"), binary("nonzero", "nonzero", scalar=None), E)
op("fmod", function("fmod"), binary(dy="nonzero"), E, dtypes=WITH_INT)
op("copysign", function("copysign"), binary("nonzero"), E, dtypes=WITH_INT)
op("fmax", function("fmax"), _TENSORS, E, dtypes=WITH_INT)
op("fmax(nan)", function("fmax"), _NANS, E)
op("fmin", function("fmin"), _TENSORS, E, dtypes=WITH_INT)
op("fmin(nan)", function("fmin"), _NANS, E)
op("nextafter", function("nextafter"), _TENSORS, E, **_NO_GRAD)
_AT_ZERO = fixed(S(V([0.0, -1.0, 2.0], None), V([0.5], None)))
op("heaviside", function("heaviside"), chain(_TENSORS, _AT_ZERO), E, **_NO_GRAD)
op("gcd", function("gcd"), _INTS, E, dtypes=("int64",), **_NO_GRAD)
op("lcm", function("lcm"), _INTS, E, dtypes=("int64",), **_NO_GRAD)
op("bitwise_left_shift", function("bitwise_left_shift"),
   fixed(S(V([1, 5, -3]), V([0, 2, 3])), S(V([7, 8]), 1)), E, dtypes=("int64",), **_NO_GRAD)
op("bitwise_right_shift", function("bitwise_right_shift"),
   fixed(S(V([64, 5, -32]), V([0, 2, 3])), S(V([7, 8]), 1)), E, dtypes=("int64",), **_NO_GRAD)
op("signbit", function("signbit"), unary(), E, dtypes=WITH_INT, **_NO_GRAD)
op("signbit(edges)", function("signbit"), _EDGES, E, **_NO_GRAD)
op("frac", function("frac"), unary("frac"), E)
op("deg2rad", function("deg2rad"), unary(), E, dtypes=WITH_INT)
op("rad2deg", function("rad2deg"), unary(), E, dtypes=WITH_INT)
op("float_power", function("float_power"), fixed(
    S(T(2, 3, domain="positive"), T(2, 3)), S(T(3, 1, domain="positive"), T(1, 4)),
    S(T(2, 3, domain="positive"), 1.5), S(2.0, T(3))), E)
op("ldexp", function("ldexp"), fixed(S(T(2, 3), T(2, 3)), S(T(3, 1), T(1, 4)), S(T(0, 2), T(2))), E)
op("logaddexp2", function("logaddexp2"), _TENSORS, E)
op("isposinf", function("isposinf"), unary(), E, dtypes=WITH_INT, **_NO_GRAD)
op("isposinf(edges)", function("isposinf"), _EDGES, E, **_NO_GRAD)
op("isneginf", function("isneginf"), unary(), E, dtypes=WITH_INT, **_NO_GRAD)
op("isneginf(edges)", function("isneginf"), _EDGES, E, **_NO_GRAD)
op("isreal", function("isreal"), unary(), E, dtypes=WITH_INT, **_NO_GRAD)
op("isreal(edges)", function("isreal"), _EDGES, E, **_NO_GRAD)
op("positive", function("positive"), unary(), E, dtypes=WITH_INT)
