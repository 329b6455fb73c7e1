"""ember.distributions against torch.distributions: log_prob, entropy, cdf, icdf, moments and
KL divergences on random parameters, in value, gradient and second derivative (float64)."""
from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

import ember
from harness import _compare_list, _grads, _second, _zeros_for, assert_close

TOL = (1e-8, 1e-10)
# torch's Multinomial.entropy takes log(n!) of an int64 tensor, so in float32
LOOSE = {"Multinomial": (1e-7, 1e-8)}


def _pos(rng, shape, lo=0.5, hi=2.0):
    return rng.uniform(lo, hi, shape)


def _real(rng, shape):
    return rng.standard_normal(shape)


def _probs(rng, shape):
    return rng.uniform(0.1, 0.9, shape)


def _simplex(rng, shape):
    p = rng.uniform(0.2, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


def _tril(rng, n):
    m = np.tril(rng.standard_normal((n, n)) * 0.3)
    m[np.diag_indices(n)] = rng.uniform(0.5, 1.5, n)
    return m


def _spd(rng, n):
    a = rng.standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


# name -> (parameter maker, builder(lib, **params)); the builder sees lib.distributions as D
CASES = {
    "Normal": (lambda r: {"loc": _real(r, (2, 3)), "scale": _pos(r, (3,))},
               lambda D, p: D.Normal(p["loc"], p["scale"])),
    "Uniform": (lambda r: {"low": _real(r, (3,)), "width": _pos(r, (3,))},
                lambda D, p: D.Uniform(p["low"], p["low"] + p["width"])),
    "Exponential": (lambda r: {"rate": _pos(r, (3,))}, lambda D, p: D.Exponential(p["rate"])),
    "Laplace": (lambda r: {"loc": _real(r, (3,)), "scale": _pos(r, (3,))},
                lambda D, p: D.Laplace(p["loc"], p["scale"])),
    "Cauchy": (lambda r: {"loc": _real(r, (3,)), "scale": _pos(r, (3,))},
               lambda D, p: D.Cauchy(p["loc"], p["scale"])),
    "LogNormal": (lambda r: {"loc": _real(r, (3,)) * 0.3, "scale": _pos(r, (3,), 0.3, 1.0)},
                  lambda D, p: D.LogNormal(p["loc"], p["scale"])),
    "Gamma": (lambda r: {"concentration": _pos(r, (3,), 0.5, 3.0), "rate": _pos(r, (3,))},
              lambda D, p: D.Gamma(p["concentration"], p["rate"])),
    "Chi2": (lambda r: {"df": _pos(r, (3,), 1.0, 5.0)}, lambda D, p: D.Chi2(p["df"])),
    "Beta": (lambda r: {"a": _pos(r, (3,), 0.5, 3.0), "b": _pos(r, (3,), 0.5, 3.0)},
             lambda D, p: D.Beta(p["a"], p["b"])),
    "Dirichlet": (lambda r: {"concentration": _pos(r, (2, 4), 0.5, 3.0)},
                  lambda D, p: D.Dirichlet(p["concentration"])),
    "StudentT": (lambda r: {"df": _pos(r, (3,), 2.5, 6.0), "loc": _real(r, (3,)),
                            "scale": _pos(r, (3,))},
                 lambda D, p: D.StudentT(p["df"], p["loc"], p["scale"])),
    "Poisson": (lambda r: {"rate": _pos(r, (4,), 0.5, 5.0)}, lambda D, p: D.Poisson(p["rate"])),
    "Bernoulli": (lambda r: {"probs": _probs(r, (4,))}, lambda D, p: D.Bernoulli(p["probs"])),
    "BernoulliLogits": (lambda r: {"logits": _real(r, (4,))},
                        lambda D, p: D.Bernoulli(logits=p["logits"])),
    "Binomial": (lambda r: {"probs": _probs(r, (3,))},
                 lambda D, p: D.Binomial(p["probs"].new_full((3,), 6.0), p["probs"])),
    "Geometric": (lambda r: {"probs": _probs(r, (4,))}, lambda D, p: D.Geometric(p["probs"])),
    "Categorical": (lambda r: {"probs": _simplex(r, (2, 4))},
                    lambda D, p: D.Categorical(p["probs"])),
    "CategoricalLogits": (lambda r: {"logits": _real(r, (2, 4))},
                          lambda D, p: D.Categorical(logits=p["logits"])),
    "OneHotCategorical": (lambda r: {"logits": _real(r, (2, 3))},
                          lambda D, p: D.OneHotCategorical(logits=p["logits"])),
    "Multinomial": (lambda r: {"probs": _simplex(r, (2, 3))},
                    lambda D, p: D.Multinomial(5, p["probs"])),
    "ContinuousBernoulli": (lambda r: {"probs": np.array([0.2, 0.4995, 0.8])},
                            lambda D, p: D.ContinuousBernoulli(p["probs"])),
    "RelaxedBernoulli": (lambda r: {"t": _pos(r, ()), "probs": _probs(r, (3,))},
                         lambda D, p: D.RelaxedBernoulli(p["t"], p["probs"])),
    "RelaxedOneHotCategorical": (lambda r: {"t": _pos(r, ()), "logits": _real(r, (2, 3))},
                                 lambda D, p: D.RelaxedOneHotCategorical(p["t"],
                                                                         logits=p["logits"])),
    "MultivariateNormal": (lambda r: {"loc": _real(r, (2, 3)), "tril": _tril(r, 3)},
                           lambda D, p: D.MultivariateNormal(p["loc"], scale_tril=p["tril"])),
    "MultivariateNormalCov": (lambda r: {"loc": _real(r, (3,)), "cov": _spd(r, 3)},
                              lambda D, p: D.MultivariateNormal(
                                  p["loc"], covariance_matrix=p["cov"])),
    "MultivariateNormalPrecision": (lambda r: {"loc": _real(r, (3,)), "prec": _spd(r, 3)},
                                    lambda D, p: D.MultivariateNormal(
                                        p["loc"], precision_matrix=p["prec"])),
    "LowRankMultivariateNormal": (lambda r: {"loc": _real(r, (2, 3)), "w": _real(r, (3, 2)),
                                             "d": _pos(r, (3,))},
                                  lambda D, p: D.LowRankMultivariateNormal(p["loc"], p["w"],
                                                                           p["d"])),
    "Independent": (lambda r: {"loc": _real(r, (2, 3)), "scale": _pos(r, (2, 3))},
                    lambda D, p: D.Independent(D.Normal(p["loc"], p["scale"]), 1)),
    "MixtureSameFamily": (lambda r: {"logits": _real(r, (3,)), "loc": _real(r, (3,)),
                                     "scale": _pos(r, (3,))},
                          lambda D, p: D.MixtureSameFamily(D.Categorical(logits=p["logits"]),
                                                           D.Normal(p["loc"], p["scale"]))),
    "TransformedAffineExp": (lambda r: {"loc": _real(r, (3,)), "scale": _pos(r, (3,)),
                                        "shift": _real(r, (3,)), "mult": _pos(r, (3,))},
                             lambda D, p: D.TransformedDistribution(
                                 D.Normal(p["loc"], p["scale"]),
                                 [D.AffineTransform(p["shift"], p["mult"]), D.ExpTransform()])),
    "TransformedSigmoidTanh": (lambda r: {"loc": _real(r, (3,)), "scale": _pos(r, (3,))},
                               lambda D, p: D.TransformedDistribution(
                                   D.Normal(p["loc"], p["scale"]),
                                   [D.TanhTransform(), D.AffineTransform(0.0, 0.5),
                                    D.SigmoidTransform()])),
    "TransformedStickBreaking": (lambda r: {"loc": _real(r, (3,)), "scale": _pos(r, (3,))},
                                 lambda D, p: D.TransformedDistribution(
                                     D.Normal(p["loc"], p["scale"]),
                                     D.StickBreakingTransform())),
}

METHODS = ["log_prob", "entropy", "cdf", "icdf", "mean", "mode", "variance", "stddev"]


def _lib(name: str):
    return torch if name == "torch" else ember


def _as(lib, arr, grad: bool):
    t = torch.tensor(arr) if lib is torch else ember.tensor(arr)
    return t.requires_grad_(grad) if grad else t


def _params(name: str) -> dict:
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return CASES[name][0](rng)


def _value_and_quantile(name: str, params: dict):
    """A point in the support (a torch sample) and a probability in (0, 1) per batch entry."""
    torch.manual_seed(zlib.crc32(name.encode()) % 2**31)
    dist = CASES[name][1](torch.distributions, {k: torch.tensor(v) for k, v in params.items()})
    value = dist.sample().numpy()
    q = np.random.default_rng(1).uniform(0.05, 0.95, tuple(dist.batch_shape)
                                         + tuple(dist.event_shape))
    return value, q


def _run(lib, name: str, params: dict, fn):
    """Build the distribution with ``lib`` (parameters as leaves needing grad) and apply ``fn``."""
    leaves = {k: _as(lib, v, True) for k, v in params.items()}
    dist = CASES[name][1](lib.distributions, leaves)
    return fn(lib, dist), list(leaves.values())


def _check(name: str, params: dict, fn, what: str) -> None:
    """``fn(lib, dist)`` for torch and Ember: value, first and second derivatives agree."""
    try:
        want, t_leaves = _run(torch, name, params, fn)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            _run(ember, name, params, fn)
        return
    got, e_leaves = _run(ember, name, params, fn)
    assert_close(got, want, "float64", f"{name}.{what}", LOOSE.get(name, TOL))
    if not want.requires_grad:
        return
    cot = np.random.default_rng(7).standard_normal(tuple(want.shape))
    try:
        t_first = _grads("torch", [want], t_leaves, [torch.tensor(cot)], True)
    except RuntimeError:  # torch has no derivative here (igamma's in its first argument)
        with pytest.raises(RuntimeError):
            _grads("ember", [got], e_leaves, [ember.tensor(cot)], True)
        return
    e_first = _grads("ember", [got], e_leaves, [ember.tensor(cot)], True)
    _compare_list(_zeros_for(e_first, e_leaves), _zeros_for(t_first, t_leaves), "float64",
                  f"{name}.{what} gradient", TOL)
    vecs = [np.random.default_rng(8 + i).standard_normal(tuple(t.shape))
            for i, t in enumerate(t_leaves)]
    e_second = _second("ember", e_first, e_leaves, [ember.tensor(v) for v in vecs])
    t_second = _second("torch", t_first, t_leaves, [torch.tensor(v) for v in vecs])
    _compare_list(_zeros_for(e_second, e_leaves), _zeros_for(t_second, t_leaves), "float64",
                  f"{name}.{what} second derivative", (1e-7, 1e-9))


def _method(method: str, value, q):
    def fn(lib, dist):
        if method == "log_prob":
            return dist.log_prob(_as(lib, value, False))
        if method == "cdf":
            return dist.cdf(_as(lib, value, False))
        if method == "icdf":
            return dist.icdf(_as(lib, q, False))
        if method == "entropy":
            return dist.entropy()
        return getattr(dist, method)

    return fn


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_against_torch(name, method):
    params = _params(name)
    value, q = _value_and_quantile(name, params)
    _check(name, params, _method(method, value, q), method)


KL_PAIRS = [
    ("Normal", "Normal"), ("Bernoulli", "Bernoulli"), ("Beta", "Beta"), ("Binomial", "Binomial"),
    ("Categorical", "Categorical"), ("OneHotCategorical", "OneHotCategorical"),
    ("ContinuousBernoulli", "ContinuousBernoulli"), ("Dirichlet", "Dirichlet"),
    ("Exponential", "Exponential"), ("Gamma", "Gamma"), ("Geometric", "Geometric"),
    ("Laplace", "Laplace"), ("Poisson", "Poisson"), ("Uniform", "Uniform"), ("Cauchy", "Cauchy"),
    ("MultivariateNormal", "MultivariateNormal"), ("LowRankMultivariateNormal", "MultivariateNormal"),
    ("MultivariateNormalCov", "LowRankMultivariateNormal"),
    ("LowRankMultivariateNormal", "LowRankMultivariateNormal"),
    ("Independent", "Independent"), ("LogNormal", "LogNormal"), ("Bernoulli", "Poisson"),
    ("Beta", "Exponential"), ("Beta", "Gamma"), ("Beta", "Normal"), ("Beta", "Uniform"),
    ("Beta", "ContinuousBernoulli"), ("ContinuousBernoulli", "Normal"),
    ("ContinuousBernoulli", "Exponential"), ("Exponential", "Gamma"), ("Exponential", "Normal"),
    ("Gamma", "Exponential"), ("Gamma", "Normal"), ("Laplace", "Normal"), ("Normal", "Laplace"),
    ("Uniform", "Normal"), ("Uniform", "Gamma"), ("Uniform", "Exponential"), ("Uniform", "Beta"),
    ("Normal", "Gamma"), ("Poisson", "Bernoulli"),
]


def _shifted(name: str) -> dict:
    """Parameters of a second distribution of family ``name`` (a different draw)."""
    rng = np.random.default_rng(zlib.crc32(name.encode()) + 1)
    return CASES[name][0](rng)


@pytest.mark.parametrize("p_name,q_name", KL_PAIRS)
def test_kl_divergence_against_torch(p_name, q_name):
    p_params = {f"p_{k}": v for k, v in _params(p_name).items()}
    q_params = {f"q_{k}": v for k, v in _shifted(q_name).items()}
    if p_name == q_name == "Uniform":  # a q that covers p, so the divergence is finite
        q_params["q_low"] = p_params["p_low"] - 0.5
        q_params["q_width"] = p_params["p_width"] + 1.0

    def build(D, leaves):
        p = CASES[p_name][1](D, {k[2:]: v for k, v in leaves.items() if k.startswith("p_")})
        q = CASES[q_name][1](D, {k[2:]: v for k, v in leaves.items() if k.startswith("q_")})
        return p, q

    CASES["_kl"] = (None, build)
    try:
        _check("_kl", {**p_params, **q_params},
               lambda lib, pq: lib.distributions.kl_divergence(*pq), f"kl({p_name}, {q_name})")
    finally:
        del CASES["_kl"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_expand_against_torch(name):
    """An expanded distribution (a new leading batch dim) scores values as torch's does."""
    params = _params(name)
    value, _ = _value_and_quantile(name, params)

    def fn(lib, dist):
        wide = dist.expand((2,) + tuple(dist.batch_shape))
        assert tuple(wide.batch_shape) == (2,) + tuple(dist.batch_shape)
        assert tuple(wide.sample().shape) == (2,) + tuple(dist.batch_shape) + tuple(dist.event_shape)
        return wide.log_prob(_as(lib, value, False))

    _check(name, params, fn, "expand")


# ---------------------------------------------------------------------------- behaviour


def test_shapes_expand_and_sampling():
    D = ember.distributions
    d = D.Normal(ember.zeros(3), ember.ones(3))
    assert tuple(d.batch_shape) == (3,) and tuple(d.event_shape) == ()
    assert tuple(d.sample((5, 2)).shape) == (5, 2, 3)
    e = d.expand((4, 3))
    assert tuple(e.batch_shape) == (4, 3) and tuple(e.sample().shape) == (4, 3)
    mvn = D.MultivariateNormal(ember.zeros(2), ember.eye(2))
    assert tuple(mvn.event_shape) == (2,) and tuple(mvn.rsample((7,)).shape) == (7, 2)
    cat = D.Categorical(logits=ember.zeros(2, 5))
    assert tuple(cat.sample((3,)).shape) == (3, 2) and cat.sample().dtype == ember.int64
    assert tuple(cat.enumerate_support().shape) == (5, 2)
    mix = D.MixtureSameFamily(D.Categorical(logits=ember.zeros(3)),
                              D.Normal(ember.tensor([-5.0, 0.0, 5.0]), ember.ones(3)))
    assert tuple(mix.sample((10,)).shape) == (10,)
    with pytest.warns(FutureWarning):
        assert tuple(d.sample_n(2).shape) == (2, 3)
    assert repr(D.Normal(0.0, 1.0)) == "Normal(loc: 0.0, scale: 1.0)"
    assert repr(d) == "Normal(loc: ember.Size([3]), scale: ember.Size([3]))"


def test_validation_refuses_bad_parameters_and_values():
    D = ember.distributions
    with pytest.raises(ValueError, match="scale"):
        D.Normal(ember.zeros(2), ember.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="support"):
        D.Exponential(ember.ones(2)).log_prob(ember.tensor([-1.0, 1.0]))
    with pytest.raises(ValueError):
        D.Bernoulli(probs=ember.tensor(0.5), logits=ember.tensor(0.0))
    D.Normal(ember.zeros(2), ember.tensor([1.0, -1.0]), validate_args=False)  # not checked


def test_rsample_is_reparameterised():
    D = ember.distributions
    ember.manual_seed(0)
    loc = ember.zeros(3, requires_grad=True)
    scale = ember.ones(3, requires_grad=True)
    D.Normal(loc, scale).rsample((100,)).sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), 100.0)
    assert scale.grad is not None and np.isfinite(scale.grad.numpy()).all()
    with pytest.raises(NotImplementedError):
        D.Bernoulli(ember.tensor(0.5)).rsample()


