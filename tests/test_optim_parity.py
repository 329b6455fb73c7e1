"""The optimizers, schedules and SWA tools beyond the classic four, step for step against torch."""
from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)
W0, B0 = RNG.standard_normal((4, 3)), RNG.standard_normal(3)
X, Y = RNG.standard_normal((8, 4)), RNG.standard_normal((8, 3))


def _trajectory(lib, name: str, kwargs: dict, dtype: str, steps: int = 6) -> np.ndarray:
    dt = getattr(lib, dtype)
    w = lib.tensor(W0, dtype=dt, requires_grad=True)
    b = lib.tensor(B0, dtype=dt, requires_grad=True)
    x, y = lib.tensor(X, dtype=dt), lib.tensor(Y, dtype=dt)
    opt = getattr(lib.optim, name)([w, b], **kwargs)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        ((x @ w + b).tanh() - y).pow(2).mean().backward()
        opt.step()
        out.append(np.concatenate([w.detach().numpy().ravel(), b.detach().numpy().ravel()]))
    return np.array(out)


CONFIGS = [
    ("NAdam", {}), ("NAdam", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=0.01)),
    ("RAdam", {}), ("RAdam", dict(lr=0.05, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1)), ("Adamax", dict(maximize=True, betas=(0.8, 0.99))),
    ("Adadelta", {}), ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    ("Rprop", {}), ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.1), maximize=True)),
    ("ASGD", {}), ("ASGD", dict(lr=0.1, t0=3, lambd=0.01, weight_decay=0.05)),
    ("ASGD", dict(lr=0.1, t0=2, maximize=True)),
    ("Adafactor", {}), ("Adafactor", dict(lr=0.1, weight_decay=0.1, d=1.5, maximize=True)),
    ("Adafactor", dict(eps=(1e-5, 1e-2), beta2_decay=-0.5)),
    ("Adam", dict(lr=0.1, foreach=True)), ("AdamW", dict(lr=0.1, fused=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, fused=True)), ("NAdam", dict(foreach=False)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_optimizer_trajectory_matches_torch(name, kwargs, dtype):
    want = _trajectory(torch, name, kwargs, dtype)
    got = _trajectory(ember, name, kwargs, dtype)
    tol = 1e-12 if dtype == "float64" else 2e-6
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def _lbfgs(lib, kwargs: dict, dtype: str, steps: int) -> tuple:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 6))
    a = a @ a.T + np.eye(6)
    dt = getattr(lib, dtype)
    x = lib.tensor(rng.standard_normal(6), dtype=dt, requires_grad=True)
    am, bv = lib.tensor(a, dtype=dt), lib.tensor(rng.standard_normal(6), dtype=dt)
    opt = lib.optim.LBFGS([x], **kwargs)
    out = []

    def closure():
        opt.zero_grad()
        loss = 0.5 * (x @ (am @ x)) - bv @ x + (x ** 4).sum() * 0.01
        loss.backward()
        return loss

    for _ in range(steps):
        out.append(float(opt.step(closure).detach()))
        out.extend(x.detach().numpy().tolist())
    state = opt.state[x]
    return np.array(out), state["func_evals"], state["n_iter"]


@pytest.mark.parametrize("kwargs", [dict(max_iter=3), dict(max_iter=5, lr=0.5, history_size=2),
                                    dict(line_search_fn="strong_wolfe", max_iter=4),
                                    dict(line_search_fn="strong_wolfe", history_size=2)])
def test_lbfgs_matches_torch(kwargs):
    got, got_evals, got_iters = _lbfgs(ember, kwargs, "float64", 3)
    want, want_evals, want_iters = _lbfgs(torch, kwargs, "float64", 3)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    assert (got_evals, got_iters) == (want_evals, want_iters)
    got32 = _lbfgs(ember, kwargs, "float32", 1)[0]
    want32 = _lbfgs(torch, kwargs, "float32", 1)[0]
    np.testing.assert_allclose(got32, want32, rtol=1e-4, atol=1e-4)  # float32 rounding of dots


