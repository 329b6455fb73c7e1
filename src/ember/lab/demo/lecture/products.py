"""Section 1: the inner product [1 2 3]·[1 2 3]ᵀ = 14 and the outer product v·vᵀ."""
from __future__ import annotations

import ember

from ..runner import Context


def _products():
    v = ember.tensor([1.0, 2.0, 3.0])
    inner = v @ v                # row times column: 1·1 + 2·2 + 3·3, a scalar
    outer = ember.outer(v, v)    # column times row: entry (i, j) is v[i]·v[j], a 3×3 matrix
    as_matrices = v.reshape(3, 1) @ v.reshape(1, 3)
    return inner, outer, as_matrices


def run(ctx: Context) -> dict:
    """Compute both products of v = (1, 2, 3) and point out which one the notes call vᵀv."""
    w = ctx.writer
    w.say("The notes: [1 2 3]·[1 2 3]ᵀ = 1 + 4 + 9 = 14, a scalar (the inner product), "
          "and a 3×3 matrix built from the same vector (the outer product).")
    inner, outer, as_matrices = ctx.run(_products)
    w.values([("inner", inner), ("outer", outer), ("as_matrices", as_matrices)])
    ctx.check(inner.item() == 14, f"[1 2 3]·[1 2 3]ᵀ = {inner.item():g}, as in the lecture.")
    w.slip("they write the 3×3 matrix [[1 2 3], [2 4 6], [3 6 9]] as vᵀv. With v a column, "
           "vᵀv is 1×3 times 3×1: the inner product, 14. The matrix is the outer product v·vᵀ "
           "(3×1 times 1×3), as `as_matrices` shows; each row is v scaled by one entry of v, "
           "which is the notes' [av bv cv].")
    return {"inner": inner.item(), "outer": outer.tolist()}
