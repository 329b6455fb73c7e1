"""Matrix products: matmul (1-D, 2-D and batched with broadcasting), dot, outer, mm, bmm."""
from __future__ import annotations

import math

from .. import dtypes
from ..tensor import Tensor
from . import elementwise as E
from . import jvp as J
from . import precision
from . import reduce as R
from . import shape as S
from .registry import apply, batch_shape, declare, primitive, user_op
from . import methods as M
from . import index as I
from ..autograd.engine import torch_backward
from .tensor_args import NotATensorError


def _mT(x: Tensor) -> Tensor:
    return S.transpose(x, -1, -2)


def _matmul_rule(g, out, x, y):
    gx = gy = None
    if x.requires_grad:
        gx = _broadcast_weight_grad(g, x, y)
    if y.requires_grad:
        gy = R.sum_to(_weight_grad(g, x, y), y._data.shape)
    return gx, gy


def _broadcast_weight_grad(g, x, y):
    """``G @ Y^T`` summed to x's shape; for a 2-D ``x`` applied to a batch of ``y`` (a conv's
    weight times its unfolded columns) it is formed as ``(sum Y @ G^T)^T``, the same numbers,
    which BLAS forms 1.2-1.5x faster for those shapes."""
    if x._data.ndim == 2 and y._data.ndim > 2:
        return _mT(R.sum_to(matmul(y, _mT(g)), x._data.shape[::-1]))
    return R.sum_to(matmul(g, _mT(y)), x._data.shape)


def _weight_grad(g, x, y):
    """``X^T @ G``; for a 2-D ``y`` that is a transposed view (``x @ W.t()`` in a Linear layer) it
    is computed as ``(G^T @ X)^T``: the same product laid out like W itself, which BLAS forms
    about twice as fast here and which needs no copy when it becomes ``W.grad``."""
    if x._data.ndim == 2 and y._data.ndim == 2 and y._data.flags.f_contiguous \
            and not y._data.flags.c_contiguous:
        return _mT(matmul(_mT(g), x))
    return matmul(_mT(x), g)


def _matmul_fwd(xp, x, y):
    """``x @ y``; a stack of small products against ONE matrix (what vmap, batched cotangents and
    forward-mode basis batches make) folded into one 2-D product, as NumPy runs a stacked
    product as one small product per leading index, many times slower; a stack of outer
    products (inner size 1, as per-sample weight gradients are) by broadcasting. Large
    per-sample matrices (a convolution's columns) keep NumPy's stacked product: folding them
    would copy them, and leave the result strided for the ops after it."""
    if x.ndim > 2 and y.ndim > 1 and x.shape[-1] == 1 and x.dtype == y.dtype:
        return x * y
    if x.ndim > 2 and y.ndim == 2 and (x.flags.c_contiguous  # then the reshape is free
                                       or math.prod(x.shape[-2:]) < _FOLD_BELOW):
        flat = xp.matmul(x.reshape(math.prod(x.shape[:-1]), x.shape[-1]), y)
        return flat.reshape(x.shape[:-1] + (y.shape[-1],))
    if x.ndim == 2 and y.ndim > 2 and math.prod(y.shape[-2:]) < _FOLD_BELOW:
        # (..., k, n) -> rows of (n, k), times x's transpose
        rows = xp.swapaxes(y, -1, -2).reshape(math.prod(y.shape[:-2]) * y.shape[-1], y.shape[-2])
        flat = xp.matmul(rows, x.T)
        return xp.swapaxes(flat.reshape(y.shape[:-2] + (y.shape[-1], x.shape[0])), -1, -2)
    return xp.matmul(x, y)


_FOLD_BELOW = 1 << 12  # elements of one sample's matrix: below it, a stacked product is folded


_matmul = primitive(
    "matmul",
    _matmul_fwd,
    _matmul_rule, jvp="multilinear",
    formula="d(X@Y) = dX@Y + X@dY, so gX = G@Y^T and gY = X^T@G", batch="matmul",
)


