"""Samples of nn.functional's activations, losses, normalisation, dropout and embedding, and of
the public ops that had none when samples moved to the tests (bitwise ops, fused arithmetic,
shape helpers, linalg).

Random ops are sampled where they are deterministic (dropout at ``training=False``).
"""
from __future__ import annotations

from .specs import (INF, NAN, WITH_INT, Idx, S, T, V, binary, fixed, function, op,
                    reduction, unary)


def F(name: str):
    """``call`` for ``module.nn.functional.name(*args, **kwargs)``."""
    return lambda m, *args, **kw: getattr(m.nn.functional, name)(*args, **kw)


def constant_args(call, *positions: int, keys: tuple = ()):
    """``call`` with the lists at ``positions`` (and keyword ``keys``) made constant tensors of
    the first argument's dtype: arguments torch refuses to differentiate (class weights,
    running statistics, some targets), kept out of the harness's differentiable inputs."""

    def run(m, *args, **kw):
        like = args[0]

        def const(v):
            return m.tensor(v, dtype=like.dtype, device=like.device) if isinstance(v, list) else v

        args = [const(a) if i in positions else a for i, a in enumerate(args)]
        kw = {k: const(v) if k in keys else v for k, v in kw.items()}
        return call(m, *args, **kw)

    return run


def linalg(name: str):
    """``call`` for ``module.linalg.name(*args, **kwargs)``."""
    return lambda m, *args, **kw: getattr(m.linalg, name)(*args, **kw)


# ---------------------------------------------------------------------------- elementwise

E = "elementwise"
INTS = ("int64", "bool")
for _name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    op(_name, function(_name), binary(scalar=None), E, grad=False, gradgrad=False, dtypes=INTS)
op("bitwise_not", function("bitwise_not"), unary(), E, grad=False, gradgrad=False, dtypes=INTS)
_SPECIALS = fixed(S(V([1.0, NAN, INF, -INF, 0.0], None)), S(T(2, 3)))
op("isinf", function("isinf"), _SPECIALS, E, grad=False, gradgrad=False)
op("isfinite", function("isfinite"), _SPECIALS, E, grad=False, gradgrad=False)
op("addcmul", function("addcmul"), fixed(
    S(T(2, 3), T(2, 3), T(2, 3)),
    S(T(2, 3), T(3), T(2, 1), value=0.5),
    S(T(), T(2, 3), T(3), value=-2),
), E)
op("addcdiv", function("addcdiv"), fixed(
    S(T(2, 3), T(2, 3), T(2, 3, domain="nonzero")),
    S(T(2, 3), T(3), T(2, 1, domain="nonzero"), value=0.5),
), E)
op("lerp", function("lerp"), fixed(
    S(T(2, 3), T(2, 3), 0.3),
    S(T(2, 3), T(3), 0.8),
    S(T(2, 3), T(2, 3), T(2, 3, domain="unit")),
    S(T(3), T(2, 3), T(2, 1, domain="unit")),
), E)
_BOOL_READS = "its answer is a Python bool (torch reads it too)"
op("allclose", function("allclose"), fixed(S(T(2, 3), T(2, 3)), S(V([1.0, 2.0], None),
                                                                   V([1.0, 2.0], None))),
   E, grad=False, gradgrad=False, host_reads=_BOOL_READS)
op("equal", function("equal"), fixed(S(T(2, 3), T(2, 3)), S(V([1.0, 2.0], None), V([1.0, 2.0], None))),
   "reduce", grad=False, gradgrad=False, dtypes=WITH_INT, host_reads=_BOOL_READS)

# ---------------------------------------------------------------------------- shapes, reductions

M = "shape"
op("expand_as", lambda m, x, y: x.expand_as(y), fixed(S(T(3, 1), T(3, 4)), S(T(4), T(2, 4))), M)
op("broadcast_tensors", function("broadcast_tensors"),
   fixed(S(T(3, 1), T(1, 4)), S(T(2, 3), T()), S(T(4), T(2, 1), T(1, 4))), M)
