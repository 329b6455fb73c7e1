"""A recorded program made runnable: one generated Python function of array calls.

The steps become straight-line code (``s7 = f3(xp3, s2, s5, dim=k3_dim)``) compiled once, so
a replay runs no Tensor objects, no dispatch and no per-op checks: only the array calls.
Steps the requested results do not need are dropped first.
"""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from . import fuse
from .trace import Step


def needed(steps: list, results: list) -> list:
    """The steps the ``results`` slots depend on, in order (dead code dropped)."""
    want = {s for s in results if s is not None}
    kept = []
    for step in reversed(steps):
        if any(o in want for o in step.writes() if o is not None):
            kept.append(step)
            want.update(step.reads())
    kept.reverse()
    return kept


def reads(steps: list) -> set:
    """Slots the steps read that they do not compute themselves (their free variables)."""
    made, free = set(), set()
    for step in steps:
        free.update(s for s in step.reads() if s not in made)
        made.update(step.writes())
    return free


def build(steps: list, params: list, results: list, name: str, arrays: dict):
    """``fn(*arrays for params) -> tuple of arrays for results`` running ``steps``, fused where
    that checks out on the trace's ``arrays`` (see ``fuse``)."""
    env: dict = {"asarray": None}
    fused = fuse.plan(steps, set(params) | set(results), arrays)
    code = _Code(name, params)
    for i, step in enumerate(steps):
        symbol = fuse.scalar_symbol(step, arrays)
        if symbol is not None:  # 0-d arithmetic on NumPy scalars
            env["asarray"] = step.xp.asarray
            a, b = (code.scalar(s) for s in step.ins)
            code.add(f"v{step.out} = {a} {symbol} {b}")
            code.scalars.add(step.out)
            continue
        for s in step.reads():
            code.array(s)
        if i in fused:
            ufunc, buffer = fused[i]
            env[f"u{i}"] = ufunc
            ins = ", ".join(f"s{s}" for s in step.ins)
            code.add(f"s{step.out} = u{i}({ins}, out=s{buffer})")
        else:
            code.lines.extend(_line(i, step, env))
        code.arrays.update(step.writes())
    for r in results:
        if r is not None:
            code.array(r)
    out = "".join(("None" if r is None else f"s{r}") + ", " for r in results)
    code.add(f"return ({out})")
    source = "\n".join(code.lines)
    exec(compile(source, f"<ember.compile {name}>", "exec"), env)  # our own generated code
    fn = env[name]
    fn.source = source
    return fn


class _Code:
    """The generated function's lines, and which slots exist as arrays (``s7``) or as NumPy
    scalars (``v7``) at the current line."""

    def __init__(self, name: str, params: list) -> None:
        self.lines = [f"def {name}({', '.join(f's{p}' for p in params)}):"]
        self.arrays = set(params)
        self.scalars: set = set()

    def add(self, line: str) -> None:
        self.lines.append(f"    {line}")

    def scalar(self, s: int) -> str:
        if s not in self.scalars:
            self.add(f"v{s} = s{s}[()]")
            self.scalars.add(s)
        return f"v{s}"

    def array(self, s: int) -> None:
        if s not in self.arrays:
            self.add(f"s{s} = asarray(v{s})")
            self.arrays.add(s)


def _line(i: int, step: Step, env: dict) -> list:
    if step.rule:
        env[f"r{i}"] = _rule_call(step)
        args = [f"s{step.g}", "None" if step.saved_out < 0 else f"s{step.saved_out}"]
        args += [f"s{s}" for s in step.ins]
        outs = [("_" if o is None else f"s{o}") for o in step.out]
        return [f"    {', '.join(outs)}, = r{i}({', '.join(args)})"]
    env[f"f{i}"] = step.prim.forward
    env[f"xp{i}"] = step.xp
    args = [f"xp{i}"] + [f"s{s}" for s in step.ins]
    for key, value in step.kw.items():
        env[f"k{i}_{key}"] = value
        args.append(f"{key}=k{i}_{key}")
    lines = [f"    s{step.out} = f{i}({', '.join(args)})"]
    if step.wrap:
        env[f"nd{i}"] = step.xp.ndarray
        lines.append(f"    if s{step.out}.__class__ is not nd{i}: s{step.out} = xp{i}.asarray(s{step.out})")
    return lines


def _rule_call(step: Step):
    """A derivative rule that computes outside the ops, run on Tensors wrapping the arrays."""
    prim, kw, needs = step.prim, step.kw, step.needs
    make = Tensor._make

    def run(g, out, *inputs):
        with no_grad():
            grads = prim.rule(make(g), None if out is None else make(out),
                              *[make(a, n) for a, n in zip(inputs, needs)], **kw)
        return tuple(None if r is None else r._data for r in grads)

    return run
