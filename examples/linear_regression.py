"""The lecture's first model: y_hat = w * x + b, fitted by gradient descent on the L2 loss.

Data: ``ember.lab.datasets.linear(1000, w=3, b=2, noise=0.1)``. First by hand (the gradient step
``w -= lr * w.grad`` under ``no_grad``), then the way it is usually written: ``nn.Linear`` +
``optim.SGD`` + ``MSELoss``. Writes a PNG of the data with both fitted lines.

    python examples/linear_regression.py [output-dir]
"""
from __future__ import annotations

import os
import sys

import ember
from ember import nn, optim
from ember.lab import datasets, plot


def fit_by_hand(x, y, lr: float = 0.5, steps: int = 200):
    """Gradient descent written out: loss, backward, step each parameter, clear the gradients."""
    w = ember.zeros(1, requires_grad=True)
    b = ember.zeros(1, requires_grad=True)
    losses = []
    for _ in range(steps):
        loss = ((w * x + b - y) ** 2).mean()
        loss.backward()
        with ember.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
        losses.append(loss.item())
    return w, b, losses


def fit_with_nn(x, y, lr: float = 0.5, steps: int = 200):
    """The same fit with a Linear layer, an optimiser and a loss module."""
    model = nn.Linear(1, 1)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    return model, loss.item()


def main(out_dir: str = ".", steps: int = 200) -> dict:
    """Fit both ways; return the recovered parameters, final losses and the PNG's path."""
    ember.manual_seed(0)
    x, y = datasets.linear(1000, w=3.0, b=2.0, noise=0.1, seed=0)
    w, b, losses = fit_by_hand(x, y, steps=steps)
    model, nn_loss = fit_with_nn(x, y, steps=steps)
    os.makedirs(out_dir, exist_ok=True)
    png = plot.fit_line(x, y, model, os.path.join(out_dir, "linear_regression.png"),
                        title=f"y = {model.weight.item():.3f} x + {model.bias.item():.3f}")
    curve = plot.loss_curve(losses, os.path.join(out_dir, "linear_regression_loss.png"))
    return {"w": w.item(), "b": b.item(), "loss": losses[-1], "nn_w": model.weight.item(),
            "nn_b": model.bias.item(), "nn_loss": nn_loss, "png": png, "loss_png": curve}


if __name__ == "__main__":
    result = main(sys.argv[1] if len(sys.argv) > 1 else ".")
    print(f"by hand:   w = {result['w']:.4f}, b = {result['b']:.4f}, loss = {result['loss']:.5f}")
    print(f"nn.Linear: w = {result['nn_w']:.4f}, b = {result['nn_b']:.4f}, loss = {result['nn_loss']:.5f}")
    print(f"plots: {result['png']}, {result['loss_png']}")
