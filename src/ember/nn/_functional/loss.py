"""Margin losses, the triplet loss with any distance, and CTC (torch.nn.functional's
multi_margin_loss, multilabel_margin_loss, triplet_margin_with_distance_loss, ctc_loss), as
compositions of Ember ops, so every derivative order works."""
from __future__ import annotations

from typing import Callable

from ... import backend, dtypes
from ...creation import arange, tensor
from ...ops import elementwise as E
from ...ops import index as I
from ...ops import reduce as R
from ...ops import shape as S
from ...ops.registry import declare
from ...tensor import Tensor
from .. import functional as F


def _check_class_target(op: str, input: Tensor, target: Tensor) -> None:
    if target.is_floating_point() or target.dtype == dtypes.bool_:
        raise RuntimeError(f"{op}: expected scalar type Long but found "
                           f"{str(target.dtype).split('.')[-1]} for the target")
    if input.ndim not in (1, 2) or input.numel() == 0 and input.ndim == 1:
        raise RuntimeError(f"{op}: Expected non-empty vector or matrix with optional 0-dim batch "
                           f"size, but got: {list(input.shape)}")


def _require_classes(target: Tensor, classes: int, low: int = 0) -> None:
    if target.numel():
        ok = E.logical_and(E.ge(R.amin(target), low), E.lt(R.amax(target), classes))
        backend.require(ok._data, lambda: RuntimeError("target out of range"))


@declare(namespaces=("ember.nn.functional",))
def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: ``sum_{j != y} max(0, margin - x[y] + x[j])^p / C`` per sample,
    scaled by ``weight[y]``."""
    reduction = F._reduction(reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    _check_class_target("multi_margin_loss", input, target)
    x = input if input.ndim == 2 else S.unsqueeze(input, 0)
    y = S.reshape(target, (-1,))
    if y.shape[0] != x.shape[0]:
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of "
            f"input samples (batch size). Expected target size [{x.shape[0]}], but got "
            f"{list(target.shape)}. Input has shape {list(input.shape)}.")
    classes = x.shape[1]
    _require_classes(y, classes)
    picked = I.gather(x, 1, S.unsqueeze(y, 1))
    hinge = E.clamp(E.add(E.sub(x, picked), margin), min=0)
    if p == 2:
        hinge = E.mul(hinge, hinge)
    if weight is not None:
        hinge = E.mul(hinge, S.unsqueeze(I.index_select(weight, 0, y), 1))
    others = E.ne(S.unsqueeze(arange(classes, device=x.device), 0), S.unsqueeze(y, 1))
    loss = E.div(R.sum(E.where(others, hinge, 0.0), 1), classes)
    if input.ndim == 1:
        loss = S.squeeze(loss, 0)
    return F._reduce(loss, reduction)


@declare(namespaces=("ember.nn.functional",))
def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss: for each target class j (listed in ``target`` up to the first -1)
    and each non-target class i, ``max(0, 1 - (x[j] - x[i])) / C``."""
    reduction = F._reduction(reduction, size_average, reduce)
    _check_class_target("multilabel_margin_loss", input, target)
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    x = input if input.ndim == 2 else S.unsqueeze(input, 0)
    y = target if target.ndim == 2 else S.unsqueeze(target, 0)
    classes = x.shape[1]
    listed = E.eq(R.cumsum(E.cast(E.eq(y, -1), dtypes.int64), 1), 0)
    if y.numel():
        low = E.where(listed, y, 0)
        ok = E.logical_and(E.ge(R.amin(low), 0), E.lt(R.amax(low), classes))
        backend.require(ok._data, lambda: RuntimeError("argument #2 'target' is out of range"))
    hits = E.logical_and(E.eq(S.unsqueeze(y, -1), arange(classes, device=x.device)),
                         S.unsqueeze(listed, -1))
    counts = R.sum(E.cast(hits, x.dtype), 1)  # (N, C): how often each class is listed
    is_target = E.gt(counts, 0)
    margins = E.clamp(E.add(E.sub(S.unsqueeze(x, 1), S.unsqueeze(x, 2)), 1.0), min=0)  # [n, j, i]
    pairs = E.mul(S.unsqueeze(counts, 2), S.unsqueeze(E.cast(E.logical_not(is_target), x.dtype), 1))
    loss = E.div(R.sum(E.mul(margins, pairs), (1, 2)), classes)
    if input.ndim == 1:
        loss = S.squeeze(loss, 0)
    return F._reduce(loss, reduction)


