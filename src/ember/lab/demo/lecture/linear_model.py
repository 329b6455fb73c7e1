"""Section 4: the linear model ŷ = w·x + b and its data set {(xᵢ, yᵢ)}ᵢ₌₁ᴺ."""
from __future__ import annotations

import ember

from ..runner import Context

N = 200
TRUE_W, TRUE_B = 3.0, 2.0


def make_data(n, w_true, b_true):
    ember.manual_seed(0)
    x = ember.rand(n, 1) * 4 - 2                            # X = {x₁, …, x_N}, uniform in [-2, 2)
    y = w_true * x + b_true + 0.1 * ember.randn(n, 1)       # Y = {y₁, …, y_N}: a line plus noise
    return x, y


def _model(x):
    w = ember.tensor([0.5], requires_grad=True)     # weight, a first guess
    b = ember.tensor([0.0], requires_grad=True)     # bias
    y_hat = w * x + b                               # ŷ = w·x + b for every xᵢ at once
    return w, b, y_hat


def run(ctx: Context) -> dict:
    """Build the data set the next section fits, and the model's first (bad) predictions."""
    wr = ctx.writer
    wr.say(f"The notes: y = mx + c becomes ŷ = w·x + b (w the weight, b the bias), fitted to a data "
           f"set {{(xᵢ, yᵢ)}}ᵢ₌₁ᴺ. Here N = {N} points on the line y = {TRUE_W:g}·x + {TRUE_B:g}, "
           f"with noise.")
    x, y = ctx.run(make_data, N, TRUE_W, TRUE_B)
    wr.values([("x.shape", x.shape), ("y.shape", y.shape)])
    w, b, y_hat = ctx.run(_model, x)
    rows = [(i + 1, x[i, 0], y[i, 0], y_hat[i, 0]) for i in range(5)]
    wr.table(["i", "xᵢ", "yᵢ", "ŷᵢ = w·xᵢ + b"], rows)
    wr.say("ŷ is the model's prediction and y the label it should match. The notes write ŷ = y "
           "and put ŷ⁽ⁱ⁾ inside the loss where the label y⁽ⁱ⁾ is meant; the next section fits w and "
           "b so that ŷᵢ comes close to yᵢ.")
    return {"n": x.shape[0], "first_rows": [(r[1].item(), r[2].item()) for r in rows]}
