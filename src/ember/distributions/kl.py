"""KL divergences ``KL(p || q)`` between pairs of distributions, and ``register_kl``.

Lookup picks the most specific registered pair by subclass (torch's rule), and warns when
two registrations tie.
"""
from __future__ import annotations

import math
import warnings
from functools import total_ordering

from ..creation import eye
from ..ops import elementwise as E
from ..ops import gamma as G
from ..ops import linalg as L
from ..ops import reduce as R
from ..ops import special as SP
from ._linalg import batch_mahalanobis, cholesky, half_log_det, solve_lower
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .independent import Independent
from .laplace import Laplace
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .poisson import Poisson
from .transformed_distribution import TransformedDistribution
from .transforms import sum_rightmost
from .uniform import Uniform
from .utils import euler_constant, softplus, xlogy

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY: dict = {}
_KL_MEMOIZE: dict = {}
_INF = float("inf")


def register_kl(type_p, type_q):
    """Decorator: register ``fn(p, q)`` as KL(p || q) for distributions of these types."""
    for t in (type_p, type_q):
        if not (isinstance(t, type) and issubclass(t, Distribution)):
            raise TypeError(f"Expected a Distribution subclass but got {t}")

    def decorator(fn):
        _KL_REGISTRY[type_p, type_q] = fn
        _KL_MEMOIZE.clear()
        return fn

    return decorator


@total_ordering
class _Match:
    """A registered pair, ordered so that the most specific (by subclass) is the smallest."""

    __slots__ = ("types",)

    def __init__(self, *types) -> None:
        self.types = types

    def __eq__(self, other) -> bool:
        return self.types == other.types

    def __le__(self, other) -> bool:
        for x, y in zip(self.types, other.types):
            if not issubclass(x, y):
                return False
            if x is not y:
                break
        return True


def _dispatch_kl(type_p, type_q):
    matches = [(p, q) for p, q in _KL_REGISTRY if issubclass(type_p, p) and issubclass(type_q, q)]
    if not matches:
        return NotImplemented
    left_p, left_q = min(_Match(*m) for m in matches).types
    right_q, right_p = min(_Match(*reversed(m)) for m in matches).types
    left, right = _KL_REGISTRY[left_p, left_q], _KL_REGISTRY[right_p, right_q]
    if left is not right:
        warnings.warn(f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). "
                      f"Please register_kl({left_p.__name__}, {right_q.__name__})",
                      RuntimeWarning, stacklevel=2)
    return left


def kl_divergence(p: Distribution, q: Distribution):
    """KL(p || q) = E_p[log p(x) - log q(x)], over the batch."""
    key = type(p), type(q)
    fn = _KL_MEMOIZE.get(key)
    if fn is None:
        fn = _KL_MEMOIZE[key] = _dispatch_kl(*key)
    if fn is NotImplemented:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type "
                                  f"{p.__class__.__name__} and q type {q.__class__.__name__}")
    return fn(p, q)


def _inf_where(condition, value):
    """``value`` with +inf where ``condition`` holds."""
    return E.where(condition, E.const_zeros(value) + _INF, value)


def _infinite_like(tensor):
    return E.const_zeros(tensor) + _INF


def _x_log_x(t):
    return xlogy(t, t)


def _batch_trace_xxt(m):
    """trace(M M^T) over the last two dims."""
    return R.sum(m.pow(2), (-2, -1))