op("ravel", function("ravel"), fixed(S(T(2, 3)), S(T()), S(T(0, 3))), M)
op("hstack", function("hstack"), fixed(S([T(2, 3), T(2, 1)]), S([T(3), T(2)])), M)
op("vstack", function("vstack"), fixed(S([T(2, 3), T(1, 3)]), S([T(3), T(3)])), M)
op("msort", function("msort"), fixed(S(T(4, 3, domain="distinct")), S(T(5, domain="distinct"))),
   "sort")
op("var_mean", function("var_mean"), reduction(tuple_dims=False, empty=False, full=False), "reduce")
op("std_mean", function("std_mean"), reduction(tuple_dims=False, empty=False, full=False), "reduce")
op("take_along_dim", function("take_along_dim"), fixed(
    S(T(3, 4), Idx(4, 3, 2), dim=1), S(T(3, 4), Idx(3, 2, 4), dim=0), S(T(2, 3), Idx(6, 4)),
), "index")
op("nonzero", function("nonzero"), fixed(S(V([[0.0, 1.5], [2.0, 0.0]], None)), S(T(2, 3))),
   "index", grad=False, gradgrad=False, dtypes=WITH_INT,
   host_reads="the count of nonzero values sets the output's shape (torch reads it too)")

# ---------------------------------------------------------------------------- linalg

L = "linalg"
op("inner", function("inner"), fixed(S(T(3), T(3)), S(T(2, 3), T(4, 3)), S(T(), T(2))), L)
op("addmm", function("addmm"), fixed(
    S(T(2, 4), T(2, 3), T(3, 4)), S(T(4), T(2, 3), T(3, 4), beta=0.5, alpha=2.0),
), L)
op("vector_norm", linalg("vector_norm"), fixed(
    S(T(2, 3, domain="nonzero")), S(T(2, 3, domain="nonzero"), 1, dim=1),
    S(T(2, 3, domain="nonzero"), INF, dim=(0, 1), keepdim=True),
    S(T(2, 3, domain="distinct"), 3.0, dim=-1),
), L, op="linalg.vector_norm")
op("matrix_norm", linalg("matrix_norm"), fixed(
    S(T(3, 4, domain="nonzero")), S(T(2, 3, 4, domain="distinct"), 1),
    S(T(3, 4, domain="distinct"), -INF),
), L, op="linalg.matrix_norm")

# ---------------------------------------------------------------------------- vision

V_ = "vision"
op("conv3d", F("conv3d"), fixed(
    S(T(1, 2, 4, 4, 3), T(3, 2, 2, 2, 2), T(3)),
    S(T(2, 4, 3, 4, 4), T(2, 2, 1, 2, 2), None, stride=2, padding=1, groups=2),
), V_)
op("adaptive_avg_pool1d", F("adaptive_avg_pool1d"), fixed(S(T(2, 3, 7), 3), S(T(3, 8), 4)), V_)
op("adaptive_max_pool1d", F("adaptive_max_pool1d"), fixed(
    S(T(2, 3, 7, domain="distinct"), 3), S(T(3, 8, domain="distinct"), 4, return_indices=True),
), V_)
op("pixel_shuffle", F("pixel_shuffle"), fixed(S(T(1, 8, 2, 3), 2), S(T(9, 2, 2), 3)), V_)
op("pixel_unshuffle", F("pixel_unshuffle"), fixed(S(T(1, 2, 4, 6), 2), S(T(1, 6, 6), 3)), V_)

# ---------------------------------------------------------------------------- activations

A = "activation"
_SMOOTH = unary()
op("hardtanh", F("hardtanh"), fixed(S(T(2, 3, domain="nonzero")), S(T(4), -0.5, 0.7)), A)
op("relu6", F("relu6"), fixed(S(V([-1.0, 0.5, 3.0, 5.5, 7.0], None)), S(T(2, 3, domain="nonzero"))), A)
op("leaky_relu", F("leaky_relu"), fixed(S(T(2, 3, domain="nonzero")), S(T(4, domain="nonzero"), 0.2)), A)
op("elu", F("elu"), fixed(S(T(2, 3, domain="nonzero")), S(T(4, domain="nonzero"), 0.7)), A)
op("gelu", F("gelu"), _SMOOTH, A)
op("gelu(tanh)", lambda m, x: m.nn.functional.gelu(x, approximate="tanh"), _SMOOTH, A)
op("silu", F("silu"), _SMOOTH, A)
op("logsigmoid", F("logsigmoid"), _SMOOTH, A)
op("softplus", F("softplus"), fixed(S(T(2, 3)), S(T(4), 2.0, 1.0), S(V([-30.0, 0.0, 30.0], None))), A)
op("dropout", F("dropout"), fixed(S(T(2, 3), 0.5, False), S(T(4), p=0.0)), A,
   notes="deterministic cases only: training=False, p=0")