def test_lbfgs_refuses_groups_and_unknown_line_search():
    for lib in (ember, torch):
        p, q = lib.zeros(2, requires_grad=True), lib.zeros(2, requires_grad=True)
        with pytest.raises(ValueError, match="doesn't support per-parameter options"):
            lib.optim.LBFGS([{"params": [p]}, {"params": [q]}])
        opt = lib.optim.LBFGS([p], line_search_fn="armijo")

        def closure():
            opt.zero_grad()
            loss = ((p - 1) ** 2).sum()
            loss.backward()
            return loss

        with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
            opt.step(closure)


def test_sparse_adam_matches_torch_on_embedding_rows():
    idx_batches = [[0, 2], [2, 3], [1, 1], [4, 0]]
    table = RNG.standard_normal((6, 3))
    results = []
    for lib, sparse in ((torch, True), (ember, False)):
        emb = lib.nn.Embedding(6, 3, sparse=True) if sparse else lib.nn.Embedding(6, 3)
        with lib.no_grad():
            emb.weight.copy_(lib.tensor(table, dtype=lib.float32))
        opt = lib.optim.SparseAdam(emb.parameters(), lr=0.1)
        for idx in idx_batches:
            opt.zero_grad()
            (emb(lib.tensor(idx)) ** 2).sum().backward()
            opt.step()
        results.append(emb.weight.detach().numpy().copy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6, atol=1e-6)
    assert np.array_equal(results[1][5], table[5].astype(np.float32))  # never looked up: unchanged


@pytest.mark.parametrize("name", ["Adam", "NAdam", "RAdam", "Adamax", "Adadelta", "Rprop", "ASGD",
                                  "RMSprop"])
def test_capturable_and_differentiable_flags_as_torch_on_a_cpu(name):
    for lib in (ember, torch):
        p = lib.zeros(3, requires_grad=True)
        p.grad = lib.ones(3)
        with pytest.raises(AssertionError, match="If capturable=True, .* must be on supported devices"):
            getattr(lib.optim, name)([p], lr=0.1, capturable=True).step()
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            getattr(lib.optim, name)([p], lr=0.1, differentiable=True).step()


def test_differentiable_step_records_the_update():
    got = []
    for lib in (ember, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        p = w.clone()  # a non-leaf: its update is part of the graph
        p.retain_grad()
        opt = lib.optim.SGD([p], lr=0.5, momentum=0.9, differentiable=True)
        p.grad = (p * p).detach()
        opt.step()
        p.sum().backward()
        got.append(w.grad.tolist())
    assert got[0] == got[1]


def _lrs(lib, make, opt_name="SGD", okw=None, steps=25):
    p, q = lib.zeros(2, requires_grad=True), lib.zeros(1, requires_grad=True)
    opt = getattr(lib.optim, opt_name)([{"params": [p]}, {"params": [q], "lr": 0.05}],
                                       **(okw or dict(lr=0.1, momentum=0.9)))
    sched = make(lib.optim.lr_scheduler, opt)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(steps):
            opt.step()
            sched.step()
            g = opt.param_groups[0]
            out.append(list(sched.get_last_lr()) + [g.get("momentum", g.get("betas", [0])[0])])
    return out


SCHEDULES = {
    "MultiplicativeLR": lambda S, o: S.MultiplicativeLR(o, lambda e: 0.95),
    "ConstantLR": lambda S, o: S.ConstantLR(o, factor=0.5, total_iters=4),
    "LinearLR": lambda S, o: S.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=7),
    "PolynomialLR": lambda S, o: S.PolynomialLR(o, total_iters=10, power=2.0),
    "WarmRestarts": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001),
    "WarmRestarts1": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=4),
    "CyclicLR": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=4,
                                        step_size_down=3),
    "CyclicLR2": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                         mode="triangular2"),
    "CyclicExp": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                         mode="exp_range", gamma=0.9),
    "OneCycleLR": lambda S, o: S.OneCycleLR(o, max_lr=[0.5, 0.2], total_steps=26),
    "OneCycle3": lambda S, o: S.OneCycleLR(o, max_lr=0.5, epochs=4, steps_per_epoch=7,
                                           three_phase=True, anneal_strategy="linear", pct_start=0.25),
    "SequentialLR": lambda S, o: S.SequentialLR(o, [S.LinearLR(o, 0.1, total_iters=5),
                                                    S.ExponentialLR(o, 0.9), S.CosineAnnealingLR(o, 8)],
                                                milestones=[5, 12]),
    "ChainedScheduler": lambda S, o: S.ChainedScheduler([S.ConstantLR(o, 0.1, total_iters=3),
                                                         S.ExponentialLR(o, 0.9), S.StepLR(o, 4)]),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_matches_torch(name):
    assert _lrs(ember, SCHEDULES[name]) == _lrs(torch, SCHEDULES[name])