def _linear_rule(g, out, x, w, b=None):
    """gX = G @ W, gW = G^T @ X (leading dims flattened, laid out like W), gb = G summed.

    gX is formed on the flattened (rows, out) gradient: NumPy runs a 3-D @ 2-D product as one
    small product per leading index, several times slower than the one 2-D product."""
    gw = gb = None
    g2 = S.reshape(g, (-1, w._data.shape[0]))
    gx = None
    if x.requires_grad:
        gx = matmul(g, w) if x._data.ndim <= 2 else S.reshape(matmul(g2, w), x._data.shape)
    if w.requires_grad:
        gw = matmul(_mT(g2), S.reshape(x, (-1, w._data.shape[1])))
    if b is not None and b.requires_grad:
        gb = R.sum(g2, 0)
    return gx, gw, gb


_LINEAR_WHY = ("benchmark: every Linear layer (W3), one GEMM on the transposed weight view and "
               "one node instead of transpose, matmul and add")
_LINEAR = primitive("linear", lambda xp, x, w: xp.matmul(x, w.T),
                    lambda g, out, x, w: _linear_rule(g, out, x, w)[:2], batchable=False,
                    jvp="multilinear",
                    formula="d(X W^T) = dX W^T + X dW^T", fused=_LINEAR_WHY, batch="linear")
_LINEAR_BIAS = primitive("linear_bias", lambda xp, x, w, b: xp.matmul(x, w.T) + b, _linear_rule,
                         jvp=lambda tangents, out, x, w, b: J.plus(
                             J.rule_of(_LINEAR)(tangents[:2], out, x, w), tangents[2]),
                         batchable=False, formula="d(X W^T + b) = dX W^T + X dW^T + db",
                         fused=_LINEAR_WHY, batch="linear")


def _linear_name(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> str | None:
    """torch's node for ``linear``: addmm (or mm) on a batch of rows, a view of it otherwise."""
    if input.ndim == 2:
        return "MmBackward0" if bias is None else "AddmmBackward0"
    if input.ndim == 1:
        return "ViewBackward0" if bias is not None else "SqueezeBackward4"
    return "UnsafeViewBackward0" if bias is None else "ViewBackward0"


def _matmul_name(input: Tensor, other: Tensor) -> str | None:
    """torch's node for ``matmul``: dot, mv, mm, or a view of a batched product."""
    dims = (input.ndim, other.ndim)
    if max(dims) > 2:
        return "UnsafeViewBackward0"
    return {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (2, 2): "MmBackward0",
            (1, 2): "SqueezeBackward4"}.get(dims)


@precision.listed("linear")  # layers (attention's projections) call it directly: autocast here too
@torch_backward(_linear_name, order=lambda input, weight, bias=None:
                (input, weight) if bias is None else (bias, input, weight))
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ W^T + b`` (torch.nn.functional.linear) as one op: the hot path of every MLP.

    Unusual operands (mixed dtypes, mismatched shapes) take the composite path, which gives
    torch's errors and type promotion.
    """
    x, w = input, weight
    usual = (isinstance(x, Tensor) and isinstance(w, Tensor) and x._data.ndim >= 1 and w._data.ndim == 2
             and x._data.shape[-1] == w._data.shape[1] and x._data.dtype == w._data.dtype
             and x._data.dtype.kind in dtypes.FLOAT_KINDS)
    if bias is None:
        return apply(_LINEAR, x, w) if usual else matmul(x, S.t(w))
    if usual and isinstance(bias, Tensor) and bias._data.shape == (w._data.shape[0],) \
            and bias._data.dtype == x._data.dtype:
        return apply(_LINEAR_BIAS, x, w, bias)
    return E.add(matmul(x, S.t(w)), bias)


def _check_same_dtype(op: str, x: Tensor, y: Tensor) -> None:
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(
            f"{op}: expected m1 and m2 to have the same dtype, but got: {x.dtype} != {y.dtype}"
        )


def _check_bool_kernel(x: Tensor, y: Tensor, out_shape: tuple, vectors: bool) -> None:
    """torch has no bool matrix-product kernel: it refuses one that would compute anything."""
    if x._data.dtype.kind != "b":
        return
    work = x._data.shape[-1]
    for s in out_shape:
        work *= s
    if vectors or work:
        raise NotImplementedError(
            f"matmul: \"{'dot' if vectors else 'addmm'}\" not implemented for 'Bool'"
        )


def _dims(t: Tensor) -> str:
    return "x".join(str(s) for s in t._data.shape)


@declare(out="exact", prim=_matmul, method=True, namespaces=("ember", "ember.linalg"))
@torch_backward(_matmul_name)
def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with torch's rules for 1-D operands and broadcast batch dimensions."""
    for name, t in (("input", input), ("other", other)):
        if not isinstance(t, Tensor):
            raise NotATensorError(f"matmul(): argument '{name}' must be Tensor, not {type(t).__name__}")
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
            f"mat1 and mat2 shapes cannot be multiplied ({_dims(x)} and {_dims(y)}) in "
            f"{user_op('matmul')}"
        )
    squeeze_front = x._data.ndim == 1
    squeeze_back = y._data.ndim == 1
    if squeeze_front:
        x = S.unsqueeze(x, 0)
    if squeeze_back:
        y = S.unsqueeze(y, -1)
    batch = ()
    if x._data.ndim > 2 or y._data.ndim > 2:
        batch = E.broadcast_shape("matmul", x._data.shape[:-2], y._data.shape[:-2])
    _check_bool_kernel(x, y, batch + (x._data.shape[-2], y._data.shape[-1]), squeeze_front and squeeze_back)
    out = apply(_matmul, x, y)
    if squeeze_back:
        out = S.squeeze(out, -1)
    if squeeze_front:
        out = S.squeeze(out, -2 if out._data.ndim >= 2 else -1)
    return out


