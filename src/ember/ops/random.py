"""Sampling ops: ``multinomial``, ``bernoulli``, ``normal``, ``poisson`` and the in-place fills.

Draws come from the user's ``generator`` or the device's default one. As in torch, a sample
is a constant of its parameters: when a parameter needs grad the result does too, and its
gradient is zero (``torch.distributions`` reparameterises with ``rsample`` instead).
Values are checked as torch checks them; on a GPU checks of tensor values are deferred
(``backend.require``) so the host never waits for the device.
"""
from __future__ import annotations

import math

from .. import backend
from ..creation import randn
from ..autograd.grad_mode import STATE
from ..generator import Generator, generator_for
from ..tensor import Tensor
from . import elementwise as E
from .registry import apply, primitive, with_out
from .tensor_args import NotATensorError

_draw = primitive(
    "random_draw", lambda xp, *arrays: arrays[-1],
    lambda g, out, *inputs: tuple(E.const_zeros(t) for t in inputs[:-1]) + (None,),
    reads_inputs=False, formula="d/dparam sample = 0 (a draw is a constant of its parameters)",
    jvp=lambda tangents, out, *inputs: None, batch="dims",
)


def _sampled(params: tuple, data) -> Tensor:
    """``data`` as a tensor that needs grad (with zero gradient) when a parameter does."""
    if STATE.enabled and any(isinstance(p, Tensor) and p.requires_grad for p in params):
        return apply(_draw, *[p for p in params if isinstance(p, Tensor)], Tensor._make(data))
    return Tensor._make(data)


def _require_floating(op: str, x: Tensor) -> None:
    if not x.is_floating_point():
        raise NotImplementedError(f"\"{op}\" not implemented for '{x.dtype}' (a floating-point "
                                  f"tensor is needed)")


def _defer(ok, message: str) -> None:
    """Raise RuntimeError(message) unless ``ok`` (a 0-d device bool; deferred on a GPU)."""
    backend.require(ok, lambda: RuntimeError(message))


# ---------------------------------------------------------------------------- multinomial



def _takes_out(draw):
    """A draw taking torch's ``out=`` (see ``registry.with_out``)."""
    return with_out(draw, draw.__name__)


