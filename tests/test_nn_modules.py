"""ember.nn modules against torch.nn: bookkeeping, state dicts, reprs, and every layer's numbers."""
from __future__ import annotations

import copy
import re
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import ember
import ember.nn as nn
import ember.nn.functional as F
from nn_compare import assert_close, check_fn, check_module, copy_weights, to_ember, to_torch

RNG = np.random.default_rng(1234)


def randn(*shape, dtype="float64"):
    return RNG.standard_normal(shape).astype(dtype)


def build(lib):
    """The same nested architecture in Ember or torch."""
    n = lib.nn
    return n.Sequential(OrderedDict([
        ("embed", n.Embedding(10, 4, padding_idx=0)),
        ("flat", n.Flatten()),
        ("body", n.ModuleList([n.Linear(12, 8), n.BatchNorm1d(8), n.ReLU(), n.Dropout(0.25)])),
        ("heads", n.ModuleDict({"a": n.Linear(8, 3, bias=False), "b": n.LayerNorm(8)})),
        ("act", n.Sequential(n.GELU(approximate="tanh"), n.LeakyReLU(0.2, inplace=True))),
        ("loss", n.CrossEntropyLoss(weight=lib.ones(3))),
    ]))


def torch_names(text: str) -> str:
    return text.replace("torch.", "ember.")


# ---------------------------------------------------------------------------- bookkeeping


def test_repr_matches_torch():
    assert repr(build(ember)) == repr(build(torch))
    for e, t in [(nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh(), nn.ReLU()]),
                  tnn.ModuleList([tnn.ReLU(), tnn.ReLU(), tnn.Tanh(), tnn.ReLU()])),
                 (nn.ModuleList(), tnn.ModuleList()), (nn.Sequential(), tnn.Sequential())]:
        assert repr(e) == repr(t)


@pytest.mark.parametrize("make", [
    lambda n: n.Linear(3, 4), lambda n: n.Linear(3, 4, bias=False), lambda n: n.Bilinear(2, 3, 4),
    lambda n: n.Identity(7, k=2), lambda n: n.ReLU(), lambda n: n.ReLU(inplace=True),
    lambda n: n.LeakyReLU(), lambda n: n.LeakyReLU(0.2, True), lambda n: n.ELU(0.5),
    lambda n: n.ELU(inplace=True), lambda n: n.GELU(), lambda n: n.GELU("tanh"), lambda n: n.SiLU(),
    lambda n: n.SiLU(True), lambda n: n.Sigmoid(), lambda n: n.Tanh(), lambda n: n.Softmax(),
    lambda n: n.Softmax(dim=1), lambda n: n.LogSoftmax(-1), lambda n: n.Softplus(2, 10),
    lambda n: n.Hardtanh(-2.0, 3.0), lambda n: n.ReLU6(), lambda n: n.LogSigmoid(),
    lambda n: n.Flatten(0, 2), lambda n: n.Unflatten(1, (2, 3)), lambda n: n.Dropout(),
    lambda n: n.Dropout(0.2, True), lambda n: n.BatchNorm1d(3), lambda n: n.BatchNorm2d(3, momentum=None,
                                                                                          affine=False),
    lambda n: n.BatchNorm1d(3, track_running_stats=False, bias=False), lambda n: n.LayerNorm(5),
    lambda n: n.LayerNorm((2, 3), elementwise_affine=False), lambda n: n.LayerNorm(4, bias=False),
    lambda n: n.Embedding(10, 3), lambda n: n.Embedding(10, 3, padding_idx=-1, max_norm=1.0, norm_type=1.0,
                                                        scale_grad_by_freq=True),
    lambda n: n.MSELoss(), lambda n: n.L1Loss(reduction="sum"), lambda n: n.SmoothL1Loss(beta=0.5),
    lambda n: n.HuberLoss(delta=2.0), lambda n: n.BCELoss(), lambda n: n.BCEWithLogitsLoss(),
    lambda n: n.CrossEntropyLoss(label_smoothing=0.1), lambda n: n.NLLLoss(ignore_index=2),
])
def test_layer_repr_and_state_dict_keys(make):
    e, t = make(ember.nn), make(torch.nn)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]


def test_names_and_iteration_match_torch():
    e, t = build(ember), build(torch)
    assert list(e.state_dict()) == list(t.state_dict())
    for method in ("named_parameters", "named_buffers", "named_modules", "named_children"):
        assert [n for n, _ in getattr(e, method)()] == [n for n, _ in getattr(t, method)()], method
    assert [n for n, _ in e.named_parameters(prefix="m", recurse=True)] == \
        [n for n, _ in t.named_parameters(prefix="m", recurse=True)]
    assert [n for n, _ in e.body.named_parameters(recurse=False)] == []
    assert len(list(e.parameters())) == len(list(t.parameters()))
    assert len(list(e.modules())) == len(list(t.modules()))
    assert [type(m).__name__ for m in e.children()] == [type(m).__name__ for m in t.children()]
    assert "0" not in dir(e.body) and {"weight", "bias", "forward"} <= set(dir(e.body[0]))


def test_shared_modules_and_parameters_appear_once():
    for lib in (ember, torch):
        lin = lib.nn.Linear(2, 2)
        seq = lib.nn.Sequential(lin, lib.nn.ReLU(), lin)
        assert len(list(seq.parameters())) == 2
        assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
        assert len(list(seq.named_modules(remove_duplicate=False))) == 4
        assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


class Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(ember.ones(3))
        self.register_buffer("stat", ember.zeros(3))
        self.register_buffer("scratch", ember.zeros(2), persistent=False)
        self.child = nn.Linear(3, 1)
        self.note = "plain attribute"

    def forward(self, x):
        return self.child(x * self.w + self.stat)


def test_attribute_bookkeeping():
    m = Custom()
    assert list(m._parameters) == ["w"] and list(m._buffers) == ["stat", "scratch"]
    assert list(m._modules) == ["child"] and m.note == "plain attribute"
    assert list(m.state_dict()) == ["w", "stat", "child.weight", "child.bias"]
    assert [n for n, _ in m.named_buffers()] == ["stat", "scratch"]
    m.w = None
    assert m.w is None and "w" in m._parameters and list(m.parameters())[0] is m.child.weight
    with pytest.raises(TypeError, match="cannot assign 'int' as parameter 'w'"):
        m.w = 3
    with pytest.raises(TypeError, match="as child module 'child'"):
        m.child = ember.ones(2)
    with pytest.raises(TypeError, match="as buffer 'stat'"):
        m.stat = 1.0
    m.stat = ember.ones(3)
    assert m._buffers["stat"] is m.stat
    m.child = nn.Parameter(ember.ones(1))  # rebinding a name moves it to the right store
    assert "child" not in m._modules and "child" in m._parameters
    del m.child
    assert "child" not in m._parameters and not hasattr(m, "child")
    del m.stat
    assert "stat" not in m._buffers
    with pytest.raises(AttributeError, match="'Custom' object has no attribute 'missing'"):
        m.missing


@pytest.mark.parametrize("call, error, message", [
    (lambda m: m.register_buffer(1, None), TypeError, "buffer name should be a string. Got int"),
    (lambda m: m.register_buffer("a.b", None), KeyError, 'buffer name can\'t contain "."'),
    (lambda m: m.register_buffer("", None), KeyError, "buffer name can't be empty string"),
    (lambda m: m.register_buffer("note", None), KeyError, "attribute 'note' already exists"),
    (lambda m: m.register_buffer("x", 3), TypeError, "cannot assign 'int' object to buffer 'x'"),
    (lambda m: m.register_parameter("x", ember.ones(2)), TypeError, "to parameter 'x'"),
    (lambda m: m.register_parameter("child", None), KeyError, "attribute 'child' already exists"),
    (lambda m: m.add_module("a.b", None), KeyError, 'module name can\'t contain ".", got: a.b'),
    (lambda m: m.add_module("x", 3), TypeError, "int is not a Module subclass"),
])
def test_registration_errors(call, error, message):
    with pytest.raises(error) as info:
        call(Custom())
    assert message in info.value.args[0]


def test_non_leaf_parameter_refused():
    m = nn.Module()
    x = ember.ones(2, requires_grad=True)
    bad = nn.Parameter(ember.ones(2))
    bad.grad_fn = (x * 2).grad_fn
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor to parameter 'p'"):
        m.register_parameter("p", bad)
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Custom.__new__(Custom).register_buffer("b", None)


def test_parameter():
    data = ember.tensor([1.0, 2.0])
    p = nn.Parameter(data)
    assert isinstance(p, ember.Tensor) and p.requires_grad and p.is_leaf
    p.data.mul_(3)  # shares memory with the given tensor
    assert data.tolist() == [3.0, 6.0]
    want = repr(tnn.Parameter(torch.tensor([1.0, 2.0])))
    assert repr(nn.Parameter(ember.tensor([1.0, 2.0]))) == torch_names(want)
    assert not nn.Parameter(ember.ones(2), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    assert type(p * 2) is ember.Tensor and type(p.detach()) is ember.Tensor
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(ember.tensor([1, 2]))
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad and q.tolist() == p.tolist()
    q.data.zero_()
    assert p.tolist() == [3.0, 6.0]


def test_deepcopy_module_keeps_parameters_separate():
    m = nn.Sequential(nn.Linear(2, 2))
    m2 = copy.deepcopy(m)
    with ember.no_grad():
        m2[0].weight.fill_(0.0)
    assert float(m[0].weight.abs().sum()) > 0
    assert isinstance(m2[0].weight, nn.Parameter)


def test_train_eval_zero_grad_requires_grad():
    m = build(ember)
    assert all(mod.training for mod in m.modules())
    assert m.eval() is m and not any(mod.training for mod in m.modules())
    m.train()
    assert all(mod.training for mod in m.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        m.train("yes")
    lin = nn.Linear(3, 2)
    lin(ember.ones(4, 3)).sum().backward()
    assert lin.weight.grad is not None
    grad = lin.weight.grad
    lin.zero_grad(set_to_none=False)
    assert lin.weight.grad is grad and float(grad.abs().sum()) == 0.0
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None
    assert lin.requires_grad_(False) is lin and not lin.weight.requires_grad
    lin.requires_grad_()
    assert lin.weight.requires_grad


def test_apply_order_and_get_submodule():
    e, t = build(ember), build(torch)
    seen_e, seen_t = [], []
    e.apply(lambda m: seen_e.append(type(m).__name__))
    t.apply(lambda m: seen_t.append(type(m).__name__))
    assert seen_e == seen_t
    assert e.get_submodule("body.0") is e.body[0]
    assert e.get_submodule("") is e
    assert e.get_parameter("heads.a.weight") is e.heads["a"].weight
    assert e.get_buffer("body.1.running_mean") is e.body[1].running_mean
    with pytest.raises(AttributeError, match="ModuleList has no attribute `9`"):
        e.get_submodule("body.9")
    with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
        e.get_submodule("heads.a.weight.x")


def test_forward_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    pre = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = lin(ember.ones(3, 2))
    assert calls == [(3, 2)]
    assert np.allclose(out.detach().numpy(), lin.bias.detach().numpy() + 1)
    pre.remove()
    post.remove()
    assert np.allclose(lin(ember.zeros(1, 2)).detach().numpy(), lin.bias.detach().numpy())
    lin.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] + 1,), kwargs), with_kwargs=True)
    lin.register_forward_hook(lambda m, args, kwargs, out: out * 0, with_kwargs=True, prepend=True)
    assert float(lin(ember.zeros(1, 2)).abs().sum()) == 0.0


