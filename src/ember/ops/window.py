"""Sliding windows: their geometry and the im2col / col2im primitives.

``im2col`` copies every window of a (zero-)padded input into one array (a single strided
copy through ``as_strided``, no Python loop over pixels); ``col2im`` adds windows back into
an image with one vectorised add per kernel tap. They are each other's derivative (one is
the adjoint of the other), so everything built from them (convolutions, transposed
convolutions, unfold/fold, average pooling) is differentiable to any order without rules
of its own.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..tensor import Tensor
from .registry import apply, primitive


@dataclass(frozen=True)
class Geometry:
    """Where a window op reads: spatial sizes, kernel, dilation, stride, padding, output grid.

    ``size`` is the unpadded input's spatial shape, ``lo`` the padding before it and ``out``
    the number of windows per dimension. ``buffer`` is the padded array the windows are cut
    from: the padded input, or larger when the last windows reach past it (ceil_mode).
    """

    size: tuple
    kernel: tuple
    dilation: tuple
    stride: tuple
    lo: tuple
    out: tuple
    buffer: tuple

    @property
    def windows(self) -> int:
        """Number of windows (columns of the unfolded matrix)."""
        n = 1
        for o in self.out:
            n *= o
        return n

    @property
    def kernel_numel(self) -> int:
        n = 1
        for k in self.kernel:
            n *= k
        return n


def make_geometry(size, kernel, dilation, stride, lo, out) -> Geometry:
    """The geometry of ``out`` windows over an input of ``size`` padded by ``lo`` in front."""
    buffer = tuple(max(lo_k + s, (o - 1) * st + (k - 1) * d + 1)
                   for s, k, d, st, lo_k, o in zip(size, kernel, dilation, stride, lo, out))
    return Geometry(tuple(size), tuple(kernel), tuple(dilation), tuple(stride), tuple(lo),
                    tuple(out), buffer)


def output_size(size: int, kernel: int, dilation: int, stride: int, lo: int, hi: int,
                ceil_mode: bool = False) -> int:
    """Windows along one dimension (torch's formula, with pooling's ``ceil_mode`` rule)."""
    span = size + lo + hi - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    n = -(-span // stride) + 1
    if (n - 1) * stride >= size + lo:  # the last window must start inside the input or left pad
        n -= 1
    return n


# ---------------------------------------------------------------------------- array code


def _as_windows(xp, buf, kernel: tuple, dilation: tuple, stride: tuple, out: tuple):
    """A view (no copy) of ``buf`` (N, C, *spatial, *rest) as (N, C, *kernel, *out, *rest):
    element [n, c, k, p] is tap ``k`` of window ``p``. Trailing dims beyond the spatial ones
    are kept as they are."""
    d = len(kernel)
    spatial = buf.strides[2:2 + d]
    strides = (buf.strides[:2] + tuple(k * s for k, s in zip(dilation, spatial))
               + tuple(st * s for st, s in zip(stride, spatial)) + buf.strides[2 + d:])
    shape = buf.shape[:2] + tuple(kernel) + tuple(out) + buf.shape[2 + d:]
    return xp.lib.stride_tricks.as_strided(buf, shape, strides)


def _strided_view(xp, buf, geom: Geometry):
    """The (N, C, *kernel, *out) windows of a padded buffer, as a view."""
    return _as_windows(xp, buf, geom.kernel, geom.dilation, geom.stride, geom.out)


def _inner(geom: Geometry) -> tuple:
    """The index that selects the unpadded input inside the buffer."""
    return (Ellipsis,) + tuple(slice(lo, lo + s) for lo, s in zip(geom.lo, geom.size))


def padded_buffer(xp, x, geom: Geometry, fill: float):
    """``x`` inside a buffer filled with ``fill`` (``x`` itself when no padding is needed)."""
    if x.shape[2:] == geom.buffer:
        return x
    buf = xp.full(x.shape[:2] + geom.buffer, fill, dtype=x.dtype)
    buf[_inner(geom)] = x
    return buf


def window_view(xp, x, geom: Geometry, fill: float = 0.0):
    """All windows of ``x`` padded with ``fill``, as a strided (N, C, *kernel, *out) view."""
    return _strided_view(xp, padded_buffer(xp, x, geom, fill), geom)


def kernel_offsets(geom: Geometry):
    """Every offset inside the kernel, in row-major order (the loop is over kernel taps only)."""
    return itertools.product(*(range(k) for k in geom.kernel))


def disjoint(geom: Geometry) -> bool:
    """True when no two windows share an input element (stride at least the dilated kernel)."""
    return all(st >= (k - 1) * d + 1 for st, k, d in zip(geom.stride, geom.kernel, geom.dilation))


def scatter_windows(xp, lead: tuple, dtype, geom: Geometry, pieces):
    """Add ``pieces`` (pairs of kernel offset and an out-shaped array) into an image; crop.

    One vectorised add per tap (a tap never overlaps itself, so the in-place add is exact);
    when windows are disjoint no element is written twice, and a plain assignment does (into
    uninitialised memory when the windows tile the whole buffer).
    """
    assign = disjoint(geom)
    tiles = all(d == 1 and st == k and o * st == b for d, st, k, o, b in
                zip(geom.dilation, geom.stride, geom.kernel, geom.out, geom.buffer))
    buf = (xp.empty if tiles else xp.zeros)(lead + geom.buffer, dtype=dtype)
    view = _strided_view(xp, buf, geom)
    for offset, piece in pieces:
        tap = view[(slice(None), slice(None)) + offset]
        if assign:
            tap[...] = piece
        else:
            tap += piece
    return xp.ascontiguousarray(buf[_inner(geom)])


def _im2col_fwd(xp, x, geom):
    return xp.ascontiguousarray(window_view(xp, x, geom))


def _col2im_fwd(xp, cols, geom):
    lead = (slice(None), slice(None))
    if len(geom.kernel) == 1 or disjoint(geom):
        pieces = ((k, cols[lead + k]) for k in kernel_offsets(geom))
        return scatter_windows(xp, cols.shape[:2], cols.dtype, geom, pieces)
    return _col2im_by_columns(xp, cols, geom)


def _col2im_by_columns(xp, cols, geom: Geometry):
    """col2im for overlapping windows in 2+ dims, in two stages that keep memory runs long.

    For each tap offset ``j`` along the last dim, the taps sharing it are first summed into
    rows that are not padded along that dim (so each add runs over whole contiguous rows,
    not window-width pieces); then those rows are added into the image at offset ``j``.
    """
    n, c = cols.shape[:2]
    rows = xp.empty((n, c) + geom.buffer[:-1] + geom.out[-1:], dtype=cols.dtype)
    taps = _as_windows(xp, rows, geom.kernel[:-1], geom.dilation[:-1], geom.stride[:-1],
                       geom.out[:-1])
    buf = xp.zeros((n, c) + geom.buffer, dtype=cols.dtype)
    lead = (slice(None), slice(None))
    step, dil, width = geom.stride[-1], geom.dilation[-1], geom.out[-1]
    for j in range(geom.kernel[-1]):
        rows.fill(0)
        for k in itertools.product(*(range(size) for size in geom.kernel[:-1])):
            taps[lead + k] += cols[lead + k + (j,)]
        buf[..., j * dil: j * dil + step * (width - 1) + 1: step] += rows
    return xp.ascontiguousarray(buf[_inner(geom)])


_im2col = primitive(
    "im2col", _im2col_fwd,
    lambda g, out, x, geom: (col2im(g, geom),), batchable=False, jvp="linear",
    formula="linear; its adjoint is col2im (windows added back where they were read)",
)
_col2im = primitive(
    "col2im", _col2im_fwd,
    lambda g, out, cols, geom: (im2col(g, geom),), batchable=False, jvp="linear",
    formula="linear; its adjoint is im2col (each window reads the gradient back)",
)


def im2col(x: Tensor, geom: Geometry) -> Tensor:
    """(N, C, *size) -> (N, C, *kernel, *out): every window of the zero-padded input."""
    return apply(_im2col, x, geom=geom)


def col2im(cols: Tensor, geom: Geometry) -> Tensor:
    """(N, C, *kernel, *out) -> (N, C, *size): windows summed back into the image."""
    return apply(_col2im, cols, geom=geom)
