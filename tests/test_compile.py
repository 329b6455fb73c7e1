"""ember.compile: replayed programs equal eager Ember (values and gradients, bitwise where
nothing is fused), retracing on new signatures, falling back to eager with a reason, and the
torch.compiler surface."""
from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest

import ember
from ember import nn
from ember.compiler import Unsupported


def _leaves(values, dtype=ember.float32):
    return [ember.tensor(v, dtype=dtype, requires_grad=True) for v in values]


def _z(x, u, k, l):
    return 3 * x**5 + 2 * u**2 * k * x + l * x + l


def _same(a, b) -> None:
    """Bitwise equal arrays (a tensor or None each)."""
    assert (a is None) == (b is None)
    if a is not None:
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())


def _traced(compiled) -> list:
    return [r for r in compiled._ember_explain() if r["reason"] is None]


def test_function_values_and_grads_bitwise_equal_eager() -> None:
    f = ember.compile(_z)
    for values in [(2.0, 4.0, 3.0, 1.0), (1.5, -2.0, 0.25, 3.0), (-0.5, 1.0, 7.0, -2.0)]:
        xs, ys = _leaves(values), _leaves(values)
        out = f(*xs)
        out.backward()
        ref = _z(*ys)
        ref.backward()
        _same(out, ref)
        for a, b in zip(xs, ys):
            _same(a.grad, b.grad)
    assert len(_traced(f)) == 1  # one signature: traced once, replayed twice
    assert type(out.grad_fn).__name__ == "CompiledFunctionBackward"


def _check_module(model, make_inputs, loss, calls: int = 3) -> None:
    compiled = ember.compile(model)
    for i in range(calls):
        inputs = make_inputs(i)
        results = []
        for fn in (model, compiled):
            for p in model.parameters():
                p.grad = None
            out = fn(*inputs)
            loss(out).backward()
            results.append((out, [p.grad for p in model.parameters()]))
        (out_e, grads_e), (out_c, grads_c) = results
        for a, b in zip(out_e if isinstance(out_e, tuple) else (out_e,),
                        out_c if isinstance(out_c, tuple) else (out_c,)):
            _same(a, b)
        for a, b in zip(grads_e, grads_c):
            _same(a, b)
    assert len(_traced(compiled)) == 1


def test_mlp_with_cross_entropy_targets_as_inputs() -> None:
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 5))
    loss = nn.CrossEntropyLoss()
    data = [(ember.randn(8, 12), ember.randint(0, 5, (8,))) for _ in range(3)]
    compiled = ember.compile(lambda x, y: loss(model(x), y))
    for x, y in data:  # new targets each call: the loss's rule reads them, so it replays whole
        model.zero_grad()
        ref = loss(model(x), y)
        ref.backward()
        grads = [p.grad for p in model.parameters()]
        model.zero_grad()
        out = compiled(x, y)
        out.backward()
        _same(out, ref)
        for p, g in zip(model.parameters(), grads):
            _same(p.grad, g)
    assert len(_traced(compiled)) == 1


def test_cnn_and_lstm_cell_modules() -> None:
    ember.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(4 * 4 * 4, 3))
    _check_module(cnn, lambda i: (ember.randn(2, 1, 8, 8),), lambda o: (o * o).sum())
    cell = nn.LSTMCell(6, 5)
    _check_module(cell, lambda i: (ember.randn(3, 6), (ember.randn(3, 5), ember.randn(3, 5))),
                  lambda o: o[0].sum() + (o[1] ** 2).sum())


def test_module_compile_in_place_and_compiled_module_attributes() -> None:
    ember.manual_seed(0)
    model = nn.Linear(4, 2)
    x = ember.randn(3, 4)
    ref = model(x)
    wrapped = ember.compile(model)
    assert wrapped.weight is model.weight and wrapped._orig_mod is model
    model.compile()
    for _ in range(2):
        _same(model(x), ref)
    assert len(_traced(model._compiled_call)) == 1


