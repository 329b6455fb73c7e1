"""nn.init's remaining fills and nn.utils (parameter vectors, parametrize, weight/spectral
norm, conv-bn fusion, pruning) against torch."""
from __future__ import annotations

import contextlib
import copy

import numpy as np
import pytest
import torch
import torch.nn.utils.parametrize as TP
import torch.nn.utils.prune as tprune

import ember
import ember.nn as nn
from ember.nn import init
from ember.nn.utils import parametrizations, parametrize, prune
from nn_compare import assert_close, check_module, copy_weights

RNG = np.random.default_rng(7)


def randn(*shape):
    return RNG.standard_normal(shape)


# ---------------------------------------------------------------------------- init


@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((6, 3, 3, 3), 2), ((4, 6, 3, 2, 5), 2)])
def test_dirac_matches_torch(shape, groups):
    e, t = ember.empty(shape), torch.empty(shape)
    init.dirac_(e, groups)
    torch.nn.init.dirac_(t, groups)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5"):
        init.dirac_(ember.empty(3, 3))
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(ember.empty(5, 3, 3), 2)


@pytest.mark.parametrize("shape", [(5, 5), (3, 8), (8, 3), (6, 2, 2)])
def test_orthogonal_is_orthogonal_times_gain(shape):
    w = init.orthogonal_(ember.empty(shape, dtype=ember.float64), gain=1.5)
    m = w.reshape(shape[0], -1).numpy()
    small = min(m.shape)
    gram = m @ m.T if m.shape[0] == small else m.T @ m
    np.testing.assert_allclose(gram, 2.25 * np.eye(small), atol=1e-12)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(ember.empty(3))


def test_orthogonal_is_the_sign_fixed_qr_of_a_gaussian():
    """Same Gaussian draw, same factor as torch's QR with R's diagonal made positive."""
    g = ember.Generator().manual_seed(5)
    w = init.orthogonal_(ember.empty(4, 6, dtype=ember.float64), generator=g)
    a = ember.empty(4, 6, dtype=ember.float64).normal_(0, 1, generator=ember.Generator().manual_seed(5))
    q, r = torch.linalg.qr(torch.tensor(a.numpy()).t())
    np.testing.assert_allclose(w.numpy(), (q * torch.sign(torch.diag(r))).t().numpy(), atol=1e-12)


def test_sparse_zeroes_each_column():
    w = init.sparse_(ember.empty(10, 7), sparsity=0.25, std=0.5)
    assert ((w.numpy() == 0).sum(axis=0) >= 3).all()
    big = init.sparse_(ember.empty(400, 50), sparsity=0.1, std=0.5).numpy()
    assert abs(big[big != 0].std() - 0.5) < 0.02
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.sparse_(ember.empty(3), 0.1)


def test_deprecated_names_warn_as_torch():
    with pytest.warns(FutureWarning, match="`nn.init.uniform` is now deprecated in favor of "
                                           "`nn.init.uniform_`"):
        init.uniform(ember.empty(3))
    for name in ["normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
                 "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"]:
        assert getattr(init, name).__name__ == name


# ---------------------------------------------------------------------------- vectors, fusion


def test_parameters_to_vector_round_trip():
    e, t = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    copy_weights(e, t)
    ev = nn.utils.parameters_to_vector(e.parameters())
    assert_close(ev, torch.nn.utils.parameters_to_vector(t.parameters()), "float32")
    assert ev.requires_grad
    nn.utils.vector_to_parameters(ev * 2, e.parameters())
    torch.nn.utils.vector_to_parameters(torch.nn.utils.parameters_to_vector(t.parameters()) * 2,
                                        t.parameters())
    assert_close(e.weight, t.weight, "float32")
    with pytest.raises(TypeError, match="expected ember.Tensor"):
        nn.utils.vector_to_parameters([1.0], e.parameters())


