"""Every loss against torch: values, input (and target) gradients, second derivatives, all options."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import ember
import ember.nn as nn
import ember.nn.functional as F
from nn_compare import check_fn, to_torch

RNG = np.random.default_rng(99)
REDUCTIONS = ["mean", "sum", "none"]


def randn(*shape, dtype="float64"):
    return RNG.standard_normal(shape).astype(dtype)


def probs(*shape, dtype="float64"):
    return RNG.uniform(0.05, 0.95, shape).astype(dtype)


def fn_pair(name: str, **kwargs):
    """The functional loss ``name`` in Ember and torch, with the same keyword arguments; tensors in
    ``kwargs`` are NumPy arrays converted for each side."""
    def side(lib, module):
        def call(*args):
            kw = {k: lib.tensor(v).to(args[0].dtype) if isinstance(v, np.ndarray) else v
                  for k, v in kwargs.items()}
            return getattr(module, name)(*args, **kw)
        return call
    return side(ember, F), side(torch, TF)


# ---------------------------------------------------------------------------- regression losses


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kwargs", [
    ("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.3}),
    ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {}), ("huber_loss", {"delta": 0.4}),
])
def test_regression_losses(name, kwargs, reduction):
    x, y = randn(4, 5), randn(4, 5)
    e, t = fn_pair(name, reduction=reduction, **kwargs)
    check_fn(e, t, [x, y])
    check_fn(e, t, [x.astype("float32"), y.astype("float32")], "float32", order=1)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_weighted_regression_losses(name, reduction):
    w = RNG.uniform(0.1, 2.0, (3, 4))
    e, t = fn_pair(name, reduction=reduction, weight=w)
    check_fn(e, t, [randn(3, 4), randn(3, 4)])
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        getattr(F, name)(ember.ones(3, 4), ember.ones(3, 4), weight=ember.ones(4))


def test_regression_modules_and_legacy_flags():
    x, y = randn(3, 2), randn(3, 2)
    cases = [(nn.MSELoss(), tnn.MSELoss()), (nn.L1Loss(reduction="sum"), tnn.L1Loss(reduction="sum")),
             (nn.SmoothL1Loss(beta=0.5), tnn.SmoothL1Loss(beta=0.5)),
             (nn.HuberLoss(reduction="none", delta=0.7), tnn.HuberLoss(reduction="none", delta=0.7)),
             (nn.MSELoss(size_average=False), tnn.MSELoss(size_average=False)),
             (nn.L1Loss(reduce=False), tnn.L1Loss(reduce=False))]
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        nn.L1Loss(size_average=True)
    for e, t in cases:
        assert e.reduction == t.reduction
        check_fn(e, t, [x, y])
    with pytest.warns(UserWarning, match="target size"):
        F.mse_loss(ember.ones(3, 1), ember.ones(3))
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.mse_loss(ember.ones(2), ember.ones(2), reduction="bad")


def test_regression_kinks():
    """|d| exactly at 0 and at beta/delta: torch's choice of one-sided derivative."""
    x = np.array([0.0, 1.0, -1.0, 0.5, 2.0])
    y = np.zeros(5)
    for name, kw in (("l1_loss", {}), ("smooth_l1_loss", {"beta": 1.0}), ("huber_loss", {"delta": 1.0})):
        check_fn(*fn_pair(name, reduction="none", **kw), [x, y], order=1)


# ---------------------------------------------------------------------------- binary cross-entropy


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce(reduction, weighted):
    kw = {"weight": RNG.uniform(0.5, 2.0, (5,))} if weighted else {}
    e, t = fn_pair("binary_cross_entropy", reduction=reduction, **kw)
    x, y = probs(3, 5), probs(3, 5)
    check_fn(e, t, [x, y], order=1)
    # torch's double backward puts its eps inside the denominator: ~1e-10 off the exact value.
    check_fn(e, t, [x, y], tol=(1e-8, 1e-12))
    check_fn(e, t, [probs(3, 5, dtype="float32"), RNG.integers(0, 2, (3, 5)).astype("float32")], "float32",
             order=1)


