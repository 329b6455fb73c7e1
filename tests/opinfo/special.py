"""Samples for torch.special's functions (``ember.special``) and the composites beside them:
xlogy, logit, sinc, mvlgamma (SciPy's special functions behind the values)."""
from __future__ import annotations

from typing import Callable

from .specs import S, T, V, WITH_INT, binary, chain, fixed, function, op, unary

SP = "special"
TOL = {"float64": (1e-8, 1e-10)}  # SciPy's and torch's series differ in the last digits


def special(name: str) -> Callable:
    """``call`` for ``module.special.name(*args)``."""
    return lambda m, *args, **kw: getattr(m.special, name)(*args, **kw)


def _sp(name: str, samples, **kw) -> None:
    op(f"special.{name}", special(name), samples, SP, **{"tol": TOL, **kw})


_WITH_ZERO = fixed(S(V([-2.5, -0.7, 0.0, 0.4, 3.0], None)))
_sp("erfcx", chain(unary(), _WITH_ZERO))
_sp("ndtr", chain(unary(), _WITH_ZERO), dtypes=WITH_INT,
    tol={"float32": (1e-3, 1e-6), "int64": (1e-3, 1e-6), **TOL},
    notes="torch's float32 ndtr is off by ~3e-4 relative in the lower tail (x=-4); ember rounds the "
          "float64 value")
_sp("ndtri", chain(unary("prob"), fixed(S(V([0.0, 0.001, 0.5, 0.999, 1.0], None)))), grad=False)
_sp("ndtri(grad)", unary("prob"), op="special.ndtri")
_sp("log_ndtr", chain(unary(), fixed(S(V([-30.0, -5.0, 0.0, 6.0], None)))),
    tol={"float32": (1e-4, 1e-5), **TOL})
_sp("i0e", chain(unary(), _WITH_ZERO))
_sp("i1", chain(unary(), _WITH_ZERO))
_sp("i1e", chain(unary(), _WITH_ZERO), tol={"float32": (1e-4, 1e-5), **TOL})
op("i0", function("i0"), chain(unary(), _WITH_ZERO), SP, tol=TOL, dtypes=WITH_INT)
for _name in ("bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
              "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
              "scaled_modified_bessel_k0", "scaled_modified_bessel_k1"):
    _sp(_name, unary("positive"), grad=False, gradgrad=False, notes="torch has no derivative")
_sp("zeta", fixed(S(T(2, 3, domain="above1"), T(2, 3, domain="positive")),
                  S(T(3, domain="above1"), 1.5), S(T(0, 2, domain="above1"), T(2, domain="positive"))),
    grad=False, gradgrad=False, notes="torch has no derivative")
_sp("entr", unary("positive"))
_sp("entr(edges)", fixed(S(V([-1.0, 0.0, 0.5, float("nan")], None))), op="special.entr", grad=False,
    gradgrad=False, notes="torch's derivative at 0 and below is -inf and nan")
_sp("expit", unary(), dtypes=WITH_INT)
_sp("gammaln", unary("positive"))
_sp("psi", unary("positive"))
_sp("multigammaln", fixed(S(T(2, 3, domain="above1"), 2), S(T(4, domain="above1"), 1)))
_sp("gammainc", fixed(S(T(3, domain="positive"), T(2, 3, domain="positive")),), grad=False)
_sp("gammaincc", fixed(S(T(3, domain="positive"), T(2, 3, domain="positive")),), grad=False)
_ZERO_X = "the derivative in y at x = y = 0 is 0/0: nan in torch, 0 in Ember"
_sp("xlog1py", binary("real", "positive"))
_sp("xlog1py(0)", fixed(S(V([0.0, 0.0, 1.0], None), V([-1.0, 2.0, 0.5], None))), op="special.xlog1py",
    grad=False, gradgrad=False, notes=_ZERO_X)
op("xlogy", function("xlogy"), binary("real", "positive"), SP, dtypes=WITH_INT)
op("xlogy(0)", function("xlogy"), fixed(S(V([0.0, 0.0, 1.0], None), V([0.0, 2.0, 0.5], None))), SP,
   grad=False, gradgrad=False, notes=_ZERO_X)
op("logit", function("logit"), unary("prob"), SP)
op("logit(0, 1)", function("logit"), fixed(S(V([0.0, 0.3, 0.9, 1.0], None))), SP, gradgrad=False,
   notes="the second derivative at 0 and 1 is nan in torch, -inf in Ember")
op("logit(eps)", lambda m, x: m.logit(x, 0.2), unary("prob"), SP)
op("sinc", function("sinc"), unary("nonzero"), SP, dtypes=WITH_INT, tol={"float32": (1e-4, 1e-5)})
op("sinc(0)", function("sinc"), _WITH_ZERO, SP, gradgrad=False,
   notes="torch's second derivative at 0 is nan (sinc''(0) = -pi^2/3); Ember's is 0")
op("mvlgamma", function("mvlgamma"), fixed(S(T(2, 3, domain="above1"), 3), S(T(domain="above1"), 1),
                                           S(T(0, 2), 2), S(V([0.5, 2.0], None), 3)), SP, tol=TOL)