for _name in ("dropout1d", "dropout2d", "dropout3d"):
    _dims = int(_name[7])
    op(_name, F(_name), fixed(S(T(2, 3, *(4,) * _dims), 0.5, False)), A,
       notes="deterministic cases only: training=False")

# ---------------------------------------------------------------------------- layers

N = "nn"
op("linear", F("linear"), fixed(S(T(2, 3), T(4, 3), T(4)), S(T(3), T(4, 3)), S(T(2, 5, 3), T(4, 3), T(4))), N)
op("bilinear", F("bilinear"), fixed(S(T(2, 3), T(2, 4), T(5, 3, 4), T(5)), S(T(2, 3), T(2, 4), T(5, 3, 4))),
   N)
op("embedding", F("embedding"), fixed(S(Idx(5, 3), T(5, 4)), S(Idx(6, 2, 3), T(6, 2), padding_idx=1)), N)
op("one_hot", F("one_hot"), fixed(S(Idx(5, 4)), S(Idx(3, 2, 3), 5)), N, grad=False, gradgrad=False,
   dtypes=("int64",), host_reads="it checks the indices against num_classes (and finds it when -1)")
op("normalize", F("normalize"), fixed(S(T(3, 4)), S(T(2, 3, 4), 1.0, 1)), N)
op("cosine_similarity", F("cosine_similarity"), fixed(S(T(3, 4), T(3, 4)), S(T(2, 4), T(4), dim=-1)), N)
op("pairwise_distance", F("pairwise_distance"), fixed(S(T(3, 4), T(3, 4)), S(T(3, 4), T(4), 1.0)), N)

# ---------------------------------------------------------------------------- normalisation

B = "normalization"
op("layer_norm", F("layer_norm"), fixed(
    S(T(2, 3, 4), (4,), T(4), T(4)), S(T(2, 3, 4), (3, 4)), S(T(2, 5), [5], T(5), None, 1e-3),
), B)
op("group_norm", F("group_norm"), fixed(S(T(2, 4, 3), 2, T(4), T(4)), S(T(3, 6, 2, 2), 3)), B)
op("rms_norm", F("rms_norm"), fixed(S(T(2, 3, 4), (4,), T(4)), S(T(2, 3, 4), (3, 4))), B)
op("batch_norm", constant_args(F("batch_norm"), 1, 2), fixed(
    S(T(4, 3), None, None, T(3), T(3), True), S(T(4, 3, 5), None, None, training=True),
    S(T(4, 3), [0.1, -0.2, 0.3], [1.0, 1.5, 0.5], training=False),
), B)

# ---------------------------------------------------------------------------- losses

LOSS = "loss"
_PAIR = fixed(S(T(3, 4), T(3, 4)), S(T(5), T(5), reduction="sum"), S(T(2, 3), T(2, 3), reduction="none"))
op("mse_loss", F("mse_loss"), _PAIR, LOSS)
op("l1_loss", F("l1_loss"), fixed(S(T(3, 4), T(3, 4)),
                                   S(T(5), T(5), reduction="none")), LOSS)
op("smooth_l1_loss", F("smooth_l1_loss"), fixed(S(T(3, 4), T(3, 4)), S(T(5), T(5), beta=0.5)), LOSS)
op("huber_loss", F("huber_loss"), fixed(S(T(3, 4), T(3, 4)), S(T(5), T(5), delta=0.5)), LOSS)
op("soft_margin_loss", constant_args(F("soft_margin_loss"), 1), fixed(
    S(T(2, 3), [[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]])), LOSS)
