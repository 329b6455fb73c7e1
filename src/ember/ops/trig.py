"""Trigonometric functions: sin, cos, tan, their inverses, the hyperbolic ones and ``atan2``.

Each derivative is written in Ember ops, so these differentiate to any order like the rest.
"""
from __future__ import annotations


from . import elementwise as E
from .elementwise import _binary, _unary, kernels_for

_FLOATS = kernels_for("iuf")


sin = _unary("sin", lambda xp, x: xp.sin(x), lambda g, out, x: (E.mul(g, cos(x)),),
             "d/dx sin(x) = cos(x)", math=True, sympy=lambda sp, a: sp.sin(a))
cos = _unary("cos", lambda xp, x: xp.cos(x), lambda g, out, x: (E.neg(E.mul(g, sin(x))),),
             "d/dx cos(x) = -sin(x)", math=True, sympy=lambda sp, a: sp.cos(a))
tan = _unary("tan", lambda xp, x: xp.tan(x), lambda g, out, x: (E.mul(g, E.add(E.mul(out, out), 1)),),
             "d/dx tan(x) = 1 + tan(x)^2", saves_out=True, math=True, sympy=lambda sp, a: sp.tan(a))
sinh = _unary("sinh", lambda xp, x: xp.sinh(x), lambda g, out, x: (E.mul(g, cosh(x)),),
              "d/dx sinh(x) = cosh(x)")
cosh = _unary("cosh", lambda xp, x: xp.cosh(x), lambda g, out, x: (E.mul(g, sinh(x)),),
              "d/dx cosh(x) = sinh(x)")
asin = _unary("asin", lambda xp, x: xp.arcsin(x),
              lambda g, out, x: (E.mul(g, E.rsqrt(E.sub(1, E.mul(x, x)))),),
              "d/dx asin(x) = 1 / sqrt(1 - x^2)", aliases=("arcsin",))
acos = _unary("acos", lambda xp, x: xp.arccos(x),
              lambda g, out, x: (E.neg(E.mul(g, E.rsqrt(E.sub(1, E.mul(x, x))))),),
              "d/dx acos(x) = -1 / sqrt(1 - x^2)", aliases=("arccos",))
atan = _unary("atan", lambda xp, x: xp.arctan(x),
              lambda g, out, x: (E.div(g, E.add(E.mul(x, x), 1)),),
              "d/dx atan(x) = 1 / (1 + x^2)", aliases=("arctan",))
asinh = _unary("asinh", lambda xp, x: xp.arcsinh(x),
               lambda g, out, x: (E.mul(g, E.rsqrt(E.add(E.mul(x, x), 1))),),
               "d/dx asinh(x) = 1 / sqrt(x^2 + 1)", aliases=("arcsinh",))
acosh = _unary("acosh", lambda xp, x: xp.arccosh(x),
               lambda g, out, x: (E.mul(g, E.rsqrt(E.sub(E.mul(x, x), 1))),),
               "d/dx acosh(x) = 1 / sqrt(x^2 - 1)", aliases=("arccosh",))
atanh = _unary("atanh", lambda xp, x: xp.arctanh(x),
               lambda g, out, x: (E.div(g, E.sub(1, E.mul(x, x))),),
               "d/dx atanh(x) = 1 / (1 - x^2)", aliases=("arctanh",))


def _atan2_scale(g, y, x):
    """``g / (x^2 + y^2)``, 0 at the origin, where the angle is undefined (torch's convention)."""
    radius = E.add(E.mul(x, x), E.mul(y, y))
    return E.where(E.eq(radius, 0), 0.0, E.div(g, E.where(E.eq(radius, 0), 1.0, radius)))


atan2 = _binary("atan2", lambda xp, y, x: xp.arctan2(y, x),
                (lambda g, out, y, x: E.mul(_atan2_scale(g, y, x), x),
                 lambda g, out, y, x: E.neg(E.mul(_atan2_scale(g, y, x), y))),
                "d atan2(y, x) = (x dy - y dx) / (x^2 + y^2)", floating=True, check=_FLOATS,
                tensors=2, aliases=("arctan2",), inplace=True)
