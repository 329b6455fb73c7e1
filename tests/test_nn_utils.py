"""nn.utils gradient clipping and ember.equal, against torch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember


def _model_grads(lib, rng_seed: int = 0):
    rng = np.random.default_rng(rng_seed)
    params = []
    for shape in ((3, 4), (4,), (2, 2)):
        p = lib.tensor(rng.standard_normal(shape), requires_grad=True)
        p.grad = lib.tensor(rng.standard_normal(shape) * 3)
        params.append(p)
    return params


@pytest.mark.parametrize("max_norm, norm_type", [(1.0, 2.0), (0.5, 1.0), (2.0, float("inf")),
                                                 (100.0, 2.0), (1.0, 3.0)])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    e_params, t_params = _model_grads(ember), _model_grads(torch)
    e_total = ember.nn.utils.clip_grad_norm_(e_params, max_norm, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(t_params, max_norm, norm_type)
    np.testing.assert_allclose(e_total.item(), t_total.item(), rtol=1e-12)
    for e, t in zip(e_params, t_params):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_nonfinite_raises_when_asked():
    p = ember.tensor([1.0, 2.0], requires_grad=True)
    p.grad = ember.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        ember.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch():
    e_params, t_params = _model_grads(ember, 1), _model_grads(torch, 1)
    ember.nn.utils.clip_grad_value_(e_params, 0.7)
    torch.nn.utils.clip_grad_value_(t_params, 0.7)
    for e, t in zip(e_params, t_params):
        np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("a, b", [([1, 2], [1, 2]), ([1, 2], [1, 3]), ([1, 2], [[1, 2]]),
                                  ([], []), ([1.0, float("nan")], [1.0, float("nan")])])
def test_equal_matches_torch(a, b):
    assert ember.equal(ember.tensor(a), ember.tensor(b)) == torch.equal(torch.tensor(a), torch.tensor(b))
    assert ember.tensor(a).equal(ember.tensor(b)) == torch.tensor(a).equal(torch.tensor(b))
