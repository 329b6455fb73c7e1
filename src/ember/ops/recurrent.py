"""The LSTM recurrence over a whole sequence as one primitive (``lstm_scan``).

Why a primitive: as a composite, each time step's gates read a slice of the input projection,
and the gradient of every slice is a full-sized array, so backward costs grow with the square
of the sequence length; the weight gradient also comes as one small matrix product per step.
Here the forward loop runs on arrays, and the rule (Ember ops, so it differentiates again)
walks back through time once, stacks the gate gradients, and forms the gradient of ``W_hh``
with one matrix product over all steps.

The output packs, per step, ``[h_t, c_t, i_t, f_t, g_t, o_t]`` (6 * hidden features): the
hidden and cell states the caller reads, and the gate activations the rule reuses.
"""
from __future__ import annotations

from ..tensor import Tensor
from . import batching as B
from . import elementwise as E
from . import linalg as L
from . import shape as S
from .index import take
from .jvp import plus
from .registry import apply, primitive


def _scan_fwd(xp, xw, h0, c0, w_hh):
    """Run the cell over every step: ``gates = xw_t + h W_hh^T``; i, f, o sigmoid, g tanh.

    All four activations come from one tanh: ``sigmoid(x) = (1 + tanh(x/2)) / 2``.
    """
    steps, batch, gates = xw.shape
    hidden = gates // 4
    xw = xp.ascontiguousarray(xw)
    out = xp.empty((steps, batch, 6 * hidden), dtype=xw.dtype)
    h, c = h0, c0
    w_t = w_hh.T
    scale = xp.full(gates, 0.5, dtype=xw.dtype)
    scale[2 * hidden:3 * hidden] = 1.0
    for t in range(steps):
        pre = xw[t] + h @ w_t
        act = xp.tanh(pre * scale)
        for part in (act[:, :2 * hidden], act[:, 3 * hidden:]):  # i, f and o: sigmoids
            part *= 0.5
            part += 0.5
        out[t, :, 2 * hidden:] = act
        i, f, g, o = (act[:, k * hidden:(k + 1) * hidden] for k in range(4))
        c = f * c + i * g
        h = o * xp.tanh(c)
        out[t, :, :hidden] = h
        out[t, :, hidden:2 * hidden] = c
    return out


def _scan_rule(g, out, xw, h0, c0, w_hh):
    """Back through time: ``dc = g_c + dc' + dh o (1 - tanh(c)^2)``, gate gradients times each
    activation's derivative, ``dh_prev = dgates W_hh``; ``dW_hh = sum_t dgates_t^T h_{t-1}``."""
    hidden = h0.shape[-1]
    h, c, acts = S.split(out, [hidden, hidden, 4 * hidden], -1)
    # a cotangent that came back through a transpose (batch_first) is strided: one copy in C
    # order keeps every per-step product below on BLAS's fast path
    g_h, g_c, g_act = S.split(S.contiguous(g), [hidden, hidden, 4 * hidden], -1)
    i, f, gg, o = S.chunk(acts, 4, -1)
    c_prev = S.cat([S.unsqueeze(c0, 0), c[:-1]])
    h_prev = S.cat([S.unsqueeze(h0, 0), h[:-1]])
    tanh_c = E.tanh(c)
    slope = S.cat([E.mul(i, E.sub(1, i)), E.mul(f, E.sub(1, f)), E.sub(1, E.mul(gg, gg)),
                   E.mul(o, E.sub(1, o))], -1)
    through_c = E.mul(o, E.sub(1, E.mul(tanh_c, tanh_c)))
    by_dc = S.stack([gg, c_prev, i], -2)  # (T, B, 3, H): what dc multiplies for di, df, dg
    batch = h0.shape[0]
    dh_next = dc_next = None
    dpre = [None] * out.shape[0]
    for t in range(out.shape[0] - 1, -1, -1):
        at = (t,)
        dh = take(g_h, at) if dh_next is None else E.add(take(g_h, at), dh_next)
        dc = E.addcmul(take(g_c, at), dh, take(through_c, at))
        if dc_next is not None:
            dc = E.add(dc, dc_next)
        d_ifg = S.reshape(E.mul(take(by_dc, at), S.unsqueeze(dc, 1)), (batch, 3 * hidden))
        d_o = E.mul(dh, take(tanh_c, at))
        d_act = E.add(S.cat([d_ifg, d_o], -1), take(g_act, at))
        dpre[t] = E.mul(d_act, take(slope, at))
        dc_next = E.mul(dc, take(f, at))
        dh_next = L.matmul(dpre[t], w_hh)
    d_xw = S.stack(dpre)
    d_w = L.matmul(S.t(S.reshape(d_xw, (-1, 4 * hidden))), S.reshape(h_prev, (-1, hidden)))
    return d_xw, dh_next, dc_next, d_w


