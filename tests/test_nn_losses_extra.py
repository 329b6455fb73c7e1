"""EmbeddingBag and issue 24's losses (multi-margin, multi-label margin, triplet with a
distance, CTC) against torch: values, gradients, and second derivatives where torch has them."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck
from nn_compare import assert_close, check_fn, check_module

RNG = np.random.default_rng(11)


def randn(*shape, dtype="float64"):
    return RNG.standard_normal(shape).astype(dtype)


def both(*arrays):
    return [ember.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


# ---------------------------------------------------------------------------- EmbeddingBag

BAGS = [
    (np.array([[1, 2, 4, 5], [4, 3, 2, 9]]), None, {}),
    (np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 3, 3, 5]), {}),  # an empty bag
    (np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 3, 3, 8]), {"include_last_offset": True}),
    (np.array([1, 2, 4, 5, 4, 3, 2, 9, 2]), np.array([0, 4]), {"padding_idx": 2}),
    (np.array([[2, 2], [1, 2]]), None, {"padding_idx": 2}),  # a bag of padding only
    (np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 0, 3, 8, 8]), {}),  # empty first/last
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("bags, offsets, kwargs", BAGS)
def test_embedding_bag_functional(bags, offsets, kwargs, mode, dtype):
    (ei, *eo), (ti, *to) = both(bags, *([] if offsets is None else [offsets]))
    eo, to = (eo[0], to[0]) if eo else (None, None)
    check_fn(lambda w: F.embedding_bag(ei, w, eo, mode=mode, **kwargs),
             lambda w: TF.embedding_bag(ti, w, to, mode=mode, **kwargs), [randn(10, 3, dtype=dtype)],
             dtype)


def test_embedding_bag_per_sample_weights():
    (ei, eo), (ti, to) = both(BAGS[1][0], BAGS[1][1])
    check_fn(lambda w, p: F.embedding_bag(ei, w, eo, mode="sum", per_sample_weights=p),
             lambda w, p: TF.embedding_bag(ti, w, to, mode="sum", per_sample_weights=p),
             [randn(10, 3), randn(8)], order=1)  # torch has no second derivative here


@pytest.mark.parametrize("kwargs", [{}, {"mode": "sum", "padding_idx": -2},
                                    {"mode": "max", "max_norm": 1.0},
                                    {"max_norm": 0.5, "norm_type": 1.0}])
def test_embedding_bag_module(kwargs):
    e, t = nn.EmbeddingBag(10, 3, **kwargs).double(), torch.nn.EmbeddingBag(10, 3, **kwargs).double()
    assert repr(e) == repr(t)
    bags = np.array([[1, 2, 8, 8], [8, 3, 2, 1]])
    check_module(e, t, [bags])
    assert_close(e.weight, t.weight)  # max_norm renormalises the rows in place
    pre = nn.EmbeddingBag.from_pretrained(ember.tensor(randn(4, 2)), mode="sum")
    assert not pre.weight.requires_grad and pre.mode == "sum"


def test_embedding_bag_scale_grad_by_freq():
    """Each row's gradient is divided by how often its index occurs in the whole input, as
    ``F.embedding`` does. torch's embedding_bag mismatches its counts and indices here (for
    [[3, 1], [1, 1]] it scales index 3 by 1/3), so the reference is the embedding form."""
    bags = ember.tensor([[3, 1], [1, 1], [2, 3]])
    w1 = ember.tensor(randn(5, 2), requires_grad=True)
    w2 = ember.tensor(w1.detach().numpy(), requires_grad=True)
    cot = ember.tensor(randn(3, 2))
    (F.embedding_bag(bags, w1, mode="sum", scale_grad_by_freq=True) * cot).sum().backward()
    (F.embedding(bags, w2, scale_grad_by_freq=True).sum(1) * cot).sum().backward()
    assert_close(w1.grad, w2.grad)


def test_embedding_bag_errors():
    w = ember.zeros(5, 2)
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(ember.tensor([1, 2]), w)
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        F.embedding_bag(ember.tensor([[1, 2]]), w, ember.tensor([0]))
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        F.embedding_bag(ember.tensor([[1, 2]]), w, mode="min")
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for mode='sum'"):
        F.embedding_bag(ember.tensor([[1, 2]]), w, per_sample_weights=ember.ones(1, 2))
    with pytest.raises(ValueError, match="max mode does not support scaling"):
        F.embedding_bag(ember.tensor([[1, 2]]), w, mode="max", scale_grad_by_freq=True)
    with pytest.raises(ValueError, match="weight has to be a 2D Tensor"):
        F.embedding_bag(ember.tensor([[1, 2]]), ember.zeros(5))
    with pytest.raises(AssertionError, match="padding_idx must be within num_embeddings"):
        nn.EmbeddingBag(3, 2, padding_idx=3)
    with pytest.raises(RuntimeError, match="found idx to be 20"):
        F.embedding_bag(ember.tensor([1, 20]), w, ember.tensor([0]))
    with pytest.raises(RuntimeError, match="found idx to be -1"):
        F.embedding_bag(ember.tensor([[1, -1]]), w)
    with pytest.raises(RuntimeError, match="Long, Int; but got .*embedding_bag"):
        F.embedding_bag(ember.tensor([1.0, 2.0]), w, ember.tensor([0]))


# ---------------------------------------------------------------------------- margin losses


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss(p, reduction):
    y, w = np.array([1, 0, 4, 2]), np.abs(randn(5))
    (ey, ew), (ty, tw) = both(y, w)
    check_fn(lambda x: F.multi_margin_loss(x, ey, p=p, margin=0.7, weight=ew, reduction=reduction),
             lambda x: TF.multi_margin_loss(x, ty, p=p, margin=0.7, weight=tw, reduction=reduction),
             [randn(4, 5)], order=1)  # torch has no second derivative here
    check_fn(lambda x: F.multi_margin_loss(x, ember.tensor(2), p=p, reduction=reduction),
             lambda x: TF.multi_margin_loss(x, torch.tensor(2), p=p, reduction=reduction),
             [randn(5)], order=1)
    e, t = nn.MultiMarginLoss(p, 0.5, ew), torch.nn.MultiMarginLoss(p, 0.5, tw)
    assert repr(e) == repr(t) and list(e.state_dict()) == list(t.state_dict())
    check_module(e, t, [randn(4, 5), y])


def test_multi_margin_loss_second_derivative_by_finite_differences():
    x = ember.tensor(randn(3, 4), requires_grad=True)
    y = ember.tensor([0, 3, 1])
    assert gradcheck(lambda v: F.multi_margin_loss(v, y, p=2), (x,))


def test_multi_margin_loss_errors():
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="expected weight to be None or 1D tensor, got 2D"):
        nn.MultiMarginLoss(weight=ember.ones(2, 2))
    with pytest.raises(RuntimeError, match=r"Expected target size \[3\], but got \[2\]"):
        F.multi_margin_loss(ember.zeros(3, 4), ember.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multi_margin_loss(ember.zeros(3, 4), ember.tensor([1, 2, 4]))
    with pytest.raises(RuntimeError, match="expected scalar type Long"):
        F.multi_margin_loss(ember.zeros(3, 4), ember.tensor([1.0, 2.0, 0.0]))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_multilabel_margin_loss(reduction):
    y = np.array([[1, 2, -1, 3, 0], [4, -1, 1, 1, 1], [0, 1, 2, 3, 4], [-1, 0, 0, 0, 0],
                  [3, 3, -1, 0, 0]])
    check_fn(lambda x: F.multilabel_margin_loss(x, ember.tensor(y), reduction=reduction),
             lambda x: TF.multilabel_margin_loss(x, torch.tensor(y), reduction=reduction),
             [randn(5, 5)], order=1)
    check_fn(lambda x: F.multilabel_margin_loss(x, ember.tensor(y[0]), reduction=reduction),
             lambda x: TF.multilabel_margin_loss(x, torch.tensor(y[0]), reduction=reduction),
             [randn(5)], order=1)
    check_module(nn.MultiLabelMarginLoss(reduction=reduction),
                 torch.nn.MultiLabelMarginLoss(reduction=reduction), [randn(5, 5), y])
    with pytest.raises(RuntimeError, match=r"inconsistent target size: \[2\] for input of size"):
        F.multilabel_margin_loss(ember.zeros(3, 4), ember.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="'target' is out of range"):
        F.multilabel_margin_loss(ember.zeros(1, 3), ember.tensor([[0, 5, -1]]))


@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance_loss(swap):
    arrays = [randn(4, 3) for _ in range(3)]
    check_fn(lambda a, p, n: nn.TripletMarginWithDistanceLoss(swap=swap, margin=0.5)(a, p, n),
             lambda a, p, n: torch.nn.TripletMarginWithDistanceLoss(swap=swap, margin=0.5)(a, p, n),
             arrays)
    check_fn(lambda a, p, n: F.triplet_margin_with_distance_loss(
                 a, p, n, distance_function=lambda u, v: 1 - F.cosine_similarity(u, v), swap=swap,
                 reduction="none"),
             lambda a, p, n: TF.triplet_margin_with_distance_loss(
                 a, p, n, distance_function=lambda u, v: 1 - TF.cosine_similarity(u, v), swap=swap,
                 reduction="none"), arrays)
    assert repr(nn.TripletMarginWithDistanceLoss()) == repr(torch.nn.TripletMarginWithDistanceLoss())
    with pytest.raises(ValueError, match="expected margin to be greater than 0, got 0"):
        nn.TripletMarginWithDistanceLoss(margin=0)
    with pytest.raises(RuntimeError, match="anchor 2D, positive 1D, and negative 2D"):
        F.triplet_margin_with_distance_loss(ember.zeros(2, 3), ember.zeros(3), ember.zeros(2, 3))


# ---------------------------------------------------------------------------- CTC

LOGITS = randn(6, 3, 5)
TARGETS = np.array([[1, 2, 2], [3, 1, 0], [4, 4, 4]])
INPUT_LENGTHS, TARGET_LENGTHS = [6, 5, 6], [3, 2, 1]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_ctc_loss_through_log_softmax(reduction, dtype):
    """torch's CTC gradient is only right for log_probs that come from a log_softmax (it folds
    that step's derivative in), so gradients are compared with respect to the logits."""
    check_fn(lambda x: F.ctc_loss(x.log_softmax(2), ember.tensor(TARGETS), INPUT_LENGTHS,
                                  TARGET_LENGTHS, reduction=reduction),
             lambda x: TF.ctc_loss(x.log_softmax(2), torch.tensor(TARGETS), INPUT_LENGTHS,
                                   TARGET_LENGTHS, reduction=reduction),
             [LOGITS.astype(dtype)], dtype, order=1)


