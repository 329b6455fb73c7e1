"""Samples of nn.functional's attention: scaled dot-product and multi-head attention.

torch runs them on its MATH kernel (``sdpa_kernel(SDPBackend.MATH)``): its fused CPU kernel has
no second derivative. Ember accepts the same switch and always runs its one kernel, torch's
MATH one written in Ember ops. Dropout is sampled at ``dropout_p=0`` (deterministic).
"""
from __future__ import annotations

from .specs import Mask, S, T, fixed, op

A = "attention"
# float32: the projections and the softmax round in a different order than torch's kernels, and
# the key bias's exact gradients are 0 (a shift of every score of a row), left as rounding noise
TOL = {"float32": (2e-4, 1e-4)}


def math_kernel(name: str):
    """``call`` for ``module.nn.functional.name`` run on the MATH kernel of scaled dot-product
    attention (the one with a double backward in torch; Ember's only one)."""

    def run(m, *args, **kw):
        with m.nn.attention.sdpa_kernel(m.nn.attention.SDPBackend.MATH):
            return getattr(m.nn.functional, name)(*args, **kw)

    return run


op("scaled_dot_product_attention", math_kernel("scaled_dot_product_attention"), fixed(
    S(T(2, 2, 3, 4), T(2, 2, 5, 4), T(2, 2, 5, 3)),
    S(T(3, 4), T(5, 4), T(5, 2), scale=0.3),  # unbatched, explicit scale
    S(T(2, 3, 4), T(2, 3, 4), T(2, 3, 4), is_causal=True),
    S(T(2, 4, 4), T(2, 2, 4), T(2, 2, 4), is_causal=True),  # fewer keys than queries
    S(T(1, 1, 1, 2), T(1, 1, 1, 2), T(1, 1, 1, 3)),  # length 1, batch 1
    S(T(2, 2, 3, 4), T(2, 1, 5, 4), T(2, 1, 5, 3)),  # keys broadcast over heads
    S(T(2, 4, 3, 4), T(2, 2, 5, 4), T(2, 2, 5, 3), enable_gqa=True),
    S(T(2, 3, 4), T(2, 5, 4), T(2, 5, 3), attn_mask=Mask(3, 5)),
    S(T(2, 2, 3, 4), T(2, 2, 5, 4), T(2, 2, 5, 3), attn_mask=T(2, 2, 3, 5)),
    S(T(2, 3, 4), T(2, 5, 4), T(2, 5, 3), attn_mask=T(1, 5)),  # broadcast float mask
    S(T(2, 3, 4), T(2, 5, 4), T(2, 5, 3), dropout_p=0.0, scale=2.0),
), A, tol=TOL, notes="torch on its MATH kernel; float32 within (2e-4, 1e-4)")

op("multi_head_attention_forward", math_kernel("multi_head_attention_forward"), fixed(
    # query, key, value (L|S, N, E), E, heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
    # add_zero_attn, dropout_p, out_proj_weight, out_proj_bias
    S(T(3, 2, 4), T(5, 2, 4), T(5, 2, 4), 4, 2, T(12, 4), T(12), None, None, False, 0.0,
      T(4, 4), T(4)),
    S(T(3, 2, 4), T(5, 2, 4), T(5, 2, 4), 4, 2, T(12, 4), T(12), None, None, False, 0.0,
      T(4, 4), T(4), need_weights=False, attn_mask=T(3, 5)),
    S(T(3, 2, 4), T(5, 2, 4), T(5, 2, 4), 4, 1, T(12, 4), None, T(1, 1, 4), T(1, 1, 4), True,
      0.0, T(4, 4), None, average_attn_weights=False),
    S(T(3, 4), T(5, 4), T(5, 4), 4, 2, T(12, 4), T(12), None, None, False, 0.0, T(4, 4), T(4),
      training=False),  # unbatched
    S(T(3, 2, 4), T(5, 2, 2), T(5, 2, 3), 4, 2, None, T(12), None, None, False, 0.0, T(4, 4),
      T(4), use_separate_proj_weight=True, q_proj_weight=T(4, 4), k_proj_weight=T(4, 2),
      v_proj_weight=T(4, 3)),
    S(T(3, 2, 4), T(3, 2, 4), T(3, 2, 4), 4, 2, T(12, 4), T(12), None, None, False, 0.0,
      T(4, 4), T(4), key_padding_mask=Mask(2, 3), attn_mask=Mask(3, 3)),
), A, tol=TOL, notes="torch on its MATH kernel; float32 within (2e-4, 1e-4)")