@pytest.mark.parametrize("family", ["Gamma", "Beta", "Dirichlet"])
def test_implicit_reparameterisation_matches_the_mean_gradient(family):
    """E[d sample / d alpha] = d E[sample] / d alpha, with gradients through gamma draws."""
    D = ember.distributions
    ember.manual_seed(1)
    n = 40000
    alpha = ember.tensor([0.7, 2.5], dtype=ember.float64, requires_grad=True)
    if family == "Gamma":
        dist, mean_grad = D.Gamma(alpha, 1.0), np.ones(2)
        samples = dist.rsample((n,))
        samples.sum().backward()
    elif family == "Beta":
        b = 1.5
        dist = D.Beta(alpha, ember.tensor([b, b], dtype=ember.float64))
        a = alpha.detach().numpy()
        mean_grad = b / (a + b) ** 2
        dist.rsample((n,)).sum().backward()
    else:
        dist = D.Dirichlet(alpha)
        a = alpha.detach().numpy()
        mean_grad = (a.sum() - a[0]) / a.sum() ** 2
        dist.rsample((n,))[..., 0].sum().backward()
        mean_grad = np.array([mean_grad, -a[0] / a.sum() ** 2])
    np.testing.assert_allclose(alpha.grad.numpy() / n, mean_grad, rtol=0.05, atol=0.01)


