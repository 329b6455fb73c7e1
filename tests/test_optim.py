"""Optimisers and LR schedulers against torch: same start, same gradients, same parameters after 5 steps."""
import math

import numpy as np
import pytest
import torch

import ember
from ember import optim

RTOL = {np.float32: 1e-5, np.float64: 1e-10}


def _close(actual, desired, dtype):
    """rtol, with an atol of rtol * the largest magnitude: entries that cancel to near 0 have
    absolute rounding error of the size of the terms, not of the result."""
    rtol = RTOL[dtype]
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * np.abs(desired).max())

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, maximize=True, amsgrad=True, weight_decay=0.05)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True, betas=(0.5, 0.7))),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.005, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-5, maximize=True)),
]


def _start(dtype):
    rng = np.random.default_rng(0)
    return [rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(4).astype(dtype)]


def _loss(lib, params, consts):
    """A loss whose gradients depend on the parameters (so the trajectory matters)."""
    w, b = params
    c1, c2 = consts
    return (c1 * w * w).sum() + (lib.sin(b) * c2).sum() + (w @ b).pow(2).sum()


def _run(lib, name, kwargs, dtype, steps=5, groups=False):
    params = [lib.tensor(a, requires_grad=True) for a in _start(dtype)]
    consts = [lib.tensor(np.linspace(0.5, 1.5, n, dtype=dtype).reshape(s))
              for n, s in ((12, (3, 4)), (4, (4,)))]
    spec = [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.03}] if groups else params
    opt = getattr(lib.optim, name)(spec, **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        _loss(lib, params, consts).backward()
        opt.step()
    return opt, params


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_params_after_five_steps_match_torch(name, kwargs, dtype):
    e_opt, e_params = _run(ember, name, kwargs, dtype)
    t_opt, t_params = _run(torch, name, kwargs, dtype)
    for e, t in zip(e_params, t_params):
        _close(e.detach().numpy(), t.detach().numpy(), dtype)
    e_state = e_opt.state_dict()
    t_state = t_opt.state_dict()
    assert e_state["state"].keys() == t_state["state"].keys()
    for k, t_s in t_state["state"].items():
        assert e_state["state"][k].keys() == t_s.keys()
        for key, value in t_s.items():
            _close(e_state["state"][k][key].numpy(), value.numpy(), dtype)
    assert e_state["param_groups"] == t_state["param_groups"]


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_param_groups_match_torch(name):
    e_opt, e_params = _run(ember, name, dict(lr=0.01), np.float64, groups=True)
    t_opt, t_params = _run(torch, name, dict(lr=0.01), np.float64, groups=True)
    for e, t in zip(e_params, t_params):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-10)
    assert [g["lr"] for g in e_opt.param_groups] == [0.01, 0.03]


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)),
                                         ("Adam", dict(lr=0.01, amsgrad=True)),
                                         ("RMSprop", dict(centered=True, momentum=0.3)),
                                         ("Adagrad", dict(lr=0.1))])
def test_state_dict_round_trip_continues_the_same_trajectory(name, kwargs):
    full, full_params = _run(ember, name, kwargs, np.float64, steps=5)
    first, params = _run(ember, name, kwargs, np.float64, steps=3)
    saved = first.state_dict()
    fresh_params = [ember.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    resumed = getattr(optim, name)(fresh_params, lr=123.0)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == saved["param_groups"][0]["lr"] != 123.0
    assert resumed.param_groups[0]["params"][0] is fresh_params[0]
    consts = [ember.tensor(np.linspace(0.5, 1.5, n).reshape(s)) for n, s in ((12, (3, 4)), (4, (4,)))]
    for _ in range(2):
        resumed.zero_grad()
        _loss(ember, fresh_params, consts).backward()
        resumed.step()
    for a, b in zip(full_params, fresh_params):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)


