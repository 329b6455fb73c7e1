"""Elementwise arithmetic beyond the basics: hypot, fmod, copysign, fmax/fmin, gcd/lcm, shifts,
angle conversions, sign and infinity tests (torch's names and semantics).

Composites where existing ops express them (hypot, frac, deg2rad, float_power, ldexp,
logaddexp2, isposinf...); primitives over ``xp`` with rules in Ember ops otherwise.
"""
from __future__ import annotations

import math

from .. import dtypes
from ..tensor import Tensor
from . import elementwise as E
from .registry import declare

_FLOATS = E.kernels_for("f")
_INTEGERS = E.kernels_for("iu")


_FMOD_PARTIALS = (lambda g, out, x, y: g,
                  lambda g, out, x, y: E.neg(E.mul(g, E.trunc(E.div(x, y)))))


fmod = E._binary("fmod", lambda xp, x, y: xp.fmod(x, y), _FMOD_PARTIALS,
                 "d(fmod(x, y)) = dx - trunc(x/y) dy", check=E._integer_division, inplace=True,
                 tensors=1)


def _copysign_x(g, out, x, y):
    zero = E.eq(x, 0)
    ratio = E.div(out, E.where(zero, E.const_ones(x), x))  # +-1: the sign copysign gave x
    return E.mul(g, E.where(zero, E.const_zeros(x), ratio))


copysign = E._binary("copysign", lambda xp, x, y: xp.copysign(x, y),
                     (_copysign_x, lambda g, out, x, y: E.const_zeros(g)),
                     "d/dx copysign(x, y) = sign(x) sign(y) (0 at x = 0); 0 in y", floating=True,
                     saves_out=True, inplace=True, tensors=1)


def _fminmax_partials(mine):
    """torch's rule for fmax/fmin: ``x`` takes the gradient where it is chosen (ties included,
    or ``y`` is nan), ``y`` elsewhere."""

    def to_x(x, y):
        return E.logical_or(mine(x, y), E.isnan(y))

    return (lambda g, out, x, y: E.where(to_x(x, y), g, E.const_zeros(g)),
            lambda g, out, x, y: E.where(to_x(x, y), E.const_zeros(g), g))


fmax = E._binary("fmax", lambda xp, x, y: xp.fmax(x, y), _fminmax_partials(E.ge),
                 "the gradient goes to the larger input, ignoring nan", tensors=2)
# torch's forward formula for fmax gives a tie to y (its backward, and fmin's both, to x)
fmax.primitive.jvp = E.by_input(*_fminmax_partials(E.gt))[1]
fmin = E._binary("fmin", lambda xp, x, y: xp.fmin(x, y), _fminmax_partials(E.le),
                 "the gradient goes to the smaller input, ignoring nan", tensors=2)

_NO_RULE = "not differentiable in torch"
nextafter = E._binary("nextafter", lambda xp, x, y: xp.nextafter(x, y), None, _NO_RULE, tensors=2,
                      check=_FLOATS, inplace=True)
heaviside = E._binary("heaviside", lambda xp, x, y: xp.where(x == 0, y, x > 0).astype(x.dtype),
                      None, _NO_RULE, tensors=2, inplace=True, out="exact")
gcd = E._binary("gcd", lambda xp, x, y: xp.gcd(x, y), None, _NO_RULE, tensors=2, check=_INTEGERS,
                inplace=True)
lcm = E._binary("lcm", lambda xp, x, y: xp.lcm(x, y), None, _NO_RULE, tensors=2, check=_INTEGERS,
                inplace=True)
bitwise_left_shift = E._binary("bitwise_left_shift", lambda xp, x, y: xp.left_shift(x, y), None,
                               _NO_RULE, check=_INTEGERS, inplace=True)
bitwise_right_shift = E._binary("bitwise_right_shift", lambda xp, x, y: xp.right_shift(x, y), None,
                                _NO_RULE, check=_INTEGERS, inplace=True)
