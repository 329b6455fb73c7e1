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
        outs = step.out if step.rule else (step.out,)
        if not any(o in want for o in outs if o is not None):
            continue
        kept.append(step)
        want.update(step.ins)
        if step.rule:
            want.add(step.g)
            if step.saved_out >= 0:
                want.add(step.saved_out)
    kept.reverse()
    return kept


def reads(steps: list) -> set:
    """Slots the steps read that they do not compute themselves (their free variables)."""
    made, free = set(), set()
    for step in steps:
        ins = list(step.ins)
        if step.rule:
            ins.append(step.g)
            if step.saved_out >= 0:
                ins.append(step.saved_out)
        free.update(s for s in ins if s not in made)
        made.update(step.out if step.rule else (step.out,))
    return free


def build(steps: list, params: list, results: list, name: str, arrays: dict):
    """``fn(*arrays for params) -> tuple of arrays for results`` running ``steps``, elementwise
    steps writing into dead temporaries where that checks out on the trace's ``arrays``."""
    env: dict = {}
    fused = fuse.plan(steps, set(params) | set(results), arrays)
    lines = [f"def {name}({', '.join(f's{p}' for p in params)}):"]
    for i, step in enumerate(steps):
        if i in fused:
            ufunc, buffer = fused[i]
            env[f"u{i}"] = ufunc
            ins = ", ".join(f"s{s}" for s in step.ins)
            lines.append(f"    s{step.out} = u{i}({ins}, out=s{buffer})")
            continue
        lines.extend(_line(i, step, env))
    out = ", ".join("None" if r is None else f"s{r}" for r in results)
    lines.append(f"    return ({out},)")
    code = compile("\n".join(lines), f"<ember.compile {name}>", "exec")
    exec(code, env)  # our own generated code, from the trace just recorded
    fn = env[name]
    fn.source = "\n".join(lines)
    return fn


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
