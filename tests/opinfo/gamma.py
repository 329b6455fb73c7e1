"""Samples for the gamma family: lgamma, digamma, polygamma, igamma (SciPy's special functions)."""
from __future__ import annotations

from .specs import S, T, V, fixed, function, op

G = "gamma"
# SciPy's and torch's series for these functions differ in the last few digits
TOL = {"float64": (1e-8, 1e-10)}
POSITIVE = fixed(S(T(domain="positive")), S(T(4, domain="positive")), S(T(2, 3, domain="above1")),
                 S(T(0, 2, domain="positive")),
                 S(V([-3.3, -2.7, -1.5, -0.6], dtype=None)))  # negative non-integers

op("lgamma", function("lgamma"), POSITIVE, G, tol=TOL)
op("digamma", function("digamma"), POSITIVE, G, tol=TOL)
op("polygamma", lambda m, x: m.polygamma(1, x), POSITIVE, G, tol=TOL)
op("polygamma(2)", lambda m, x: x.polygamma(2), POSITIVE, G, tol=TOL)
op("igamma(a, x)", function("igamma"), fixed(S(T(2, 3, domain="positive"), T(2, 3, domain="positive")),
                                             S(T(3, domain="positive"), T(2, 3, domain="positive"))),
   G, grad=False, gradgrad=False, tol=TOL, notes="the values in both arguments (and igamma_)")
# igamma's derivative in its first argument does not exist in torch: only x varies here
op("igamma", lambda m, x: m.igamma(x.new_tensor([0.7, 1.5, 3.0]), x),
   fixed(S(T(2, 3, domain="positive"))), G, tol={"float32": (1e-4, 1e-6), **TOL})
op("igammac(a, x)", function("igammac"), fixed(S(T(2, 3, domain="positive"), T(2, 3, domain="positive")),
                                               S(T(3, domain="positive"), T(2, 3, domain="positive"))),
   G, grad=False, gradgrad=False, tol=TOL, notes="the values in both arguments (and igammac_)")
# as igamma's: torch has no derivative in the first argument
op("igammac", lambda m, x: m.igammac(x.new_tensor([0.7, 1.5, 3.0]), x),
   fixed(S(T(2, 3, domain="positive"))), G, tol={"float32": (1e-4, 1e-6), **TOL})
