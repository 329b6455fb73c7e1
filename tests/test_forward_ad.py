"""Forward-mode AD (``ember.autograd.forward_ad``, ``func.jvp``, ``func.jacfwd``) against torch.

Each primitive's JVP rule is checked sample by sample in ``tests/test_ops.py`` (harness
``check_jvp``); here: that every differentiable primitive has one, the dual-tensor API and its
errors, PyTorch's forward-mode AD tutorial run on both libraries, the transforms, nesting with
reverse mode, and custom Functions with ``jvp``.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfwAD

import ember
import ember.autograd.forward_ad as efwAD
from ember.ops.jvp import rule_of
from ember.ops.registry import PRIMITIVES, Primitive


def _without_jvp(primitives: dict) -> list:
    """Names of the differentiable primitives (with a VJP rule) that have no JVP rule."""
    return sorted(name for name, p in primitives.items() if p.rule is not None and p.jvp is None)


def test_every_differentiable_primitive_has_a_jvp_rule() -> None:
    missing = _without_jvp(PRIMITIVES)
    assert not missing, (
        f"{len(missing)} differentiable primitives have no JVP rule: {', '.join(missing)}. "
        "Declare one beside each VJP rule: jvp=\"linear\" / \"multilinear\" / \"elementwise\" / "
        "\"reduction\", or jvp=rule(tangents, out, *inputs, **kw) (see ops/jvp.py)")
    for p in PRIMITIVES.values():  # every kind named resolves to a rule
        if p.jvp is not None:
            assert callable(rule_of(p)), p.name


def test_the_missing_jvp_check_names_what_lacks_one() -> None:
    fake = {"good": Primitive("good", None, lambda g, out, x: (g,), jvp="linear"),
            "bad": Primitive("bad", None, lambda g, out, x: (g,)),
            "flag": Primitive("flag", None)}  # no VJP rule: not differentiable, needs no JVP
    assert _without_jvp(fake) == ["bad"]
    with pytest.raises(ValueError, match="unknown jvp kind"):
        Primitive("odd", None, lambda g, out, x: (g,), jvp="diagonal")


def test_an_op_without_a_jvp_rule_says_so() -> None:
    prim = Primitive("no_forward_rule", lambda xp, x: x * 2, lambda g, out, x: (g * 2,))
    with efwAD.dual_level():
        x = efwAD.make_dual(ember.ones(2), ember.ones(2))
        with pytest.raises(NotImplementedError, match="no_forward_rule"):
            ember.ops.registry.apply(prim, x)


# ---------------------------------------------------------------------------- PyTorch's tutorial


def _tutorial_basics(m, fw, primal, tangent, plain):
    def fn(x, y):
        return x ** 2 + y ** 2

    with fw.dual_level():
        dual_input = fw.make_dual(primal, tangent)
        assert fw.unpack_dual(dual_input).tangent is tangent
        dual_input_alt = fw.make_dual(primal, tangent.T)
        assert fw.unpack_dual(dual_input_alt).tangent is not tangent
        dual_output = fn(dual_input, plain)
        jvp = fw.unpack_dual(dual_output).tangent
    assert fw.unpack_dual(dual_output).tangent is None
    return jvp


def _tutorial_module(m, fw, weight, bias, tangents, x):
    model = m.nn.Linear(5, 5)
    with m.no_grad():
        model.weight.copy_(weight)
        model.bias.copy_(bias)
    params = {name: p for name, p in model.named_parameters()}
    with fw.dual_level():
        for name, p in params.items():
            delattr(model, name)
            setattr(model, name, fw.make_dual(p, tangents[name]))
        out = model(x)
        return fw.unpack_dual(out).tangent


def _tutorial_function(m, fw, primal, tangent):
    class Fn(m.autograd.Function):
        @staticmethod
        def forward(ctx, foo):
            result = m.exp(foo)
            ctx.result = result
            return result

        @staticmethod
        def jvp(ctx, gI):
            gO = gI * ctx.result
            del ctx.result
            return gO

    with fw.dual_level():
        dual_output = Fn.apply(fw.make_dual(primal, tangent))
        jvp = fw.unpack_dual(dual_output).tangent
    assert m.autograd.gradcheck(Fn.apply, (primal,), check_forward_ad=True,
                                check_backward_ad=False, check_undefined_grad=False,
                                check_batched_grad=False)
    return jvp


def _both(make):
    """``make(module, forward_ad)`` run on torch and on Ember; the results as NumPy."""
    return [make(m, fw).detach().numpy() if m is torch else make(m, fw).detach().cpu().numpy()
            for m, fw in ((torch, tfwAD), (ember, efwAD))]


def test_the_forward_ad_tutorial_runs_the_same() -> None:
    rng = np.random.default_rng(0)
    p, t, y = (rng.standard_normal((10, 10)) for _ in range(3))
    want, got = _both(lambda m, fw: _tutorial_basics(m, fw, m.tensor(p), m.tensor(t), m.tensor(y)))
    np.testing.assert_allclose(got, want, rtol=1e-12)

    w, b, x = rng.standard_normal((5, 5)), rng.standard_normal(5), rng.standard_normal((16, 5))
    tw, tb = rng.random((5, 5)), rng.random(5)
    want, got = _both(lambda m, fw: _tutorial_module(
        m, fw, m.tensor(w, dtype=m.float32), m.tensor(b, dtype=m.float32),
        {"weight": m.tensor(tw, dtype=m.float32), "bias": m.tensor(tb, dtype=m.float32)},
        m.tensor(x, dtype=m.float32)))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    want, got = _both(lambda m, fw: _tutorial_function(
        m, fw, m.tensor(p, requires_grad=True), m.tensor(t)))
    np.testing.assert_allclose(got, want, rtol=1e-12)


# ---------------------------------------------------------------------------- the dual-tensor API


def test_make_dual_is_a_view_that_backward_reaches_through() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    with efwAD.dual_level():
        d = efwAD.make_dual(x, ember.tensor([1.0, 0.0]))
        primal, tangent = efwAD.unpack_dual(d * d)
        (g,) = ember.autograd.grad(tangent.sum(), x)  # d/dx of 2 x t: reverse over forward
    assert primal.tolist() == [1.0, 4.0] and tangent.tolist() == [2.0, 0.0]
    assert g.tolist() == [2.0, 0.0]


def test_no_level_means_no_tangent_and_levels_nest() -> None:
    x = ember.tensor(3.0)
    assert efwAD.unpack_dual(x) == (x, None)
    with efwAD.dual_level() as outer:
        a = efwAD.make_dual(x, ember.tensor(1.0))
        with efwAD.dual_level() as inner:
            b = efwAD.make_dual(a, ember.tensor(1.0))
            y = b * b * b
            dy = efwAD.unpack_dual(y, level=inner).tangent  # 3 x^2, carrying its outer tangent
        assert efwAD.unpack_dual(dy, level=outer).tangent.item() == 18.0  # 6 x
        assert (outer, inner) == (0, 1)


@pytest.mark.parametrize("case", [
    "shape", "int primal", "int tangent", "no level", "exit order", "exit none",
])
def test_bad_dual_tensors_raise_torchs_errors(case: str) -> None:
    def run(m, fw):
        if case == "shape":
            with fw.dual_level():
                fw.make_dual(m.ones(2), m.ones(3))
        elif case == "int primal":
            with fw.dual_level():
                fw.make_dual(m.ones(2, dtype=m.int64), m.ones(2))
        elif case == "int tangent":
            with fw.dual_level():
                fw.make_dual(m.ones(2), m.ones(2, dtype=m.int64))
        elif case == "no level":
            fw.make_dual(m.ones(2), m.ones(2))
        elif case == "exit order":
            with fw.dual_level():
                fw.exit_dual_level(level=5)
        else:
            fw.exit_dual_level()

    with pytest.raises(Exception) as want:
        run(torch, tfwAD)
    with pytest.raises(want.type) as got:
        run(ember, efwAD)
    if case == "shape":  # the message names both shapes
        assert "[2]" in str(got.value) and "[3]" in str(got.value)
    assert not efwAD.LEVELS.active or case == "exit order"
    while efwAD.LEVELS.active:
        efwAD.exit_dual_level()


# ---------------------------------------------------------------------------- transforms


def _mlp(m, x, w1, w2):
    return m.tanh(x @ w1) @ w2


def _data(*shapes):
    rng = np.random.default_rng(1)
    return [rng.standard_normal(s) for s in shapes]


def test_jvp_and_jacfwd_match_torch_func() -> None:
    x, w1, w2, t = _data((3,), (3, 4), (4, 5), (3,))
    for m in (torch, ember):
        args = [m.tensor(a) for a in (x, w1, w2, t)]
        out, jv = m.func.jvp(lambda v: _mlp(m, v, args[1], args[2]), (args[0],), (args[3],))
        jac = m.func.jacfwd(functools.partial(_mlp, m), argnums=(1, 2))(*args[:3])
        if m is torch:
            want = [out, jv, *jac]
        else:
            got = [out, jv, *jac]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12, atol=1e-14)
        assert not g.requires_grad


def test_jacfwd_of_jacrev_is_torchs_hessian() -> None:
    x, w1, w2 = _data((3,), (3, 4), (4, 2))
    results = []
    for m in (torch, ember):
        xs, a, b = (m.tensor(v) for v in (x, w1, w2))

        def f(v):
            return (_mlp(m, v, a, b) ** 2).sum()

        results.append([m.func.jacfwd(m.func.jacrev(f))(xs), m.func.hessian(f)(xs),
                        m.func.jacfwd(m.func.jacfwd(f))(xs), m.func.jacrev(m.func.jacfwd(f))(xs)])
    want = results[0][0].numpy()
    for got in results[1]:
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)


def test_jacfwd_has_aux_and_pytrees() -> None:
    x, y = _data((2,), (2, 3))
    results = []
    for m in (torch, ember):
        def f(inputs):
            a, b = inputs["a"], inputs["b"]
            return {"s": (a[:, None] * b).sum(0), "p": a.prod()}, a.sum()

        jac, aux = m.func.jacfwd(f, has_aux=True)({"a": m.tensor(x), "b": m.tensor(y)})
        results.append([jac["s"]["a"], jac["s"]["b"], jac["p"]["a"], jac["p"]["b"], aux])
    for g, w in zip(results[1], results[0]):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12)


def test_forward_over_reverse_gives_the_hessian_vector_product() -> None:
    x, v = _data((4,), (4,))
    results = []
    for m in (torch, ember):
        def f(u):
            return (m.sin(u) * u.exp()).sum()

        results.append(m.func.jvp(m.func.grad(f), (m.tensor(x),), (m.tensor(v),))[1])
    np.testing.assert_allclose(results[1].numpy(), results[0].numpy(), rtol=1e-12)


@pytest.mark.parametrize("case", ["shape", "structure", "not a tuple", "non-tensor output"])
def test_bad_jvp_inputs_raise_torchs_errors(case: str) -> None:
    def run(m):
        x = m.ones(2)
        if case == "shape":
            m.func.jvp(lambda v: v, (x,), (m.ones(3),))
        elif case == "structure":
            m.func.jvp(lambda v: v, (x,), [x])
        elif case == "not a tuple":
            m.func.jvp(lambda v: v, [x], (x,))
        else:
            m.func.jvp(lambda v: 3, (x,), (x,))

    with pytest.raises(Exception) as want:
        run(torch)
    with pytest.raises(want.type) as got:
        run(ember)
    assert "jvp(f, primals, tangents)" in str(got.value)
    if case == "shape":
        assert "[2]" in str(got.value) and "[3]" in str(got.value)


def test_bad_jacfwd_calls_name_the_transform() -> None:
    x = ember.ones(2)
    with pytest.raises(RuntimeError) as want:  # jacfwd is vmap over jvp: jvp's message, as torch's
        torch.func.jacfwd(lambda v: "text")(torch.ones(2))
    with pytest.raises(RuntimeError) as got:
        ember.func.jacfwd(lambda v: "text")(x)
    assert str(got.value) == str(want.value)
    with pytest.raises(RuntimeError, match="argnum=3"):
        ember.func.jacfwd(lambda v: v, argnums=3)(x)
    with pytest.raises(RuntimeError, match="randomness"):
        ember.func.jacfwd(lambda v: v, randomness="sometimes")


def test_custom_function_jvp_with_save_for_forward() -> None:
    class Cube(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_forward(x)
            return x * x * x

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return 3 * x * x * t

    x = ember.tensor([1.0, 2.0])
    out, jv = ember.func.jvp(Cube.apply, (x,), (ember.tensor([1.0, 1.0]),))
    assert out.tolist() == [1.0, 8.0] and jv.tolist() == [3.0, 12.0]

    class NoJvp(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    with pytest.raises(NotImplementedError, match="jvp"):
        ember.func.jvp(NoJvp.apply, (x,), (x,))


# ---------------------------------------------------------------------------- showing the work

LECTURE_Z = "3*x**5 + 2*u**2*k*x + l*x + l"


def test_explain_forward_shows_dual_numbers_one_sweep_per_input() -> None:
    e = ember.explain(LECTURE_Z, mode="forward", x=2, u=4, k=3, l=1)
    assert e.gradient == {"x": 337.0, "u": 96.0, "k": 64.0, "l": 3.0}
    assert e.sweeps() == {"forward": 4, "reverse": 1}
    # each node's tangent in each sweep: v5 = (2 u^2) k is 48 along u and 32 along k
    steps = {s.name: (s.definition, tangents) for s, tangents in zip(e.forward, e.tangents)}
    assert steps["v5"] == ("mul(v4, k)", [0.0, 48.0, 32.0, 0.0])
    assert steps["v10"][1] == [337.0, 96.0, 64.0, 3.0]  # the output's tangents are the partials
    text = str(e)
    assert "Forward sweeps with dual numbers" in text and "4 (one per input)" in text
    assert "Reverse sweep" not in text
    assert e.to_dict()["tangents"][-1] == [337.0, 96.0, 64.0, 3.0]
    with pytest.raises(ember.lab.mathlang.MathError, match="mode"):
        ember.explain(LECTURE_Z, mode="sideways", x=2, u=4, k=3, l=1)


def test_explain_forward_agrees_with_reverse_on_a_python_function() -> None:
    def f(x, y):
        return x * y + ember.sin(x) / y

    fwd = ember.explain(f, mode="forward", x=0.5, y=2)
    rev = ember.explain(f, x=0.5, y=2)
    assert fwd.value == rev.value
    for name in ("x", "y"):
        assert fwd.gradient[name] == pytest.approx(rev.gradient[name], rel=1e-15)


def test_cli_explains_forward_mode() -> None:
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "ember", "grad", LECTURE_Z, "--at", "x=2,u=4,k=3,l=1",
                        "--explain", "--forward"], capture_output=True, text=True, encoding="utf-8",
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "∂f/∂x = 337" in r.stdout and "Forward sweeps with dual numbers" in r.stdout
    assert "forward  4 (one per input)" in r.stdout
    r = subprocess.run([sys.executable, "-m", "ember", "grad", LECTURE_Z, "--at", "x=2,u=4,k=3,l=1",
                        "--forward"], capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert r.returncode == 2 and "--explain" in r.stderr


def test_the_harness_catches_a_wrong_jvp_rule() -> None:
    import types

    from harness import check_jvp

    def make(jvp):
        return Primitive("sin_under_test", lambda xp, x: xp.sin(x),
                         lambda g, out, x: (g * ember.cos(x),), jvp=jvp)

    sample = ((np.random.default_rng(0).standard_normal(4),), {})
    for jvp, ok in ((lambda ts, out, x: ts[0] * ember.cos(x), True),
                    (lambda ts, out, x: ts[0] * ember.cos(x).detach(), False),  # no 2nd derivative
                    (lambda ts, out, x: ts[0], False)):
        prim = make(jvp)
        info = types.SimpleNamespace(name="sin_under_test", gradgrad=True, tol={}, host_reads="", jvp_ref="",
                                     fn=lambda x, prim=prim: ember.ops.registry.apply(prim, x),
                                     ref=lambda m, x: m.sin(x))
        if ok:
            check_jvp(info, sample, "float64")
        else:
            with pytest.raises(AssertionError):
                check_jvp(info, sample, "float64")


@pytest.mark.parametrize("name", ["median", "max", "min", "nanmedian"])
def test_tangent_of_an_order_statistic_of_everything_at_nan(name) -> None:
    """torch's forward formula reads the tangent where the input equals the result: a nan
    result gives a nan tangent (though backward sends the nan entries the gradient)."""
    x = np.array([[1.0, np.nan, 2.0], [3.0, 0.0, np.nan]])
    t = np.arange(6.0).reshape(2, 3) + 1
    got, want = (m.func.jvp(getattr(m, name), (m.tensor(x),), (m.tensor(t),))[1].numpy()
                 for m in (ember, torch))
    np.testing.assert_array_equal(got, want)


def test_fmax_fmin_tangents_at_ties_and_nan_as_torch() -> None:
    x, y = np.array([1.0, np.nan, 2.0, np.nan]), np.array([np.nan, 3.0, 2.0, np.nan])
    tx, ty = np.ones(4), np.full(4, 10.0)
    for name in ("fmax", "fmin"):
        got, want = (m.func.jvp(getattr(m, name), (m.tensor(x), m.tensor(y)),
                                (m.tensor(tx), m.tensor(ty)))[1].numpy() for m in (ember, torch))
        np.testing.assert_array_equal(got, want)
