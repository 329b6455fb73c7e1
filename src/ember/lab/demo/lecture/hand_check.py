"""Section 9: checking a hand derivation — the notes' ∂/∂W (y − (Wx + b))², caught and corrected."""
from __future__ import annotations

import ember

from ..runner import Context


def _check_notes():
    verdict = ember.check_derivative("(y - (W*x + b))**2", wrt="W", claimed="2*(y - (W*x + b))*W*x")
    return verdict


def _check_fixed():
    verdict = ember.check_derivative("(y - (W*x + b))**2", wrt="W", claimed="-2*(y - (W*x + b))*x")
    return verdict


def run(ctx: Context) -> dict:
    """Feed the notes' derivative to ember.check_derivative, then the corrected one."""
    wr = ctx.writer
    wr.say("The notes differentiate the squared error of one example with respect to W and write "
           "∂/∂W (y − (Wx + b))² = 2(y − (Wx + b))·Wx. ember.check_derivative compares a claimed "
           "derivative with autograd at many random points and says whether it holds.")
    wrong = ctx.run(_check_notes)
    wr.block(wrong)
    wr.slip("they multiply by Wx, but the chain rule multiplies by the inner derivative "
            "∂/∂W (y − (Wx + b)) = −x: ∂/∂W (y − (Wx + b))² = −2(y − (Wx + b))·x.")
    right = ctx.run(_check_fixed)
    wr.block(right)
    ctx.check(not wrong and bool(right), "the notes' derivative is caught; −2(y − (Wx + b))·x holds.")
    return {"notes_ok": bool(wrong), "fixed_ok": bool(right), "report": str(wrong)}
