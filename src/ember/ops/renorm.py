"""``renorm``: a max-norm constraint on the slices of a tensor along one dim (torch.renorm)."""
from __future__ import annotations

from ..tensor import Tensor
from . import elementwise as E
from . import reduce as R
from .registry import declare


@declare(out="exact", method=True, inplace=True)
def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` scaled down to that norm
    (by ``maxnorm / (norm + 1e-7)``, as torch); the others unchanged.

    A composite: its derivative goes through the norm, as torch's."""
    E.require_tensors("renorm", input)
    ndim = input._data.ndim
    if ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {ndim} dimensions")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if not -ndim <= dim < ndim:
        raise IndexError(f"renorm: Dimension out of range (expected to be in range of "
                         f"[{-ndim}, {ndim - 1}], but got {dim})")
    others = tuple(i for i in range(ndim) if i != dim % ndim)
    norm = R.norm(input, p, dim=others, keepdim=True)
    factor = E.where(E.gt(norm, maxnorm), E.div(maxnorm, E.add(norm, 1e-7)), 1.0)
    return E.mul(input, E.cast(factor, input.dtype))
