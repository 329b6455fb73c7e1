"""Section 5: gradient descent W_new = W_old − α ∂L/∂W on the linear model's data."""
from __future__ import annotations

import ember

from ..runner import Context
from .linear_model import N, TRUE_B, TRUE_W, make_data
from ember.lab.plot import fit_line, loss_curve


def _descend(x, y, steps, lr):
    w = ember.zeros(1, requires_grad=True)
    b = ember.zeros(1, requires_grad=True)
    losses = []
    for step in range(steps):
        y_hat = w * x + b
        loss = ((y - y_hat) ** 2).mean()    # L: the mean of ‖yᵢ − (w·xᵢ + b)‖²
        loss.backward()                     # w.grad = ∂L/∂w, b.grad = ∂L/∂b
        with ember.no_grad():
            w -= lr * w.grad                # W_new = W_old − α ∂L/∂W
            b -= lr * b.grad
        w.grad = None
        b.grad = None
        losses.append(loss.item())
    return w, b, losses


def _descend_with_nn(x, y, steps, lr):
    model = ember.nn.Linear(1, 1)
    ember.nn.init.zeros_(model.weight)      # the same start as above
    ember.nn.init.zeros_(model.bias)
    optimizer = ember.optim.SGD(model.parameters(), lr=lr)
    loss_fn = ember.nn.MSELoss()
    for step in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()                    # the same update, done by the optimizer
    return model


def _plot(x, y, model, losses, fit_png, loss_png):
    fit_line(x, y, model, fit_png, title="the data and the fitted line ŷ = w·x + b")
    loss_curve(losses, loss_png, title="the loss L at each step")


def run(ctx: Context) -> dict:
    """Fit ŷ = w·x + b by hand-written gradient descent, then with nn.Linear and optim.SGD."""
    wr = ctx.writer
    steps = 50 if ctx.fast else 100
    lr = 0.05
    wr.say(f"The data of section 4 again (N = {N}, y = {TRUE_W:g}·x + {TRUE_B:g} plus noise). "
           f"Each step computes the loss L, its gradient by backpropagation, and moves the "
           f"parameters against it with step size α = {lr:g}.")
    x, y = make_data(N, TRUE_W, TRUE_B)
    w, b, losses = ctx.run(_descend, x, y, steps, lr)
    every = max(steps // 10, 1)
    marks = sorted(set(range(0, steps, every)) | {steps - 1})
    wr.table(["step", "loss"], [(s, losses[s]) for s in marks])
    wr.values([("w", w), ("b", b)])
    wr.say("The loss levels off near 0.01, the variance of the noise (0.1²): no line can fit "
           "the noise, so that is as low as it goes.")
    recovered = abs(w.item() - TRUE_W) < 0.05 and abs(b.item() - TRUE_B) < 0.05
    ctx.check(recovered, f"w ≈ {TRUE_W:g} and b ≈ {TRUE_B:g} (within 0.05): the line the data came from.")
    wr.say("The same fit as PyTorch code is usually written: a Linear layer, a loss module "
           "and an optimizer doing the update.")
    model = ctx.run(_descend_with_nn, x, y, steps, lr)
    wr.values([("model.weight", model.weight), ("model.bias", model.bias)])
    fit_png, loss_png = ctx.png("gradient-descent-fit"), ctx.png("gradient-descent-loss")
    ctx.run(_plot, x, y, model, losses, fit_png, loss_png)
    wr.picture(fit_png, "the data and the fitted line")
    wr.picture(loss_png, "the loss at each step")
    return {"w": w.item(), "b": b.item(), "losses": losses,
            "nn_w": model.weight.item(), "nn_b": model.bias.item()}