def test_module_without_forward():
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required "forward"'):
        nn.Module()(1)


# ---------------------------------------------------------------------------- devices and dtypes


def test_to_double_keeps_parameter_objects_and_integer_buffers():
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    weight = m[0].weight
    m[0](ember.ones(4, 3)).sum().backward()
    assert m.to(ember.float64) is m
    assert m[0].weight is weight and weight.dtype == ember.float64
    assert weight.grad.dtype == ember.float64
    assert m[1].running_mean.dtype == ember.float64
    assert m[1].num_batches_tracked.dtype == ember.int64
    m.float()
    assert weight.dtype == ember.float32 and m[1].running_var.dtype == ember.float32
    m.double()
    assert weight.dtype == ember.float64
    m.to(ember.zeros(1, dtype=ember.float32))
    assert weight.dtype == ember.float32
    m.to("cpu", dtype=ember.float64)
    m.cpu()
    assert weight.dtype == ember.float64 and weight.device.type == "cpu"
    with pytest.raises(TypeError, match="only accepts floating point"):
        m.to(ember.int64)


def test_double_model_matches_torch_double():
    torch.manual_seed(0)
    e = build(ember).double().eval()
    t = build(torch).double().eval()
    copy_weights(e, t)
    idx = RNG.integers(0, 10, (5, 3))
    e_h = e.flat(e.embed(ember.tensor(idx)))
    t_h = t.flat(t.embed(torch.tensor(idx)))
    for e_layer, t_layer in zip(e.body, t.body):
        e_h, t_h = e_layer(e_h), t_layer(t_h)
    assert_close(e.act(e.heads["a"](e_h)), t.act(t.heads["a"](t_h)))


@pytest.mark.cuda
def test_cuda_round_trip(device):
    if device != "cuda":
        pytest.skip("GPU only")
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.GELU()).cuda()
    x = ember.randn(5, 3, device="cuda")
    out = m(x)
    out.sum().backward()
    assert out.device.type == "cuda" and m[0].weight.grad.device.type == "cuda"
    assert m.cpu()[0].weight.device.type == "cpu"


# ---------------------------------------------------------------------------- state dicts