def test_bce_at_zero_and_one_is_finite_like_torch():
    """log(0) is floored at -100 and the gradient divides by max(x(1-x), 1e-12), as torch."""
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-300, 0.5])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.0, 1.0])
    e, t = fn_pair("binary_cross_entropy", reduction="none")
    check_fn(e, t, [x, y], order=1)
    out = F.binary_cross_entropy(ember.tensor(x), ember.tensor(y), reduction="none")
    assert out.tolist()[2] == 100.0


def test_bce_errors():
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy(ember.ones(3), ember.ones(3, 1))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(ember.tensor([1.5]), ember.tensor([1.0]))
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        F.binary_cross_entropy(ember.tensor([0.5]), ember.tensor([2.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", ["plain", "weight", "pos_weight", "both"])
def test_bce_with_logits(reduction, options):
    kw = {}
    if options in ("weight", "both"):
        kw["weight"] = RNG.uniform(0.5, 2.0, (4, 1))
    if options in ("pos_weight", "both"):
        kw["pos_weight"] = RNG.uniform(0.5, 3.0, (3,))
    e, t = fn_pair("binary_cross_entropy_with_logits", reduction=reduction, **kw)
    logits = np.concatenate([randn(3, 3) * 3, [[-800.0, 0.0, 700.0]]])
    check_fn(e, t, [logits, probs(4, 3)])
    check_fn(e, t, [logits.astype("float32"), RNG.integers(0, 2, (4, 3)).astype("float32")], "float32",
             order=1)


def test_bce_with_logits_is_stable_for_large_logits():
    x = ember.tensor([-1000.0, -100.0, 100.0, 1000.0], dtype=ember.float32, requires_grad=True)
    y = ember.tensor([1.0, 0.0, 1.0, 0.0], dtype=ember.float32)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    want = TF.binary_cross_entropy_with_logits(to_torch(x), to_torch(y), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), want.numpy(), atol=1e-40)
    assert loss.tolist()[0] == 1000.0 and loss.tolist()[3] == 1000.0
    loss.sum().backward()
    tx = to_torch(x, requires_grad=True)
    TF.binary_cross_entropy_with_logits(tx, to_torch(y), reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-40)
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, 0.0, 0.0, 1.0], atol=1e-40)
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(ember.ones(2), ember.ones(3))


def test_bce_modules_register_weight_buffers():
    w, pw = ember.tensor([1.0, 2.0]), ember.tensor([3.0, 0.5])
    e = nn.BCEWithLogitsLoss(weight=w, pos_weight=pw)
    t = tnn.BCEWithLogitsLoss(weight=to_torch(w), pos_weight=to_torch(pw))
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight", "pos_weight"]
    assert e.pos_weight is pw
    x, y = randn(5, 2).astype("float32"), probs(5, 2, dtype="float32")
    check_fn(e, t, [x, y], "float32", order=1)
    e, t = nn.BCELoss(weight=w, reduction="sum"), tnn.BCELoss(weight=to_torch(w), reduction="sum")
    check_fn(e, t, [probs(5, 2, dtype="float32"), y], "float32", order=1)


# ---------------------------------------------------------------------------- classification


def index_target(shape, classes, ignore=None):
    t = RNG.integers(0, classes, shape)
    if ignore is not None:
        t.flat[::3] = ignore
    return t


SHAPES = [((6, 4), (6,)), ((4,), ()), ((3, 4, 2, 5), (3, 2, 5)), ((2, 3, 4), (2, 4))]


@pytest.mark.parametrize("input_shape, target_shape", SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"weight": True}, {"ignore_index": 1}, {"label_smoothing": 0.2},
                                     {"weight": True, "ignore_index": 2, "label_smoothing": 0.15}])
