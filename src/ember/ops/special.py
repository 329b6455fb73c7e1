"""Special functions: ``erf`` and its kin, the Bessel functions, the normal distribution's
``ndtr``/``ndtri``/``log_ndtr``, ``zeta`` (torch.special's primitives).

The values come from a well-kept library behind the backend seam (``scipy.special`` on the CPU,
``cupyx.scipy.special`` on the GPU, through ``backend.special_functions``); each derivative
is written in Ember ops, so every order works. Functions torch leaves without a derivative
(the Bessel family of torch.special, ``zeta``) have no rule here either.
"""
from __future__ import annotations

import math

from .. import backend
from ..tensor import Tensor
from . import elementwise as E
from . import gamma as G
from . import reduce as R
from . import shape as S
from . import trig as T
from .registry import apply, declare

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_BOTH = ("ember", "ember.special")
_SPECIAL = ("ember.special",)


def _library(fn_name: str, *leading):
    """A forward calling ``special.<fn_name>(*leading, x)`` in the array's own library."""

    def forward(xp, *arrays):
        out = getattr(backend.special_functions(xp), fn_name)(*leading, *arrays)
        return out.astype(arrays[-1].dtype, copy=False)

    return forward


def _special(name: str, fn_name: str, rule, formula: str, namespaces=_SPECIAL, **decl):
    """A one-input op over ``special.<fn_name>``; only ``ember``'s ops become Tensor methods."""
    public = "ember" in namespaces
    return E._unary(name, _library(fn_name), rule, formula, method=public, inplace=public,
                    namespaces=namespaces, **decl)


def _gauss_density(x):
    """``2/sqrt(pi) * exp(-x^2)``: the derivative of erf, in Ember ops."""
    return E.mul(E.exp(E.neg(E.mul(x, x))), _TWO_OVER_SQRT_PI)


def _over_x(num, x, at_zero: float):
    """``num(x) / x`` with its limit ``at_zero`` at 0 (no nan in either branch's gradient)."""
    zero = E.eq(x, 0)
    safe = E.where(zero, E.const_ones(x), x)
    return E.where(zero, E.mul(E.const_ones(x), at_zero), E.div(num(safe), safe))


erf = _special("erf", "erf", lambda g, out, x: (E.mul(g, _gauss_density(x)),),
               "d/dx erf(x) = 2/sqrt(pi) exp(-x^2)", namespaces=_BOTH)
erfc = _special("erfc", "erfc", lambda g, out, x: (E.neg(E.mul(g, _gauss_density(x))),),
                "d/dx erfc(x) = -2/sqrt(pi) exp(-x^2)", namespaces=_BOTH)
erfinv = _special("erfinv", "erfinv", lambda g, out, x: (E.div(g, _gauss_density(out)),),
                  "d/dx erfinv(x) = sqrt(pi)/2 exp(erfinv(x)^2)", saves_out=True, namespaces=_BOTH)
erfcx = _special("special.erfcx", "erfcx",
                 lambda g, out, x: (E.mul(g, E.sub(E.mul(E.mul(x, out), 2), _TWO_OVER_SQRT_PI)),),
                 "d/dx erfcx(x) = 2x erfcx(x) - 2/sqrt(pi)", saves_out=True)
ndtri = _special("special.ndtri", "ndtri",
                 lambda g, out, x: (E.mul(g, E.mul(E.exp(E.mul(E.mul(out, out), 0.5)), _SQRT_2PI)),),
                 "d/dp ndtri(p) = sqrt(2 pi) exp(ndtri(p)^2 / 2)", saves_out=True)
log_ndtr = _special(
    "special.log_ndtr", "log_ndtr",
    lambda g, out, x: (E.mul(g, E.div(E.exp(E.sub(E.mul(E.mul(x, x), -0.5), out)), _SQRT_2PI)),),
    "d/dx log ndtr(x) = exp(-x^2/2 - log ndtr(x)) / sqrt(2 pi)", saves_out=True)

i0 = _special("i0", "i0", lambda g, out, x: (E.mul(g, i1(x)),), "d/dx i0(x) = i1(x)",
              namespaces=_BOTH)
i1 = _special("special.i1", "i1",
              lambda g, out, x: (E.mul(g, E.sub(i0(x), _over_x(i1, x, 0.5))),),
              "d/dx i1(x) = i0(x) - i1(x)/x")
i0e = _special("special.i0e", "i0e",
               lambda g, out, x: (E.mul(g, E.sub(i1e(x), E.mul(E.sign(x), out))),),
               "d/dx i0e(x) = i1e(x) - sign(x) i0e(x)", saves_out=True)
i1e = _special("special.i1e", "i1e",
               lambda g, out, x: (E.mul(g, E.sub(E.sub(i0e(x), E.mul(E.sign(x), out)),
                                                 _over_x(i1e, x, 0.5))),),
               "d/dx i1e(x) = i0e(x) - (sign(x) + 1/x) i1e(x)", saves_out=True)