@pytest.mark.parametrize("conv, bn, shape, transpose", [
    (lambda n: n.Conv2d(3, 4, 3), lambda n: n.BatchNorm2d(4), (2, 3, 5, 5), False),
    (lambda n: n.Conv1d(2, 3, 2, bias=False), lambda n: n.BatchNorm1d(3, affine=False), (2, 2, 6),
     False),
    (lambda n: n.ConvTranspose2d(3, 2, 2), lambda n: n.BatchNorm2d(2), (1, 3, 3, 3), True),
])
def test_fuse_conv_bn_eval(conv, bn, shape, transpose):
    c, b = conv(nn).double(), bn(nn).double()
    b.running_mean.copy_(ember.tensor(randn(b.num_features)))
    b.running_var.copy_(ember.tensor(np.abs(randn(b.num_features)) + 0.5))
    c.eval()
    b.eval()
    fused = nn.utils.fuse_conv_bn_eval(c, b, transpose)
    x = ember.tensor(randn(*shape))
    assert_close(fused(x), b(c(x)))
    tc, tb = conv(torch.nn).double().eval(), bn(torch.nn).double().eval()
    copy_weights(c, tc)
    copy_weights(b, tb)
    tf = torch.nn.utils.fuse_conv_bn_eval(tc, tb, transpose)
    assert_close(fused.weight, tf.weight)
    assert_close(fused.bias, tf.bias)
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        nn.utils.fuse_conv_bn_eval(c.train(), b)


def test_fuse_linear_bn_eval():
    lin, bn = nn.Linear(3, 4).double().eval(), nn.BatchNorm1d(4).double().eval()
    bn.running_var.copy_(ember.tensor(np.abs(randn(4)) + 0.5))
    x = ember.tensor(randn(5, 3))
    assert_close(nn.utils.fuse_linear_bn_eval(lin, bn)(x), bn(lin(x)))
    with pytest.raises(AssertionError, match="To fuse"):
        nn.utils.fuse_linear_bn_eval(lin, nn.BatchNorm1d(3).eval())


# ---------------------------------------------------------------------------- parametrize


def symmetric(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).transpose(-1, -2)

        def right_inverse(self, a):
            return a.triu()

    return Symmetric()


def test_register_parametrization_as_torch():
    e, t = nn.Linear(3, 3).double(), torch.nn.Linear(3, 3).double()
    copy_weights(e, t)
    parametrize.register_parametrization(e, "weight", symmetric(ember))
    TP.register_parametrization(t, "weight", symmetric(torch))
    assert type(e).__name__ == type(t).__name__ == "ParametrizedLinear"
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert parametrize.is_parametrized(e) and parametrize.is_parametrized(e, "weight")
    assert not parametrize.is_parametrized(e, "bias")
    assert parametrize.type_before_parametrizations(e) is nn.Linear
    check_module(e, t, [randn(4, 3)])
    e.weight = ember.tensor(randn(3, 3))
    t.weight = torch.tensor(e.weight.detach().numpy())
    assert_close(e.parametrizations.weight.original, t.parametrizations.weight.original)
    with parametrize.cached():
        assert e.weight is e.weight
    assert e.weight is not e.weight
    other = nn.Linear(3, 3)
    assert type(other) is nn.Linear and not hasattr(other, "parametrizations")
    twin = copy.deepcopy(e)
    assert_close(twin.weight, e.weight)
    assert twin.parametrizations.weight.original is not e.parametrizations.weight.original
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        e.__getstate__()
    parametrize.remove_parametrizations(e, "weight")
    TP.remove_parametrizations(t, "weight")
    assert type(e) is nn.Linear and list(e.state_dict()) == list(t.state_dict())
    assert_close(e.weight, t.weight)


def test_parametrization_chains_and_tuples():
    class Double(nn.Module):
        def forward(self, x):
            return 2 * x

        def right_inverse(self, x):
            return x / 2

    m = nn.Linear(2, 2)
    w = m.weight.detach().clone()
    parametrize.register_parametrization(m, "weight", Double())
    assert_close(m.weight, w, "float32")
    parametrize.register_parametrization(m, "weight", Double())  # appended: the original stays
    assert_close(m.weight, 2 * w, "float32")
    assert len(m.parametrizations.weight) == 2
    parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    assert_close(m.weight, w / 2, "float32")


def test_parametrization_errors():
    m = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        parametrize.register_parametrization(m, "nothing", symmetric(ember))

    class Shrink(nn.Module):
        def forward(self, x):
            return x[0]

    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weight", Shrink())
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(m, "weight")


