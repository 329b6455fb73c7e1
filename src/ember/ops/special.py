"""Special functions: the Gauss error function ``erf``, its complement ``erfc`` and ``erfinv``.

NumPy has no erf, so the forward is W. J. Cody's rational Chebyshev approximations
("Rational Chebyshev approximations for the error function", Math. Comp. 1969), accurate to
float64 precision and vectorised through ``xp``; on CuPy, ``cupyx.scipy.special`` is used when
present. ``erfinv`` refines a single-precision initial guess (M. Giles, "Approximating the
erfinv function", GPU Computing Gems 2011) with Newton steps on the accurate ``erfc``.
"""
from __future__ import annotations

import math

from .. import backend
from . import elementwise as E

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)
_SMALL = 0.46875  # |x| up to here: erf directly; beyond: erfc
_MID = 4.0  # |x| up to here: the second erfc approximation; beyond: the asymptotic one
_BIG = 27.3  # erfc(x) underflows to 0 in float64 from here on

# Cody's coefficients: numerator and denominator of each interval's rational function.
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03, 1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
      2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
      1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)

# Giles' single-precision erfinv polynomials in w = -log(1 - x^2): central (w < 5) and tail.
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                  0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
               0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)

_NEWTON_STEPS = 4  # enough from Giles' guess to float64 precision, even at 1 - 2**-53


def _rational(z, num: tuple, den: tuple):
    """Cody's nested form of num(z)/den(z); ``num[-1]`` leads and ``den`` is monic."""
    top = num[-1] * z
    bottom = z
    for n, d in zip(num[:-2], den[:-1]):
        top = (top + n) * z
        bottom = (bottom + d) * z
    return (top + num[-2]) / (bottom + den[-1])


def _exp_minus_square(xp, y):
    """``exp(-y*y)`` without the rounding error of forming ``y*y`` (Cody's split of y)."""
    head = xp.trunc(y * 16.0) / 16.0
    tail = (y - head) * (y + head)
    return xp.exp(-head * head) * xp.exp(-tail)


def _erf_parts(xp, x):
    """``(erf(x) for |x| <= 0.46875, erfc(|x|) beyond)``, both over the whole float64 array."""
    y = xp.abs(x)
    ys = xp.minimum(y, _SMALL)
    small = x * _rational(ys * ys, _A, _B)
    ym = xp.clip(y, _SMALL, _MID)
    mid = _exp_minus_square(xp, ym) * _rational(ym, _C, _D)
    yl = xp.clip(y, _MID, _BIG)
    z = 1.0 / (yl * yl)
    large = _exp_minus_square(xp, yl) * (_INV_SQRT_PI - z * _rational(z, _P, _Q)) / yl
    tail = xp.where(y <= _MID, mid, xp.where(y >= _BIG, 0.0, large))
    return small, tail


def _special_module(xp):
    return backend.scipy_special(xp)


def _erf_fwd(xp, x):
    sp = _special_module(xp) or (backend.host_special() if xp is backend.numpy else None)
    if sp is not None:
        return sp.erf(x)
    x64 = x.astype(xp.float64)
    small, tail = _erf_parts(xp, x64)
    big = xp.sign(x64) * ((0.5 - tail) + 0.5)
    return xp.where(xp.abs(x64) <= _SMALL, small, big).astype(x.dtype, copy=False)


def _erfc_fwd(xp, x):
    sp = _special_module(xp)
    if sp is not None:
        return sp.erfc(x)
    x64 = x.astype(xp.float64)
    small, tail = _erf_parts(xp, x64)
    big = xp.where(x64 < 0, 2.0 - tail, tail)
    return xp.where(xp.abs(x64) <= _SMALL, 1.0 - small, big).astype(x.dtype, copy=False)


def _horner(w, coefs: tuple):
    p = coefs[0]
    for c in coefs[1:]:
        p = c + p * w
    return p


def _erfinv_fwd(xp, x):
    sp = _special_module(xp)
    if sp is not None:
        return sp.erfinv(x)
    x64 = x.astype(xp.float64)
    a = xp.abs(x64)
    inside = a < 1.0
    a_safe = xp.where(inside, a, 0.0)
    w = -xp.log((1.0 - a_safe) * (1.0 + a_safe))
    central = _horner(w - 2.5, _GILES_CENTRAL)
    tail = _horner(xp.sqrt(xp.maximum(w, 5.0)) - 3.0, _GILES_TAIL)
    y = xp.where(w < 5.0, central, tail) * a_safe
    for _ in range(_NEWTON_STEPS):
        y = _newton_step(xp, y, a_safe)
    y = xp.where(inside, y, xp.where(a == 1.0, xp.inf, xp.nan))
    return (xp.sign(x64) * y).astype(x.dtype, copy=False)


def _newton_step(xp, y, a):
    """One Newton step on erf(y) = a; for a > 1/2 on log(erfc(y)) = log(1 - a), which keeps
    the digits of the tail and converges from either side."""
    small, tail = _erf_parts(xp, y)
    erfc_y = xp.where(y <= _SMALL, 1.0 - small, tail)
    slope = _TWO_OVER_SQRT_PI * _exp_minus_square(xp, y)
    safe_slope = xp.where(slope > 0, slope, 1.0)
    central = (xp.where(y <= _SMALL, small, (0.5 - tail) + 0.5) - a) / safe_slope
    safe_erfc = xp.where(erfc_y > 0, erfc_y, 1.0)
    rest = xp.where(a < 1.0, 1.0 - a, 1.0)
    log_tail = (xp.log(rest) - xp.log(safe_erfc)) * safe_erfc / safe_slope
    return y - xp.where(slope > 0, xp.where(a > 0.5, log_tail, central), 0.0)


def _gauss_density(x):
    """``2/sqrt(pi) * exp(-x^2)``: the derivative of erf, in Ember ops."""
    return E.mul(E.exp(E.neg(E.mul(x, x))), _TWO_OVER_SQRT_PI)


erf = E._unary("erf", _erf_fwd, lambda g, out, x: (E.mul(g, _gauss_density(x)),),
               "d/dx erf(x) = 2/sqrt(pi) exp(-x^2)")
erfc = E._unary("erfc", _erfc_fwd, lambda g, out, x: (E.neg(E.mul(g, _gauss_density(x))),),
                "d/dx erfc(x) = -2/sqrt(pi) exp(-x^2)")
erfinv = E._unary("erfinv", _erfinv_fwd,
                  lambda g, out, x: (E.div(g, _gauss_density(out)),),
                  "d/dx erfinv(x) = sqrt(pi)/2 exp(erfinv(x)^2)", saves_out=True)