def test_one_cycle_moves_adam_beta1_and_refuses_overrun():
    make = SCHEDULES["OneCycleLR"]
    assert _lrs(ember, make, "Adam", dict(lr=0.1)) == _lrs(torch, make, "Adam", dict(lr=0.1))
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="Tried to step 27 times"):
            _lrs(lib, make, steps=27)


def test_warm_restarts_fractional_epochs_match_torch():
    got = []
    for lib in (ember, torch):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=3)
        seq = []
        for epoch in range(6):
            for i in range(4):
                sched.step(epoch + i / 4)
                seq.append(sched.get_last_lr()[0])
        got.append(seq)
    np.testing.assert_allclose(got[0], got[1], rtol=1e-15)


def _swa(lib):
    rng = np.random.default_rng(0)
    nn = lib.nn
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)), dtype=lib.float32))
    su = importlib.import_module(lib.__name__ + ".optim.swa_utils")
    averaged = [su.AveragedModel(model),
                su.AveragedModel(model, multi_avg_fn=su.get_ema_multi_avg_fn(0.9)),
                su.AveragedModel(model, avg_fn=su.get_ema_avg_fn(0.8), use_buffers=True)]
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    sched = su.SWALR(opt, swa_lr=0.02, anneal_epochs=3)
    x = lib.tensor(rng.standard_normal((16, 3)), dtype=lib.float32)
    y = lib.tensor(rng.standard_normal((16, 1)), dtype=lib.float32)
    lrs = []
    for _ in range(6):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
        for m in averaged:
            m.update_parameters(model)
        sched.step()
        lrs.append(sched.get_last_lr())
    su.update_bn([(x[i:i + 4], y[i:i + 4]) for i in range(0, 16, 4)], averaged[0])
    params = [np.concatenate([p.detach().numpy().ravel() for p in m.parameters()]) for m in averaged]
    bn = averaged[0].module[1]
    return params, lrs, bn.running_mean.numpy().copy(), bn.running_var.numpy().copy(), \
        averaged[0](x).detach().numpy(), int(averaged[0].n_averaged)


def test_swa_utils_match_torch():
    got, want = _swa(ember), _swa(torch)
    for g, w in zip(got[0], want[0]):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-15)
    for i in (2, 3, 4):
        np.testing.assert_allclose(got[i], want[i], rtol=1e-5, atol=1e-6)
    assert got[5] == want[5] == 6


@pytest.mark.parametrize("name", ["NAdam", "RAdam", "Adamax", "Adadelta", "Rprop", "ASGD", "Adafactor",
                                  "SparseAdam", "LBFGS"])
def test_state_dict_round_trip_continues_the_trajectory_as_torch(name):
    def run(lib, resume: bool):
        w = lib.tensor(W0, requires_grad=True)
        x, y = lib.tensor(X), lib.tensor(Y)
        kwargs = dict(lr=0.05) if name != "LBFGS" else dict(max_iter=2)
        opt = getattr(lib.optim, name)([w], **kwargs)

        def closure():
            opt.zero_grad()
            loss = ((x @ w).tanh() - y).pow(2).mean()
            loss.backward()
            return loss

        for i in range(6):
            if resume and i == 3:
                saved = opt.state_dict()
                opt = getattr(lib.optim, name)([w], **kwargs)
                opt.load_state_dict(saved)
            closure()
            opt.step(closure)
        return w.detach().numpy().copy()

    # loading casts 0-d state (NAdam's mu_product) to the parameters' dtype, in torch too
    np.testing.assert_allclose(run(ember, True), run(ember, False), rtol=1e-9, atol=1e-9)
    if name != "SparseAdam":  # torch's needs sparse gradients
        np.testing.assert_allclose(run(ember, True), run(torch, True), rtol=1e-12, atol=1e-12)
