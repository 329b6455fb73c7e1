"""The fused cross-entropy primitive (the training hot path) against torch, to second order."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember


def _grads(lib, logits, target, v):
    x = lib.tensor(logits, requires_grad=True)
    loss = lib.nn.functional.cross_entropy(x, lib.tensor(target))
    (g,) = lib.autograd.grad(loss, x, create_graph=True)
    (h,) = lib.autograd.grad((g * lib.tensor(v)).sum(), x)
    return loss, g, h


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 1e-5)])
def test_fused_matches_torch_to_second_order(dtype, rtol):
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((6, 5)).astype(dtype)
    target = rng.integers(0, 5, 6)
    v = rng.standard_normal((6, 5)).astype(dtype)
    e_loss, e_g, e_h = _grads(ember, logits, target, v)
    t_loss, t_g, t_h = _grads(torch, logits, target, v)
    assert e_loss.grad_fn.fn.name == "cross_entropy"  # the fused primitive ran
    np.testing.assert_allclose(e_loss.item(), t_loss.item(), rtol=rtol)
    np.testing.assert_allclose(e_g.detach().numpy(), t_g.detach().numpy(), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(e_h.numpy(), t_h.numpy(), rtol=rtol, atol=rtol)


def test_fused_rule_takes_a_batch_of_cotangents():
    rng = np.random.default_rng(2)
    x = ember.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    t = ember.tensor(rng.integers(0, 3, 4))
    (single,) = ember.autograd.grad(ember.nn.functional.cross_entropy(x, t), x)
    loss = ember.nn.functional.cross_entropy(x, t)
    (batch,) = ember.autograd.grad(loss, x, ember.tensor([1.0, -3.0], dtype=ember.float64),
                                   is_grads_batched=True)
    np.testing.assert_allclose(batch.numpy(), [single.numpy(), -3 * single.numpy()], rtol=1e-12)


@pytest.mark.parametrize("target", [[0, -100, 2, 1], [-100, -100, -100, -100]])
def test_ignored_targets_are_left_out_of_the_fused_mean(target):
    rng = np.random.default_rng(3)
    logits, v = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    target = np.array(target)
    e_loss, e_g, e_h = _grads(ember, logits, target, v)
    t_loss, t_g, t_h = _grads(torch, logits, target, v)
    assert e_loss.grad_fn.fn.name == "cross_entropy"  # no look at the targets first
    np.testing.assert_allclose(e_loss.item(), t_loss.item(), rtol=1e-12)  # nan when all ignored
    np.testing.assert_allclose(e_g.detach().numpy(), t_g.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(e_h.numpy(), t_h.numpy(), rtol=1e-12, atol=1e-15)


def test_out_of_range_target_raises_torchs_error():
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        ember.nn.functional.cross_entropy(ember.zeros(2, 3), ember.tensor([0, 3]))
    with pytest.raises(IndexError):
        torch.nn.functional.cross_entropy(torch.zeros(2, 3), torch.tensor([0, 3]))