op("binary_cross_entropy", constant_args(F("binary_cross_entropy"), 2), fixed(
    S(T(3, 4, domain="prob"), T(3, 4, domain="prob")),
    S(T(5, domain="prob"), T(5, domain="prob"), [0.5, 1.0, 1.5, 2.0, 0.7], reduction="sum"),
), LOSS)
op("binary_cross_entropy_with_logits",
   constant_args(F("binary_cross_entropy_with_logits"), keys=("pos_weight",)), fixed(
    S(T(3, 4), T(3, 4, domain="prob")),
    S(T(3, 4), T(3, 4, domain="prob"), pos_weight=[0.5, 1.0, 1.5, 2.0]),
), LOSS)
op("nll_loss", constant_args(F("nll_loss"), 2), fixed(
    S(T(3, 5), Idx(5, 3)), S(T(3, 5), Idx(5, 3), [0.5, 1.0, 1.5, 2.0, 0.7]),
    S(T(2, 4, 3), Idx(4, 2, 3), reduction="sum"),
), LOSS)
op("cross_entropy", constant_args(F("cross_entropy"), 2), fixed(
    S(T(3, 5), Idx(5, 3)), S(T(3, 5), Idx(5, 3), label_smoothing=0.1),
    S(T(3, 5), T(3, 5, domain="prob")), S(T(2, 4, 3), Idx(4, 2, 3), [0.5, 1.0, 1.5, 2.0]),
), LOSS)
op("kl_div", F("kl_div"), fixed(
    S(T(3, 4), T(3, 4, domain="positive"), reduction="batchmean"),
    S(T(3, 4), T(3, 4), reduction="sum", log_target=True),
), LOSS)
op("margin_ranking_loss", F("margin_ranking_loss"), fixed(
    S(T(4), T(4), V([1.0, -1.0, 1.0, -1.0], None), margin=0.1),
), LOSS)
op("hinge_embedding_loss", F("hinge_embedding_loss"), fixed(
    S(T(4, domain="nonzero"), V([1.0, -1.0, 1.0, -1.0], None)),
), LOSS)
op("cosine_embedding_loss", F("cosine_embedding_loss"), fixed(
    S(T(3, 4), T(3, 4), V([1.0, -1.0, 1.0], None)),
), LOSS)
op("triplet_margin_loss", F("triplet_margin_loss"), fixed(S(T(3, 4), T(3, 4), T(3, 4))), LOSS)
op("poisson_nll_loss", F("poisson_nll_loss"), fixed(
    S(T(3, 4), T(3, 4, domain="positive")),
    S(T(3, 4, domain="positive"), T(3, 4, domain="positive"), log_input=False),
), LOSS)
op("gaussian_nll_loss", F("gaussian_nll_loss"), fixed(
    S(T(3, 4), T(3, 4), T(3, 4, domain="positive")), S(T(3, 4), T(3, 4), T(3, 1, domain="positive")),
), LOSS)
op("multilabel_soft_margin_loss", F("multilabel_soft_margin_loss"), fixed(
    S(T(3, 4), T(3, 4, domain="prob")),
), LOSS)

# ---------------------------------------------------------------------------- Tensor-only methods

C = "cast"
op("view_as", lambda m, x, y: x.view_as(y), fixed(S(T(2, 3), T(3, 2)), S(T(4), T(2, 2))), M)
op("reshape_as", lambda m, x, y: x.reshape_as(y), fixed(S(T(2, 3), T(6)), S(T(), T(1, 1))), M)
op("type_as", lambda m, x, y: x.type_as(y), fixed(S(T(2, 3), T(3, dtype="float64")),
                                                  S(T(3), T(2, dtype="int64"))), C)
for _name in ("long", "int", "short", "byte", "bool"):
    op(_name, (lambda n: lambda m, x: getattr(x, n)())(_name), unary("positive"), C, grad=False,
       gradgrad=False, dtypes=("float64", "int64"))
op("half", lambda m, x: x.half().float(), unary(), C, dtypes=("float32",),
   notes="a round trip through float16 (float32 only: finite differences cannot see float16)")
op("bfloat16", lambda m, x: x.bfloat16().float(), unary(), C, dtypes=("float32",),
   notes="a round trip through bfloat16 (float32 only: finite differences cannot see bfloat16)")
op("cpu", lambda m, x: x.cpu(), unary(), C, host_reads="it copies the values to the host")