@declare(namespaces=("ember.nn.functional",))
def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Callable | None = None,
                                      margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` for any distance ``d`` (pairwise L2 by default)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {anchor.ndim}D, positive "
                           f"{positive.ndim}D, and negative {negative.ndim}D inputs")
    distance = distance_function if distance_function is not None else F.pairwise_distance
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = E.minimum(d_neg, distance(positive, negative))
    return F._reduce(E.clamp(E.add(E.sub(d_pos, d_neg), margin), min=0), reduction)


# ---------------------------------------------------------------------------- CTC


def _as_list(lengths, name: str, count: int) -> list[int]:
    values = lengths.tolist() if isinstance(lengths, Tensor) else lengths
    values = [int(v) for v in (values if isinstance(values, (list, tuple)) else [values])]
    if len(values) != count:
        raise RuntimeError(f"ctc_loss: expected {name} to have {count} entries (one per batch "
                           f"element), got {len(values)}")
    return values


def _padded_targets(targets: Tensor, target_lengths: list[int], batch: int) -> list[list[int]]:
    """Each sample's labels, from a padded (N, S) tensor or a concatenated 1-D one."""
    if targets.ndim == 2:
        if targets.shape[0] != batch:
            raise RuntimeError(f"Expected tensor to have size {batch} at dimension 0, but got size "
                               f"{targets.shape[0]} for argument #2 'targets' (while checking "
                               "arguments for ctc_loss)")
        width = max(target_lengths, default=0)
        if width > targets.shape[1]:
            raise RuntimeError(f"Expected tensor to have size at least {width} at dimension 1, but "
                               f"got size {targets.shape[1]} for argument #2 'targets' (while "
                               "checking arguments for ctc_loss)")
        rows = targets.tolist()
        return [rows[n][:length] for n, length in enumerate(target_lengths)]
    flat = targets.reshape(-1).tolist()
    if sum(target_lengths) != len(flat):
        raise RuntimeError(f"ctc_loss: target_lengths sum to {sum(target_lengths)}, but the "
                           f"concatenated targets hold {len(flat)} labels")
    out, start = [], 0
    for length in target_lengths:
        out.append(flat[start:start + length])
        start += length
    return out


def _feasible(labels: list[int], steps: int) -> bool:
    """Whether ``steps`` frames can emit ``labels`` (a repeated label needs a blank between)."""
    repeats = sum(1 for a, b in zip(labels, labels[1:]) if a == b)
    return steps >= len(labels) + repeats


def _shift(alpha: Tensor, by: int) -> Tensor:
    """``alpha`` moved ``by`` places to the right along the last dim, zeros coming in."""
    return S.cat([E.mul(alpha[:, :by], 0.0), alpha[:, :-by]], 1)


def _step(alpha: Tensor, skip: Tensor) -> Tensor:
    """One frame of the lattice: stay, move one place, or (where ``skip``) jump a blank."""
    width = alpha.shape[1]
    if width == 1:
        return alpha
    moved = E.add(alpha, _shift(alpha, 1))
    if width == 2:
        return moved
    return E.add(moved, E.where(skip, _shift(alpha, 2), 0.0))


@declare(namespaces=("ember.nn.functional",))
def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist temporal classification: ``-log`` of the total probability of the
    alignments of each target sequence with the (T, N, C) log-probabilities.

    The forward (alpha) recursion runs in probability space, rescaled at every frame (the
    log of the scales adds up to the log-likelihood), so it is made of plain Ember ops and
    differentiable to any order. Sequences no alignment fits give ``inf`` (0 with
    ``zero_infinity``).
    """
    reduction = F._reduction(reduction)
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = S.unsqueeze(log_probs, 1)
        targets = S.unsqueeze(targets, 0) if targets.ndim == 1 else targets
    if log_probs.ndim != 3:
        raise RuntimeError(f"ctc_loss: expected log_probs of shape (T, N, C) or (T, C), got "
                           f"{list(log_probs.shape)}")
    steps, batch, _ = log_probs.shape
    in_lens = _as_list(input_lengths, "input_lengths", batch)
    tgt_lens = _as_list(target_lengths, "target_lengths", batch)
    for length in in_lens:
        if length > steps:
            raise RuntimeError(f"Expected input_lengths to have value at most {steps}, but got "
                               f"value {length} (while checking arguments for ctc_loss)")
    labels = _padded_targets(targets, tgt_lens, batch)
    feasible = [_feasible(lab, t) for lab, t in zip(labels, in_lens)]
    labels = [lab if ok else [] for lab, ok in zip(labels, feasible)]
    width = 2 * max((len(lab) for lab in labels), default=0) + 1
    extended = [[blank] * width for _ in labels]  # blank, l1, blank, l2, ..., blank
    for row, lab in zip(extended, labels):
        row[1:2 * len(lab):2] = lab
    skip = [[s >= 2 and row[s] != blank and row[s] != row[s - 2] for s in range(width)]
            for row in extended]
    inside = [[s <= 2 * len(lab) for s in range(width)] for lab in labels]
    device = log_probs.device
    index = S.expand(S.unsqueeze(tensor(extended, dtype=dtypes.int64, device=device), 0),
                     (steps, batch, width))
    emit = E.where(tensor(inside, device=device), E.exp(I.gather(log_probs, 2, index)), 0.0)
    skip = tensor(skip, device=device)
    alpha = E.where(S.unsqueeze(E.lt(arange(width, device=device), 2), 0), emit[0], 0.0)
    scale = R.sum(alpha, 1, keepdim=True)
    log_like = S.squeeze(E.log(scale), 1)
    alpha = E.div(alpha, scale)
    lengths = tensor(in_lens, device=device)
    for t in range(1, steps):
        new = E.mul(_step(alpha, skip), emit[t])
        scale = R.sum(new, 1, keepdim=True)
        active = E.gt(lengths, t)
        alpha = E.where(S.unsqueeze(active, 1), E.div(new, scale), alpha)
        log_like = E.add(log_like, E.where(active, S.squeeze(E.log(scale), 1), 0.0))
    ends = [[s in (2 * len(lab), 2 * len(lab) - 1) for s in range(width)] for lab in labels]
    final = R.sum(E.where(tensor(ends, device=device), alpha, 0.0), 1)
    loss = E.neg(E.add(log_like, E.log(final)))
    no_frames = tensor([t == 0 for t in in_lens], device=device)
    loss = E.where(no_frames, 0.0, loss)  # no frames emit an empty target with probability 1
    impossible = 0.0 if zero_infinity else float("inf")
    loss = E.where(tensor(feasible, device=device), loss, impossible)
    if reduction == "mean":
        divisor = tensor([max(n, 1) for n in tgt_lens], dtype=loss.dtype, device=device)
        return R.mean(E.div(loss, divisor))
    if unbatched and reduction == "none":
        return S.squeeze(loss, 0)
    return F._reduce(loss, reduction)
