"""Fusion of a flat program's elementwise steps: results written into dead temporaries.

An elementwise step whose forward is one of the array module's ufuncs, with an input that
this program made, that no view shares and that nothing reads afterwards, writes its result
into that input (``multiply(a, b, out=a)``) instead of allocating: a chain of such steps runs
in one or two buffers. Each rewrite is checked on the trace's own arrays first (the ufunc must
give the recorded result bit for bit), so fused programs equal eager ones exactly.
"""
from __future__ import annotations

# primitive name -> the ufunc its forward computes (checked on the trace before use)
UFUNCS = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "divide", "neg": "negative",
          "exp": "exp", "log": "log", "tanh": "tanh", "sqrt": "sqrt", "sin": "sin", "cos": "cos",
          "maximum": "maximum", "minimum": "minimum", "abs": "absolute"}


def plan(steps: list, keep: set, arrays: dict) -> dict:
    """``{step index: (ufunc, buffer slot)}`` for the steps that can write into a dead input.

    ``keep``: slots that must survive (the program's parameters and results); ``arrays``: each
    slot's array in the trace.
    """
    last = {}
    for i, step in enumerate(steps):
        for s in _reads(step):
            last[s] = i
    owned: set = set()  # slots holding a fresh array of this program that no view shares
    chosen = {}
    for i, step in enumerate(steps):
        ufunc = _ufunc(step, arrays)
        if ufunc is None:
            owned.difference_update(_reads(step))  # it may keep a view of what it reads
            continue
        out = arrays[step.out]
        for s in step.ins:
            a = arrays[s]
            if s in owned and last[s] == i and s not in keep and a.shape == out.shape \
                    and a.dtype == out.dtype:
                chosen[i] = (ufunc, s)
                break
        owned.add(step.out)
    return chosen


def _reads(step) -> list:
    if step.rule:
        return [*step.ins, step.g] + ([step.saved_out] if step.saved_out >= 0 else [])
    return step.ins


def _ufunc(step, arrays: dict):
    """The ufunc computing this step, if it is one and gives the trace's result exactly."""
    if step.rule or step.kw or step.prim.name not in UFUNCS:
        return None
    out = arrays[step.out]
    ins = [arrays[s] for s in step.ins]
    if not out.ndim or out.base is not None or any(a is out or a.dtype != out.dtype for a in ins):
        return None
    ufunc = getattr(step.xp, UFUNCS[step.prim.name], None)
    if ufunc is None or ufunc.nin != len(ins):
        return None
    again = ufunc(*ins)
    if again.shape != out.shape or not step.xp.array_equal(again, out, equal_nan=True):
        return None
    return ufunc