_NO_GRAD = "not differentiable in torch"
bessel_j0 = _special("special.bessel_j0", "j0", None, _NO_GRAD)
bessel_j1 = _special("special.bessel_j1", "j1", None, _NO_GRAD)
bessel_y0 = _special("special.bessel_y0", "y0", None, _NO_GRAD)
bessel_y1 = _special("special.bessel_y1", "y1", None, _NO_GRAD)
modified_bessel_i0 = _special("special.modified_bessel_i0", "i0", None, _NO_GRAD)
modified_bessel_i1 = _special("special.modified_bessel_i1", "i1", None, _NO_GRAD)
modified_bessel_k0 = _special("special.modified_bessel_k0", "k0", None, _NO_GRAD)
modified_bessel_k1 = _special("special.modified_bessel_k1", "k1", None, _NO_GRAD)
scaled_modified_bessel_k0 = _special("special.scaled_modified_bessel_k0", "k0e", None, _NO_GRAD)
scaled_modified_bessel_k1 = _special("special.scaled_modified_bessel_k1", "k1e", None, _NO_GRAD)


@declare(out=True, forward=_library("zeta"), namespaces=_SPECIAL, name="special.zeta",
         batch="elementwise",
         formula="the Hurwitz zeta function; torch has no derivative")
def zeta(input, other) -> Tensor:
    """The Hurwitz zeta function ``sum_k (k + other)^-input``."""
    x, q = E.promote("zeta", input, other, True)
    return apply(zeta.primitive, x, q)


# ---------------------------------------------------------------------------- composites

def _x_times(name: str, input, other, log, pole: float):
    """``x * log(y)`` (``log`` is ``E.log`` or ``E.log1p``, whose pole is at ``pole``) that is
    0 where ``x`` is 0 and ``y`` is not nan, with torch's derivatives there."""
    x, y = E.promote(name, input, other, True)
    zero = E.logical_and(E.eq(x, 0), E.logical_or(E.le(y, pole), E.isinf(y)))
    return E.mul(x, log(E.where(zero, E.mul(E.const_ones(y), pole + 1), y)))


@declare(out=True, method=True, inplace=True, namespaces=_BOTH)
def xlogy(input, other) -> Tensor:
    """``input * log(other)``, 0 where ``input`` is 0 (entropy terms without 0 * -inf)."""
    return _x_times("xlogy", input, other, E.log, 0.0)


@declare(out=True, namespaces=_SPECIAL, name="special.xlog1py")
def xlog1py(input, other) -> Tensor:
    """``input * log1p(other)``, 0 where ``input`` is 0."""
    return _x_times("xlog1py", input, other, E.log1p, -1.0)


@declare(out=True, method=True, inplace=True, namespaces=_BOTH)
def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """``log(p / (1 - p))``, with ``p`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given."""
    E.require_tensors("logit", input)
    p = E.to_float(input)
    if eps is not None:
        p = E.clamp(p, eps, 1.0 - eps)
    return E.sub(E.log(p), E.log1p(E.neg(p)))


@declare(out=True, method=True, inplace=True)
def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The multivariate log-gamma ``sum_i lgamma(x - i/2) + p(p-1)/4 log(pi)``, i < ``p``."""
    E.require_tensors("mvlgamma", input)
    if isinstance(p, bool) or not isinstance(p, int) or p < 1:
        raise RuntimeError(f"mvlgamma: p has to be greater than or equal to 1, got {p!r}")
    x = E.to_float(input)
    terms = S.stack([G.lgamma(E.sub(x, i / 2)) for i in range(p)], 0)
    return E.add(R.sum(terms, 0), p * (p - 1) / 4 * math.log(math.pi))


def _renamed(name: str, fn, why: str):
    """torch.special's own name for an op Ember declares under torch's main name."""

    def op(*args, **kwargs) -> Tensor:
        return fn(*args, **kwargs)

    op.__name__ = name
    op.__doc__ = f"torch.special.{name}: {why}."
    return declare(op, name=f"special.{name}", namespaces=_SPECIAL, out=True)


expit = _renamed("expit", E.sigmoid, "the logistic sigmoid 1 / (1 + exp(-x))")
gammaln = _renamed("gammaln", G.lgamma, "log |Gamma(x)|")
psi = _renamed("psi", G.digamma, "the digamma function, d/dx lgamma(x)")
multigammaln = _renamed("multigammaln", mvlgamma, "the multivariate log-gamma function")
gammainc = _renamed("gammainc", G.igamma, "the regularised lower incomplete gamma function")
gammaincc = _renamed("gammaincc", G.igammac, "the regularised upper incomplete gamma function")


@declare(out=True, namespaces=_SPECIAL, name="special.ndtr")
def ndtr(input: Tensor) -> Tensor:
    """The standard normal distribution function ``(1 + erf(x / sqrt(2))) / 2``."""
    E.require_tensors("ndtr", input)
    return E.mul(erfc(E.mul(E.to_float(input), -1 / math.sqrt(2.0))), 0.5)


@declare(out=True, namespaces=_SPECIAL, name="special.entr")
def entr(input: Tensor) -> Tensor:
    """The entropy term ``-x log x``: 0 at 0, -inf for negative ``x``."""
    E.require_tensors("entr", input)
    x = E.to_float(input)
    positive = E.gt(x, 0)
    safe = E.where(positive, x, E.const_ones(x))
    inner = E.where(E.eq(x, 0), E.const_zeros(x), E.mul(E.const_ones(x), -math.inf))
    return E.where(positive, E.neg(E.mul(safe, E.log(safe))), E.where(E.isnan(x), x, inner))


@declare(out=True, method=True, inplace=True, namespaces=_BOTH)
def sinc(input: Tensor) -> Tensor:
    """The normalised sinc ``sin(pi x) / (pi x)``, 1 at 0."""
    E.require_tensors("sinc", input)
    x = E.to_float(input)
    return _over_x(lambda t: E.div(T.sin(E.mul(t, math.pi)), math.pi), x, 1.0)