def test_decorator_forms_and_methods() -> None:
    @ember.compile
    def f(x):
        return x.sin() * 2

    @ember.compile(fullgraph=True, dynamic=False, mode="reduce-overhead", backend="inductor")
    def g(x):
        return x.cos() + 1

    class Box:
        @ember.compile
        def scaled(self, x):
            return x * 3

    x = ember.randn(5)
    for _ in range(2):
        _same(f(x), x.sin() * 2)
        _same(g(x), x.cos() + 1)
        _same(Box().scaled(x), x * 3)


def test_retrace_on_shape_dtype_requires_grad_and_grad_mode() -> None:
    f = ember.compile(lambda x: (x * x).sum())
    x = ember.randn(3, requires_grad=True)
    f(x)
    f(ember.randn(3, requires_grad=True))
    assert len(_traced(f)) == 1
    f(ember.randn(4, requires_grad=True))
    f(ember.randn(3, dtype=ember.float64, requires_grad=True))
    f(ember.randn(3))
    with ember.no_grad():
        out = f(x)
    assert out.grad_fn is None and not out.requires_grad
    _same(out, (x * x).sum().detach())
    assert len(_traced(f)) == 5


def test_recompile_limit_warns_then_runs_eagerly() -> None:
    f = ember.compile(lambda x: x + 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(1, 11):
            _same(f(ember.ones(n)), ember.ones(n) + 1)
    assert len(_traced(f)) == ember.compiler.config.recompile_limit == 8
    assert any("recompile_limit" in str(w.message) for w in caught)


def test_captured_tensor_rebound_in_closure_retraces() -> None:
    w = ember.tensor([1.0, 2.0])
    f = ember.compile(lambda x: x * w)
    x = ember.tensor([3.0, 4.0])
    _same(f(x), x * w)
    w = ember.tensor([5.0, 6.0])  # the closure cell now holds another tensor: guard fails
    _same(f(x), x * w)


def test_second_order_through_create_graph() -> None:
    def fn(x, y):
        return (x.tanh() * y).sum() * x.pow(3).sum()

    f = ember.compile(fn)
    x0 = np.array([0.3, -1.2, 0.7])
    y0 = np.array([1.5, 0.5, -2.0])
    results = []
    for use in (fn, f, f):  # eager, the tracing call, a replayed call
        x = ember.tensor(x0, requires_grad=True)
        y = ember.tensor(y0, requires_grad=True)
        gx, gy = ember.autograd.grad(use(x, y), (x, y), create_graph=True)
        hxx, = ember.autograd.grad(gx.sum(), x, retain_graph=True)
        hyx, = ember.autograd.grad(gy.sum(), x)
        results.append((gx, gy, hxx, hyx))
    for got in results[1:]:
        for a, b in zip(results[0], got):
            _same(a, b)


def _reason(fn, *args) -> str:
    compiled = ember.compile(fn)
    compiled(*args)
    (record,) = compiled._ember_explain()
    return record["reason"] or ""


def test_fallbacks_record_their_reason_and_return_eager_results() -> None:
    x = ember.randn(4)

    def branchy(t):
        return t * 2 if t.sum() > 0 else t * 3

    assert "data-dependent" in _reason(branchy, x)
    assert "data-dependent" in _reason(lambda t: t * t.max().item(), x)
    assert "random" in _reason(lambda t: t + ember.randn(4), x)
    assert "in-place" in _reason(lambda t: t.add_(1), ember.randn(4))
    holder = {"w": ember.randn(4)}
    assert "pass it as an argument" in _reason(lambda t: t * holder["w"], x)
    hooked = ember.randn(4, requires_grad=True)
    hooked.register_hook(lambda g: g * 2)
    assert "hook" in _reason(lambda t: t * 2, hooked)
    f = ember.compile(branchy)
    for t in (ember.ones(3), -ember.ones(3)):  # eager every call: both branches right
        _same(f(t), branchy(t))


def test_fallback_is_logged_and_explained(caplog) -> None:
    def fn(t):
        return t + float(t.sum())

    with caplog.at_level(logging.INFO, logger="ember.compiler"):
        report = ember.compiler.explain(fn)(ember.ones(2))
    assert report.graph_count == 0 and report.graph_break_count == 1
    assert "data-dependent" in report.break_reasons[0]
    assert any("data-dependent" in r.getMessage() for r in caplog.records)
    ok = ember.compiler.explain(lambda t: t.exp() + 1)(ember.ones(2))
    assert ok.graph_count == 1 and ok.op_count == 2 and "Graph Count: 1" in str(ok)


def test_fullgraph_raises_unsupported() -> None:
    f = ember.compile(lambda t: t * 2 if bool(t.sum() > 0) else t, fullgraph=True)
    with pytest.raises(Unsupported, match="graph break: data-dependent") as info:
        f(ember.ones(2))
    assert isinstance(info.value, RuntimeError)


def test_compiler_surface() -> None:
    seen = []

    def fn(t):
        seen.append(ember.compiler.is_compiling())
        return t + 1

    f = ember.compile(fn)
    x = ember.ones(2)
    with ember.compiler.set_stance("force_eager"):
        f(x)
    assert seen == [False] and not f._ember_explain()
    f(x)
    f(x)
    assert seen == [False, True]  # traced once (compiling), then replayed (fn not called)
    ember.compiler.reset()
    assert not f._ember_explain()
    ember.compiler.disable(f)(x)
    assert seen == [False, True, False] and not f._ember_explain()
    with ember.compiler.set_stance("fail_on_recompile"):
        f(x)
        with pytest.raises(RuntimeError, match="recompile"):
            f(ember.ones(3))
    assert ember.compiler.is_compiling() is False
    assert ember.compile(fn, disable=True)(x) is not None and len(seen) == 5


def test_fused_elementwise_chain_writes_into_dead_temporaries_bitwise() -> None:
    def fn(x, y):
        return ((x * y + x).exp() * y - x).tanh().sum()

    f = ember.compile(fn)
    for _ in range(2):
        xs, ys = ember.randn(50, requires_grad=True), ember.randn(50, requires_grad=True)
        out = f(xs, ys)
        out.backward()
        x2, y2 = xs.detach().requires_grad_(), ys.detach().requires_grad_()
        ref = fn(x2, y2)
        ref.backward()
        _same(out, ref)
        _same(xs.grad, x2.grad)
        _same(ys.grad, y2.grad)
    (entry,) = f.cache.values()
    assert entry.fwd.source.count("out=") >= 3 and entry.bwd.fn.source.count("out=") >= 5


def test_values_computed_outside_the_ops_are_caught() -> None:
    def pooled(x):
        values, idx = nn.functional.max_pool1d(x, 2, return_indices=True)
        return values * 2, idx

    x = ember.randn(1, 2, 8)
    assert "outside the traced ops" in _reason(pooled, x)
    f = ember.compile(pooled)
    for _ in range(2):
        x = ember.randn(1, 2, 8)
        for a, b in zip(f(x), pooled(x)):
            _same(a, b)
    zeros = ember.compile(lambda t: t + ember.zeros(3))  # a constant made inside: kept
    _same(zeros(ember.ones(3)), ember.ones(3))
    assert _traced(zeros)


def test_outputs_of_any_structure() -> None:
    f = ember.compile(lambda t: {"relu": t.relu(), "n": 3, "pair": (t, t.sum())})
    g = ember.compile(lambda t: None)
    x = ember.randn(4)
    for _ in range(2):
        out = f(x)
        assert out["n"] == 3 and out["pair"][0] is x
        _same(out["relu"], x.relu())
        _same(out["pair"][1], x.sum())
        assert g(x) is None


@pytest.mark.cuda
@pytest.mark.skipif(not ember.backend.cuda_available(), reason="CUDA needs CuPy and a GPU")
def test_compiled_mlp_on_cuda_equals_eager() -> None:
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 2)).to("cuda")
    _check_module(model, lambda i: (ember.randn(5, 6, device="cuda"),), lambda o: (o * o).sum())


def test_module_guards_training_flag_and_parameter_identity() -> None:
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    compiled = ember.compile(model)
    x = ember.randn(2, 3)
    model.eval()
    _same(compiled(x), model(x))
    model[0].weight = nn.Parameter(ember.randn(3, 3))  # a new parameter object: retraced
    _same(compiled(x), model(x))
    assert len(_traced(compiled)) == 2
    model.train()  # dropout draws: runs eagerly, with the reason
    compiled(x)
    assert any("random" in (r["reason"] or "") for r in compiled._ember_explain())
