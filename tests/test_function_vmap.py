"""A custom ``autograd.Function`` under ``vmap`` (its ``vmap`` staticmethod, or
``generate_vmap_rule = True``) and composed with grad and jvp, against torch.func."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)


def _functions(m):
    """The same custom Functions written for ``m`` (ember or torch)."""

    class Sin(m.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x):
            return x.sin()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.save_for_forward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.cos()

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return t * x.cos()

    class Mul(m.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x, y):
            return x * y, x + y

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, g, h):
            x, y = ctx.saved_tensors
            return g * y + h, g * x + h

    class Exp(m.autograd.Function):
        calls = []

        @staticmethod
        def forward(x):
            return x.exp()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(output)

        @staticmethod
        def backward(ctx, g):
            (out,) = ctx.saved_tensors
            return g * out

        @staticmethod
        def vmap(info, in_dims, x):
            Exp.calls.append((info.batch_size, info.randomness, in_dims))
            return Exp.apply(x.movedim(in_dims[0], 0)), 0

    return Sin, Mul, Exp


def _both(run):
    """``run(m, *tensors)`` for torch and ember on the same data; results as numpy."""
    out = []
    for m in (torch, ember):
        got = run(m, *_functions(m))
        got = got if isinstance(got, tuple) else (got,)
        out.append([g.detach().numpy() for g in got])
    for g, w in zip(out[1], out[0]):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


X = RNG.standard_normal((4, 3))
Y = RNG.standard_normal(3)


def test_generated_rule_forward_grad_and_jvp():
    def run(m, Sin, Mul, Exp):
        x = m.tensor(X)
        value = m.func.vmap(Sin.apply)(x)
        per_sample = m.func.vmap(m.func.grad(lambda r: Sin.apply(r).sum()))(x)
        tangent = m.func.vmap(lambda r: m.func.jvp(Sin.apply, (r,), (r * 2,))[1])(x)
        through = m.func.grad(lambda a: m.func.vmap(Sin.apply)(a).pow(2).sum())(x)
        return value, per_sample, tangent, through

    _both(run)


def test_generated_rule_with_an_unbatched_input_and_two_outputs():
    def run(m, Sin, Mul, Exp):
        x, y = m.tensor(X), m.tensor(Y)
        prod, total = m.func.vmap(Mul.apply, in_dims=(0, None))(x, y)
        gy = m.func.grad(lambda b: sum(o.sum() for o in m.func.vmap(Mul.apply, in_dims=(0, None))(x, b)))(y)
        gx = m.func.vmap(m.func.grad(lambda a, b: Mul.apply(a, b)[0].sum()), in_dims=(0, None))(x, y)
        return prod, total, gy, gx

    _both(run)


def test_vmap_staticmethod_is_the_rule():
    calls = {}

    def run(m, Sin, Mul, Exp):
        x = m.tensor(X)
        value = m.func.vmap(Exp.apply, in_dims=1, randomness="same")(x)
        grads = m.func.vmap(m.func.grad(lambda r: Exp.apply(r).sum()))(x)
        calls[m.__name__] = Exp.calls
        return value, grads

    _both(run)
    # the same calls; in_dims say where each physical value holds the batch (Ember keeps it first)
    assert [c[:2] for c in calls["ember"]] == [c[:2] for c in calls["torch"]]
    assert calls["ember"][0] == (3, "same", (0,)) and calls["torch"][0] == (3, "same", (1,))


@pytest.mark.parametrize("case", ["no rule", "both"])
def test_refusals_as_torch(case):
    messages = []
    for m in (torch, ember):
        class Square(m.autograd.Function):
            generate_vmap_rule = case == "both"

            @staticmethod
            def forward(x):
                return x * x

            @staticmethod
            def setup_context(ctx, inputs, output):
                pass

            @staticmethod
            def backward(ctx, g):
                return g

        if case == "both":
            Square.vmap = staticmethod(lambda info, in_dims, x: (x, 0))
        with pytest.raises(RuntimeError) as got:
            m.func.vmap(Square.apply)(m.tensor(X))
        messages.append(str(got.value))
    assert messages[1] == messages[0]
