"""Fusion of a flat program's elementwise steps: results written into dead temporaries, and
0-d arithmetic on NumPy scalars.

An elementwise step whose forward is one of the array module's ufuncs, with an input that
this program made, that no view shares and that nothing reads afterwards, writes its result
into that input (``multiply(a, b, out=a)``) instead of allocating: a chain of such steps runs
in one or two buffers. Each rewrite is checked on the trace's own arrays first (the ufunc must
give the recorded result bit for bit), so fused programs equal eager ones exactly.

A chain of 0-d float steps of exactly rounded arithmetic (``+ - * /``, whose IEEE results do
not depend on how they are computed) runs on NumPy scalars with Python's operators, several
times cheaper than a ufunc call on a 0-d array; values become arrays again where another
step or the caller reads them.
"""
from __future__ import annotations

import operator

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
        for s in step.reads():
            last[s] = i
    owned: set = set()  # slots holding a fresh array of this program that no view shares
    chosen = {}
    for i, step in enumerate(steps):
        ufunc = _ufunc(step, arrays)
        if ufunc is None:
            owned.difference_update(step.reads())  # it may keep a view of what it reads
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


# exactly rounded binary arithmetic: the same bits on NumPy scalars as on 0-d arrays
SCALAR_OPS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
              "div": operator.truediv}
_SYMBOLS = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/"}


def scalar_symbol(step, arrays: dict) -> str | None:
    """The operator symbol for a 0-d float32/float64 arithmetic step that gives the trace's
    result bit for bit on NumPy scalars; None for any other step."""
    op = None if step.rule or step.kw else SCALAR_OPS.get(step.prim.name)
    if op is None or len(step.ins) != 2:
        return None
    out = arrays[step.out]
    ins = [arrays[s] for s in step.ins]
    if out.ndim or out.dtype.kind != "f" or out.dtype.itemsize not in (4, 8) \
            or out.__class__ is not step.xp.ndarray:
        return None
    if any(a.ndim or a.dtype != out.dtype or a.__class__ is not out.__class__ for a in ins):
        return None
    again = op(ins[0][()], ins[1][()])
    if again.dtype != out.dtype or not step.xp.array_equal(again, out, equal_nan=True):
        return None
    return _SYMBOLS[op]