def test_state_dict_round_trip_through_torch():
    torch.manual_seed(0)
    e, t = build(ember), build(torch)
    copy_weights(e, t)
    e2 = build(ember)
    result = e2.load_state_dict({k: to_ember(v) for k, v in t.state_dict().items()})
    assert repr(result) == "<All keys matched successfully>" == repr(t.load_state_dict(t.state_dict()))
    for (name, a), (_, b) in zip(e.state_dict().items(), e2.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    sd = e.state_dict()
    assert sd["body.0.weight"].requires_grad is False
    sd["body.0.weight"].zero_()  # shares memory with the parameter, as torch
    assert float(e.body[0].weight.abs().sum()) == 0.0
    assert e.state_dict(keep_vars=True)["body.0.weight"] is e.body[0].weight
    assert list(e.body.state_dict(prefix="x.")) == [f"x.{k}" for k in t.body.state_dict()]


def _error(module, state):
    with pytest.raises(RuntimeError) as info:
        module.load_state_dict(state)
    return str(info.value)


def test_load_state_dict_errors_match_torch():
    e, t = build(ember), build(torch)
    e_sd = OrderedDict((k, v) for k, v in e.state_dict().items())
    t_sd = OrderedDict((k, v) for k, v in t.state_dict().items())
    for sd, conv in ((e_sd, lambda v: v), (t_sd, lambda v: v)):
        del sd["heads.b.bias"]
        del sd["body.1.num_batches_tracked"]
        sd["extra.weight"] = conv(sd["body.0.bias"])
        sd["heads.zzz"] = conv(sd["body.0.bias"])
    e_sd["body.0.weight"] = ember.zeros(3, 12)
    t_sd["body.0.weight"] = torch.zeros(3, 12)
    e_msg, t_msg = _error(e, e_sd), _error(t, t_sd)
    assert "Missing key(s)" in e_msg and "size mismatch for body.0.weight" in e_msg
    assert e_msg == torch_names(t_msg)
    e_keys = e.load_state_dict({"heads.zzz": ember.zeros(1)}, strict=False)
    t_keys = t.load_state_dict({"heads.zzz": torch.zeros(1)}, strict=False)
    assert e_keys.missing_keys == t_keys.missing_keys
    assert e_keys.unexpected_keys == t_keys.unexpected_keys == ["heads.zzz"]
    assert repr(e_keys) == repr(t_keys)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        e.load_state_dict([1, 2])
    bad = dict(e.state_dict())
    bad["body.0.bias"] = [1.0]
    assert 'While copying the parameter named "body.0.bias"' in _error(e, bad)


def test_load_state_dict_assign_and_copies_values():
    lin = nn.Linear(2, 2)
    weight = lin.weight
    new = {"weight": ember.ones(2, 2), "bias": ember.zeros(2)}
    lin.load_state_dict(new)
    assert lin.weight is weight and lin.weight.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    new["weight"].fill_(5.0)
    assert lin.weight.tolist() == [[1.0, 1.0], [1.0, 1.0]]  # copied, not shared
    lin.load_state_dict(new, assign=True)
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.requires_grad
    assert lin.weight is not weight and lin.weight.tolist()[0] == [5.0, 5.0]


# ---------------------------------------------------------------------------- containers


def test_sequential_behaves_like_torch():
    for lib in (ember, torch):
        n = lib.nn
        seq = n.Sequential(n.Linear(2, 3), n.ReLU(), n.Linear(3, 1))
        assert len(seq) == 3 and isinstance(seq[-1], n.Linear)
        assert isinstance(seq[1:], n.Sequential) and len(seq[1:]) == 2
        assert [k for k, _ in seq[1:].named_children()] == ["1", "2"]
        seq.append(n.Tanh())
        seq.insert(0, n.Identity())
        assert [type(m).__name__ for m in seq] == ["Identity", "Linear", "ReLU", "Linear", "Tanh"]
        del seq[1]
        assert [k for k, _ in seq.named_children()] == ["0", "1", "2", "3"]
        assert type(seq.pop(0)).__name__ == "Identity"
        seq[0] = n.Linear(2, 3)
        seq.extend([n.Sigmoid()])
        seq += n.Sequential(n.Identity())
        assert len(seq + n.Sequential(n.ReLU())) == 6
        with pytest.raises(IndexError, match="index 10 is out of range"):
            seq[10]
    e = ember.nn.Sequential(ember.nn.Linear(2, 3), ember.nn.Tanh(), ember.nn.Linear(3, 1))
    t = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)).double()
    check_module(e.double(), t, [randn(4, 2)])


def test_modulelist_and_moduledict():
    e = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(e) == 3 and len(e[1:]) == 2 and e[-1] is e[2]
    e.insert(1, nn.ReLU())
    del e[0]
    assert [type(m).__name__ for m in e] == ["ReLU", "Linear", "Linear"]
    e += [nn.Tanh()]
    assert len(e + [nn.Tanh()]) == 5 and len(list(e.parameters())) == 4
    with pytest.raises(NotImplementedError):
        e(ember.ones(1))
    d = nn.ModuleDict({"a": nn.Linear(1, 1)})
    d["b"] = nn.ReLU()
    d.update([("c", nn.Tanh())])
    assert list(d) == ["a", "b", "c"] and "b" in d and len(d) == 3
    assert list(d.keys()) == ["a", "b", "c"] and isinstance(d.pop("b"), nn.ReLU)
    assert [k for k, _ in d.items()] == ["a", "c"] and len(list(d.values())) == 2
    d.clear()
    assert len(d) == 0


# ---------------------------------------------------------------------------- layers vs torch


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(dtype, bias):
    e = nn.Linear(4, 3, bias=bias, dtype=getattr(ember, dtype))
    t = tnn.Linear(4, 3, bias=bias, dtype=getattr(torch, dtype))
    check_module(e, t, [randn(5, 4, dtype=dtype)], dtype)
    check_module(e, t, [randn(2, 5, 4, dtype=dtype)], dtype)
    check_fn(lambda x, w, b: F.linear(x, w, b), lambda x, w, b: TF.linear(x, w, b),
             [randn(3, 4, dtype=dtype), randn(2, 4, dtype=dtype), randn(2, dtype=dtype)], dtype)


def test_bilinear_and_identity():
    e, t = nn.Bilinear(3, 2, 4).double(), tnn.Bilinear(3, 2, 4).double()
    check_module(e, t, [randn(5, 3), randn(5, 2)])
    x = ember.ones(2)
    assert nn.Identity(3, unused=True)(x) is x


