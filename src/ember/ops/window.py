"""Sliding windows: their geometry and the im2col / col2im primitives.

``im2col`` copies every window of a (zero-)padded input into one array (a single strided
copy, no Python loop over pixels); ``col2im`` adds windows back into an image. They are
each other's derivative (one is the adjoint of the other), so everything built from them
(convolutions, transposed convolutions, unfold/fold, average pooling) is differentiable
to any order without rules of its own.

The fast path: with stride 1 in every dimension the inner output dimensions may be
*extended* to the padded width. Then each window row of a flattened input is one
contiguous run, the copy and the scatter run over long rows, and the extra columns (which
read the next row's values) are cropped away by the caller.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..tensor import Tensor
from .registry import apply, primitive


@dataclass(frozen=True)
class Geometry:
    """Where a window op reads: spatial sizes, kernel, dilation, stride, padding, output grid.

    ``size`` is the unpadded input's spatial shape, ``lo`` the padding before it, ``out``
    the number of windows per dimension and ``grid`` the number computed (``out``, or wider
    when extended). ``buffer`` is the padded array the windows are cut from.
    """

    size: tuple
    kernel: tuple
    dilation: tuple
    stride: tuple
    lo: tuple
    out: tuple
    grid: tuple
    buffer: tuple

    @property
    def extended(self) -> bool:
        return self.grid != self.out

    @property
    def windows(self) -> int:
        """Number of grid positions (columns of the unfolded matrix)."""
        n = 1
        for g in self.grid:
            n *= g
        return n

    @property
    def kernel_numel(self) -> int:
        n = 1
        for k in self.kernel:
            n *= k
        return n


def make_geometry(size, kernel, dilation, stride, lo, out, extend: bool = False) -> Geometry:
    """The geometry of ``out`` windows over an input of ``size`` padded by ``lo`` in front.

    The buffer is as large as the padded input or the windows' reach, whichever is larger.
    ``extend`` asks for the stride-1 fast path (ignored when it does not apply).
    """
    buffer = tuple(max(lo_k + s, (o - 1) * st + (k - 1) * d + 1)
                   for s, k, d, st, lo_k, o in zip(size, kernel, dilation, stride, lo, out))
    grid = tuple(out)
    if extend and len(size) > 1 and all(st == 1 for st in stride):
        grid = (out[0],) + buffer[1:]
        row = 1
        for b in buffer[1:]:
            row *= b
        reach = _reach(grid, stride, kernel, dilation, buffer)
        buffer = (max(buffer[0], reach // row + 1),) + buffer[1:]
    return Geometry(tuple(size), tuple(kernel), tuple(dilation), tuple(stride), tuple(lo),
                    tuple(out), grid, buffer)


def _reach(grid, stride, kernel, dilation, buffer) -> int:
    """The largest flat index (in a C-ordered ``buffer``) any window element reads."""
    reach = 0
    step = 1
    for g, st, k, d, b in reversed(list(zip(grid, stride, kernel, dilation, buffer))):
        reach += ((g - 1) * st + (k - 1) * d) * step
        step *= b
    return reach


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


def _strided_view(xp, buf, geom: Geometry, nlead: int = 2):
    """A (N, C, *kernel, *grid) view of ``buf`` (no copy): element [.., k, p] = window p, offset k."""
    lead = buf.strides[:nlead]
    spatial = buf.strides[nlead:]
    kernel_strides = tuple(d * s for d, s in zip(geom.dilation, spatial))
    grid_strides = tuple(st * s for st, s in zip(geom.stride, spatial))
    shape = buf.shape[:nlead] + geom.kernel + geom.grid
    return xp.lib.stride_tricks.as_strided(buf, shape, lead + kernel_strides + grid_strides)


def _inner(geom: Geometry) -> tuple:
    """The index that selects the unpadded input inside the buffer."""
    return (Ellipsis,) + tuple(slice(lo, lo + s) for lo, s in zip(geom.lo, geom.size))


def padded_buffer(xp, x, geom: Geometry, fill: float):
    """``x`` inside a buffer filled with ``fill`` (``x`` itself when no padding is needed)."""
    if x.shape[2:] == geom.buffer and (not geom.extended or x.flags.c_contiguous):
        return x
    buf = xp.full(x.shape[:2] + geom.buffer, fill, dtype=x.dtype)
    buf[_inner(geom)] = x
    return buf


def window_view(xp, x, geom: Geometry, fill: float = 0.0):
    """All windows of ``x`` padded with ``fill``, as a strided (N, C, *kernel, *grid) view."""
    return _strided_view(xp, padded_buffer(xp, x, geom, fill), geom)


def kernel_offsets(geom: Geometry):
    """Every offset inside the kernel, in row-major order (the loop is over kernel taps only)."""
    return itertools.product(*(range(k) for k in geom.kernel))


def scatter_windows(xp, lead: tuple, dtype, geom: Geometry, pieces):
    """Add ``pieces`` (pairs of kernel offset and a grid-shaped array) into an image; crop."""
    buf = xp.zeros(lead + geom.buffer, dtype=dtype)
    view = _strided_view(xp, buf, geom)
    for offset, piece in pieces:
        tap = view[(slice(None), slice(None)) + offset]
        tap += piece  # one tap never overlaps itself, so this in-place add is exact
    return xp.ascontiguousarray(buf[_inner(geom)])


def _im2col_fwd(xp, x, geom):
    return xp.ascontiguousarray(window_view(xp, x, geom))


def _col2im_fwd(xp, cols, geom):
    pieces = ((k, cols[(slice(None), slice(None)) + k]) for k in kernel_offsets(geom))
    return scatter_windows(xp, cols.shape[:2], cols.dtype, geom, pieces)


_im2col = primitive(
    "im2col", _im2col_fwd,
    lambda g, out, x, geom: (col2im(g, geom),), batchable=False,
    formula="linear; its adjoint is col2im (windows added back where they were read)",
)
_col2im = primitive(
    "col2im", _col2im_fwd,
    lambda g, out, cols, geom: (im2col(g, geom),), batchable=False,
    formula="linear; its adjoint is im2col (each window reads the gradient back)",
)


def im2col(x: Tensor, geom: Geometry) -> Tensor:
    """(N, C, *size) -> (N, C, *kernel, *grid): every window of the zero-padded input."""
    return apply(_im2col, x, geom=geom)


def col2im(cols: Tensor, geom: Geometry) -> Tensor:
    """(N, C, *kernel, *grid) -> (N, C, *size): windows summed back into the image."""
    return apply(_col2im, cols, geom=geom)
