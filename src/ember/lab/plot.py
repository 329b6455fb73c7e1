"""PNG plots for the lecture's pictures: data with a fitted line, loss curves, training histories.

matplotlib is imported lazily with the Agg backend (no display needed), so ``import ember``
does not need it.
"""
from __future__ import annotations

from typing import Callable, Sequence

from .. import backend
from ..autograd.grad_mode import no_grad
from ..creation import from_numpy
from ..tensor import Tensor


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _host(values):
    """A flat host NumPy array from a tensor, array or list."""
    if isinstance(values, Tensor):
        return backend.transfer(values.detach()._data, backend.CPU).reshape(-1)
    return backend.numpy.asarray(values, dtype=float).reshape(-1)


def _save(fig, path: str) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)
    return path


def fit_line(x, y, model: Callable[[Tensor], Tensor], path: str, title: str = "data and fitted line") -> str:
    """Scatter the points ``(x, y)`` and draw ``model`` over the range of ``x`` into a PNG.

    Args:
        x, y: the data (tensors or arrays, one value per point).
        model: maps an (n, 1) float32 tensor of inputs to (n, 1) predictions (a module or function).
        path: where the PNG goes.
    """
    plt = _pyplot()
    np = backend.numpy
    xs = _host(x)
    grid = np.linspace(xs.min(), xs.max(), 200, dtype=np.float32).reshape(-1, 1)
    with no_grad():
        line = _host(model(from_numpy(grid)))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(xs, _host(y), s=6, alpha=0.4, label="data")
    ax.plot(grid.reshape(-1), line, color="C3", linewidth=2, label="fit")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title)
    ax.legend()
    return _save(fig, path)


def loss_curve(losses: Sequence[float], path: str, title: str = "training loss") -> str:
    """Plot a sequence of losses (one per step or epoch) on a log scale into a PNG."""
    plt = _pyplot()
    values = _host([float(v) for v in losses])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(range(1, len(values) + 1), values)
    if len(values) and values.min() > 0:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    return _save(fig, path)


def history_plot(history: dict, path: str) -> str:
    """One panel per metric of a training history, validation drawn beside training."""
    plt = _pyplot()
    names = [k for k in history if not k.startswith("val_")]
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = range(1, len(history[name]) + 1)
        ax.plot(epochs, history[name], marker="o", label=f"train {name}")
        if f"val_{name}" in history:
            ax.plot(epochs, history[f"val_{name}"], marker="o", label=f"val {name}")
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.legend()
    return _save(fig, path)