signbit = E._unary("signbit", lambda xp, x: xp.signbit(x), None, _NO_RULE, floating=False,
                   inplace=False, out="exact")


# a primitive, not sqrt(x*x + y*y): the squares overflow where the hypotenuse does not
hypot = E._binary("hypot", lambda xp, x, y: xp.hypot(x, y),
                  (lambda g, out, x, y: E.mul(g, E.div(x, out)),
                   lambda g, out, x, y: E.mul(g, E.div(y, out))),
                  "d hypot(x, y) = (x dx + y dy) / hypot(x, y)", saves_out=True, tensors=2,
                  check=_FLOATS, inplace=True)


@declare(out="exact", method=True, inplace=True)
def frac(input: Tensor) -> Tensor:
    """The fractional part ``x - trunc(x)`` (its sign follows ``x``)."""
    E.require_tensors("frac", input)
    _FLOATS("frac", input)
    return E.sub(input, E.trunc(input))


def _angle(name: str, factor: float):
    """``deg2rad`` or ``rad2deg``: a multiplication by ``factor``."""

    def op(input: Tensor) -> Tensor:
        E.require_tensors(name, input)
        return E.mul(E.to_float(input), factor)

    op.__name__ = name
    op.__doc__ = f"Angles converted by a factor of {factor!r}."
    return declare(op, method=True, inplace=True, out=True)


deg2rad = _angle("deg2rad", math.pi / 180.0)
rad2deg = _angle("rad2deg", 180.0 / math.pi)


def _float_power_check(self: Tensor, exponent) -> None:
    """``float_power_`` writes a float64 result: only a float64 tensor holds it, as torch says."""
    if self.dtype != dtypes.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {dtypes.scalar_name(self.dtype)} "
                           "but the operation's result requires dtype Double")


@declare(out="exact", method=True, inplace=_float_power_check)
def float_power(input, exponent) -> Tensor:
    """``input ** exponent`` in double precision (float64, whatever the inputs' dtypes)."""
    x = E.cast(input, dtypes.float64) if isinstance(input, Tensor) else input
    y = E.cast(exponent, dtypes.float64) if isinstance(exponent, Tensor) else exponent
    return E.pow(x, y)


@declare(out=True, method=True, inplace=True)
def ldexp(input: Tensor, other: Tensor) -> Tensor:
    """``input * 2 ** other``."""
    E.require_tensors("ldexp", input, other)
    if other._data.dtype.kind == "b":
        raise NotImplementedError("\"ldexp\" not implemented for 'Bool'")
    return E.mul(input, E.pow(2.0, other))


@declare(out=True, method=True)
def logaddexp2(input: Tensor, other: Tensor) -> Tensor:
    """``log2(2^input + 2^other)``, without overflow (``logaddexp`` in base 2)."""
    E.require_tensors("logaddexp2", input, other)
    ln2 = math.log(2.0)
    return E.div(E.logaddexp(E.mul(E.to_float(input), ln2), E.mul(E.to_float(other), ln2)), ln2)


def _infinity_test(name: str, side):
    """``isposinf`` or ``isneginf``: infinite and on ``side`` of zero."""

    def op(input: Tensor) -> Tensor:
        E.require_tensors(name, input)
        return E.logical_and(E.isinf(input), side(input, 0))

    op.__name__ = name
    op.__doc__ = f"True where the input is {'+' if side is E.gt else '-'}inf."
    return declare(op, method=True, out="exact")


isposinf = _infinity_test("isposinf", E.gt)
isneginf = _infinity_test("isneginf", E.lt)


@declare(method=True)
def isreal(input: Tensor) -> Tensor:
    """True everywhere: Ember's tensors are real (torch's answer for real dtypes)."""
    E.require_tensors("isreal", input)
    return E.cast(E.const_ones(input), dtypes.bool_)


@declare(method=True)
def positive(input: Tensor) -> Tensor:
    """``+input``: the input itself (bool tensors refused, as torch)."""
    E.require_tensors("positive", input)
    if input._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input
