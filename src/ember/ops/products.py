"""Fused matrix products, ``beta * input + alpha * product``: ``addmv``, ``addr``, ``baddbmm``,
``addbmm`` (and ``addmm`` in ``linalg``), and the bilinear form ``x1^T A x2 + b``."""
from __future__ import annotations

from ..tensor import Tensor
from . import elementwise as E
from . import reduce as R
from . import shape as S
from .linalg import bmm, matmul, mv, outer, scaled_sum
from .registry import declare


@declare(out="exact", method=True, inplace=True)
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``."""
    return scaled_sum("addmv", input, mv(mat, vec), beta, alpha)


@declare(out=True, method=True, inplace=True)
def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``."""
    return scaled_sum("addr", input, outer(vec1, vec2), beta, alpha)


@declare(out="exact", method=True, inplace=True)
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return scaled_sum("baddbmm", input, bmm(batch1, batch2), beta, alpha)


@declare(out="exact", method=True, inplace=True)
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (the sum over the batch of bmm(batch1, batch2))``."""
    return scaled_sum("addbmm", input, R.sum(bmm(batch1, batch2), 0), beta, alpha)


@declare(namespaces=("ember", "ember.nn.functional"))
def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_k = x1^T W_k x2 + b_k`` over the last dims of ``input1`` and ``input2``, for a
    weight of shape (out, in1, in2): one matrix product, then a product with x2 summed."""
    if weight._data.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3D, but got {weight._data.ndim}D")
    out_features, in1, in2 = weight._data.shape
    if input1._data.shape[-1:] != (in1,) or input2._data.shape[-1:] != (in2,):
        raise RuntimeError(f"bilinear(): input sizes {list(input1._data.shape)} and "
                           f"{list(input2._data.shape)} do not match weight size "
                           f"{list(weight._data.shape)}")
    lead = input1._data.shape[:-1]
    x1 = S.reshape(input1, (-1, in1))
    x2 = S.reshape(input2, (-1, in2))
    w = S.reshape(S.permute(weight, (1, 0, 2)), (in1, out_features * in2))
    mixed = S.reshape(matmul(x1, w), (-1, out_features, in2))
    out = R.sum(E.mul(mixed, S.unsqueeze(x2, 1)), -1)
    if bias is not None:
        out = E.add(out, bias)
    return S.reshape(out, lead + (out_features,))
