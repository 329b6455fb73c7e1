"""Scaled dot-product and multi-head attention, as torch.nn.functional: composites of matrix
products, a masked softmax and dropout, so every order of derivative comes from those ops."""
from __future__ import annotations

import math
import warnings

from ...creation import ones, zeros
from ...dtypes import bool_
from ...ops import elementwise as E
from ...ops import index as I
from ...ops import linalg as L
from ...ops import reduce as R
from ...ops import shape as S
from ...ops.activation import softmax
from ...ops.pad import pad
from ...ops.registry import declare
from ...tensor import Tensor
from ..functional import dropout

_C_NAMES = {"bool": "bool", "int64": "long int", "int32": "int", "int16": "short int",
            "int8": "signed char", "uint8": "unsigned char", "float16": "c10::Half",
            "float32": "float", "float64": "double"}


def _c_name(t: Tensor) -> str:
    return _C_NAMES.get(t.dtype.name, t.dtype.name)


def _check_sdpa(query: Tensor, key: Tensor, value: Tensor, attn_mask, is_causal: bool) -> None:
    """torch's checks of the operands of scaled_dot_product_attention, with its messages."""
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
            f"{query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead.")
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{_c_name(query)} key.dtype: {_c_name(key)} and value.dtype: {_c_name(value)} instead.")
    if attn_mask is not None:
        if attn_mask.dtype.name != "bool" and attn_mask.dtype != query.dtype:
            raise RuntimeError(
                "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                f"attn_mask.dtype: {_c_name(attn_mask)} and  query.dtype: {_c_name(query)} instead.")
        if is_causal:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                               "when is_causal=True")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"scaled_dot_product_attention: query and key must have the same last "
                           f"dimension, but got query {list(query.shape)} and key {list(key.shape)}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: key and value must have the same "
                           f"sequence length, but got key {list(key.shape)} and value "
                           f"{list(value.shape)}")


