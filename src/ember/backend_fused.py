"""Fused elementwise chains: one pass over memory where NumPy makes one pass per op.

A training step spends much of its time in short elementwise chains (GELU and its derivative,
the optimizers' updates), each of which NumPy runs as one call, one temporary and
one pass over memory per op, on one core. Here each chain is one kernel: on the CPU a numba
loop over ``prange`` (multi-threaded, compiled on its first call and cached on disk beside this
module, ``cache=True``), on the GPU a ``cupy.fuse`` kernel. numba is the optional ``ember[fast]``
extra and is imported on the first call that can use it, never by ``import ember``.

Every function returns its result whatever runs it: without numba, for arrays below
``MIN_SIZE`` elements (where a kernel's dispatch costs more than NumPy's few calls), for dtypes
the kernels do not take or strided arrays, the same chain runs as NumPy calls. Callers (op
forwards and rules, the optimizers) never choose a path; only this module and ``backend`` know
NumPy from CuPy from numba. ``EMBER_FUSED=0`` (or ``use_kernels(False)``) turns the kernels off.
"""
from __future__ import annotations

import contextlib
import functools
import math
import os

import numpy as np

from . import backend

SQRT_HALF = math.sqrt(0.5)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
MIN_SIZE = 1 << 15  # elements: below this NumPy's calls beat a kernel's dispatch
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class _Switch:
    """Whether the fused kernels may run (``EMBER_FUSED=0`` turns them off)."""

    __slots__ = ("on",)

    def __init__(self) -> None:
        self.on = os.environ.get("EMBER_FUSED", "1") != "0"


SWITCH = _Switch()


@contextlib.contextmanager
def use_kernels(on: bool):
    """Run the block with the fused kernels on or off (tests compare both paths)."""
    prev = SWITCH.on
    SWITCH.on = on
    try:
        yield
    finally:
        SWITCH.on = prev


# ---------------------------------------------------------------------------- the CPU kernels


@functools.cache
def _cpu_kernels():
    """numba's compiled kernels, or None when numba is not installed (imported here, lazily)."""
    try:
        import numba
    except ImportError:
        return None
    jit = numba.njit(parallel=True, cache=True, nogil=True, error_model="numpy")
    prange = numba.prange

    @jit
    def gelu(x, y):
        for i in prange(x.size):
            xi = x[i]
            y[i] = xi * (0.5 * (1.0 + math.erf(xi * SQRT_HALF)))

    @jit
    def gelu_backward(g, x, dx):
        for i in prange(x.size):
            xi = x[i]
            cdf = 0.5 * (1.0 + math.erf(xi * SQRT_HALF))
            dx[i] = g[i] * (cdf + xi * math.exp(-0.5 * xi * xi) * INV_SQRT_2PI)

    @jit
    def adam(p, g, m, v, k):
        sign, l2, decay, w, beta2, step_size, bc2_sqrt, eps = k[0], k[1], k[2], k[3], k[4], k[5], \
            k[6], k[7]
        for i in prange(p.size):
            pi = p[i]
            gi = sign * g[i] + l2 * pi
            mi = m[i]
            mi = mi + w * (gi - mi) if w < 0.5 else gi - (gi - mi) * (1.0 - w)
            vi = beta2 * v[i] + (1.0 - beta2) * gi * gi
            m[i] = mi
            v[i] = vi
            p[i] = pi * decay - step_size * mi / (math.sqrt(vi) / bc2_sqrt + eps)

    @jit
    def sgd(p, g, buf, k):
        sign, l2, momentum, keep, lr, nesterov = k[0], k[1], k[2], k[3], k[4], k[5]
        for i in prange(p.size):
            pi = p[i]
            gi = sign * g[i] + l2 * pi
            b = momentum * buf[i] + keep * gi
            buf[i] = b
            step = gi + momentum * b if nesterov != 0.0 else b
            p[i] = pi - lr * step

    return dict(gelu=gelu, gelu_backward=gelu_backward, adam=adam, sgd=sgd)


def _cpu(*arrays):
    """The numba kernels when they can take ``arrays`` (big, contiguous, one float dtype)."""
    first = arrays[0]
    if not SWITCH.on or first.size < MIN_SIZE or first.dtype not in _FLOATS:
        return None
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != first.dtype or not a.flags.c_contiguous:
            return None
    return _cpu_kernels()


# ---------------------------------------------------------------------------- the chains
# Written once in array-module calls: the NumPy path runs them op by op, the GPU path fuses
# them into one kernel with cupy.fuse.


def _gelu_chain(erf):
    def gelu(x):
        return x * (0.5 * (1 + erf(x * SQRT_HALF)))

    return gelu


