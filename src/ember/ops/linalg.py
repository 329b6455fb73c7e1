"""Matrix products: matmul (1-D, 2-D and batched with broadcasting), dot, outer, mm, bmm."""
from __future__ import annotations

from ..tensor import Tensor
from . import elementwise as E
from . import reduce as R
from . import shape as S
from .registry import apply, primitive


def _mT(x: Tensor) -> Tensor:
    return S.transpose(x, -1, -2)


def _matmul_rule(g, out, x, y):
    gx = gy = None
    if x.requires_grad:
        gx = R.sum_to(matmul(g, _mT(y)), x._data.shape)
    if y.requires_grad:
        gy = R.sum_to(matmul(_mT(x), g), y._data.shape)
    return gx, gy


_matmul = primitive(
    "matmul",
    lambda xp, x, y: xp.matmul(x, y),
    _matmul_rule,
    formula="d(X@Y) = dX@Y + X@dY, so gX = G@Y^T and gY = X^T@G",
)


def _check_same_dtype(op: str, x: Tensor, y: Tensor) -> None:
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(
            f"{op}: expected m1 and m2 to have the same dtype, but got: {x.dtype} != {y.dtype}"
        )


def _dims(t: Tensor) -> str:
    return "x".join(str(s) for s in t._data.shape)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with torch's rules for 1-D operands and broadcast batch dimensions."""
    for name, t in (("input", input), ("other", other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"matmul(): argument '{name}' must be Tensor, not {type(t).__name__}")
    x, y = input, other
    if x._data.ndim == 0 or y._data.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {x._data.ndim}D and "
            f"{y._data.ndim}D"
        )
    _check_same_dtype("matmul", x, y)
    if x._data.shape[-1] != y._data.shape[-2 if y._data.ndim > 1 else 0]:
        if x._data.ndim == 1 and y._data.ndim == 1:
            raise RuntimeError(
                "inconsistent tensor size, expected tensor [%d] and src [%d] to have the same "
                "number of elements, but got %d and %d elements respectively"
                % (x._data.shape[0], y._data.shape[0], x._data.shape[0], y._data.shape[0])
            )
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({_dims(x)} and {_dims(y)}) in matmul"
        )
    squeeze_front = x._data.ndim == 1
    squeeze_back = y._data.ndim == 1
    if squeeze_front:
        x = S.unsqueeze(x, 0)
    if squeeze_back:
        y = S.unsqueeze(y, -1)
    if x._data.ndim > 2 or y._data.ndim > 2:
        E.broadcast_shape("matmul", x._data.shape[:-2], y._data.shape[:-2])
    out = apply(_matmul, x, y)
    if squeeze_back:
        out = S.squeeze(out, -1)
    if squeeze_front:
        out = S.squeeze(out, -2 if out._data.ndim >= 2 else -1)
    return out


def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-D tensors: ``dot([1,2,3], [1,2,3]) == 14``."""
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors"
        )
    _check_same_dtype("dot", input, other)
    return matmul(input, other)


inner = dot


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product v wᵀ of two 1-D tensors (an n×m matrix)."""
    if input._data.ndim != 1 or vec2._data.ndim != 1:
        raise RuntimeError(
            f"outer: expected 1-D tensors, got {input._data.ndim}D and {vec2._data.ndim}D"
        )
    return E.mul(S.unsqueeze(input, 1), S.unsqueeze(vec2, 0))


ger = outer


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two matrices (2-D only)."""
    if input._data.ndim != 2:
        raise RuntimeError(f"self must be a matrix (mm got a {input._data.ndim}-D tensor)")
    if mat2._data.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix (mm got a {mat2._data.ndim}-D tensor)")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched product of two 3-D tensors with the same batch size."""
    if input._data.ndim != 3 or mat2._data.ndim != 3:
        raise RuntimeError(
            f"batch1 must be a 3D tensor (bmm got {input._data.ndim}D and {mat2._data.ndim}D)"
        )
    if input._data.shape[0] != mat2._data.shape[0]:
        raise RuntimeError(
            f"batch1 and batch2 must have same number of batches, got {input._data.shape[0]} and "
            f"{mat2._data.shape[0]}"
        )
    return matmul(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product."""
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError("vector + matrix @ vector expected, got "
                           f"{input._data.ndim}D and {vec._data.ndim}D")
    return matmul(input, vec)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``."""
    prod = mm(mat1, mat2)
    if alpha != 1:
        prod = E.mul(prod, alpha)
    return E.add(input if beta == 1 else E.mul(input, beta), prod)