def _repeat_heads(t: Tensor, heads: int) -> Tensor:
    """Each of ``t``'s heads (dim -3) repeated to make ``heads`` (grouped-query attention)."""
    have = t.shape[-3]
    if heads % have:
        raise RuntimeError("Number of heads in key and value must divide the number of heads in ")
    shape = tuple(t.shape)
    grown = S.expand(S.unsqueeze(t, -3), *shape[:-2], heads // have, *shape[-2:])
    return S.reshape(grown, shape[:-3] + (heads,) + shape[-2:])


def _masked_softmax(scores: Tensor, maybe_dead: bool) -> Tensor:
    """Softmax over the last dim; rows where every score is -inf give zeros (torch's safe softmax)."""
    if not maybe_dead:
        return softmax(scores, -1)
    dead = E.eq(R.amax(scores.detach(), -1, True), float("-inf"))
    probs = softmax(E.where(dead, 0.0, scores), -1)
    return E.where(dead, 0.0, probs)


@declare(namespaces=("ember.nn.functional",))
def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(Q K^T * scale + mask) V`` over the last two dims, with dropout on the weights.

    Ember has one kernel, torch's MATH one, written in Ember ops (see ``nn.attention``). A bool
    ``attn_mask`` says which positions take part (True) and a float one is added to the scores;
    ``is_causal`` lets position i see positions up to i. Rows that see nothing give zeros.
    """
    _check_sdpa(query, key, value, attn_mask, is_causal)
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        key = _repeat_heads(key, query.shape[-3])
        value = _repeat_heads(value, query.shape[-3])
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = E.mul(L.matmul(query, S.transpose(key, -2, -1)), scale)
    target, source = query.shape[-2], key.shape[-2]
    if is_causal:
        allowed = I.tril(ones((target, source), dtype=bool_, device=query.device))
        scores = E.where(allowed, scores, float("-inf"))
    elif attn_mask is not None:
        if attn_mask.dtype.name == "bool":
            scores = E.where(attn_mask, scores, float("-inf"))
        else:
            scores = E.add(scores, attn_mask)
    weights = _masked_softmax(scores, attn_mask is not None)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    return L.matmul(weights, value)


# ---------------------------------------------------------------------------- multi-head attention


def _canonical_mask(mask: Tensor | None, name: str, other: Tensor | None, other_name: str,
                    dtype) -> Tensor | None:
    """A bool mask (True: masked out) as an additive float one (-inf / 0); floats pass through."""
    if mask is None:
        return None
    if mask.dtype.name != "bool" and not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if other is not None and other.dtype != mask.dtype:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same "
                      "type for both instead.", stacklevel=3)
    if mask.dtype.is_floating_point:
        return mask
    return E.where(mask, float("-inf"), zeros(tuple(mask.shape), dtype=dtype, device=mask.device))


def _shape_check(query: Tensor, key: Tensor, value: Tensor, key_padding_mask, attn_mask,
                 num_heads: int) -> bool:
    """torch's checks of the ranks of multi-head attention's inputs; True when batched."""
    if query.ndim not in (2, 3):
        raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                             f"{query.ndim}-D query tensor")
    dims = query.ndim
    kind = "batched (3-D)" if dims == 3 else "unbatched (2-D)"
    if key.ndim != dims or value.ndim != dims:
        raise AssertionError(f"For {kind} `query`, expected `key` and `value` to be {dims}-D but "
                             f"found {key.ndim}-D and {value.ndim}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != dims - 1:
        raise AssertionError(f"For {kind} `query`, expected `key_padding_mask` to be `None` or "
                             f"{dims - 1}-D but found {key_padding_mask.ndim}-D tensor instead")
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise AssertionError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or "
                                 f"3-D but found {attn_mask.ndim}-D tensor instead")
        expected = (num_heads, query.shape[0], key.shape[0])
        if dims == 2 and attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
            raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                 f"{tuple(attn_mask.shape)}")
    return dims == 3


def _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate: tuple | None):
    """q, k, v = the three input projections (one packed weight, or three separate ones)."""
    if separate is None:
        weights = S.chunk(in_proj_weight, 3)
    else:
        weights = separate
    biases = (None,) * 3 if in_proj_bias is None else S.chunk(in_proj_bias, 3)
    if separate is None and query is key and key is value:
        return S.chunk(L.linear(query, in_proj_weight, in_proj_bias), 3, -1)
    return tuple(L.linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))


def _check_attn_mask_shape(attn_mask: Tensor, target: int, source: int, bsz_heads: int) -> Tensor:
    if attn_mask.ndim == 2:
        if tuple(attn_mask.shape) != (target, source):
            raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                               f"{(target, source)}.")
        return S.unsqueeze(attn_mask, 0)
    if tuple(attn_mask.shape) != (bsz_heads, target, source):
        raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                           f"{(bsz_heads, target, source)}.")
    return attn_mask


@declare(namespaces=("ember.nn.functional",))
def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
        bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
        out_proj_bias: Tensor | None, training: bool = True, key_padding_mask: Tensor | None = None,
        need_weights: bool = True, attn_mask: Tensor | None = None,
        use_separate_proj_weight: bool = False, q_proj_weight: Tensor | None = None,
        k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None,
        static_k: Tensor | None = None, static_v: Tensor | None = None,
        average_attn_weights: bool = True, is_causal: bool = False) -> tuple:
    """Project (L, N, E) queries and (S, N, E) keys and values into ``num_heads`` heads, attend,
    and project back; returns the output and (with ``need_weights``) the attention weights."""
    batched = _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = (S.unsqueeze(t, 1) for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = S.unsqueeze(key_padding_mask, 0)
    target, bsz, embed_dim = query.shape
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", attn_mask, "attn_mask",
                                       query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to create "
                           "this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got "
                             f"{embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
        separate = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
        separate = None
    q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate)
    source = key.shape[0]
    if attn_mask is not None:
        attn_mask = _check_attn_mask_shape(attn_mask, target, source, bsz * num_heads)
    if bias_k is not None and bias_v is not None:
        k = S.cat([k, S.expand(bias_k, 1, bsz, embed_dim)])
        v = S.cat([v, S.expand(bias_v, 1, bsz, embed_dim)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    q = S.transpose(S.reshape(q, (target, bsz * num_heads, head_dim)), 0, 1)
    k = static_k if static_k is not None else \
        S.transpose(S.reshape(k, (k.shape[0], bsz * num_heads, head_dim)), 0, 1)
    v = static_v if static_v is not None else \
        S.transpose(S.reshape(v, (v.shape[0], bsz * num_heads, head_dim)), 0, 1)
    if add_zero_attn:
        k = S.cat([k, zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)], 1)
        v = S.cat([v, zeros((bsz * num_heads, 1, head_dim), dtype=v.dtype, device=v.device)], 1)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    source = k.shape[1]
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != source:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {source}, but got "
                                 f"{key_padding_mask.shape[1]}")
        spread = S.expand(S.reshape(key_padding_mask, (bsz, 1, 1, source)), bsz, num_heads, 1, source)
        spread = S.reshape(spread, (bsz * num_heads, 1, source))
        attn_mask = spread if attn_mask is None else E.add(attn_mask, spread)
    if not training:
        dropout_p = 0.0
    if need_weights:
        scores = L.matmul(E.mul(q, math.sqrt(1.0 / head_dim)), S.transpose(k, -2, -1))
        if attn_mask is not None:
            scores = E.add(scores, attn_mask)
        weights = softmax(scores, -1)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p)
        out = L.matmul(weights, v)
    else:
        if attn_mask is not None:
            attn_mask = S.unsqueeze(attn_mask, 0) if attn_mask.shape[0] == 1 else \
                S.reshape(attn_mask, (bsz, num_heads, -1, source))
        out = scaled_dot_product_attention(
            S.reshape(q, (bsz, num_heads, target, head_dim)),
            S.reshape(k, (bsz, num_heads, source, head_dim)),
            S.reshape(v, (bsz, num_heads, source, head_dim)), attn_mask, dropout_p, is_causal)
        out = S.reshape(out, (bsz * num_heads, target, head_dim))
        weights = None
    out = S.reshape(S.transpose(out, 0, 1), (target * bsz, embed_dim))
    out = S.reshape(L.linear(out, out_proj_weight, out_proj_bias), (target, bsz, -1))
    if weights is not None:
        weights = S.reshape(weights, (bsz, num_heads, target, source))
        if average_attn_weights:
            weights = R.mean(weights, 1)
    if not batched:
        out = S.squeeze(out, 1)
        weights = None if weights is None else S.squeeze(weights, 0)
    return out, weights