@declare(out="exact", method=True)
@torch_backward("DotBackward0")
def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-D tensors: ``dot([1,2,3], [1,2,3]) == 14``."""
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors"
        )
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found "
            f"{dtypes.scalar_name(input.dtype)} and {dtypes.scalar_name(other.dtype)}"
        )
    return matmul(input, other)


@declare(out="exact")
def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dimension of both (a product when either is 0-d)."""
    if input._data.ndim == 0 or other._data.ndim == 0:
        return E.mul(input, other)
    if input._data.shape[-1] != other._data.shape[-1]:
        raise RuntimeError(
            f"inner() the last dimension must match on both input tensors but got shapes "
            f"{list(input._data.shape)} and {list(other._data.shape)}"
        )
    if input._data.ndim == 1 and other._data.ndim == 1:
        return dot(input, other)
    k = input._data.shape[-1]
    rows = (math.prod(input._data.shape[:-1]), k)
    cols = (math.prod(other._data.shape[:-1]), k)
    if input._data.dtype.kind == "b" and rows[0] * cols[0] == 1:  # torch takes dot for 1x1
        raise NotImplementedError("inner: \"dot\" not implemented for 'Bool'")
    flat = matmul(S.reshape(input, rows), _mT(S.reshape(other, cols)))
    return S.reshape(flat, input._data.shape[:-1] + other._data.shape[:-1])


@declare(out=True, aliases=("ger",), method=True)
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product v wᵀ of two 1-D tensors (an n×m matrix)."""
    if input._data.ndim != 1 or vec2._data.ndim != 1:
        raise RuntimeError(
            f"outer: expected 1-D tensors, got {input._data.ndim}D and {vec2._data.ndim}D"
        )
    return E.mul(S.unsqueeze(input, 1), S.unsqueeze(vec2, 0))


ger = outer


@declare(out="exact", method=True)
@torch_backward("MmBackward0")
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two matrices (2-D only)."""
    if input._data.ndim != 2:
        raise RuntimeError(f"self must be a matrix (mm got a {input._data.ndim}-D tensor)")
    if mat2._data.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix (mm got a {mat2._data.ndim}-D tensor)")
    return matmul(input, mat2)


@declare(out="exact", method=True)
@torch_backward("BmmBackward0")
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


@declare(out="exact", method=True)
@torch_backward("MvBackward0")
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product."""
    if input._data.ndim == 0:
        raise IndexError(f"mv: Dimension specified as 0 but the matrix has no dimensions (got 0D and "
                         f"{vec._data.ndim}D)")
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError("vector + matrix @ vector expected, got "
                           f"{input._data.ndim}D and {vec._data.ndim}D")
    return matmul(input, vec)


@declare(out="exact", method=True, inplace=True)
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``."""
    return scaled_sum("addmm", input, mm(mat1, mat2), beta, alpha)


