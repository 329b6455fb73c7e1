"""ember.autocast against torch.autocast on the CPU: per-op dtypes, values, gradients, nesting,
decorators, the deprecated device-named forms and custom_fwd/custom_bwd."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember

BF16 = (1.6e-2, 1e-5)  # torch.testing's bfloat16 tolerances


def _name(dtype) -> str:
    return str(dtype).split(".")[1]


def _pair(*shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return ember.tensor(a), torch.tensor(a)


def _close(e, t, rtol=BF16[0], atol=BF16[1]):
    np.testing.assert_allclose(np.asarray(e.detach().float().tolist()),
                               np.asarray(t.detach().float().tolist()), rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------- per-op policy

def _attention(m):
    """A MultiheadAttention with the same weights in both libraries."""
    layer = m.nn.MultiheadAttention(4, 2)
    with m.no_grad():
        for i, p in enumerate(layer.parameters()):
            p.copy_(m.linspace(-1, 1, p.numel()).reshape(p.shape) * (i + 1) / 4)
    return layer


def _ops(m):
    F = m.nn.functional
    return {
        "linear": lambda x, w, b, c: F.linear(x, w, b),
        "matmul": lambda x, w, b, c: x @ w.T,
        "mm": lambda x, w, b, c: m.mm(x, w.T),
        "bmm": lambda x, w, b, c: m.bmm(x[None], w.T[None]),
        "addmm": lambda x, w, b, c: m.addmm(b, x, w.T),
        "baddbmm": lambda x, w, b, c: m.baddbmm(b[None, None], x[None], w.T[None]),
        "conv1d": lambda x, w, b, c: F.conv1d(c[:, :, 0], w[:, :2, None].expand(5, 2, 3).contiguous()),
        "conv2d": lambda x, w, b, c: F.conv2d(c, w[:4, :2, None, None].expand(4, 2, 3, 3).contiguous()),
        "prelu": lambda x, w, b, c: F.prelu(x, b[:1]),
        "sdpa": lambda x, w, b, c: F.scaled_dot_product_attention(x[None], x[None], x[None]),
        "mse_loss": lambda x, w, b, c: F.mse_loss(x, x.flip(0)),
        "l1_loss": lambda x, w, b, c: F.l1_loss(x, x.flip(0)),
        "cross_entropy": lambda x, w, b, c: F.cross_entropy(x, m.tensor([0, 1, 2])),
        "nll_loss": lambda x, w, b, c: F.nll_loss(x, m.tensor([0, 1, 2])),
        "kl_div": lambda x, w, b, c: F.kl_div(x, x.flip(0), reduction="batchmean"),
        "bce_logits": lambda x, w, b, c: F.binary_cross_entropy_with_logits(x, x.sigmoid()),
        "prod": lambda x, w, b, c: m.prod(x, 1),
        "cdist": lambda x, w, b, c: m.cdist(x, w),
        "trace": lambda x, w, b, c: m.trace(x),
        "mha": lambda x, w, b, c: _attention(m)(x[None], x[None], x[None])[0],
        "softmax": lambda x, w, b, c: F.softmax(x, -1),
        "relu": lambda x, w, b, c: F.relu(x),
        "exp": lambda x, w, b, c: x.exp(),
        "add": lambda x, w, b, c: x + x,
        "sum": lambda x, w, b, c: x.sum(),
        "layer_norm": lambda x, w, b, c: F.layer_norm(x, (4,)),
    }


@pytest.mark.parametrize("inputs", ["float32", "bfloat16", "float64"])
@pytest.mark.parametrize("op", list(_ops(torch)))
def test_each_op_gives_torchs_dtype_and_values_under_cpu_autocast(op, inputs):
    (ex, tx), (ew, tw), (eb, tb), (ec, tc) = _pair(3, 4), _pair(5, 4, seed=1), _pair(5, seed=2), \
        _pair(2, 2, 6, 6, seed=3)
    e_in = [t.to(getattr(ember, inputs)) for t in (ex, ew, eb, ec)]
    t_in = [t.to(getattr(torch, inputs)) for t in (tx, tw, tb, tc)]
    try:
        with torch.autocast("cpu"):
            t = _ops(torch)[op](*t_in)
    except RuntimeError:  # float64 inputs meet weights cast to bfloat16: refused by both
        with pytest.raises(RuntimeError), ember.autocast("cpu"):
            _ops(ember)[op](*e_in)
        return
    with ember.autocast("cpu"):
        e = _ops(ember)[op](*e_in)
    assert _name(e.dtype) == _name(t.dtype)
    _close(e, t, rtol=2 * BF16[0], atol=1e-2)


# torch's listed names Ember has no op for, and why
ABSENT = {"dist": "Ember has no torch.dist",
          "frobenius_norm": "aten's internal name of norm(p='fro')",
          "nuclear_norm": "aten's internal name of norm(p='nuc')"}


def test_every_listed_name_is_an_ember_op_carrying_its_policy():
    from ember.ops.precision import POLICIES
    from ember.ops.registry import OPS

    by_name = {n: o for o in OPS.values() for n in (o.name, *o.names)}
    listed = {n for policy in POLICIES.values() for n in policy} - {"_convolution"}
    assert sorted(listed - set(by_name)) == sorted(ABSENT)
    for name in set(POLICIES["cpu"]) & set(by_name):
        assert by_name[name].fn.autocast_policy["cpu"] == POLICIES["cpu"][name], name
    assert ember.nn.functional.linear.autocast_policy["cpu"] == "lower"
    assert ember.nn.functional.mse_loss.autocast_policy["cpu"] == "float32"


def test_outside_autocast_nothing_is_cast():
    (ex, _), (ew, _) = _pair(3, 4), _pair(5, 4)
    assert (ex @ ew.T).dtype is ember.float32
    assert not ember.is_autocast_enabled("cpu")


# ---------------------------------------------------------------------------- a small model

def _mlp(m, w):
    model = m.nn.Sequential(m.nn.Linear(4, 8), m.nn.ReLU(), m.nn.Linear(8, 3))
    with m.no_grad():
        for p, v in zip(model.parameters(), w):
            p.copy_(m.tensor(v))
    return model


def _cnn(m, w):
    model = m.nn.Sequential(m.nn.Conv2d(2, 3, 3), m.nn.ReLU(), m.nn.Flatten(), m.nn.Linear(12, 3))
    with m.no_grad():
        for p, v in zip(model.parameters(), w):
            p.copy_(m.tensor(v))
    return model


@pytest.mark.parametrize("kind, shape", [("mlp", (6, 4)), ("cnn", (6, 2, 4, 4))])
def test_model_under_autocast_matches_torch(kind, shape):
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    build = _mlp if kind == "mlp" else _cnn
    ref = build(torch, [p.detach().numpy() for p in build(torch, []).parameters()])
    weights = [p.detach().numpy().copy() for p in ref.parameters()]
    x = rng.standard_normal(shape).astype(np.float32)
    y = np.array([0, 1, 2, 0, 1, 2])
    seen = {}
    for m in (ember, torch):
        model = build(m, weights)
        dtypes = []
        with m.autocast("cpu"):
            h = m.tensor(x)
            for layer in model:
                h = layer(h)
                dtypes.append(_name(h.dtype))
            probs = m.softmax(h, -1)
            dtypes.append(_name(probs.dtype))
            loss = m.nn.functional.cross_entropy(h, m.tensor(y))
            dtypes.append(_name(loss.dtype))
        loss.backward()
        seen[m.__name__] = (dtypes, h, probs, loss, [p.grad for p in model.parameters()])
    (e_types, e_h, e_p, e_loss, e_g), (t_types, t_h, t_p, t_loss, t_g) = seen["ember"], seen["torch"]
    assert e_types == t_types
    assert "bfloat16" in e_types and e_types[-1] == "float32"
    for e, t in ((e_h, t_h), (e_p, t_p), (e_loss, t_loss)):
        # a 16-bit rounding tie broken the other way inside (torch sums the convolution in another
        # order) moves a later value by a few of its ulps: atol scaled to the values
        _close(e, t, atol=BF16[0] * float(t.detach().float().abs().max()))
    for e, t in zip(e_g, t_g):
        assert e.dtype is ember.float32 and t.dtype is torch.float32
        _close(e, t, rtol=2 * BF16[0], atol=2e-2)


# ---------------------------------------------------------------------------- the context

def test_nesting_disabling_and_state_as_torch():
    for m in (ember, torch):
        x = m.ones(2, 2)
        assert not m.is_autocast_enabled("cpu")
        with m.autocast("cpu"):
            assert m.is_autocast_enabled("cpu") and m.get_autocast_dtype("cpu") == m.bfloat16
            assert (x @ x).dtype == m.bfloat16
            with m.autocast("cpu", enabled=False):
                assert not m.is_autocast_enabled("cpu")
                assert (x @ x).dtype == m.float32
            with m.autocast("cpu", dtype=m.float16):
                assert (x @ x).dtype == m.float16
            assert (x @ x).dtype == m.bfloat16
        assert not m.is_autocast_enabled("cpu") and m.get_autocast_dtype("cpu") == m.bfloat16
        assert m.get_autocast_dtype("cuda") == m.float16


def test_decorator_and_amp_namespace():
    @ember.amp.autocast("cpu")
    def f(a):
        return a @ a

    assert f(ember.ones(2, 2)).dtype is ember.bfloat16
    assert ember.amp.autocast is ember.autocast


def test_bad_arguments_as_torch():
    for m in (ember, torch):
        with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
            m.autocast(m.device("cpu"))
        with pytest.raises(RuntimeError, match="unsupported autocast device_type 'mtia'"
                           if m is ember else "Expected one of cpu"):
            m.autocast("mtia" if m is ember else "abc")
        with pytest.raises(TypeError, match="requires a callable"):
            m.autocast("cpu")(3)
        with pytest.warns(UserWarning, match="CPU Autocast only supports dtypes of") as record:
            with m.autocast("cpu", dtype=m.float32):
                assert not m.is_autocast_enabled("cpu")
        text = str(record[0].message).replace("torch.", "ember.")
        assert "ember.bfloat16, ember.float16" in text


def test_deprecated_device_autocasts_warn_as_torch():
    for m in (ember, torch):
        with pytest.warns(FutureWarning, match=r"`torch.cpu.amp.autocast\(args...\)` is deprecated"):
            with m.cpu.amp.autocast():
                assert (m.ones(2, 2) @ m.ones(2, 2)).dtype == m.bfloat16
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx = m.cuda.amp.autocast()
        assert ctx.device == "cuda" and ctx.fast_dtype == m.float16
    from ember.cuda.amp import autocast  # importable by its torch path
    assert autocast is ember.cuda.amp.autocast


def test_weight_casts_are_cached_inside_a_region():
    w = ember.ones(3, 3, requires_grad=True)
    with ember.autocast("cpu"):
        a, b = ember.mm(w, w), ember.mm(w, w)
        assert a.grad_fn is not None and len(ember.ops.precision.AUTOCAST.cache) == 1
        (a.float().sum() + b.float().sum()).backward()
    assert not ember.ops.precision.AUTOCAST.cache
    assert w.grad.dtype is ember.float32 and w.grad.tolist() == [[12.0] * 3] * 3


# ---------------------------------------------------------------------------- custom Functions

def _scaled_matmul(m):
    seen = []

    class ScaledMatmul(m.autograd.Function):
        @staticmethod
        @m.amp.custom_fwd(device_type="cpu", cast_inputs=m.float32)
        def forward(ctx, a, b):
            seen.append(("fwd", _name(a.dtype), m.is_autocast_enabled("cpu")))
            ctx.save_for_backward(a, b)
            return a @ b

        @staticmethod
        @m.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            seen.append(("bwd", _name(g.dtype), m.is_autocast_enabled("cpu")))
            return g @ b.T, a.T @ g

    return ScaledMatmul, seen


def test_custom_fwd_and_bwd_as_torch():
    records = []
    for m in (ember, torch):
        fn, seen = _scaled_matmul(m)
        a = m.ones(2, 3, dtype=m.bfloat16, requires_grad=True)
        b = m.ones(3, 2, requires_grad=True)
        with m.autocast("cpu"):
            out = fn.apply(a, b)
            inner = m.mm(out, out)
        inner.float().sum().backward()
        records.append((seen, _name(out.dtype), _name(inner.dtype), _name(a.grad.dtype)))
    assert records[0] == records[1]


def test_custom_fwd_without_cast_keeps_the_region():
    for m in (ember, torch):
        class Plain(m.autograd.Function):
            @staticmethod
            @m.amp.custom_fwd(device_type="cpu")
            def forward(ctx, a):
                return a @ a

            @staticmethod
            @m.amp.custom_bwd(device_type="cpu")
            def backward(ctx, g):
                assert m.is_autocast_enabled("cpu")
                return g

        x = m.ones(2, 2, requires_grad=True)
        with m.autocast("cpu"):
            y = Plain.apply(x)
        assert y.dtype == m.bfloat16
        y.float().sum().backward()


def test_grad_scaler_refuses_float16_gradients_and_steps_bfloat16_ones_as_torch():
    seen = []
    for m in (ember, torch):
        w16 = m.nn.Parameter(m.ones(3, dtype=m.float16))
        scaler = m.amp.GradScaler("cpu", init_scale=4.0)
        opt = m.optim.SGD([w16], lr=0.1)
        scaler.scale((w16 * w16).sum()).backward()
        with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients."):
            scaler.step(opt)
        wb = m.nn.Parameter(m.tensor([1.0, -0.3, 2.7], dtype=m.bfloat16))
        scaler = m.amp.GradScaler("cpu", init_scale=4.0)
        opt = m.optim.SGD([wb], lr=0.1)
        scaler.scale((wb * wb).sum()).backward()
        scaler.step(opt)
        scaler.update()
        seen.append((wb.detach().float().tolist(), scaler.get_scale()))
    assert seen[0] == seen[1]