@pytest.mark.parametrize("name", ["Normal", "Exponential", "Gamma", "Beta", "Poisson", "Bernoulli",
                                  "Binomial", "Geometric", "Laplace", "StudentT", "OneHotCategorical",
                                  "Uniform", "LogNormal", "Dirichlet", "MultivariateNormal",
                                  "LowRankMultivariateNormal", "ContinuousBernoulli",
                                  "Multinomial", "MixtureSameFamily"])
def test_sample_moments(name):
    """Sample means and variances match the distribution's (fixed seed, 20000 draws)."""
    ember.manual_seed(2)
    params = {k: ember.tensor(v) for k, v in _params(name).items()}
    dist = CASES[name][1](ember.distributions, params)
    draws = dist.sample((20000,)).double().numpy()
    mean = dist.mean.detach().numpy()
    var = dist.variance.detach().numpy()
    np.testing.assert_allclose(draws.mean(0), mean, atol=4 * np.sqrt(var.max() / 20000) + 1e-3)
    np.testing.assert_allclose(draws.var(0), var, rtol=0.08, atol=1e-3)


# ---------------------------------------------------------------------------- transforms and registry


def _transforms(lib, p):
    T = lib.distributions.transforms
    return {
        "exp": T.ExpTransform(), "sigmoid": T.SigmoidTransform(), "tanh": T.TanhTransform(),
        "affine": T.AffineTransform(p["shift"], p["mult"]), "power": T.PowerTransform(p["k"]),
        "softmax_stick": T.StickBreakingTransform(),
        "compose": T.ComposeTransform([T.AffineTransform(p["shift"], p["mult"]),
                                       T.SigmoidTransform()]),
        "independent": T.IndependentTransform(T.ExpTransform(), 1),
    }