def _scan_jvp(tangents, out, xw, h0, c0, w_hh):
    """Forward through time: ``dpre = dxw_t + dh W_hh^T + h dW_hh^T``, each gate's tangent its
    slope times dpre, ``dc = df c' + f dc' + di g + i dg``, ``dh = do tanh(c) + o (1 - tanh(c)^2) dc``."""
    hidden = h0.shape[-1]
    dxw, dh, dc, dw = tangents
    h, c, acts = S.split(out, [hidden, hidden, 4 * hidden], -1)
    i, f, gg, o = S.chunk(acts, 4, -1)
    slope = S.cat([E.mul(i, E.sub(1, i)), E.mul(f, E.sub(1, f)), E.sub(1, E.mul(gg, gg)),
                   E.mul(o, E.sub(1, o))], -1)
    tanh_c = E.tanh(c)
    h_prev = S.cat([S.unsqueeze(h0, 0), h[:-1]])
    c_prev = S.cat([S.unsqueeze(c0, 0), c[:-1]])
    # the input and weight parts of every step's pre-activation tangent, all steps at once
    dpre_in = dxw if dw is None else plus(dxw, L.matmul(h_prev, S.t(dw)))
    steps = []
    for t in range(out.shape[0]):
        at = (t,)
        dpre = take(dpre_in, at) if dpre_in is not None else None
        if dh is not None:
            dpre = plus(dpre, L.matmul(dh, S.t(w_hh)))
        if dpre is None:  # no tangent has reached this step yet
            dpre = E.const_zeros(take(acts, at))
        dact = E.mul(dpre, take(slope, at))
        di, df, dg, do = S.chunk(dact, 4, -1)
        dc_new = E.add(E.add(E.mul(df, take(c_prev, at)), E.mul(di, take(gg, at))),
                       E.mul(take(i, at), dg))
        if dc is not None:
            dc_new = E.add(dc_new, E.mul(take(f, at), dc))
        dc = dc_new
        tc = take(tanh_c, at)
        dh = E.add(E.mul(do, tc), E.mul(E.mul(take(o, at), E.sub(1, E.mul(tc, tc))), dc))
        steps.append(S.cat([dh, dc, dact], -1))
    return S.stack(steps) if steps else E.const_zeros(out)


def _scan_batch(prim, args: list, bdims: list) -> Tensor:
    """vmap: samples sharing ``W_hh`` are more rows of the LSTM's batch (folded into its dim 1
    and back out); per-sample weights run once per sample."""
    if bdims[3] is not None:
        return B._loop(prim, args, bdims, {})
    xw, h0, c0 = B.batched_everywhere(args[:3], bdims[:3])
    n, steps, rows = xw.shape[:3]
    out = apply(prim, S.reshape(S.movedim(xw, 0, 1), (steps, n * rows, -1)),
                S.reshape(h0, (n * rows, -1)), S.reshape(c0, (n * rows, -1)), args[3])
    return S.movedim(S.reshape(out, (steps, n, rows, -1)), 1, 0)


_LSTM_SCAN = primitive("lstm_scan", _scan_fwd, _scan_rule, saves_out=True, batchable=False,
                       jvp=_scan_jvp, batch=_scan_batch,
                       formula="back through time: gate gradients times the gates' slopes")


def lstm_scan(xw: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor) -> Tensor:
    """Every step of an LSTM layer from its input projections ``xw`` (T, B, 4H, biases added):
    returns (T, B, 6H) holding ``[h_t, c_t, i_t, f_t, g_t, o_t]`` per step."""
    return apply(_LSTM_SCAN, xw, h0, c0, w_hh)