ACTIVATIONS = [
    (nn.ReLU(), tnn.ReLU()), (nn.LeakyReLU(0.1), tnn.LeakyReLU(0.1)), (nn.ELU(), tnn.ELU()),
    (nn.ELU(alpha=0.3), tnn.ELU(alpha=0.3)), (nn.GELU(), tnn.GELU()),
    (nn.GELU("tanh"), tnn.GELU("tanh")), (nn.SiLU(), tnn.SiLU()), (nn.Sigmoid(), tnn.Sigmoid()),
    (nn.Tanh(), tnn.Tanh()), (nn.Softmax(dim=1), tnn.Softmax(dim=1)),
    (nn.LogSoftmax(dim=0), tnn.LogSoftmax(dim=0)), (nn.Softplus(), tnn.Softplus()),
    (nn.Softplus(beta=2.0, threshold=3.0), tnn.Softplus(beta=2.0, threshold=3.0)),
    (nn.Hardtanh(-0.5, 0.7), tnn.Hardtanh(-0.5, 0.7)), (nn.ReLU6(), tnn.ReLU6()),
    (nn.LogSigmoid(), tnn.LogSigmoid()), (nn.SELU(), tnn.SELU()), (nn.CELU(0.7), tnn.CELU(0.7)),
    (nn.Softsign(), tnn.Softsign()), (nn.Softmin(dim=1), tnn.Softmin(dim=1)),
    (nn.Hardswish(), tnn.Hardswish()), (nn.Hardshrink(0.4), tnn.Hardshrink(0.4)),
    (nn.Softshrink(0.4), tnn.Softshrink(0.4)), (nn.Tanhshrink(), tnn.Tanhshrink()),
    (nn.Threshold(0.1, 20.0), tnn.Threshold(0.1, 20.0)), (nn.GLU(1), tnn.GLU(1)),
]
# Values across both signs, large |x| (overflow paths) and exact kinks and thresholds.
ACT_INPUT = np.concatenate([RNG.standard_normal(14) * 3,
                            [-800.0, -40.0, -20.0, -1.0, 0.3, 1.6, 10.0, 30.0, 750.0, 6.5]]).reshape(4, 6)


@pytest.mark.parametrize("e, t", ACTIVATIONS, ids=[type(e).__name__ + repr(i) for i, (e, _) in
                                                     enumerate(ACTIVATIONS)])
def test_activation_modules_second_order(e, t):
    check_fn(e, t, [ACT_INPUT])
    check_fn(e, t, [ACT_INPUT.astype("float32")], "float32", order=1)


@pytest.mark.parametrize("name, args", [
    ("leaky_relu", (0.2,)), ("elu", (1.0,)), ("hardtanh", (-1.0, 1.0)), ("relu6", ()),
    ("softplus", (1.0, 20.0)), ("logsigmoid", ()), ("gelu", ()), ("relu", ()), ("silu", ()),
    ("hardswish", ()), ("hardshrink", (1.0,)), ("softshrink", (1.0,)),
    ("threshold", (1.0, 5.0)), ("selu", ()), ("celu", (1.0,)),
])
def test_kinks_and_thresholds_match_torch(name, args):
    """Exactly at the kink or threshold the one-sided derivative torch picks is Ember's too.

    Second derivatives only for the smooth ones: at elu's kink and softplus's threshold torch's
    double-backward formula uses the other side than its first derivative (a measure-zero set).
    """
    x = np.array([-1.0, 0.0, 1.0, 6.0, 20.0, -20.0, 3.0, -3.0])
    order = 1 if name in ("elu", "softplus", "selu", "celu") else 2
    check_fn(lambda v: getattr(F, name)(v, *args), lambda v: getattr(TF, name)(v, *args), [x], order=order)


def test_mish_and_hardsigmoid_as_torch():
    # torch has no second derivative of hardsigmoid, and its mish's is nan at x = 750 (exp
    # overflows in its softplus backward) where the true value, Ember's, is 0: first order there
    for e, t in [(nn.Mish(), tnn.Mish()), (nn.Hardsigmoid(), tnn.Hardsigmoid())]:
        check_fn(e, t, [ACT_INPUT], order=1)
        check_fn(e, t, [ACT_INPUT.astype("float32")], "float32", order=1)
    check_fn(nn.Mish(), tnn.Mish(), [np.clip(ACT_INPUT, -30, 30)])
    x = np.array([-3.0, -1.0, 0.0, 3.0, 2.9, -3.1])
    check_fn(F.hardsigmoid, TF.hardsigmoid, [x], order=1)


def test_prelu_learns_a_slope_per_channel_as_torch():
    for channels in (1, 3):
        e, t = nn.PReLU(channels).double(), tnn.PReLU(channels).double()
        assert repr(e) == repr(t)
        check_module(e, t, [randn(2, 3, 4) * 2])
    check_module(nn.PReLU().double(), tnn.PReLU().double(), [randn(5) * 2])
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel size"):
        nn.PReLU(3)(ember.ones(2, 4))


def test_more_activation_reprs_as_torch():
    pairs = [(nn.SELU(True), tnn.SELU(True)), (nn.CELU(0.5, True), tnn.CELU(0.5, True)),
             (nn.Hardshrink(0.3), tnn.Hardshrink(0.3)), (nn.GLU(), tnn.GLU()),
             (nn.Threshold(0.1, 2.0, True), tnn.Threshold(0.1, 2.0, True)),
             (nn.Softmin(0), tnn.Softmin(0)), (nn.Mish(), tnn.Mish())]
    for e, t in pairs:
        assert repr(e) == repr(t)
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is size 3"):
        F.glu(ember.ones(2, 3), 1)