def test_ctc_loss_layouts_blank_and_module():
    flat = np.array([1, 2, 2, 3, 1, 4])
    (ef, ei, et), (tf, ti, tt) = both(flat, np.array(INPUT_LENGTHS), np.array(TARGET_LENGTHS))
    check_fn(lambda x: F.ctc_loss(x.log_softmax(2), ef, ei, et),
             lambda x: TF.ctc_loss(x.log_softmax(2), tf, ti, tt), [LOGITS], order=1)
    check_fn(lambda x: F.ctc_loss(x.log_softmax(1), ember.tensor(TARGETS[0]), (6,), (3,), blank=3),
             lambda x: TF.ctc_loss(x.log_softmax(1), torch.tensor(TARGETS[0]), (6,), (3,), blank=3),
             [LOGITS[:, 0]], order=1)
    e, t = nn.CTCLoss(blank=4, reduction="sum"), torch.nn.CTCLoss(blank=4, reduction="sum")
    assert repr(e) == repr(t)
    targets = TARGETS - 1 * (TARGETS == 4)
    check_fn(lambda x: e(x.log_softmax(2), ember.tensor(targets), INPUT_LENGTHS, TARGET_LENGTHS),
             lambda x: t(x.log_softmax(2), torch.tensor(targets), INPUT_LENGTHS, TARGET_LENGTHS),
             [LOGITS], order=1)


