"""The log-gamma function and its derivatives: ``lgamma``, ``digamma``, ``polygamma``.

Values come from SciPy's special functions on the CPU and CuPy's on the GPU (through
``backend.special_functions``); each derivative is the next polygamma, an Ember op, so every
order works: d/dx lgamma = digamma, d/dx polygamma(n, x) = polygamma(n + 1, x).
"""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from . import elementwise as E
from .registry import apply, declare, primitive
from .tensor_args import NotATensorError


def _lgamma_fwd(xp, x):
    out = backend.special_functions(xp).gammaln(x)
    return xp.where(x == -xp.inf, xp.inf, out).astype(x.dtype, copy=False)  # torch: +inf at -inf


def _polygamma_fwd(xp, x, n):
    sp = backend.special_functions(xp)
    out = sp.psi(x) if n == 0 else sp.polygamma(n, x)
    return out.astype(x.dtype, copy=False)


_polygamma = primitive(
    "polygamma", _polygamma_fwd,
    lambda g, out, x, n: (E.mul(g, polygamma(n + 1, x)),),
    formula="d/dx polygamma(n, x) = polygamma(n + 1, x)", jvp="elementwise", batch="elementwise",
)

lgamma = E._unary("lgamma", _lgamma_fwd, lambda g, out, x: (E.mul(g, digamma(x)),),
                  "d/dx lgamma(x) = digamma(x)")


@declare(out=True, prim=_polygamma, method=lambda self, n: polygamma(n, self), inplace=True,
         namespaces=("ember", "ember.special"))
def polygamma(n: int, input: Tensor) -> Tensor:
    """The ``n``-th derivative of ``digamma`` (``polygamma(0, x)`` is ``digamma(x)``)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"polygamma(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n (got n={n})")
    if not isinstance(input, Tensor):
        raise NotATensorError(f"polygamma(): argument 'input' must be Tensor, not {type(input).__name__}")
    return apply(_polygamma, E.to_float(input), n=n)


@declare(out=True, method=True, inplace=True, namespaces=("ember", "ember.special"))
def digamma(input: Tensor) -> Tensor:
    """``d/dx lgamma(x)``; d/dx digamma(x) = polygamma(1, x)."""
    return polygamma(0, input)


def _igamma_by_x(g, a, x):
    """``g`` times dP(a, x)/dx, the Gamma(a, 1) density at x."""
    log_density = E.sub(E.sub(E.mul(E.sub(a, 1), E.log(x)), x), lgamma(a))
    return E.mul(g, E.exp(log_density))


def _not_by_a(name: str) -> RuntimeError:
    return RuntimeError(f"the derivative for '{name}: input' is not implemented (as in torch)")


def _incomplete_gamma(name: str, library: str, sign: int, formula: str):
    """The primitive of a regularised incomplete gamma function (SciPy's ``library``): its
    derivative in x is ``sign`` times the Gamma(a, 1) density; in a torch has none."""

    def by_x(g, a, x):
        grad = _igamma_by_x(g, a, x)
        return grad if sign > 0 else E.neg(grad)

    def rule(g, out, a, x):
        if a.requires_grad:
            raise _not_by_a(name)
        return None, by_x(g, a, x)

    def jvp(tangents, out, a, x):
        if tangents[0] is not None:
            raise _not_by_a(name)
        return by_x(tangents[1], a, x)

    def forward(xp, a, x):
        return getattr(backend.special_functions(xp), library)(a, x).astype(x.dtype, copy=False)

    return primitive(name, forward, E._unbroadcast(rule), jvp=jvp, batch="elementwise",
                     formula=formula)


_igamma = _incomplete_gamma("igamma", "gammainc", 1, "d/dx P(a, x) = x^(a-1) exp(-x) / Gamma(a)")
_igammac = _incomplete_gamma("igammac", "gammaincc", -1,
                             "d/dx Q(a, x) = -x^(a-1) exp(-x) / Gamma(a)")


@declare(out=True, prim=_igamma, method=True, inplace=True)
def igamma(input: Tensor, other: Tensor) -> Tensor:
    """The regularised lower incomplete gamma function P(input, other) (torch.igamma)."""
    a, x = E.promote("igamma", input, other)
    E.kernels_for("f")("igamma", a)  # torch's kernel: floating dtypes only
    return apply(_igamma, a, x)


@declare(out=True, prim=_igammac, method=True, inplace=True)
def igammac(input: Tensor, other: Tensor) -> Tensor:
    """The regularised upper incomplete gamma function Q(input, other) = 1 - P (torch.igammac),
    from SciPy's gammaincc: exact in the tail where 1 - P would round to zero."""
    a, x = E.promote("igammac", input, other)
    E.kernels_for("f")("igammac", a)  # torch's kernel: floating dtypes only
    return apply(_igammac, a, x)