def scaled_sum(op: str, input: Tensor, product: Tensor, beta, alpha) -> Tensor:
    """``beta * input + alpha * product`` of the fused products (addmm, addmv, ...); with beta 0
    the input's values are ignored (NaN and inf in it do not reach the result), as torch.
    As torch, ``input`` must be a tensor of the product's dtype that expands to its shape."""
    E.require_tensors(op, input)
    if input.dtype != product.dtype:
        raise RuntimeError(f"{op}: input tensors must have the same dtype, but got "
                           f"{dtypes.scalar_name(input.dtype)} and "
                           f"{dtypes.scalar_name(product.dtype)}")
    have, want = tuple(input.shape), tuple(product.shape)
    if len(have) > len(want) or any(h not in (1, w) for h, w in zip(have[::-1], want[::-1])):
        raise RuntimeError(f"{op}: the input of shape {list(have)} cannot be expanded to the "
                           f"product's shape {list(want)}")
    if alpha != 1:
        product = E.mul(product, alpha)
    if beta == 0:
        return E.add(product, E.const_zeros(input))
    return E.add(input if beta == 1 else E.mul(input, beta), product)


def _diagonal_length(rows: int, cols: int, offset: int) -> int:
    """How many entries the ``offset`` diagonal of a rows×cols matrix has."""
    return max(0, min(rows + min(offset, 0), cols - max(offset, 0)))


def _diagonal_index(xp, rows: int, cols: int, offset: int) -> tuple:
    """Row and column positions of the ``offset`` diagonal of a rows×cols matrix."""
    k = xp.arange(_diagonal_length(rows, cols, offset))
    return k - min(offset, 0), k + max(offset, 0)


def _diagonal_fwd(xp, x, offset: int):
    """The ``offset`` diagonal of the last two dims: a view with the two strides summed."""
    n = _diagonal_length(*x.shape[-2:], offset)
    start = x[..., max(-offset, 0):, max(offset, 0):]
    return xp.lib.stride_tricks.as_strided(start, x.shape[:-2] + (n,),
                                           x.strides[:-2] + (x.strides[-2] + x.strides[-1],))


def _diagonal_rule(g, out, x, offset):
    rows, cols = _diagonal_index(x.xp, *x._data.shape[-2:], offset)
    return (I.index_add_into(g, batch_shape(g) + x._data.shape, (Ellipsis, rows, cols)),)


_diagonal = primitive(
    "diagonal", _diagonal_fwd, _diagonal_rule, reads_inputs=False, jvp="linear",
    formula="the gradient goes back onto the diagonal, zeros elsewhere", batch="trailing",
)


@declare(prim=_diagonal, method=True)
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset`` diagonal over ``dim1`` and ``dim2``, as the last dimension: a view, as
    in torch (``x.diagonal().fill_(0)`` changes ``x``)."""
    if input._data.ndim < 2:
        raise RuntimeError(f"diagonal: expected a tensor with at least 2 dimensions, got {input._data.ndim}D")
    return apply(_diagonal, S.movedim(input, (dim1, dim2), (-2, -1)), offset=offset)


@declare(out="exact", method=True)
def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """1-D input: the square matrix with it on the ``diagonal``; 2-D input: a copy of that
    diagonal."""
    if input._data.ndim == 2:
        return M.clone(globals()["diagonal"](input, diagonal))
    if input._data.ndim != 1:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input._data.ndim}D")
    n = input._data.shape[0] + abs(diagonal)
    rows, cols = _diagonal_index(input.xp, n, n, diagonal)
    return I.index_add_into(input, (n, n), (rows, cols))


@declare(method=True)
def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a matrix."""
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return R.sum(diagonal(input))


# ---------------------------------------------------------------------------- inverse, determinant, solve


class LinAlgError(RuntimeError):
    """A matrix op's input was singular (torch.linalg.LinAlgError)."""


def _mT(x: Tensor) -> Tensor:
    return S.transpose(x, -1, -2)