# ---------------------------------------------------------------------------- same family


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t1 = E.where(E.eq(p.probs, 0), E.const_zeros(t1), _inf_where(E.eq(q.probs, 0), t1))
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    t2 = E.where(E.eq(p.probs, 1), E.const_zeros(t2), _inf_where(E.eq(q.probs, 1), t2))
    return t1 + t2


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    sum_p = p.concentration1 + p.concentration0
    sum_q = q.concentration1 + q.concentration0
    t1 = G.lgamma(q.concentration1) + G.lgamma(q.concentration0) + G.lgamma(sum_p)
    t2 = G.lgamma(p.concentration1) + G.lgamma(p.concentration0) + G.lgamma(sum_q)
    t3 = (p.concentration1 - q.concentration1) * G.digamma(p.concentration1)
    t4 = (p.concentration0 - q.concentration0) * G.digamma(p.concentration0)
    t5 = (sum_q - sum_p) * G.digamma(sum_p)
    return t1 - t2 + t3 + t4 + t5


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p, q):
    if bool(R.any(E.lt(p.total_count, q.total_count))):
        raise NotImplementedError("KL between Binomials where q.total_count > p.total_count "
                                  "is not implemented")
    kl = p.total_count * (p.probs * (p.logits - q.logits) + E.log1p(-p.probs)
                          - E.log1p(-q.probs))
    return _inf_where(E.gt(p.total_count, q.total_count), kl)


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t = _inf_where(E.eq(q.probs, 0), t)
    t = E.where(E.eq(p.probs, 0), E.const_zeros(t), t)
    return R.sum(t, -1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_continuous_bernoulli_continuous_bernoulli(p, q):
    t1 = p.mean * (p.logits - q.logits)
    t2 = p._cont_bern_log_norm() + E.log1p(-p.probs)
    t3 = -q._cont_bern_log_norm() - E.log1p(-q.probs)
    return t1 + t2 + t3


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    sum_p = R.sum(p.concentration, -1)
    sum_q = R.sum(q.concentration, -1)
    t1 = G.lgamma(sum_p) - G.lgamma(sum_q)
    t2 = R.sum(G.lgamma(p.concentration) - G.lgamma(q.concentration), -1)
    t3 = p.concentration - q.concentration
    t4 = G.digamma(p.concentration) - G.digamma(sum_p).unsqueeze(-1)
    return t1 - t2 + R.sum(t3 * t4, -1)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    rate_ratio = q.rate / p.rate
    return -E.log(rate_ratio) + rate_ratio - 1


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    t1 = q.concentration * E.log(p.rate / q.rate)
    t2 = G.lgamma(q.concentration) - G.lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * G.digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p, q):
    return -p.entropy() - E.log1p(-q.probs) / p.probs - q.logits


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    scale_ratio = p.scale / q.scale
    loc_abs_diff = E.abs(p.loc - q.loc)
    return (-E.log(scale_ratio) + loc_abs_diff / q.scale
            + scale_ratio * E.exp(-loc_abs_diff / p.scale) - 1)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - E.log(var_ratio))


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    return p.rate * (E.log(p.rate) - E.log(q.rate)) - (p.rate - q.rate)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = E.log((q.high - q.low) / (p.high - p.low))
    return _inf_where(E.logical_or(E.gt(q.low, p.low), E.lt(q.high, p.high)), result)


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p, q):
    t1 = E.log((p.scale + q.scale).pow(2) + (p.loc - q.loc).pow(2))
    return t1 - E.log(4 * p.scale * q.scale)


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p, q):
    if p.transforms != q.transforms or tuple(p.event_shape) != tuple(q.event_shape):
        raise NotImplementedError
    return kl_divergence(p.base_dist, q.base_dist)


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


# ---------------------------------------------------------------------------- Gaussians


def _gaussian_kl(p_loc, p_tril, q_loc, q_tril, n: int):
    """KL between N(p_loc, P P^T) and N(q_loc, Q Q^T), given the lower Cholesky factors."""
    shape = E.broadcast_shape("kl_divergence", tuple(q_tril.shape[:-2]), tuple(p_tril.shape[:-2]))
    term2 = _batch_trace_xxt(solve_lower(q_tril.expand(shape + (n, n)),
                                         p_tril.expand(shape + (n, n))))
    term3 = batch_mahalanobis(q_tril, q_loc - p_loc)
    return half_log_det(q_tril) - half_log_det(p_tril) + 0.5 * (term2 + term3 - n)