def test_inplace_activations():
    for name in ("relu", "leaky_relu", "elu", "silu", "hardtanh", "selu", "mish", "hardswish"):
        x = ember.tensor(ACT_INPUT)
        out = getattr(F, name)(x, inplace=True)
        want = getattr(TF, name)(torch.tensor(ACT_INPUT))
        assert out is x
        assert_close(x, want)
    x = ember.tensor(ACT_INPUT, requires_grad=True)
    y = x * 1.0
    nn.ReLU(inplace=True)(y)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (ACT_INPUT > 0).astype(float))


def test_gelu_erf_second_order_and_bad_mode():
    check_fn(F.gelu, TF.gelu, [randn(3, 4) * 4])
    with pytest.raises(RuntimeError, match="approximate"):
        F.gelu(ember.ones(1), approximate="fast")


def test_softmax_implicit_dim_warns_like_torch():
    x = randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        e = F.softmax(ember.tensor(x))
    with pytest.warns(UserWarning):
        t = TF.softmax(torch.tensor(x))
    assert_close(e, t)


def test_flatten_unflatten():
    check_module(nn.Flatten(), tnn.Flatten(), [randn(2, 3, 4)])
    check_module(nn.Flatten(0, 1), tnn.Flatten(0, 1), [randn(2, 3, 4)])
    check_module(nn.Unflatten(1, (3, 2)), tnn.Unflatten(1, (3, 2)), [randn(4, 6)])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"affine": False},
                                    {"track_running_stats": False}, {"momentum": 0.3, "eps": 1e-3},
                                    {"bias": False}])
def test_batchnorm1d_train_eval(dtype, kwargs):
    e = nn.BatchNorm1d(3, **kwargs, dtype=getattr(ember, dtype))
    t = tnn.BatchNorm1d(3, **kwargs, dtype=getattr(torch, dtype))
    if e.weight is not None:
        with ember.no_grad():
            e.weight.uniform_(0.5, 1.5)
            if e.bias is not None:
                e.bias.normal_()
    copy_weights(e, t)
    tol = (1e-4, 1e-5) if dtype == "float32" else None  # gradients sum to ~0: cancellation
    for shape in [(6, 3), (4, 3, 5), (5, 3)]:
        x = randn(*shape, dtype=dtype) * 2 + 1
        check_module(e, t, [x], dtype, tol=tol)
        e.zero_grad()
        t.zero_grad()
    for (name, a), (_, b) in zip(e.state_dict().items(), t.state_dict().items()):
        assert_close(a, b, dtype, name)
    e.eval()
    t.eval()
    check_module(e, t, [randn(4, 3, dtype=dtype)], dtype)


def test_batchnorm2d_and_errors():
    e, t = nn.BatchNorm2d(2).double(), tnn.BatchNorm2d(2).double()
    check_module(e, t, [randn(3, 2, 4, 5)])
    check_module(e, t, [randn(3, 2, 4, 5)])
    assert_close(e.running_var, t.running_var)
    assert int(e.num_batches_tracked) == 2
    e.eval()
    t.eval()
    check_module(e, t, [randn(2, 2, 3, 3)])
    with pytest.raises(ValueError, match=re.escape("expected 4D input (got 2D input)")):
        e(ember.ones(2, 2))
    with pytest.raises(ValueError, match=re.escape("expected 2D or 3D input (got 4D input)")):
        nn.BatchNorm1d(2)(ember.ones(1, 2, 3, 3))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(2)(ember.ones(1, 2))


def test_batch_norm_functional_second_order():
    rm, rv = randn(3), np.abs(randn(3)) + 0.5

    def run(lib_f, lib):
        return lambda x, w, b: lib_f.batch_norm(x, lib.tensor(rm), lib.tensor(rv), w, b, training=True)

    check_fn(run(F, ember), run(TF, torch), [randn(4, 3, 2), randn(3), randn(3)])
    check_fn(lambda x: F.batch_norm(x, ember.tensor(rm), ember.tensor(rv)),
             lambda x: TF.batch_norm(x, torch.tensor(rm), torch.tensor(rv)), [randn(4, 3)])


@pytest.mark.parametrize("shape, normalized", [((4, 5), 5), ((2, 3, 4), (3, 4)), ((2, 6), [6])])
def test_layernorm(shape, normalized):
    e, t = nn.LayerNorm(normalized).double(), tnn.LayerNorm(normalized).double()
    with ember.no_grad():
        e.weight.normal_()
        e.bias.normal_()
    check_module(e, t, [randn(*shape)])
    check_fn(lambda x, w, b: F.layer_norm(x, w.shape, w, b), lambda x, w, b: TF.layer_norm(x, w.shape, w, b),
             [randn(*shape), randn(*e.normalized_shape), randn(*e.normalized_shape)])
    check_module(nn.LayerNorm(normalized, elementwise_affine=False),
                 tnn.LayerNorm(normalized, elementwise_affine=False), [randn(*shape, dtype="float32")],
                 "float32", tol=(1e-5, 1e-5))
    with pytest.raises(RuntimeError, match=re.escape("Given normalized_shape=[7]")):
        F.layer_norm(ember.ones(2, 3), (7,))