@pytest.mark.parametrize("which", ["exp", "sigmoid", "tanh", "affine", "power", "softmax_stick",
                                   "compose", "independent"])
def test_transforms_against_torch(which):
    rng = np.random.default_rng(5)
    x = rng.uniform(0.2, 0.8, (2, 3))
    params = {"shift": rng.standard_normal(3), "mult": _pos(rng, (3,)), "k": _pos(rng, (3,))}
    results = {}
    for lib in (torch, ember):
        p = {k: _as(lib, v, False) for k, v in params.items()}
        t = _transforms(lib, p)[which]
        xt = _as(lib, x, True)
        y = t(xt)
        back = t.inv(y)
        ladj = t.log_abs_det_jacobian(xt, y)
        grad = (torch if lib is torch else ember).autograd.grad(ladj.sum() + y.sum(), xt)[0]
        results[lib.__name__] = [y, back, ladj, grad]
    for got, want, what in zip(results["ember"], results["torch"], ["y", "inv", "ladj", "grad"]):
        assert_close(got.detach(), want.detach(), "float64", f"{which} {what}", TOL)


def test_transform_cache_and_inverse():
    T = ember.distributions.transforms
    t = T.ExpTransform(cache_size=1)
    x = ember.randn(3)
    y = t(x)
    assert t.inv(y) is x and t(x) is y
    assert T.ExpTransform() == T.ExpTransform() and T.ExpTransform() != T.SigmoidTransform()
    assert t.inv.inv is t