def test_loaded_state_is_a_copy_cast_to_the_parameter():
    p = ember.tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([p])
    p.grad = ember.ones(3, dtype=ember.float64)
    opt.step()
    sd = opt.state_dict()
    q = ember.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    other = optim.Adam([q])
    other.load_state_dict(sd)
    assert other.state[q]["exp_avg"].dtype == ember.float32
    assert other.state[q]["step"].item() == 1.0
    other.state[q]["exp_avg"].zero_()
    assert sd["state"][0]["exp_avg"].sum().item() != 0


def test_load_state_dict_errors():
    p = ember.zeros(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict({"state": {}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]})


def test_zero_grad_and_closure():
    p = ember.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_allclose(p.detach().numpy(), [0.0, 0.0])
    (p + 1).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_constructor_errors_are_torchs():
    p = ember.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.Adam([p], lr=-1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p]})
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {ember.zeros(1, requires_grad=True)}})


def test_add_param_group_takes_defaults():
    a = ember.zeros(2, requires_grad=True)
    b = ember.zeros(2, requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.5})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.5
    assert "Parameter Group 1" in repr(opt)


# ---------------------------------------------------------------------- schedulers

SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=4)),
    ("LambdaLR", dict(lr_lambda=lambda e: 1.0 / (e + 1))),
]


def _lr_sequence(lib, name, kwargs, epochs=25):
    p = lib.zeros(2, requires_grad=True)
    opt = lib.optim.SGD([{"params": [p]}, {"params": [lib.zeros(1, requires_grad=True)], "lr": 0.3}],
                        lr=0.1)
    sched = getattr(lib.optim.lr_scheduler, name)(opt, **kwargs)
    seq = [sched.get_last_lr()]
    for _ in range(epochs):
        opt.step()
        sched.step()
        seq.append(sched.get_last_lr())
        assert [g["lr"] for g in opt.param_groups] == seq[-1]
    return seq, sched


@pytest.mark.parametrize("name,kwargs", SCHEDULES, ids=[s[0] + str(i) for i, s in enumerate(SCHEDULES)])
def test_scheduler_sequences_equal_torchs(name, kwargs):
    e_seq, e_sched = _lr_sequence(ember, name, kwargs)
    t_seq, t_sched = _lr_sequence(torch, name, kwargs)
    np.testing.assert_allclose(np.array(e_seq), np.array(t_seq), rtol=1e-13, atol=1e-15)
    assert e_sched.last_epoch == t_sched.last_epoch
    assert e_sched.base_lrs == t_sched.base_lrs


def test_scheduler_state_dict_resumes():
    seq, sched = _lr_sequence(ember, "StepLR", dict(step_size=2, gamma=0.5), epochs=3)
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 3
    opt = optim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1)
    other = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    other.load_state_dict(state)
    assert other.last_epoch == 3 and other.get_last_lr() == seq[-1]


def test_cosine_closed_form_epoch_argument():
    p = ember.zeros(1, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    sched.step(5)
    assert math.isclose(sched.get_last_lr()[0], 0.5, rel_tol=1e-12)


@pytest.mark.parametrize("kwargs", [dict(), dict(mode="max", factor=0.5, patience=1, cooldown=2),
                                    dict(threshold_mode="abs", threshold=0.1, patience=0, min_lr=0.02),
                                    dict(mode="max", threshold_mode="abs", patience=2, eps=0.05)])
def test_reduce_on_plateau_matches_torch(kwargs):
    metrics = [1.0, 0.9, 0.95, 0.95, 0.91, 0.89, 0.99, 1.2, 0.5, 0.5, 0.5, 0.5, 0.7, 0.3] * 2
    seqs = []
    for lib in (ember, torch):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        seq = []
        for m in metrics:
            opt.step()
            sched.step(m)
            seq.append((sched.get_last_lr()[0], sched.num_bad_epochs, sched.cooldown_counter))
        seqs.append(seq)
    assert seqs[0] == seqs[1]


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        optim.lr_scheduler.StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="Factor should be"):
        optim.lr_scheduler.ReduceLROnPlateau(optim.SGD([ember.zeros(1, requires_grad=True)]), factor=1.5)