@_takes_out
def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None) -> Tensor:
    """Category indices drawn from the (unnormalised) weights in each row of ``input``.

    With replacement, each draw inverts the row's cumulative distribution; without, the
    ``num_samples`` largest of ``weight / Exp(1)`` are taken (the exponential race, which
    picks categories in the order sequential draws without replacement would).
    """
    if not isinstance(input, Tensor):
        raise NotATensorError(f"multinomial(): argument 'input' must be Tensor, not {type(input).__name__}")
    if not input.is_floating_point():
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{input.dtype}")
    if input.dim() not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {list(input.shape)}")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (got {num_samples})")
    n = input.shape[-1]
    if not replacement and num_samples > n:
        raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                           f"without replacement ({num_samples} > {n})")
    xp = input.xp
    p = input._data.astype(xp.float64).reshape(-1, n)
    rows = p.shape[0]
    _defer(xp.all(xp.isfinite(p) & (p >= 0)),
           "multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    _defer(xp.all(p.sum(axis=1) > 0),
           "multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    rng = generator_for(input.device, generator)
    with backend.device_context(input.device):
        if replacement:
            picks = _inverse_cdf(xp, p, rng.random((rows, num_samples)))
        else:
            keys = p / rng.standard_exponential((rows, n))
            picks = xp.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    shape = (num_samples,) if input.dim() == 1 else (rows, num_samples)
    return Tensor._make(picks.astype(xp.int64).reshape(shape))


def _inverse_cdf(xp, p, u):
    """For each row of weights ``p``, the categories whose cumulative share first exceeds ``u``.

    All rows are searched at once: row r's normalised cumulative sums are shifted to
    [2r, 2r + 1.5] (the last positive category's set to 2r + 1.5, above any u < 1), so one
    sorted array holds them all and zero-weight categories are never picked.
    """
    rows, n = p.shape
    cdf = xp.cumsum(p, axis=1)
    cdf = cdf / cdf[:, -1:]
    cdf = xp.where(cdf >= cdf[:, -1:], 1.5, cdf)
    shift = 2.0 * xp.arange(rows, dtype=xp.float64)[:, None]
    found = xp.searchsorted((cdf + shift).reshape(-1), (u + shift).reshape(-1), side="right")
    return found.reshape(u.shape) - n * xp.arange(rows)[:, None]


# ---------------------------------------------------------------------------- bernoulli, normal, poisson


def _check_probability(op: str, p: float) -> None:
    if not 0 <= p <= 1:
        raise RuntimeError(f"{op} expects p to be in [0, 1], but got p={p}")


@_takes_out
def bernoulli(input: Tensor, p: float | None = None, *, generator: Generator | None = None) -> Tensor:
    """1 with probability ``input`` (elementwise, or ``p`` for all), else 0, in ``input``'s dtype."""
    if not isinstance(input, Tensor):
        raise NotATensorError(f"bernoulli(): argument 'input' must be Tensor, not {type(input).__name__}")
    xp = input.xp
    if p is None:
        _require_floating("bernoulli", input)
        probs = input._data
        _defer(xp.all((probs >= 0) & (probs <= 1)),
               "bernoulli: Expected p_in >= 0 && p_in <= 1 to be true, but got false "
               "(probabilities must lie in [0, 1])")
    else:
        _check_probability("bernoulli_", p)
        probs = p
    rng = generator_for(input.device, generator)
    with backend.device_context(input.device):
        data = (rng.random(input._data.shape) < probs).astype(input._data.dtype)
    return _sampled((input,), data)


def _float_param(op: str, value, like: Tensor) -> Tensor:
    """A number as a 0-d tensor like ``like`` (a tensor as it is)."""
    return value if isinstance(value, Tensor) else E.as_tensor_like(value, like, like.dtype, op)


@_takes_out
def normal(mean=0.0, std=1.0, size=None, *, generator: Generator | None = None, dtype=None,
           device=None, requires_grad: bool = False) -> Tensor:
    """Normal random numbers: ``normal(mean_tensor, std_tensor)``, ``normal(mean_tensor, std=1.)``,
    ``normal(mean, std_tensor)`` or ``normal(mean, std, size)``; tensors broadcast."""
    if not isinstance(std, Tensor) and std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: with a float "
                            "mean and std, size is required")
        z = randn(size, generator=generator, dtype=dtype, device=device)
        return E.cast(Tensor._make(z._data * std + mean), z.dtype).requires_grad_(requires_grad)
    like = mean if isinstance(mean, Tensor) else std
    _require_floating("normal", like)
    m = _float_param("normal", mean, like)
    s = _float_param("normal", std, like)
    if isinstance(std, Tensor):
        _defer(s.xp.all(s._data >= 0), "normal expects all elements of std >= 0.0")
    shape = E.broadcast_shape("normal", m._data.shape, s._data.shape)
    rng = generator_for(like.device, generator)
    with backend.device_context(like.device):
        z = rng.standard_normal(shape)
        data = (z * s._data + m._data).astype(like._data.dtype)
    return _sampled((mean, std), data)


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    """Poisson counts with the rates in ``input`` (as floats of its dtype)."""
    _require_floating("poisson", input)
    xp = input.xp
    _defer(xp.all(input._data >= 0), "poisson: invalid Poisson rate, expected rate to be "
           "non-negative")
    rng = generator_for(input.device, generator)
    with backend.device_context(input.device):
        data = rng.poisson(xp.maximum(input._data.astype(xp.float64), 0)).astype(input._data.dtype)
    return _sampled((input,), data)


# ---------------------------------------------------------------------------- in-place fills


