"""Covariance and correlation of variables observed together (rows: variables, columns:
observations), with frequency and importance weights as torch.cov."""
from __future__ import annotations

import warnings

from .. import dtypes
from ..tensor import Tensor
from . import elementwise as E
from . import reduce as R
from . import shape as S
from .linalg import diagonal, matmul
from .registry import declare


@declare(method=True)
def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """The covariance matrix of the rows of ``input`` (a 1-D input is one variable: a 0-d
    result); ``correction`` 1 is Bessel's (unbiased), 0 the plain average."""
    if input._data.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input._data.ndim} dimensions")
    if input._data.dtype.kind == "b":
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = S.reshape(input, (1, -1)) if input._data.ndim < 2 else input
    if x._data.dtype.kind in "iub":
        x = E.cast(x, dtypes.get_default_dtype())
    observations = x._data.shape[1]
    weights = None
    for name, w in (("fweights", fweights), ("aweights", aweights)):
        if w is None:
            continue
        if w._data.ndim > 1 or w._data.shape[-1:] != (observations,):
            raise RuntimeError(f"cov(): expected {name} to have one dimension and {observations} "
                               f"elements but got {w._data.ndim} dimensions")
        if name == "fweights" and w._data.dtype.kind not in "iu":
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got "
                               f"fweights with {dtypes.scalar_name(w.dtype)} dtype")
        if name == "aweights" and w._data.dtype.kind != "f":
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got "
                               f"aweights with {dtypes.scalar_name(w.dtype)} dtype")
        weights = w if weights is None else E.mul(weights, w)
    if weights is None:
        mean = R.mean(x, 1, keepdim=True)
        total = observations
        norm = E.as_tensor_like(total - correction, x, x.dtype)
    else:
        total = R.sum(weights)
        mean = E.div(R.sum(E.mul(x, weights), 1, keepdim=True), total)
        if correction == 0:
            norm = total
        elif aweights is None:
            norm = E.sub(total, correction)
        else:
            norm = E.sub(total, E.div(E.mul(R.sum(E.mul(weights, aweights)), correction), total))
    norm = E.cast(norm, x.dtype)
    if bool((norm._data <= 0).any()):
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than "
                      "the number of observations.", UserWarning, stacklevel=2)
        norm = E.clamp(norm, min=0)
    centred = E.sub(x, mean)
    weighted = centred if weights is None else E.mul(centred, weights)
    out = E.div(matmul(weighted, S.transpose(centred, 0, 1)), norm)
    return S.reshape(out, ()) if x._data.shape[0] == 1 else out  # one variable: a 0-d result


@declare(method=True)
def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation coefficients of the rows of ``input``, clipped to [-1, 1]."""
    c = cov(input)
    if c._data.ndim == 0:
        return E.div(c, c)
    std = E.sqrt(diagonal(c))
    c = E.div(E.div(c, S.unsqueeze(std, 1)), S.unsqueeze(std, 0))
    return E.clamp(c, -1, 1)

