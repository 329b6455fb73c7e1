"""ember.amp.GradScaler against torch.amp.GradScaler: the same scales, skips and parameters."""
import math

import numpy as np
import pytest
import torch

import ember


def _setup(lib, w0):
    w = lib.nn.Parameter(lib.tensor(w0))
    return w, lib.optim.SGD([w], lr=0.1)


@pytest.mark.parametrize("growth_interval", [1, 2, 3])
def test_scale_skip_sequence_matches_torch(growth_interval):
    """Losses with an inf or nan now and then: each step's scale, skip and weights as torch's."""
    w0 = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    factors = [1.0, math.inf, 2.0, 3.0, math.nan, 1.0, 0.5, 1.0, 1.0, 1.0]
    runs = {}
    for lib in (ember, torch):
        w, opt = _setup(lib, w0)
        scaler = lib.amp.GradScaler("cpu", init_scale=2.0**10, growth_factor=2.0, backoff_factor=0.25,
                                    growth_interval=growth_interval)
        seq = []
        for f in factors:
            opt.zero_grad()
            loss = (w * w).sum() * f
            scaler.scale(loss).backward()
            out = scaler.step(opt)
            scaler.update()
            seq.append((scaler.get_scale(), out, w.detach().numpy().copy()))
        runs[lib.__name__] = (seq, scaler.state_dict())
    (e_seq, e_state), (t_seq, t_state) = runs["ember"], runs["torch"]
    assert e_state == t_state
    for (es, eo, ew), (ts, to, tw) in zip(e_seq, t_seq):
        assert es == ts and eo == to
        np.testing.assert_allclose(ew, tw, rtol=1e-6)


def test_unscale_then_step_and_misuse_errors():
    w0 = np.array([3.0, 4.0], dtype=np.float32)
    for lib in (ember, torch):
        w, opt = _setup(lib, w0)
        scaler = lib.amp.GradScaler("cpu", init_scale=8.0)
        scaler.scale((w * w).sum()).backward()
        scaler.unscale_(opt)
        np.testing.assert_allclose(w.grad.numpy(), 2 * w0)
        with pytest.raises(RuntimeError, match="already been called on this optimizer"):
            scaler.unscale_(opt)
        scaler.step(opt)
        with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
            scaler.step(opt)
        with pytest.raises(RuntimeError, match="after step"):
            scaler.unscale_(opt)
        scaler.update()
        assert scaler.get_scale() == 8.0


def test_disabled_and_scale_of_lists():
    if ember.cuda.is_available():
        pytest.skip("a GPU is here: GradScaler('cuda') stays enabled")
    with pytest.warns(UserWarning, match="CUDA is not available"):
        scaler = ember.amp.GradScaler()  # device "cuda", none here: disabled, as torch
    assert not scaler.is_enabled() and scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    scaler = ember.amp.GradScaler("cpu", init_scale=4.0)
    a, b = scaler.scale([ember.tensor(1.0), ember.tensor(2.0)])
    assert (a.item(), b.item()) == (4.0, 8.0)
    with pytest.raises(AssertionError, match="No inf checks"):
        scaler.update()
