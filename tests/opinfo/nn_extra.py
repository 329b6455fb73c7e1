"""Samples of issue 24's nn.functional ops: 3-D convolution and pools, the ``*_with_indices``
pools, unpooling, LP and fractional max pooling, grid sampling, instance and local response
norms, embedding bags, margin, triplet and CTC losses, and the random activations.

The shapes are those of the layers' own tests (tests/test_nn_layers_extra.py,
test_nn_losses_extra.py, test_nn_misc_layers.py, test_grid_sample.py). Random ops are sampled
where they are deterministic (``training=False``, ``p`` of 0 or 1; gumbel_softmax where the
logits' gaps swamp the noise); their distributions are checked in test_nn_misc_layers.py.
Max pools are sampled without ties (see vision.py).
"""
from __future__ import annotations

import numpy as np

from .nn import F, constant_args
from .specs import S, T, V, fixed, op

VIS, N, A, B, LOSS = "vision", "nn", "activation", "normalization", "loss"
_RNG = np.random.default_rng(24)


def _uniform(*shape: int) -> list:
    """Fixed draws in [0, 1) as a nested list (fractional pooling's ``_random_samples``)."""
    return _RNG.uniform(size=shape).tolist()


def _unpool_indices(batch: int, channels: int, size: tuple) -> V:
    """Valid flat indices of a 2-wide, stride-2 max pool over ``size``: one position per window."""
    out = tuple(s // 2 for s in size)
    windows = np.stack(np.meshgrid(*(np.arange(o) for o in out), indexing="ij"), -1)
    picks = _RNG.integers(0, 2, (batch, channels) + out + (len(size),))
    where = 2 * windows + picks
    return V(np.ravel_multi_index(np.moveaxis(where, -1, 0), size).tolist())


# ---------------------------------------------------------------------------- 3-D conv and pools

op("conv_transpose3d", F("conv_transpose3d"), fixed(
    S(T(1, 3, 2, 3, 2), T(3, 2, 2, 2, 2), stride=2),
    S(T(2, 2, 2, 3, 2), T(2, 3, 2, 2, 2), T(3), stride=2, output_padding=1),
    S(T(4, 2, 3, 2), T(4, 1, 1, 2, 3), None, groups=2, dilation=(1, 2, 1)),
), VIS)
op("max_pool3d", F("max_pool3d"), fixed(
    S(T(1, 2, 3, 4, 3, domain="distinct"), 2, 1),
    S(T(2, 2, 4, 4, 4, domain="distinct"), 2, return_indices=True),
    S(T(1, 2, 4, 5, 6, domain="distinct"), (2, 3, 2), 1, 1, (1, 1, 2), ceil_mode=True),
), VIS, notes="the gradient goes to each window's first maximum, as torch")
op("avg_pool3d", F("avg_pool3d"), fixed(
    S(T(1, 2, 4, 4, 4), 2),
    S(T(2, 2, 3, 4, 3), 2, 1, 1, count_include_pad=False),
    S(T(1, 2, 5, 6, 7), 3, 2, ceil_mode=True, divisor_override=5),
), VIS)
op("adaptive_avg_pool3d", F("adaptive_avg_pool3d"), fixed(
    S(T(2, 1, 5, 4, 3), (2, 3, 1)), S(T(2, 3, 5, 4, 7), (2, None, 3)),
), VIS)
op("adaptive_max_pool3d", F("adaptive_max_pool3d"), fixed(
    S(T(2, 2, 4, 6, 4, domain="distinct"), 2),
    S(T(3, 5, 3, 5, domain="distinct"), (3, 2, 1)),
    S(T(2, 2, 4, 5, 6, domain="distinct"), (3, 2, 4), True),
), VIS)

# ---------------------------------------------------------------------------- pools with indices

for _dims, _shape in ((1, (2, 3, 9)), (2, (2, 3, 7, 6)), (3, (1, 2, 4, 5, 6))):
    op(f"max_pool{_dims}d_with_indices", F(f"max_pool{_dims}d_with_indices"), fixed(
        S(T(*_shape, domain="distinct"), 3, 2, 1),
        S(T(*_shape[1:], domain="distinct"), 2, ceil_mode=True),
    ), VIS)
    op(f"adaptive_max_pool{_dims}d_with_indices", F(f"adaptive_max_pool{_dims}d_with_indices"),
       fixed(S(T(*_shape, domain="distinct"), 2)), VIS)

# ---------------------------------------------------------------------------- unpool, LP, fractional

for _dims, _size in ((1, (6,)), (2, (4, 4)), (3, (4, 2, 4))):
    _pooled = tuple(s // 2 for s in _size)
    op(f"max_unpool{_dims}d", F(f"max_unpool{_dims}d"), fixed(
        S(T(2, 3, *_pooled), _unpool_indices(2, 3, _size), 2),
        S(T(2, 3, *_pooled), _unpool_indices(2, 3, _size), 2, output_size=_size),
        S(T(2, 3, *_pooled), _unpool_indices(2, 3, _size), 2, output_size=(2, 3) + _size),
    ), VIS)
    _shape = (2, 3) + (6, 5, 4)[:_dims]
    op(f"lp_pool{_dims}d", F(f"lp_pool{_dims}d"), fixed(
        S(T(*_shape, domain="positive"), 2, 3),
        S(T(*_shape, domain="positive"), 3.0, 3, 1),
        S(T(*_shape, domain="positive"), 1, 3, 2, ceil_mode=True),
    ), VIS)

_FRACTIONAL_NOTES = "the random window offsets are passed in (_random_samples)"
_SAMPLES_2D, _SAMPLES_3D = _uniform(2, 3, 2), _uniform(2, 2, 3)
for _name in ("fractional_max_pool2d", "fractional_max_pool2d_with_indices"):
    op(_name, constant_args(F(_name), keys=("_random_samples",)), fixed(
        S(T(2, 3, 9, 8, domain="distinct"), 2, output_size=(4, 5), _random_samples=_SAMPLES_2D),
        S(T(2, 3, 9, 8, domain="distinct"), (2, 3), output_ratio=(0.5, 0.6),
          _random_samples=_SAMPLES_2D),
        S(T(2, 3, 9, 8, domain="distinct"), 3, 3, return_indices=True, _random_samples=_SAMPLES_2D),
    ), VIS, notes=_FRACTIONAL_NOTES)
for _name in ("fractional_max_pool3d", "fractional_max_pool3d_with_indices"):
    op(_name, constant_args(F(_name), keys=("_random_samples",)), fixed(
        S(T(2, 2, 6, 5, 7, domain="distinct"), 2, output_size=(3, 2, 4),
          _random_samples=_SAMPLES_3D),
        S(T(2, 2, 6, 5, 7, domain="distinct"), (1, 2, 3), 2, return_indices=True,
          _random_samples=_SAMPLES_3D),
    ), VIS, notes=_FRACTIONAL_NOTES)

# ---------------------------------------------------------------------------- grid sampling

op("affine_grid", F("affine_grid"), fixed(
    S(T(2, 2, 3), (2, 3, 4, 5), False), S(T(2, 2, 3), (2, 1, 1, 3), False),
    S(T(2, 3, 4), (2, 3, 4, 2, 5), True), S(T(2, 3, 4), (2, 1, 3, 1, 2), False),
), VIS)
op("grid_sample", F("grid_sample"), fixed(
    S(T(2, 3, 4, 5), T(2, 3, 4, 2), "bilinear", "zeros", False),
    S(T(2, 3, 4, 5), T(2, 3, 4, 2, domain="unit"), "bilinear", "border", True),
    S(T(2, 3, 4, 5), T(2, 3, 4, 2), "bilinear", "reflection", False),
), VIS)
op("grid_sample(first order)", F("grid_sample"), fixed(
    S(T(2, 3, 4, 5), T(2, 3, 4, 2), "nearest", "zeros", True),
    S(T(2, 3, 4, 5), T(2, 3, 4, 2), "bicubic", "reflection", False),
    S(T(2, 3, 4, 5), T(2, 3, 4, 2, domain="unit"), "bicubic", "border", True),
    S(T(2, 2, 3, 4, 3), T(2, 2, 3, 2, 3), "bilinear", "zeros", False),
    S(T(2, 2, 3, 4, 3), T(2, 2, 3, 2, 3), "nearest", "reflection", True),
), VIS, gradgrad=False, tol={"float32": (1e-4, 1e-5)},
   notes="torch has no second derivative for nearest, bicubic and 5-D sampling; bicubic's "
         "16 float32 taps round differently from torch's")

# ---------------------------------------------------------------------------- layers

op("channel_shuffle", F("channel_shuffle"), fixed(
    S(T(2, 6, 3), 3), S(T(1, 4, 2, 2), 2), S(T(2, 6, 1, 2, 2), 6),
), N)
_BAG_NOTES = "empty bags, padding-only bags, include_last_offset; max mode without ties"
_BAG_READS = ("it checks that offsets[0] is 0, as torch's CPU kernel (and max mode lays the "
              "bags out as long as the longest)")
op("embedding_bag", F("embedding_bag"), fixed(
    S(V([[1, 2, 4, 5], [4, 3, 2, 9]]), T(10, 3)),
    S(V([1, 2, 4, 5, 4, 3, 2, 9]), T(10, 3), V([0, 3, 3, 5]), mode="sum"),
    S(V([1, 2, 4, 5, 4, 3, 2, 9]), T(10, 3, domain="distinct"), V([0, 3, 3, 8]), mode="max",
      include_last_offset=True),
    S(V([1, 2, 4, 5, 4, 3, 2, 9, 2]), T(10, 3), V([0, 4]), padding_idx=2),
    S(V([[2, 2], [1, 2]]), T(10, 3, domain="distinct"), mode="max", padding_idx=2),
    S(V([1, 2, 4, 5, 4, 3, 2, 9]), T(10, 3), V([0, 0, 3, 8, 8])),
), N, notes=_BAG_NOTES, host_reads=_BAG_READS)
op("embedding_bag(per_sample_weights)", F("embedding_bag"), fixed(
    S(V([1, 2, 4, 5, 4, 3, 2, 9]), T(10, 3), V([0, 3, 3, 5]), mode="sum",
      per_sample_weights=T(8)),
), N, gradgrad=False, notes="torch has no second derivative for per_sample_weights",
   host_reads=_BAG_READS)

# ---------------------------------------------------------------------------- normalisation

op("instance_norm", constant_args(F("instance_norm"), 1, 2), fixed(
    S(T(2, 3, 4), weight=T(3), bias=T(3)),
    S(T(3, 2, 4, 5)),
    S(T(2, 2, 3, 2, 3), eps=1e-3),
    S(T(2, 3, 5), [0.1, -0.2, 0.3], [1.0, 1.5, 0.7], use_input_stats=False),
    S(T(2, 3, 4), [0.1, -0.2, 0.3], [1.0, 1.5, 0.7], T(3), T(3), momentum=0.3),
), B)
op("local_response_norm", F("local_response_norm"), fixed(
    S(T(2, 5, 4), 3, 0.3, 0.6, 1.5),
    S(T(1, 4, 3, 3), 2, 0.3, 0.6, 1.5),
    S(T(2, 6, 2, 2, 3), 5, 0.3, 0.6, 1.5),
    S(T(2, 3, 4), 1, 0.3, 0.6, 1.5),
    S(T(2, 4, 3), 3, 0.5),
    S(T(0, 3, 2), 2),
), B)

# ---------------------------------------------------------------------------- losses

_NO_SECOND = "torch has no second derivative here, so Ember's (a composite's) goes unchecked"
op("multi_margin_loss", constant_args(F("multi_margin_loss"), keys=("weight",)), fixed(
    S(T(4, 5), V([1, 0, 4, 2]), margin=0.7, weight=[0.5, 1.0, 1.5, 0.2, 0.8]),
    S(T(4, 5), V([1, 0, 4, 2]), p=2, margin=0.7, weight=[0.5, 1.0, 1.5, 0.2, 0.8],
      reduction="none"),
    S(T(5), V(2), p=2, reduction="sum"),
    S(T(5), V(2), reduction="none"),
), LOSS, gradgrad=False, notes=_NO_SECOND)
_LABELS = [[1, 2, -1, 3, 0], [4, -1, 1, 1, 1], [0, 1, 2, 3, 4], [-1, 0, 0, 0, 0], [3, 3, -1, 0, 0]]
op("multilabel_margin_loss", F("multilabel_margin_loss"), fixed(
    S(T(5, 5), V(_LABELS)), S(T(5, 5), V(_LABELS), reduction="none"),
    S(T(5), V(_LABELS[0]), reduction="sum"),
), LOSS, gradgrad=False, notes=_NO_SECOND)
op("triplet_margin_with_distance_loss", F("triplet_margin_with_distance_loss"), fixed(
    S(T(4, 3), T(4, 3), T(4, 3)), S(T(4, 3), T(4, 3), T(4, 3), swap=True, margin=0.5),
    S(T(3), T(3), T(3), reduction="sum"),
), LOSS)
op("triplet_margin_with_distance_loss(cosine)",
   lambda m, a, p, n, **kw: m.nn.functional.triplet_margin_with_distance_loss(
       a, p, n, distance_function=lambda u, v: 1 - m.nn.functional.cosine_similarity(u, v), **kw),
   fixed(S(T(4, 3), T(4, 3), T(4, 3), reduction="none"),
         S(T(4, 3), T(4, 3), T(4, 3), swap=True, reduction="none")), LOSS)

_TARGETS = [[1, 2, 2], [3, 1, 0], [4, 4, 4]]
op("ctc_loss", lambda m, x, *args, **kw: m.nn.functional.ctc_loss(x.log_softmax(-1), *args, **kw),
   fixed(
       S(T(6, 3, 5), V(_TARGETS), [6, 5, 6], [3, 2, 1]),
       S(T(6, 3, 5), V(_TARGETS), [6, 5, 6], [3, 2, 1], reduction="sum"),
       S(T(6, 3, 5), V(_TARGETS), [6, 5, 6], [3, 2, 1], reduction="none"),
       S(T(6, 3, 5), V([1, 2, 2, 3, 1, 4]), V([6, 5, 6]), V([3, 2, 1])),
       S(T(6, 5), V([1, 2, 2]), (6,), (3,), blank=3),
       S(T(5, 3, 4), V([[1, 2], [0, 0], [3, 3]]), [5, 0, 5], [2, 0, 2], reduction="none"),
       S(T(6, 3, 5), V([[1, 1, 1], [3, 1, 0], [4, 4, 4]]), [4, 5, 6], [3, 2, 3],
         reduction="none", zero_infinity=True),
   ), LOSS, gradgrad=False,
   host_reads="the lengths and targets lay out the alignment lattice (torch takes the lengths "
              "as host lists too)",
   notes="log_probs come from a log_softmax of the sample: torch's CTC gradient folds that "
         "step's derivative in, so it is only right for such inputs; torch has no second "
         "derivative (Ember's is checked by gradgradcheck in tests/test_nn_losses_extra.py)")

# ---------------------------------------------------------------------------- random activations

_DETERMINISTIC = "deterministic cases only: training=False, p=0, p=1"
op("rrelu", F("rrelu"), fixed(
    S(T(2, 3, domain="nonzero")), S(T(4, domain="nonzero"), 0.2, 0.4),
    S(T(2, 3, domain="nonzero"), training=False),
), A, notes="deterministic cases only: training=False (the mean slope)")
op("rrelu_", lambda m, x, *args, **kw: m.nn.functional.rrelu_(x.clone(), *args, **kw), fixed(
    S(T(2, 3, domain="nonzero")), S(T(4, domain="nonzero"), 0.25, 0.25),
), A, notes="on a clone; deterministic cases only: training=False")
op("alpha_dropout", F("alpha_dropout"), fixed(
    S(T(2, 3), 0.5, False), S(T(4), p=0.0, training=True), S(T(2, 3), 1.0, True),
), A, notes=_DETERMINISTIC)
op("feature_alpha_dropout", F("feature_alpha_dropout"), fixed(
    S(T(2, 3, 4), 0.5, False), S(T(2, 3, 4), 0.0, True), S(T(2, 3, 4), 1.0, True),
), A, notes=_DETERMINISTIC)
# Gaps of 1000 between the logits swamp any Gumbel draw (|g| < 110): the sample is the one-hot
# of the largest logit, soft and hard alike, with a zero gradient.
_LOGITS = V([[0.0, 1000.0, -1000.0], [2000.0, 0.0, 1000.0]], None)
op("gumbel_softmax", F("gumbel_softmax"), fixed(
    S(_LOGITS), S(_LOGITS, tau=0.5, hard=True), S(_LOGITS, dim=0),
), A, notes="random: sampled where the logits' gaps swamp the noise (the draw's distribution "
            "and the straight-through gradient are checked in tests/test_nn_misc_layers.py)")
