"""Section 10: forward vs reverse mode — the same partials, counted in sweeps."""
from __future__ import annotations

import inspect

import ember

from ..runner import Context
from .partials import z

POINT = {"x": 2.0, "u": 4.0, "k": 3.0, "l": 1.0}


def _forward(point):
    work = ember.explain(z, mode="forward", **point)  # one sweep of dual numbers per input
    return work


def _reverse(point):
    work = ember.explain(z, **point)                  # one forward trace, one reverse sweep
    return work


class _Sweeps:
    """Counts the sweeps each mode makes through ``spiral``: forward sweeps are calls of it on
    dual numbers; reverse sweeps are backward passes reaching its output."""

    def __init__(self) -> None:
        self.forward = 0
        self.reverse = 0

    def spiral(self, p):
        # from ℝ² to ℝ⁸: four points on a spiral of radius p₀ and pitch p₁
        t = ember.arange(1.0, 5.0, dtype=ember.float64)
        out = ember.cat([p[0] * ember.cos(t * p[1]), p[0] * ember.sin(t * p[1])])
        if out.requires_grad:
            out.register_hook(self._backward_pass)
        else:
            self.forward += 1
        return out

    def _backward_pass(self, grad):
        self.reverse += 1


def _tall_jacobian(sweeps):
    p = ember.tensor([1.5, 0.3], dtype=ember.float64)
    seeds = ember.eye(2, dtype=ember.float64)                 # one forward sweep per input
    J_forward = ember.stack([ember.func.jvp(sweeps.spiral, (p,), (seed,))[1] for seed in seeds], 1)
    J_reverse = ember.autograd.functional.jacobian(sweeps.spiral, p)  # one row per reverse sweep
    return J_forward, J_reverse


def run(ctx: Context) -> dict:
    """Forward mode's dual numbers on the lecture's z, and where each mode wins."""
    wr = ctx.writer
    wr.say("Reverse mode (backward) gets every partial of one output in one sweep from the "
           "output back. Forward mode goes the other way: each value carries a tangent beside "
           "it — a dual number v + v̇ε — and each op's JVP rule pushes the tangents on. Seed "
           "ẋ = 1 and the others 0, and one sweep gives ∂z/∂x; z has four inputs, so four "
           "sweeps give what one reverse sweep gives.")
    wr.code(inspect.getsource(z))
    forward = ctx.run(_forward, POINT)
    wr.block(forward)
    reverse = ctx.run(_reverse, POINT)
    wr.table(["partial", "forward (4 sweeps)", "reverse (1 sweep)"],
             [(f"∂z/∂{n}", forward.gradient[n], reverse.gradient[n]) for n in POINT])
    same = forward.gradient == reverse.gradient == {"x": 337.0, "u": 96.0, "k": 64.0, "l": 3.0}
    ctx.check(same, "both modes give the lecture's 337, 96, 64, 3: four forward sweeps against "
                    "one reverse sweep.")
    wr.say("With more outputs than inputs the count turns around: forward mode needs one sweep "
           "per input, reverse mode one per output. A map from ℝ² to ℝ⁸ (points on a spiral):")
    sweeps = _Sweeps()
    wr.code(inspect.getsource(_Sweeps.spiral))
    J_forward, J_reverse = ctx.run(_tall_jacobian, sweeps)
    wr.values([("J_forward", J_forward)])
    wr.table(["mode", "sweeps", "one sweep gives"],
             [("forward (jvp)", sweeps.forward, "a column: all 8 outputs along one input"),
              ("reverse (jacobian)", sweeps.reverse, "a row: one output by both inputs")])
    agree = bool((J_forward - J_reverse).abs().max() < 1e-12)
    ctx.check(agree and (sweeps.forward, sweeps.reverse) == (2, 8),
              "the same 8×2 Jacobian from 2 forward sweeps or 8 reverse sweeps: for a tall "
              "Jacobian forward mode wins.")
    return {"forward": forward.gradient, "reverse": reverse.gradient,
            "sweeps": {"forward": sweeps.forward, "reverse": sweeps.reverse},
            "jacobian": J_forward.tolist()}