def test_cross_entropy_with_class_indices(input_shape, target_shape, reduction, options):
    classes = input_shape[0] if len(input_shape) == 1 else input_shape[1]
    kw = dict(options, reduction=reduction)
    if kw.pop("weight", False):
        kw["weight"] = RNG.uniform(0.2, 2.0, classes)
    target = index_target(target_shape, classes, kw.get("ignore_index"))
    e, t = fn_pair("cross_entropy", **kw)
    check_fn(lambda x: e(x, ember.tensor(target)), lambda x: t(x, torch.tensor(target)),
             [randn(*input_shape) * 2])
    x32 = randn(*input_shape, dtype="float32")
    check_fn(lambda x: e(x, ember.tensor(target)), lambda x: t(x, torch.tensor(target)), [x32], "float32",
             order=1)
    if "label_smoothing" not in kw:
        nll_kw = {k: v for k, v in kw.items() if k != "label_smoothing"}
        e, t = fn_pair("nll_loss", **nll_kw)
        logp = np.log(RNG.dirichlet(np.ones(classes), int(np.prod(target_shape, dtype=int))))
        logp = np.moveaxis(logp.reshape(target_shape + (classes,)), -1, min(1, len(target_shape))).copy()
        check_fn(lambda x: e(x, ember.tensor(target)), lambda x: t(x, torch.tensor(target)), [logp])


@pytest.mark.parametrize("input_shape", [(5, 3), (3,), (2, 3, 4)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"weight": True}, {"label_smoothing": 0.3},
                                     {"weight": True, "label_smoothing": 0.1}])
def test_cross_entropy_with_class_probabilities(input_shape, reduction, options):
    classes = input_shape[0] if len(input_shape) == 1 else input_shape[1]
    kw = dict(options, reduction=reduction)
    if kw.pop("weight", False):
        kw["weight"] = RNG.uniform(0.2, 2.0, classes)
    target = RNG.dirichlet(np.ones(classes), int(np.prod(input_shape)) // classes)
    if len(input_shape) > 1:  # class probabilities along dim 1
        target = np.moveaxis(target.reshape((input_shape[0],) + input_shape[2:] + (classes,)), -1, 1)
    target = np.ascontiguousarray(target.reshape(input_shape))
    check_fn(*fn_pair("cross_entropy", **kw), [randn(*input_shape), target])


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x, y = randn(3, 4), np.full(3, -100)
    for smoothing in (0.0, 0.1):
        e_x, t_x = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        e = F.cross_entropy(e_x, ember.tensor(y), label_smoothing=smoothing)
        t = TF.cross_entropy(t_x, torch.tensor(y), label_smoothing=smoothing)
        assert np.isnan(e.item()) and np.isnan(t.item())
        e.backward()
        t.backward()
        np.testing.assert_array_equal(e_x.grad.numpy(), t_x.grad.numpy())
    assert F.cross_entropy(ember.tensor(x), ember.tensor(y), reduction="sum").item() == 0.0


def test_cross_entropy_is_stable_for_large_logits():
    x = ember.tensor([[1000.0, -1000.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, ember.tensor([1]))
    assert loss.item() == 2000.0
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, -1.0, 0.0]])


def test_classification_modules():
    w = RNG.uniform(0.5, 1.5, 4)
    x, y = randn(5, 4), index_target((5,), 4, -1)
    cases = [(nn.CrossEntropyLoss(ignore_index=-1), tnn.CrossEntropyLoss(ignore_index=-1)),
             (nn.CrossEntropyLoss(weight=ember.tensor(w), ignore_index=-1, label_smoothing=0.1),
              tnn.CrossEntropyLoss(weight=torch.tensor(w), ignore_index=-1, label_smoothing=0.1)),
             (nn.NLLLoss(reduction="sum", ignore_index=-1), tnn.NLLLoss(reduction="sum", ignore_index=-1)),
             (nn.NLLLoss(weight=ember.tensor(w), ignore_index=-1),
              tnn.NLLLoss(weight=torch.tensor(w), ignore_index=-1))]
    for e, t in cases:
        assert list(e.state_dict()) == list(t.state_dict())
        check_fn(lambda v: e(v, ember.tensor(y)), lambda v: t(v, torch.tensor(y)), [x])