def _check_event(p, q) -> int:
    if tuple(p.event_shape) != tuple(q.event_shape):
        raise ValueError("KL-divergence between two (Low Rank) Multivariate Normals with "
                         "different event shapes cannot be computed")
    return p.event_shape[0]


def _tril_of(d):
    """The unbroadcast lower Cholesky factor of a (low-rank) multivariate normal's covariance."""
    if isinstance(d, MultivariateNormal):
        return d._unbroadcasted_scale_tril
    w = d._unbroadcasted_cov_factor
    cov = L.matmul(w, w.mT) + E.mul(d._unbroadcasted_cov_diag.unsqueeze(-1),
                                    _identity(d._event_shape[0], w))
    return cholesky(cov)


def _identity(n: int, like):
    return eye(n, dtype=like.dtype, device=like.device)


@register_kl(MultivariateNormal, MultivariateNormal)
@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
@register_kl(MultivariateNormal, LowRankMultivariateNormal)
@register_kl(LowRankMultivariateNormal, MultivariateNormal)
def _kl_gaussian_gaussian(p, q):
    n = _check_event(p, q)
    return _gaussian_kl(p.loc, _tril_of(p), q.loc, _tril_of(q), n)


# ---------------------------------------------------------------------------- across families


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p, q):
    return -p.entropy() - (p.probs * E.log(q.rate) - q.rate)


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_continuous_bernoulli(p, q):
    return -p.entropy() - p.mean * q.logits - E.log1p(-q.probs) - q._cont_bern_log_norm()


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p, q):
    mean = p.concentration1 / (p.concentration1 + p.concentration0)
    return -p.entropy() - E.log(q.rate) + q.rate * mean


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p, q):
    total = p.concentration1 + p.concentration0
    t2 = G.lgamma(q.concentration) - q.concentration * E.log(q.rate)
    t3 = (q.concentration - 1) * (G.digamma(p.concentration1) - G.digamma(total))
    t4 = q.rate * p.concentration1 / total
    return -p.entropy() + t2 - t3 + t4


@register_kl(Beta, Normal)
def _kl_beta_normal(p, q):
    total = p.concentration1 + p.concentration0
    mean = p.concentration1 / total
    var_normal = q.scale.pow(2)
    t2 = 0.5 * E.log(var_normal * 2 * math.pi)
    t3 = (mean * (1 - mean) / (total + 1) + mean.pow(2)) * 0.5
    return -p.entropy() + t2 + (t3 - q.loc * mean + q.loc.pow(2) * 0.5) / var_normal


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p, q):
    result = -p.entropy() + E.log(q.high - q.low)
    return _inf_where(E.logical_or(E.gt(q.low, 0.0), E.lt(q.high, 1.0)), result)


@register_kl(ContinuousBernoulli, Exponential)
def _kl_continuous_bernoulli_exponential(p, q):
    return -p.entropy() - E.log(q.rate) + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _kl_continuous_bernoulli_normal(p, q):
    t2 = 0.5 * (math.log(2.0 * math.pi) + (q.loc / q.scale).pow(2)) + E.log(q.scale)
    t3 = (p.variance + p.mean.pow(2) - 2.0 * q.loc * p.mean) / (2.0 * q.scale.pow(2))
    return -p.entropy() + t2 + t3


@register_kl(ContinuousBernoulli, Uniform)
def _kl_continuous_bernoulli_uniform(p, q):
    result = -p.entropy() + E.log(q.high - q.low)
    return _inf_where(E.logical_or(E.ge(q.low, 0.0), E.le(q.high, 1.0)), result)