def test_embedding():
    e, t = nn.Embedding(6, 3, padding_idx=1).double(), tnn.Embedding(6, 3, padding_idx=1).double()
    assert e.weight[1].tolist() == [0.0, 0.0, 0.0]
    idx = np.array([[0, 1, 2, 2], [5, 1, 0, 2]])
    copy_weights(e, t)
    e_out, t_out = e(ember.tensor(idx)), t(torch.tensor(idx))
    assert_close(e_out, t_out)
    cot = randn(2, 4, 3)
    e_out.backward(ember.tensor(cot))
    t_out.backward(torch.tensor(cot))
    assert_close(e.weight.grad, t.weight.grad)
    assert e.weight.grad[1].tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices'"):
        e(ember.ones(2))
    with pytest.raises(IndexError):
        e(ember.tensor([7]))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)


@pytest.mark.parametrize("kwargs", [{"max_norm": 1.0}, {"max_norm": 0.5, "norm_type": 1.0},
                                    {"scale_grad_by_freq": True}, {"padding_idx": -1}])
def test_embedding_options(kwargs):
    e, t = nn.Embedding(5, 4, **kwargs).double(), tnn.Embedding(5, 4, **kwargs).double()
    copy_weights(e, t)
    idx = np.array([0, 2, 2, 4, 2, 3])
    e_out, t_out = e(ember.tensor(idx)), t(torch.tensor(idx))
    assert_close(e_out, t_out)
    assert_close(e.weight, t.weight, what="weights after renormalisation")
    cot = randn(6, 4)
    e_out.backward(ember.tensor(cot))
    t_out.backward(torch.tensor(cot))
    assert_close(e.weight.grad, t.weight.grad)


def test_embedding_from_pretrained():
    w = ember.tensor(randn(4, 2))
    e = nn.Embedding.from_pretrained(w)
    assert not e.weight.requires_grad and repr(e) == "Embedding(4, 2)"
    with ember.no_grad():
        e.weight[0] = 9.0
    assert w[0].tolist() == [9.0, 9.0]  # shares memory with the given tensor, as torch
    e2 = nn.Embedding.from_pretrained(w, freeze=False, padding_idx=0)
    assert e2.weight.requires_grad and e2.weight[0].tolist() == [9.0, 9.0]
    assert_close(e(ember.tensor([3, 0])), tnn.Embedding.from_pretrained(to_torch(w))(torch.tensor([3, 0])))


def test_one_hot_and_normalize():
    idx = np.array([[0, 3], [2, 1]])
    got = F.one_hot(ember.tensor(idx), 5)
    want = TF.one_hot(torch.tensor(idx), 5)
    assert got.dtype == ember.int64
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal(F.one_hot(ember.tensor(idx)).numpy(), TF.one_hot(torch.tensor(idx)).numpy())
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(ember.tensor([4]), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(ember.tensor([-1]), 3)
    x = randn(3, 4)
    x[1] = 0.0  # torch's second derivative is nan at a zero vector; the first is 0 in both
    check_fn(lambda v: F.normalize(v), lambda v: TF.normalize(v), [x], order=1)
    check_fn(lambda v: F.normalize(v), lambda v: TF.normalize(v), [randn(3, 4)])
    check_fn(lambda v: F.normalize(v, p=1.0, dim=0), lambda v: TF.normalize(v, p=1.0, dim=0), [randn(3, 4)])


# ---------------------------------------------------------------------------- dropout


def test_dropout_training_statistics_and_gradient():
    ember.manual_seed(7)
    x = ember.ones(200, 100, requires_grad=True)
    out = F.dropout(x, 0.3)
    kept = out.detach().numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(out.detach().numpy()[kept], 1 / 0.7)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.7)
    ember.manual_seed(7)
    again = F.dropout(ember.ones(200, 100), 0.3)
    np.testing.assert_array_equal(again.numpy(), out.detach().numpy())


def test_dropout_module_modes():
    drop = nn.Dropout(0.5)
    x = ember.ones(50, 40)
    assert float((drop(x) == 0).float().mean()) > 0.3
    drop.eval()
    assert drop(x) is x
    assert float(F.dropout(x, 1.0).abs().sum()) == 0.0
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 0.5, training=False) is x
    y = ember.ones(10, 10)
    assert nn.Dropout(0.5, inplace=True)(y) is y and float((y == 0).float().sum()) > 0
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="but got -0.1"):
        F.dropout(x, -0.1)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.dropout(ember.ones(2, requires_grad=True), 0.5, inplace=True)


def test_training_step_matches_torch():
    """One small model, identical weights, five SGD steps by hand: identical parameters."""
    e = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 3)).double()
    t = tnn.Sequential(tnn.Linear(4, 8), tnn.LayerNorm(8), tnn.GELU(), tnn.Linear(8, 3)).double()
    copy_weights(e, t)
    x, y = randn(16, 4), RNG.integers(0, 3, 16)
    for _ in range(5):
        for model, lib, xx, yy in ((e, ember, ember.tensor(x), ember.tensor(y)),
                                   (t, torch, torch.tensor(x), torch.tensor(y))):
            model.zero_grad()
            lib.nn.functional.cross_entropy(model(xx), yy).backward()
            with lib.no_grad():
                for p in model.parameters():
                    p -= 0.1 * p.grad
    for (name, a), (_, b) in zip(e.state_dict().items(), t.state_dict().items()):
        assert_close(a, b, what=name)