def _fill(self: Tensor, op: str, make, generator: Generator | None) -> Tensor:
    """Overwrite ``self`` with ``make(rng, shape, xp)`` (cast to its dtype); gradient zero."""
    self._check_inplace(op)
    rng = generator_for(self.device, generator)
    with backend.device_context(self.device):
        data = make(rng, self._data.shape, self.xp).astype(self._data.dtype)
    if STATE.enabled and self.requires_grad:
        return self._set_result(apply(_draw, self._snapshot(), Tensor._make(data)))
    self._data[...] = data
    self._version += 1
    return self


def _floating_fill(self: Tensor, op: str) -> None:
    if not isinstance(self, Tensor):
        raise TypeError(f"{op}(): self must be a Tensor, not {type(self).__name__}")
    _require_floating(f"{op}", self)


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *,
             generator: Generator | None = None) -> Tensor:
    """Fill with uniform random numbers in [a, b)."""
    _floating_fill(self, "uniform_")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    return _fill(self, "uniform_", lambda rng, shape, xp: rng.random(shape) * (b - a) + a, generator)


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *,
            generator: Generator | None = None) -> Tensor:
    """Fill with normal random numbers of the given mean and standard deviation."""
    _floating_fill(self, "normal_")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _fill(self, "normal_", lambda rng, shape, xp: rng.standard_normal(shape) * std + mean,
                 generator)


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *,
                generator: Generator | None = None) -> Tensor:
    """Fill with ``exp`` of normal numbers of mean ``mean`` and deviation ``std``."""
    _floating_fill(self, "log_normal_")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    return _fill(self, "log_normal_",
                 lambda rng, shape, xp: xp.exp(rng.standard_normal(shape) * std + mean), generator)