@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p, q):
    ratio = q.rate / p.rate
    t1 = -q.concentration * E.log(ratio)
    return (t1 + ratio + G.lgamma(q.concentration) + q.concentration * euler_constant
            - (1 + euler_constant))


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p, q):
    var_normal = q.scale.pow(2)
    rate_sqr = p.rate.pow(2)
    t1 = 0.5 * E.log(rate_sqr * var_normal * 2 * math.pi)
    return t1 - 1 + (rate_sqr.reciprocal() - q.loc / p.rate + q.loc.pow(2) * 0.5) / var_normal


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p, q):
    return -p.entropy() - E.log(q.rate) + q.rate * p.concentration / p.rate


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p, q):
    var_normal = q.scale.pow(2)
    beta_sqr = p.rate.pow(2)
    a = p.concentration
    t1 = 0.5 * E.log(beta_sqr * var_normal * 2 * math.pi) - a - G.lgamma(a)
    t2 = 0.5 * (a.pow(2) + a) / beta_sqr
    t3 = q.loc * a / p.rate
    t4 = 0.5 * q.loc.pow(2)
    return t1 + (a - 1) * G.digamma(a) + (t2 - t3 + t4) / var_normal


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p, q):
    var_normal = q.scale.pow(2)
    ratio = p.scale.pow(2) / var_normal
    t1 = 0.5 * E.log(2 * ratio / math.pi)
    t2 = 0.5 * p.loc.pow(2)
    return -t1 + ratio + (t2 - p.loc * q.loc + 0.5 * q.loc.pow(2)) / var_normal - 1


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p, q):
    loc_diff = p.loc - q.loc
    scale_ratio = p.scale / q.scale
    z = loc_diff / p.scale
    t2 = math.sqrt(2 / math.pi) * p.scale * E.exp(-0.5 * z.pow(2))
    t3 = loc_diff * SP.erf(math.sqrt(0.5) * z)
    return -E.log(scale_ratio) + (t2 + t3) / q.scale - 0.5 * (1 + math.log(0.5 * math.pi))


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p, q):
    width = p.high - p.low
    t1 = E.log(width)
    t2 = (q.concentration1 - 1) * (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    t3 = (q.concentration0 - 1) * (_x_log_x(1 - p.high) - _x_log_x(1 - p.low) + width) / width
    t4 = (G.lgamma(q.concentration1) + G.lgamma(q.concentration0)
          - G.lgamma(q.concentration1 + q.concentration0))
    result = t3 + t4 - t1 - t2
    return _inf_where(E.logical_or(E.gt(p.high, 1.0), E.lt(p.low, 0.0)), result)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_continuous_bernoulli(p, q):
    result = -p.entropy() - p.mean * q.logits - E.log1p(-q.probs) - q._cont_bern_log_norm()
    return _inf_where(E.logical_or(E.ge(p.high, 1.0), E.le(p.low, 0.0)), result)


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p, q):
    result = q.rate * (p.high + p.low) / 2 - E.log((p.high - p.low) * q.rate)
    return _inf_where(E.lt(p.low, 0.0), result)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p, q):
    width = p.high - p.low
    t2 = G.lgamma(q.concentration) - q.concentration * E.log(q.rate)
    t3 = (1 - q.concentration) * (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    t4 = q.rate * (p.high + p.low) / 2
    return _inf_where(E.lt(p.low, 0.0), -E.log(width) + t2 + t3 + t4)


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p, q):
    width = p.high - p.low
    t1 = E.log(math.sqrt(math.pi * 2) * q.scale / width)
    t2 = width.pow(2) / 12
    t3 = ((p.high + p.low - 2 * q.loc) / 2).pow(2)
    return t1 + 0.5 * (t2 + t3) / q.scale.pow(2)


def _kl_infinite(param: str):
    def kl(p, q):
        return _infinite_like(getattr(p, param))

    return kl


for _p, _qs, _param in (
    (Exponential, (Beta, ContinuousBernoulli, Uniform), "rate"),
    (Gamma, (Beta, ContinuousBernoulli, Uniform), "concentration"),
    (Laplace, (Beta, ContinuousBernoulli, Exponential, Gamma, Uniform), "loc"),
    (Normal, (Beta, ContinuousBernoulli, Exponential, Gamma, Uniform), "loc"),
    (Poisson, (Bernoulli, Binomial), "rate"),
):
    for _q in _qs:
        register_kl(_p, _q)(_kl_infinite(_param))