@pytest.mark.parametrize("make, shape", [
    (lambda n: n.Linear(4, 3), (2, 4)), (lambda n: n.Conv2d(2, 3, 3), (2, 2, 5, 5)),
    (lambda n: n.ConvTranspose2d(2, 3, 3), (1, 2, 4, 4)),
])
@pytest.mark.parametrize("which, kwargs", [("weight_norm", {}), ("weight_norm", {"dim": None}),
                                           ("weight_norm", {"dim": 1}), ("spectral_norm", {}),
                                           ("spectral_norm", {"n_power_iterations": 3})])
def test_weight_and_spectral_norm(make, shape, which, kwargs):
    e, t = make(nn).double(), make(torch.nn).double()
    getattr(parametrizations, which)(e, **kwargs)
    getattr(torch.nn.utils.parametrizations, which)(t, **kwargs)
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(e) == repr(t)
    for _ in range(2):  # spectral norm's power iteration moves its buffers each training step
        check_module(e, t, [randn(*shape)])
    e.eval()
    t.eval()
    check_module(e, t, [randn(*shape)])


def test_spectral_norm_errors():
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'w'"):
        parametrizations.spectral_norm(nn.Linear(2, 2), "w")
    with pytest.raises(ValueError, match="Expected n_power_iterations to be positive"):
        parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


# ---------------------------------------------------------------------------- prune


def pruned_pair():
    e, t = nn.Linear(5, 4).double(), torch.nn.Linear(5, 4).double()
    copy_weights(e, t)
    return e, t


def test_l1_unstructured_as_torch():
    e, t = pruned_pair()
    prune.l1_unstructured(e, "weight", amount=0.3)
    tprune.l1_unstructured(t, "weight", amount=0.3)
    prune.l1_unstructured(e, "weight", amount=4)
    tprune.l1_unstructured(t, "weight", amount=4)
    assert list(e.state_dict()) == list(t.state_dict())
    assert_close(e.weight_mask, t.weight_mask)
    assert prune.is_pruned(e)
    check_module(e, t, [randn(3, 5)])
    prune.remove(e, "weight")
    tprune.remove(t, "weight")
    assert list(e.state_dict()) == list(t.state_dict()) and not prune.is_pruned(e)
    assert_close(e.weight, t.weight)
    assert isinstance(e.weight, nn.Parameter)


def test_random_and_global_unstructured():
    m = nn.Linear(10, 10)
    prune.random_unstructured(m, "weight", amount=0.35)
    assert int(m.weight_mask.sum()) == 65
    assert int((m.weight == 0).sum()) >= 35
    e, t = pruned_pair()
    e2, t2 = pruned_pair()
    params_e = [(e, "weight"), (e2, "weight")]
    prune.global_unstructured(params_e, pruning_method=prune.L1Unstructured, amount=0.5)
    tprune.global_unstructured([(t, "weight"), (t2, "weight")],
                               pruning_method=tprune.L1Unstructured, amount=0.5)
    assert_close(e.weight_mask, t.weight_mask)
    assert_close(e2.weight_mask, t2.weight_mask)


def test_prune_errors():
    with pytest.raises(ValueError, match="should either be a float in the range"):
        prune.l1_unstructured(nn.Linear(2, 2), "weight", amount=1.5)
    with pytest.raises(ValueError, match="should be smaller than the number of parameters"):
        prune.l1_unstructured(nn.Linear(2, 2), "weight", amount=5)
    with pytest.raises(TypeError, match="Invalid type for amount"):
        prune.random_unstructured(nn.Linear(2, 2), "weight", amount="a")
    with pytest.raises(ValueError, match="has to be pruned before"):
        prune.remove(nn.Linear(2, 2), "weight")
    m = nn.Linear(2, 2)
    with pytest.raises(ValueError):
        prune.l1_unstructured(m, "weight", amount=7)
    assert "weight" in m._parameters  # a failed pruning leaves the module as it was
    copy.deepcopy(m)


# ---------------------------------------------------------------------------- orthogonal