def require_square(op: str, a: Tensor) -> None:
    """torch's refusal of anything but batches of square matrices (``op`` as torch names it)."""
    if a._data.ndim < 2 or a._data.shape[-1] != a._data.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are "
                           f"{' by '.join(map(str, a._data.shape[-2:]))} matrices")


def _square(op: str, a: Tensor) -> None:
    require_square(f"linalg.{op}", a)
    if a._data.dtype.kind not in dtypes.FLOAT_KINDS:
        # NotImplementedError, a RuntimeError: torch raises one or the other by the op's kernel
        raise NotImplementedError(f"linalg.{op}: Expected a floating point or complex tensor as "
                                  f"input. Got {dtypes.scalar_name(a.dtype)}")


def _singular(op: str, xp, run, a):
    """``run()``, or torch's LinAlgError naming the (first) singular matrix of ``a``."""
    try:
        return run()
    except xp.linalg.LinAlgError:
        pass
    info = D.lu_arrays(xp, a)[3]
    if op == "inv":
        D.raise_singular("linalg.inv", xp, info)
    D.raise_singular("torch.linalg.solve", xp, info, "solve")
    raise LinAlgError(f"linalg.{op}: The solver failed because the input matrix is singular.")


_inv = primitive(
    "inv", lambda xp, a: _singular("inv", xp, lambda: xp.linalg.inv(a), a),
    lambda g, out, a: (E.neg(matmul(matmul(_mT(out), g), _mT(out))),),
    jvp=lambda tangents, out, a: E.neg(matmul(matmul(out, tangents[0]), out)),
    saves_out=True, formula="d inv(A) = -inv(A) dA inv(A)", batch="trailing",
)


@declare(out="exact", prim=_inv, namespaces=("ember.linalg",))
def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix in ``A``."""
    _square("inv", A)
    return apply(_inv, A)


def _det_rule(g, out, a):
    scale = E.mul(S.unsqueeze(S.unsqueeze(g, -1), -1), S.unsqueeze(S.unsqueeze(out, -1), -1))
    return (E.mul(scale, _mT(inv(a))),)


_det = primitive("det", lambda xp, a: xp.linalg.det(a), _det_rule, saves_out=True,
                 jvp=lambda tangents, out, a: E.mul(out, R.sum(E.mul(tangents[0], _mT(inv(a))), (-2, -1))),
                 formula="d det(A) = det(A) inv(A)^T (invertible A)", batch="trailing")


@declare(out="exact", prim=_det, namespaces=("ember", "ember.linalg"), method=True)
def det(A: Tensor) -> Tensor:
    """The determinant of each square matrix in ``A``."""
    _square("det", A)
    return apply(_det, A)


def _solve_rule(g, out, a, b):
    """Batch dimensions broadcast in the forward are summed back for each input."""
    gb = solve(_mT(a), g)
    return (R.sum_to(E.neg(matmul(gb, _mT(out))), a._data.shape) if a.requires_grad else None,
            R.sum_to(gb, b._data.shape) if b.requires_grad else None)


_solve = primitive(
    "solve", lambda xp, a, b: _singular("solve", xp, lambda: xp.linalg.solve(a, b), a), _solve_rule,
    jvp=lambda tangents, out, a, b: solve(a, J.plus(
        tangents[1], None if tangents[0] is None else E.neg(matmul(tangents[0], out)))),
    saves_out=True, batchable=False, batch="leading",
    formula="X = A^-1 B: dB = A^-T G, dA = -dB X^T",
)


@declare(out="exact", prim=_solve, namespaces=("ember.linalg",))
def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """``X`` with ``A X = B`` (``B`` a matrix, or a vector per matrix of ``A``)."""
    _square("solve", A)
    if not left:
        return _mT(solve(_mT(A), _mT(B)))
    vector = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1
                                   and B._data.shape == A._data.shape[:-1])
    if vector:
        return S.squeeze(solve(A, S.unsqueeze(B, -1)), -1)
    columns = B.shape[-2:] if B._data.ndim > 1 else (*B.shape, 1)
    if columns[0] != A._data.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({'x'.join(map(str, A.shape[-2:]))} and "
                           f"{'x'.join(map(str, columns))})")
    return apply(_solve, A, B)


from . import decompositions as D  # noqa: E402  (it imports this module's ops: last)
