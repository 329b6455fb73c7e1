"""``linearize``: a function's value at a point and its Jacobian-vector product there (torch.func)."""
from __future__ import annotations

from typing import Callable

from .. import func as F  # the partly loaded ember.func: jvp is read when jvp_fn runs
from ..autograd.grad_mode import no_grad


def linearize(func: Callable, *primals) -> tuple:
    """``(func(*primals), jvp_fn)``; ``jvp_fn(*tangents)`` gives ``J·tangents`` at ``primals``.

    The tangents must have the primals' structure and shapes (``jvp``'s checks and messages).
    """
    with no_grad():
        output = func(*primals)

    def jvp_fn(*tangents):
        return F.jvp(func, primals, tangents)[1]

    return output, jvp_fn