def _parameter_containers(L):
    m = L.nn.Module()
    m.ps = L.nn.ParameterList([L.nn.Parameter(L.ones(3, 4)), L.zeros(5)])
    m.ps.append(L.ones(2))
    m.ps += [L.ones(1)]
    m.pd = L.nn.ParameterDict({"a": L.nn.Parameter(L.ones(2)), "b": L.zeros(3)})
    m.pd["c"] = L.ones(1)
    return m


def test_parameter_list_and_dict_as_torch():
    e, t = _parameter_containers(ember), _parameter_containers(torch)
    assert repr(e).replace("ember.", "torch.") == repr(t)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert list(e.state_dict()) == list(t.state_dict())
    assert all(type(p) is ember.nn.Parameter and p.requires_grad for p in e.parameters())
    assert e.ps[-1].shape == (1,) and len(e.ps) == 4 and list(e.pd) == ["a", "b", "c"]
    assert repr(ember.nn.ParameterList()) == "ParameterList()"
    assert e.pd.pop("c").shape == (1,) and "c" not in e.pd and len(e.pd) == 2
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an iterable"):
        e.ps.extend(ember.ones(2))


def test_parameters_in_a_list_train():
    class Scaled(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = ember.nn.ParameterList([ember.ones(1) for _ in range(3)])

        def forward(self, x):
            for s in self.scales:
                x = x * s
            return x

    model = Scaled()
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    loss = (model(ember.tensor([2.0])) - 8.0).pow(2).sum()
    loss.backward()
    opt.step()
    assert all(s.item() > 1.0 for s in model.scales)


def _hooked_linear_run(L):
    lin = L.nn.Linear(3, 2)
    with L.no_grad():
        lin.weight.copy_(L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
        lin.bias.copy_(L.tensor([0.5, -0.5]))
    seen = []

    def full(module, grad_input, grad_output):
        seen.append(("full", [None if g is None else g.tolist() for g in grad_input],
                     [g.tolist() for g in grad_output]))
        return (grad_input[0] * 2,) if grad_input[0] is not None else None

    def pre(module, grad_output):
        seen.append(("pre", [g.tolist() for g in grad_output]))
        return (grad_output[0] * 3,)

    lin.register_full_backward_hook(full)
    removed = lin.register_full_backward_pre_hook(lambda m, g: seen.append("removed"))
    lin.register_full_backward_pre_hook(pre)
    removed.remove()
    x = L.tensor([[1.0, -1.0, 2.0]], requires_grad=True)
    (lin(x) ** 2).sum().backward()
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        lin(L.tensor([[1.0, 0.0, 0.0]])).sum().backward()
    return seen, x.grad.tolist(), lin.weight.grad.tolist()


def test_full_backward_hooks_see_and_replace_gradients_as_torch():
    assert _hooked_linear_run(ember) == _hooked_linear_run(torch)


def test_backward_hooks_refuse_two_inputs_that_need_grad():
    bilinear = ember.nn.Bilinear(2, 2, 1)
    bilinear.register_full_backward_hook(lambda m, gi, go: None)
    a, b = ember.ones(1, 2, requires_grad=True), ember.ones(1, 2, requires_grad=True)
    with pytest.raises(NotImplementedError, match="at most one tensor that requires grad"):
        bilinear(a, b)
    bilinear(a, ember.ones(1, 2)).sum().backward()  # one is fine


@pytest.mark.parametrize("make", [
    lambda n: n.GroupNorm(2, 4), lambda n: n.GroupNorm(4, 4, affine=False),
    lambda n: n.GroupNorm(1, 4, eps=1e-3, bias=False), lambda n: n.RMSNorm(5),
    lambda n: n.RMSNorm((4, 5), eps=1e-6), lambda n: n.RMSNorm(5, elementwise_affine=False),
])
def test_group_and_rms_norm_as_torch(make):
    e, t = make(nn).double(), make(tnn).double()
    assert repr(e) == repr(t)
    with torch.no_grad():
        for p in t.parameters():
            p.uniform_(0.5, 1.5)
    check_module(e, t, [randn(3, 4, 5) * 2 + 1])


def test_group_norm_refuses_indivisible_channels():
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(ember.ones(2, 3, 4), 2)


@pytest.mark.parametrize("name, args, shape", [
    ("ZeroPad2d", (1,), (2, 3, 4, 5)), ("ZeroPad1d", ((1, 2),), (2, 3, 4)),
    ("ConstantPad2d", (1, 3.5), (2, 3, 4, 5)), ("ConstantPad1d", ((0, 2), -1.0), (3, 4)),
    ("ReflectionPad2d", ((1, 0, 2, 1),), (2, 3, 4, 5)), ("ReflectionPad1d", (2,), (2, 3, 4)),
    ("ReplicationPad2d", (1,), (2, 3, 4, 5)), ("ReplicationPad1d", ((2, 1),), (2, 3, 4)),
    ("CircularPad2d", (1,), (2, 3, 4, 5)), ("PixelShuffle", (2,), (2, 8, 3, 4)),
    ("PixelUnshuffle", (2,), (2, 3, 4, 6)), ("PixelShuffle", (3,), (9, 2, 2)),
])
def test_padding_and_pixel_shuffle_layers_as_torch(name, args, shape):
    e, t = getattr(nn, name)(*args), getattr(tnn, name)(*args)
    assert repr(e) == repr(t)
    check_module(e, t, [randn(*shape)])
