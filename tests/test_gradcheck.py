"""ember.autograd.gradcheck / gradgradcheck: pass on correct ops, fail usefully on a wrong rule."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.autograd.gradcheck import GradcheckError


def _inputs(*shapes, seed=0, low=-1.0, high=1.0):
    rng = np.random.default_rng(seed)
    return tuple(ember.from_numpy(rng.uniform(low, high, s)).requires_grad_() for s in shapes)


CORRECT = {
    "tanh_mul": (lambda a, b: ember.tanh(a * b), [(3, 4), (4,)]),
    "matmul_exp": (lambda a, b: (a @ b).exp(), [(3, 4), (4,)]),
    "two_outputs": (lambda a, b: (ember.sin(a) * b, (a ** 2).sum()), [(2, 3), (2, 3)]),
    "softmax": (lambda a: ember.softmax(a, dim=1), [(2, 5)]),
    "sigmoid_log": (lambda a: ember.log(1 + ember.sigmoid(a)), [(6,)]),
    "broadcast_div": (lambda a, b: a / (b ** 2 + 1), [(2, 3), (3,)]),
    "reduce_mean_var": (lambda a: (a.mean(dim=0), a.var(dim=1)), [(3, 4)]),
}


@pytest.mark.parametrize("name", CORRECT)
def test_gradcheck_and_gradgradcheck_pass_on_correct_ops(name):
    fn, shapes = CORRECT[name]
    inputs = _inputs(*shapes)
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)
    assert gradcheck(fn, inputs, check_batched_grad=True, check_grad_dtypes=True)


def test_agrees_with_torch_gradcheck_on_same_function():
    x = np.random.default_rng(1).uniform(-1, 1, (3,))
    te = torch.from_numpy(x.copy()).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: torch.tanh(t) * t, (te,))
    assert gradcheck(lambda t: ember.tanh(t) * t, (ember.from_numpy(x.copy()).requires_grad_(),))


def _sin_function(factor: float) -> type:
    """sin as a custom Function whose backward is ``factor`` times the true derivative."""

    class Sin(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.cos() * factor

    return Sin


WrongSin = _sin_function(2)  # a deliberately wrong backward: twice the true derivative
RightSin = _sin_function(1)  # correct, written in Ember ops, so differentiable again


def test_wrong_custom_function_fails_with_a_useful_message():
    (x,) = _inputs((2, 3))
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongSin.apply, (x,))
    message = str(info.value)
    first = message.splitlines()[0]
    assert "output 0 with respect to input 0" in first
    assert "output element (" in first and "input element (" in first
    assert "numerical =" in first and "analytical =" in first and "difference" in first
    # The numbers in the message are the real ones at the worst element.
    num = float(first.split("numerical = ")[1].split()[0])
    ana = float(first.split("analytical = ")[1].split()[0])
    assert ana == pytest.approx(2 * num, rel=1e-6)
    assert "numerical:" in message and "analytical:" in message
    assert isinstance(info.value, RuntimeError)


def test_message_names_the_input_that_is_wrong():
    a, b = _inputs((3,), (3,))

    def fn(x, y):
        return x * 3 + WrongSin.apply(y)

    with pytest.raises(GradcheckError, match="with respect to input 1"):
        gradcheck(fn, (a, b))


def test_raise_exception_false_returns_false():
    (x,) = _inputs((4,))
    assert gradcheck(WrongSin.apply, (x,), raise_exception=False) is False
    assert gradcheck(RightSin.apply, (x,), raise_exception=False) is True


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class WrongSquare(ember.autograd.Function):
        """x² whose backward is right at first order but its own derivative is wrong (uses x.detach())."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x.detach()

    (x,) = _inputs((3,))
    assert gradcheck(WrongSquare.apply, (x,))
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(WrongSquare.apply, (x,))
    assert gradgradcheck(RightSin.apply, (x,))


def test_tolerances_and_eps_are_used():
    (x,) = _inputs((3,))
    # A 10% error passes only with a loose rtol.
    class Scaled(ember.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1.0

        @staticmethod
        def backward(ctx, g):
            return g * 1.1

    assert not gradcheck(Scaled.apply, (x,), raise_exception=False)
    assert gradcheck(Scaled.apply, (x,), rtol=0.2, atol=0.0)


def test_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda t: t * 2, (ember.ones(2, dtype=ember.float64),))


def test_float32_input_warns():
    x = ember.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="not a double precision"):
        gradcheck(lambda t: t * 2, (x,), atol=1e-2, rtol=1e-2, eps=1e-3)


def test_signature_matches_torch():
    import inspect

    pairs = ((gradcheck, torch.autograd.gradcheck), (gradgradcheck, torch.autograd.gradgradcheck))
    for ours, theirs in pairs:
        ps, pt = inspect.signature(ours).parameters, inspect.signature(theirs).parameters
        assert list(ps) == list(pt)
        assert all(ps[n].default == pt[n].default for n in pt if pt[n].default is not inspect.Parameter.empty)
