"""ember.explain: the lecture's answers, and tables that show where each comes from."""
from __future__ import annotations

import json

import pytest

import ember
from ember.lab.explain import Explanation
from ember.lab.mathlang import MissingValueError

Z = "3*x**5 + 2*u**2*k*x + l*x + l"
PHI = dict(x=2, u=4, k=3, l=1)


def z(x, u, k, l):
    return 3 * x ** 5 + 2 * u ** 2 * k * x + l * x + l


@pytest.mark.parametrize("f", [z, Z], ids=["python", "string"])
def test_lecture_z_partials_are_exact(f):
    e = ember.explain(f, **PHI)
    assert isinstance(e, Explanation)
    assert e.gradient == {"x": 337.0, "u": 96.0, "k": 64.0, "l": 3.0}
    assert e.value == 291.0


def test_lecture_y_partials():
    e = ember.explain(lambda x1, x2: x1 ** 3 + x2 ** 2 + 4 * x1 * x2 + 5, x1=3, x2=4)
    assert e.gradient == {"x1": 43.0, "x2": 20.0}
    assert ember.explain("3*x**2 + 15", x=3).gradient == {"x": 18.0}


def test_forward_trace_is_the_recorded_graph():
    e = ember.explain(z, **PHI)
    defs = [(s.name, s.definition, s.value) for s in e.forward]
    assert defs == [
        ("v1", "pow(x, 5)", 32.0), ("v2", "mul(v1, 3)", 96.0), ("v3", "pow(u, 2)", 16.0),
        ("v4", "mul(v3, 2)", 32.0), ("v5", "mul(v4, k)", 96.0), ("v6", "mul(v5, x)", 192.0),
        ("v7", "add(v2, v6)", 288.0), ("v8", "mul(l, x)", 2.0), ("v9", "add(v7, v8)", 290.0),
        ("v10", "add(v9, l)", 291.0),
    ]
    assert all(s.formula for s in e.forward)  # each primitive's own derivative formula


def test_reverse_sweep_shows_where_each_partial_comes_from():
    e = ember.explain(z, **PHI)
    into_x = [(c.node, c.adjoint, c.local, c.contribution, c.accumulated)
              for c in e.backward if c.input == "x"]
    # 3x^5 gives 240, 2u^2k·x gives 96, l·x gives 1: 240 + 96 + 1 = 337.
    assert sorted(c[3] for c in into_x) == [1.0, 96.0, 240.0]
    assert into_x[-1][4] == 337.0
    assert ("v1", 3.0, 80.0, 240.0) in [c[:4] for c in into_x]
    into_u = [c for c in e.backward if c.input == "u"]
    assert [(c.node, c.adjoint, c.local, c.contribution) for c in into_u] == [("v3", 12.0, 8.0, 96.0)]
    into_l = [c.contribution for c in e.backward if c.input == "l"]
    assert sorted(into_l) == [1.0, 2.0]
    for c in e.backward:  # every contribution is adjoint × local derivative
        assert c.contribution == pytest.approx(c.adjoint * c.local)
    assert e.backward[0].node == "v10" and e.backward[0].adjoint == 1.0


def test_sweep_is_recorded_from_the_engine(monkeypatch):
    """The rows come from the engine's own walk: break a rule and the table shows the broken value."""
    from ember.ops.registry import PRIMITIVES

    prim = PRIMITIVES["sin"]
    real = prim.rule
    monkeypatch.setattr(prim, "rule", lambda g, out, x: (real(g, out, x)[0] * 10,))
    e = ember.explain(lambda x: ember.sin(x), x=0)
    assert e.gradient == {"x": 10.0}
    assert e.backward[0].contribution == 10.0


def test_text_rendering():
    text = str(ember.explain(z, **PHI))
    assert "Forward trace" in text and "Reverse sweep" in text and "Partial derivatives" in text
    assert "v1    pow(x, 5)    32" in text
    for line in ("∂f/∂x  337", "∂f/∂u  96", "∂f/∂k  64", "∂f/∂l  3"):
        assert line in text
    for name, total in (("x", 337), ("u", 96), ("k", 64), ("l", 3)):
        assert f"{name}\u0304 = {total}" in text  # the adjoint x̄ (x + combining macron)
    assert "3 × 80 = 240" in text
    assert "d(x*y) = y dx + x dy" in text  # the primitive's formula


def test_markdown_rendering():
    md = ember.explain(Z, **PHI).markdown()
    assert "### Forward trace" in md and "### Reverse sweep" in md
    assert "| v1 | pow(x, 5) | 32 |" in md
    assert "| ∂f/∂x | 337 |" in md
    assert md.count("|---|") >= 3


def test_to_dict_is_plain_data():
    d = ember.explain(Z, **PHI).to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["gradient"] == {"x": 337.0, "u": 96.0, "k": 64.0, "l": 3.0}
    assert d["forward"][0]["definition"] == "pow(x, 5)"
    keys = {"node", "adjoint", "input", "local", "formula", "contribution", "accumulated"}
    assert keys <= set(d["backward"][0])


def test_symbolic_partials_with_sympy():
    pytest.importorskip("sympy")
    e = ember.explain(Z, **PHI)
    import sympy

    x, u, k, l = sympy.symbols("x u k l")
    expected = {"x": 15 * x ** 4 + 2 * u ** 2 * k + l, "u": 4 * u * k * x, "k": 2 * u ** 2 * x, "l": x + 1}
    for name, want in expected.items():
        got, at = e.symbolic[name]["expression"], e.symbolic[name]["at_point"]
        assert sympy.simplify(sympy.sympify(got) - want) == 0
        assert at == e.gradient[name]
    local = [c.local_formula for c in e.backward if c.node == "v1"]
    assert local == ["5*x**4"]


def test_numeric_tables_work_without_sympy(without_sympy):
    e = ember.explain(z, **PHI)
    assert e.symbolic is None
    assert e.gradient == {"x": 337.0, "u": 96.0, "k": 64.0, "l": 3.0}
    text = str(e)
    assert "∂f/∂x  337" in text and "symbolic" not in text


def test_bad_calls():
    with pytest.raises(MissingValueError, match="k"):
        ember.explain(z, x=2, u=4, l=1)
    with pytest.raises(ValueError, match="not a variable"):
        ember.explain(z, q=1, **PHI)
    with pytest.raises(ValueError, match="single number"):
        ember.explain(lambda x: ember.stack([x, x]), x=1)


def test_tracing_hook_is_off_after_explain():
    x = ember.tensor(2.0, dtype=ember.float64, requires_grad=True)
    y = x * x
    assert y.grad_fn.trace is None
    ember.explain(z, **PHI)
    y.backward()
    assert x.grad.item() == 4.0