@pytest.mark.parametrize("shape, orthogonal_map", [
    ((4, 4), None), ((4, 4), "cayley"), ((5, 3), None), ((3, 5), None), ((5, 3), "matrix_exp"),
    ((3, 5), "cayley"),
])
def test_orthogonal_parametrization(shape, orthogonal_map):
    e = nn.Linear(shape[1], shape[0]).double()
    t = torch.nn.Linear(shape[1], shape[0]).double()
    copy_weights(e, t)
    parametrizations.orthogonal(e, orthogonal_map=orthogonal_map)
    torch.nn.utils.parametrizations.orthogonal(t, orthogonal_map=orthogonal_map)
    assert list(e.state_dict()) == list(t.state_dict()) and repr(e) == repr(t)
    w = e.weight.detach().numpy()
    gram = w @ w.T if shape[0] <= shape[1] else w.T @ w
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)
    with ember.no_grad():  # move off the starting point so the map itself is exercised
        e.parametrizations.weight.original.copy_(ember.tensor(randn(*shape) * 0.3))
    check_module(e, t, [randn(2, shape[1])])


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
def test_orthogonal_maps_differentiate_twice(orthogonal_map):
    m = parametrizations.orthogonal(nn.Linear(3, 3).double(), orthogonal_map=orthogonal_map)
    chain = m.parametrizations.weight
    x = ember.tensor(randn(3, 3) * 0.3, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda v: chain[0](v), (x,))


def test_orthogonal_errors():
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices"):
        parametrizations.orthogonal(nn.Linear(2, 2), "bias")
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp"'):
        parametrizations.orthogonal(nn.Linear(2, 2), orthogonal_map="qr")


# ---------------------------------------------------------------------------- hook-based norms


@pytest.mark.parametrize("make, shape", [
    (lambda n: n.Linear(4, 3), (2, 4)), (lambda n: n.Conv2d(2, 3, 3), (1, 2, 5, 5)),
    (lambda n: n.ConvTranspose2d(2, 3, 2), (1, 2, 3, 3)),
])
@pytest.mark.parametrize("which", ["weight_norm", "spectral_norm"])
def test_hook_based_weight_and_spectral_norm(make, shape, which):
    e, t = make(nn).double(), make(torch.nn).double()
    copy_weights(e, t)
    with _expect_future_warning(which == "weight_norm"):
        getattr(nn.utils, which)(e)
    with _expect_future_warning(which == "weight_norm"):
        getattr(torch.nn.utils, which)(t)
    assert list(e.state_dict()) == list(t.state_dict())
    copy_weights(e, t)  # the same power-iteration vectors
    for _ in range(2):
        check_module(e, t, [randn(*shape)])
    e.eval()
    t.eval()
    check_module(e, t, [randn(*shape)])
    getattr(nn.utils, "remove_" + which)(e)
    getattr(torch.nn.utils, "remove_" + which)(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert_close(e.weight, t.weight)
    with pytest.raises(ValueError, match=f"{which} of 'weight' not found"):
        getattr(nn.utils, "remove_" + which)(e)


def _expect_future_warning(expected: bool):
    """torch deprecates the hook-based weight_norm (not spectral_norm)."""
    return pytest.warns(FutureWarning) if expected else contextlib.nullcontext()


def test_transfer_parametrizations_and_params():
    source = nn.Linear(3, 3)
    parametrize.register_parametrization(source, "weight", symmetric(ember))
    target = nn.Linear(3, 3)
    parametrize.transfer_parametrizations_and_params(source, target)
    assert type(target).__name__ == "ParametrizedLinear"
    assert list(target.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert_close(target.weight, source.weight, "float32")
    assert target.parametrizations.weight[0] is source.parametrizations.weight[0]


def test_identity_and_custom_from_mask():
    e, t = pruned_pair()
    mask = (RNG.uniform(size=(4, 5)) > 0.5).astype("float64")
    prune.identity(e, "bias")
    tprune.identity(t, "bias")
    prune.custom_from_mask(e, "weight", ember.tensor(mask))
    tprune.custom_from_mask(t, "weight", torch.tensor(mask))
    assert list(e.state_dict()) == list(t.state_dict())
    assert_close(e.weight_mask, t.weight_mask)
    assert_close(e.bias_mask, t.bias_mask)
    check_module(e, t, [randn(3, 5)])