@pytest.mark.parametrize("call, error, message", [
    (lambda f, lib: f.cross_entropy(lib.ones(3, 4), lib.tensor([0, 1])), ValueError,
     "Expected input batch_size (3) to match target batch_size (2)."),
    (lambda f, lib: f.cross_entropy(lib.ones(3, 4), lib.tensor([0, 1, 4])), IndexError,
     "Target 4 is out of bounds."),
    (lambda f, lib: f.nll_loss(lib.ones(3, 4), lib.tensor([0, -2, 1])), IndexError,
     "Target -2 is out of bounds."),
    (lambda f, lib: f.cross_entropy(lib.ones(3, 4), lib.tensor([0, 1, 2]), weight=lib.ones(3)), RuntimeError,
     "weight tensor should be defined either for all 4 classes or no classes"),
    (lambda f, lib: f.cross_entropy(lib.ones(3, 4), lib.ones(3, 4), ignore_index=1), RuntimeError,
     "ignore_index is not supported for floating point target"),
    (lambda f, lib: f.cross_entropy(lib.ones(3, 4), lib.tensor([0, 1, 2]), label_smoothing=1.5), RuntimeError,
     "label_smoothing must be between 0.0 and 1.0"),
])
def test_classification_errors_match_torch(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        call(TF, torch)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        call(F, ember)


_RNG2 = np.random.default_rng(7)
_A, _B, _C = (_RNG2.standard_normal((4, 5)) for _ in range(3))
_SIGNS = np.sign(_RNG2.standard_normal((4, 5)))
_PAIR_SIGNS = np.array([1.0, -1.0, 1.0, -1.0])
_PROBS = np.abs(_B) / np.abs(_B).sum(1, keepdims=True)
_COUNTS = np.round(np.abs(_B) * 3)

# (name, module arguments, inputs with gradients, targets held constant, order): each checked
# against torch's own module to second order (the first for losses with kinks, where torch's
# second derivative takes a side). Targets get no gradient: torch refuses some, and where it
# allows them its full Poisson term has nan at targets of 0 and 1.
MORE_LOSSES = [
    ("KLDivLoss", {"reduction": "batchmean"}, [_A], [_PROBS], 2),
    ("KLDivLoss", {"reduction": "sum", "log_target": True}, [_A, _B], [], 2),
    ("MarginRankingLoss", {"margin": 0.3}, [_A[:, 0], _B[:, 0]], [_PAIR_SIGNS], 1),
    ("HingeEmbeddingLoss", {"margin": 0.5}, [_A], [_SIGNS], 1),
    ("SoftMarginLoss", {}, [_A], [_SIGNS], 2),
    ("CosineEmbeddingLoss", {"margin": 0.1}, [_A, _B], [_PAIR_SIGNS], 1),
    ("TripletMarginLoss", {"swap": True}, [_A, _B, _C], [], 1),
    ("PoissonNLLLoss", {"full": True}, [_A], [_COUNTS], 2),
    ("PoissonNLLLoss", {"log_input": False}, [np.abs(_A) + 0.1], [_COUNTS], 2),
    ("GaussianNLLLoss", {"full": True}, [_A, _B, np.abs(_C) + 0.1], [], 2),
    ("MultiLabelSoftMarginLoss", {}, [_A], [(_B > 0).astype(float)], 2),
    ("CosineSimilarity", {"dim": 1}, [_A, _B], [], 2),
    ("PairwiseDistance", {"p": 3.0}, [_A, _B], [], 2),
]


@pytest.mark.parametrize("name, kwargs, arrays, targets, order", MORE_LOSSES,
                         ids=[f"{m[0]}{i}" for i, m in enumerate(MORE_LOSSES)])
def test_more_losses_and_distances_as_torch(name, kwargs, arrays, targets, order):
    e, t = getattr(ember.nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(e) == repr(t)
    check_fn(lambda *xs: e(*xs, *(ember.tensor(c) for c in targets)),
             lambda *xs: t(*xs, *(torch.tensor(c) for c in targets)), arrays, order=order)