def test_register_kl_picks_the_most_specific_pair():
    D = ember.distributions

    class MyNormal(D.Normal):
        pass

    p, q = MyNormal(0.0, 1.0), D.Normal(1.0, 2.0)
    assert float(D.kl_divergence(p, q)) == pytest.approx(float(D.kl_divergence(D.Normal(0.0, 1.0), q)))

    @D.register_kl(MyNormal, D.Normal)
    def _mine(p, q):
        return ember.tensor(42.0)

    assert float(D.kl_divergence(p, q)) == 42.0
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Categorical(logits=ember.zeros(3)))


@pytest.mark.parametrize("name", sorted(CASES))
def test_rsample_where_torch_has_it(name):
    """has_rsample as torch's; where it holds, gradients of a sample reach every parameter."""
    params = _params(name)
    t_dist = CASES[name][1](torch.distributions, {k: torch.tensor(v) for k, v in params.items()})
    ember.manual_seed(4)
    leaves = {k: ember.tensor(v, requires_grad=True) for k, v in params.items()}
    dist = CASES[name][1](ember.distributions, leaves)
    assert dist.has_rsample == t_dist.has_rsample
    if not dist.has_rsample:
        return
    sample = dist.rsample((3,))
    assert tuple(sample.shape) == (3,) + tuple(t_dist.batch_shape) + tuple(t_dist.event_shape)
    grads = ember.autograd.grad(sample.sum(), list(leaves.values()), allow_unused=True)
    for key, g in zip(leaves, grads):
        assert g is not None and np.isfinite(g.numpy()).all(), key


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("constraint", ["real", "positive", "nonnegative", "greater_than",
                                        "less_than", "unit_interval", "interval", "simplex",
                                        "independent"])
def test_constraint_registry_against_torch(registry, constraint):
    x = np.random.default_rng(3).standard_normal((2, 3))
    results = []
    for lib in (torch, ember):
        C = lib.distributions.constraints
        made = {"real": C.real, "positive": C.positive, "nonnegative": C.nonnegative,
                "greater_than": C.greater_than(1.5), "less_than": C.less_than(-2.0),
                "unit_interval": C.unit_interval, "interval": C.interval(-1.0, 3.0),
                "simplex": C.simplex, "independent": C.independent(C.positive, 1)}[constraint]
        t = getattr(lib.distributions, registry)(made)
        xt = _as(lib, x, False)
        y = t(xt)
        assert bool(made.check(y).all())
        try:
            ladj = t.log_abs_det_jacobian(xt, y)
        except NotImplementedError:  # softmax is not bijective: no Jacobian determinant
            ladj = "none"
        results.append([y, t.inv(y), ladj])
    for i, (want, got) in enumerate(zip(*results)):
        assert_close(got, want, "float64", f"{registry}({constraint}) output {i}", TOL)
    with pytest.raises(NotImplementedError):
        ember.distributions.biject_to(ember.distributions.constraints.boolean)