@pytest.mark.parametrize("input_lengths", [[5, 3, 5], [5, 0, 5]])
def test_ctc_loss_empty_targets_and_inputs(input_lengths):
    targets, target_lengths = np.array([[1, 2], [0, 0], [3, 3]]), [2, 0, 2]
    check_fn(lambda x: F.ctc_loss(x.log_softmax(2), ember.tensor(targets), input_lengths,
                                  target_lengths, reduction="none"),
             lambda x: TF.ctc_loss(x.log_softmax(2), torch.tensor(targets), input_lengths,
                                   target_lengths, reduction="none"), [randn(5, 3, 4)], order=1)


def test_ctc_loss_is_differentiable_twice():
    x = ember.tensor(randn(4, 2, 3), requires_grad=True)
    targets = ember.tensor([[1, 2], [1, 1]])
    assert gradcheck(lambda v: F.ctc_loss(v, targets, [4, 4], [2, 2]), (x,))
    assert ember.autograd.gradgradcheck(lambda v: F.ctc_loss(v, targets, [4, 4], [2, 2]), (x,))


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_impossible_alignments(zero_infinity):
    targets = np.array([[1, 1, 1], [3, 1, 0], [4, 4, 4]])
    args = ([4, 5, 6], [3, 2, 3])
    e = F.ctc_loss(ember.tensor(LOGITS).log_softmax(2), ember.tensor(targets), *args,
                   reduction="none", zero_infinity=zero_infinity)
    t = TF.ctc_loss(torch.tensor(LOGITS).log_softmax(2), torch.tensor(targets), *args,
                    reduction="none", zero_infinity=zero_infinity)
    assert_close(e, t)


def test_ctc_loss_errors():
    lp = ember.zeros(5, 2, 4)
    with pytest.raises(RuntimeError, match="Expected input_lengths to have value at most 5"):
        F.ctc_loss(lp, ember.tensor([[1, 2], [1, 1]]), [5, 6], [2, 2])
    with pytest.raises(RuntimeError, match="Expected tensor to have size at least 3 at dimension 1"):
        F.ctc_loss(lp, ember.tensor([[1, 2], [1, 1]]), [5, 5], [3, 2])
    with pytest.raises(RuntimeError, match="Expected tensor to have size 2 at dimension 0"):
        F.ctc_loss(lp, ember.tensor([[1, 2]]), [5, 5], [2, 2])