def _gelu_backward_chain(erf, exp):
    def gelu_backward(g, x):
        cdf = 0.5 * (1 + erf(x * SQRT_HALF))
        return g * (cdf + x * exp(-0.5 * x * x) * INV_SQRT_2PI)

    return gelu_backward


def _adam_chain(sqrt, high_weight: bool):
    def adam(p, g, m, v, sign, l2, decay, w, beta2, step_size, bc2_sqrt, eps):
        gi = sign * g + l2 * p
        m = gi - (gi - m) * (1 - w) if high_weight else m + w * (gi - m)
        v = beta2 * v + (1 - beta2) * gi * gi
        return p * decay - step_size * m / (sqrt(v) / bc2_sqrt + eps), m, v

    return adam


def _sgd_chain(nesterov: bool):
    def sgd(p, g, buf, sign, l2, momentum, keep, lr):
        gi = sign * g + l2 * p
        b = momentum * buf + keep * gi
        return p - lr * (gi + momentum * b if nesterov else b), b

    return sgd


@functools.cache
def _gpu_chain(make, *args):
    """``make(*args)``'s chain as one ``cupy.fuse`` kernel (erf and friends from cupyx)."""
    cp = backend.cuda_module()
    special = backend.scipy_special(cp)
    named = {"erf": special.erf, "exp": cp.exp, "sqrt": cp.sqrt}
    return cp.fuse(make(*[named.get(a, a) for a in args]))


def _on_gpu(x) -> bool:
    return SWITCH.on and type(x) is not np.ndarray and backend.xp_of(x) is not np


# ---------------------------------------------------------------------------- the ops' kernels


def gelu(xp, x):
    """Exact GELU ``x * Phi(x)``: ``x * (1 + erf(x / sqrt 2)) / 2``."""
    kernels = _cpu(x)
    if kernels is not None:
        y = np.empty_like(x)
        kernels["gelu"](x.reshape(-1), y.reshape(-1))
        return y
    if _on_gpu(x):
        return _gpu_chain(_gelu_chain, "erf")(x)
    erf = backend.special_functions(xp).erf
    return _gelu_chain(erf)(x).astype(x.dtype, copy=False)


def gelu_backward(xp, g, x):
    """The gradient of exact GELU: ``g * (Phi(x) + x * phi(x))``."""
    kernels = _cpu(g, x)
    if kernels is not None:
        dx = np.empty_like(x)
        kernels["gelu_backward"](g.reshape(-1), x.reshape(-1), dx.reshape(-1))
        return dx
    if _on_gpu(x):
        return _gpu_chain(_gelu_backward_chain, "erf", "exp")(g, x)
    erf = backend.special_functions(xp).erf
    return _gelu_backward_chain(erf, xp.exp)(g, x).astype(x.dtype, copy=False)


# ---------------------------------------------------------------------------- optimizer updates


def _write(targets, values) -> None:
    for target, value in zip(targets, values):
        target[...] = value


def adam_(p, g, m, v, *, lr: float, beta1: float, beta2: float, eps: float, step: float,
          weight_decay: float, decoupled: bool, maximize: bool) -> bool:
    """One Adam(W) step on arrays in place (``m``, ``v``, then ``p``), as torch's formulas;
    False (nothing written) where no kernel takes these arrays, for the caller's op path."""
    high_weight = 1 - beta1 >= 0.5  # torch's lerp picks its formula by the weight
    k = (-1.0 if maximize else 1.0, 0.0 if decoupled else weight_decay,
         1.0 - lr * weight_decay if decoupled else 1.0, 1 - beta1, beta2,
         lr / (1 - beta1 ** step), (1 - beta2 ** step) ** 0.5, eps)
    kernels = _cpu(p, g, m, v)
    if kernels is not None:
        kernels["adam"](p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1),
                        np.array(k, np.float64))
        return True
    if _on_gpu(p) and p.dtype in _FLOATS:
        _write((p, m, v), _gpu_chain(_adam_chain, "sqrt", high_weight)(p, g, m, v, *k))
        return True
    return False


def sgd_momentum_(p, g, buf, *, lr: float, momentum: float, dampening: float,
                  weight_decay: float, nesterov: bool, maximize: bool) -> bool:
    """One SGD step with momentum on arrays in place (``buf`` then ``p``), as torch's
    formulas; False (nothing written) where no kernel takes these arrays."""
    k = (-1.0 if maximize else 1.0, weight_decay, momentum, 1.0 - dampening, lr)
    kernels = _cpu(p, g, buf)
    if kernels is not None:
        kernels["sgd"](p.reshape(-1), g.reshape(-1), buf.reshape(-1),
                       np.array(k + (float(nesterov),), np.float64))
        return True
    if _on_gpu(p) and p.dtype in _FLOATS:
        _write((p, buf), _gpu_chain(_sgd_chain, nesterov)(p, g, buf, *k))
        return True
    return False