def exponential_(self: Tensor, lambd: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill with exponential random numbers of rate ``lambd``."""
    _floating_fill(self, "exponential_")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _fill(self, "exponential_",
                 lambda rng, shape, xp: rng.standard_exponential(shape) / lambd, generator)


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *,
            generator: Generator | None = None) -> Tensor:
    """Fill with Cauchy random numbers (``median + sigma * tan(pi * (u - 1/2))``)."""
    _floating_fill(self, "cauchy_")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return _fill(self, "cauchy_",
                 lambda rng, shape, xp: median + sigma * xp.tan(math.pi * (rng.random(shape) - 0.5)),
                 generator)


def geometric_(self: Tensor, p: float, *, generator: Generator | None = None) -> Tensor:
    """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _fill(self, "geometric_", lambda rng, shape, xp: rng.geometric(p, shape), generator)


def bernoulli_(self: Tensor, p=0.5, *, generator: Generator | None = None) -> Tensor:
    """Fill with 1 with probability ``p`` (a number or a broadcastable tensor), else 0."""
    if isinstance(p, Tensor):
        xp = p.xp
        _defer(xp.all((p._data >= 0) & (p._data <= 1)),
               "bernoulli_: Expected p_in >= 0 && p_in <= 1 to be true, but got false")
        probs = backend.transfer(p._data, self.device)
    else:
        _check_probability("bernoulli_", p)
        probs = p
    return _fill(self, "bernoulli_", lambda rng, shape, xp: rng.random(shape) < probs, generator)


def _random_bounds(self: Tensor, low, high) -> tuple[int, int]:
    """``random_``'s inclusive range: [0, 2**mantissa] or the integer type's, or [from, to)."""
    d = self.dtype
    if d.is_floating_point:
        top = 2 ** (backend.numpy.finfo(d.np).nmant + 1)
    else:
        top = int(d.bounds()[1])
    if low is None and high is None:
        return 0, top
    if high is None:  # random_(to): one bound is the exclusive top
        low, high = 0, low
    if low is None:
        low = 0
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    lowest = int(d.bounds()[0]) if not d.is_floating_point else -top
    if high - 1 > top or low < lowest:
        raise RuntimeError(f"random_: [{low}, {high}) is out of bounds for {d}")
    return int(low), int(high) - 1


def random_(self: Tensor, from_=None, to=None, *, generator: Generator | None = None) -> Tensor:
    """Fill with integers uniform in [from, to) (``random_(to)``: [0, to); no bounds: [0, 2**mantissa]
    for floats, [0, max] for integer types)."""
    low, high = _random_bounds(self, from_, to)
    return _fill(self, "random_",
                 lambda rng, shape, xp: rng.integers(low, high, shape, endpoint=True), generator)


# ---------------------------------------------------------------------------- gamma draws


def _gamma_sample_grad_fwd(xp, alpha, x):
    """d x / d alpha of a Gamma(alpha, 1) draw held at its quantile (implicit reparameterisation):
    -(dP/dalpha) / (dP/dx), P the regularised lower incomplete gamma function; dP/dalpha by a
    central difference of SciPy's (or CuPy's) accurate ``gammainc``."""
    sp = backend.special_functions(xp)
    a = alpha.astype(xp.float64)
    v = x.astype(xp.float64)
    h = 1e-5 * xp.maximum(a, 1e-3)
    h = xp.minimum(h, 0.5 * a)
    dp_da = (sp.gammainc(a + h, v) - sp.gammainc(a - h, v)) / (2 * h)
    log_density = (a - 1) * xp.log(v) - v - sp.gammaln(a)
    return (-dp_da * xp.exp(-log_density)).astype(x.dtype, copy=False)


def _no_second_order(g, out, alpha, x):
    raise RuntimeError("the derivative of a gamma draw's reparameterisation gradient is not "
                       "implemented (as torch's _standard_gamma_grad)")


_gamma_sample_grad = primitive(
    "standard_gamma_grad", _gamma_sample_grad_fwd, _no_second_order,
    jvp=lambda tangents, out, alpha, x: _no_second_order(None, out, alpha, x),
    batch="elementwise", formula="implicit reparameterisation of a Gamma(alpha, 1) draw")
_standard_gamma = primitive(
    "standard_gamma", lambda xp, alpha, x: x,
    lambda g, out, alpha, x: (E.mul(g, apply(_gamma_sample_grad, alpha, x)), None),
    jvp=lambda tangents, out, alpha, x: (None if tangents[0] is None else
                                         E.mul(tangents[0], apply(_gamma_sample_grad, alpha, x))),
    batch="dims",
    formula="d/dalpha x = -(dP/dalpha)/(dP/dx) at the draw x (implicit reparameterisation)",
)


def standard_gamma(concentration: Tensor, generator: Generator | None = None) -> Tensor:
    """Gamma(concentration, 1) draws, differentiable in ``concentration`` (torch._standard_gamma)."""
    _require_floating("_standard_gamma", concentration)
    xp = concentration.xp
    rng = generator_for(concentration.device, generator)
    with backend.device_context(concentration.device):
        alpha = xp.maximum(concentration._data.astype(xp.float64), 0)
        draw = rng.standard_gamma(alpha)
        tiny = backend.numpy.finfo(concentration._data.dtype).tiny
        data = xp.maximum(draw, tiny).astype(concentration._data.dtype)
    return apply(_standard_gamma, concentration, Tensor._make(data))


def binomial(count: Tensor, prob: Tensor, generator: Generator | None = None) -> Tensor:
    """Binomial(count, prob) draws (as floats of ``prob``'s dtype); tensors broadcast."""
    _require_floating("binomial", prob)
    xp = prob.xp
    shape = E.broadcast_shape("binomial", count._data.shape, prob._data.shape)
    rng = generator_for(prob.device, generator)
    with backend.device_context(prob.device):
        n = xp.broadcast_to(count._data, shape).astype(xp.int64)
        p = xp.clip(xp.broadcast_to(prob._data, shape).astype(xp.float64), 0, 1)
        data = rng.binomial(n, p).astype(prob._data.dtype)
    return _sampled((count, prob), data)
