"""``fit``: the usual training loop with a progress bar, returning a per-epoch ``History``.

A convenience, not a requirement: it runs exactly the loop a PyTorch user writes by hand
(``zero_grad``, forward, loss, ``backward``, ``step``), so hand-written loops keep working.
"""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

from ..autograd.grad_mode import no_grad
from ..ops.elementwise import eq, gt
from ..creation import zeros
from ..ops.reduce import argmax
from ..tensor import Tensor
from ..optim.lr_scheduler import ReduceLROnPlateau
from .plot import history_plot

Metric = Callable[[Tensor, Tensor], float]


class History(dict):
    """Per-epoch lists of metrics: ``history['loss']``, ``history['val_accuracy']``, ..."""

    @property
    def epochs(self) -> int:
        return len(self.get("loss", []))

    def plot(self, path: str) -> str:
        """Draw one panel per metric (train and validation together) into a PNG at ``path``."""
        return history_plot(self, path)


def accuracy(output: Tensor, target: Tensor, threshold: float = 0.5) -> float:
    """Fraction of correct predictions: argmax for (N, C) scores, ``output > threshold`` otherwise."""
    return _correct_fraction(output, target, threshold).item()


def _correct_fraction(output: Tensor, target: Tensor, threshold: float) -> Tensor:
    """``accuracy`` as a 0-d tensor on the outputs' device (read only when it is shown)."""
    if output.ndim >= 2 and output.shape[-1] > 1:
        predicted = argmax(output, -1)
        correct = eq(predicted, target.reshape(predicted.shape))
    else:
        correct = eq(gt(output.reshape(-1), threshold), gt(target.reshape(-1), 0.5))
    return correct.float().mean() if correct.numel() else zeros((), device=output.device)


def _resolve_metrics(metrics: Sequence, loss_fn) -> dict[str, Metric]:
    """Named metric functions; ``'accuracy'`` thresholds logits at 0 for a *WithLogits* loss."""
    name = getattr(loss_fn, "__name__", type(loss_fn).__name__).lower()
    threshold = 0.0 if "logits" in name else 0.5
    resolved = {}
    for m in metrics:
        if m == "accuracy":
            resolved["accuracy"] = lambda out, y: _correct_fraction(out, y, threshold)
        elif callable(m):
            resolved[getattr(m, "__name__", "metric")] = m
        else:
            raise ValueError(f"fit: unknown metric {m!r} (use 'accuracy' or a function (output, target))")
    return resolved


def _to(batch, device):
    if device is None:
        return batch
    return [b.to(device) if isinstance(b, Tensor) else b for b in batch]


def _run_epoch(model, loader, loss_fn, metrics, optimizer, device, bar) -> dict[str, float]:
    """One pass over ``loader``; trains when ``optimizer`` is given. Returns sample-weighted means.

    Running sums stay tensors on the model's device, so a GPU step never waits for the host;
    they are read about ten times an epoch for the progress bar, and once at its end.
    """
    totals = dict.fromkeys(["loss", *metrics], 0.0)
    seen = 0
    steps = len(loader) if hasattr(loader, "__len__") else None
    show_every = max(1, steps // 10) if steps else 1
    for step, batch in enumerate(loader, 1):
        x, y = _to(batch, device)
        out = model(x)
        loss = loss_fn(out, y)
        if optimizer is not None:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        n = len(y)
        seen += n
        with no_grad():
            totals["loss"] = totals["loss"] + loss.detach() * n
            for name, fn in metrics.items():
                totals[name] = totals[name] + fn(out.detach(), y) * n
        if bar is not None:
            bar.update(1)
            if step % show_every == 0 or step == steps:
                bar.set_postfix({k: f"{_value(v) / seen:.4f}" for k, v in totals.items()},
                                refresh=False)
    return {k: _value(v) / max(seen, 1) for k, v in totals.items()}


def _value(total) -> float:
    return total.item() if isinstance(total, Tensor) else float(total)


def evaluate(model, loader: Iterable, loss_fn, metrics: Sequence = ("accuracy",), device=None) -> dict:
    """Mean loss and metrics of ``model`` over ``loader`` in eval mode without gradients."""
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with no_grad():
            return _run_epoch(model, loader, loss_fn, _resolve_metrics(metrics, loss_fn), None, device, None)
    finally:
        model.train(was_training)


def fit(model, train_loader: Iterable, loss_fn, optimizer, epochs: int, val_loader: Iterable | None = None,
        metrics: Sequence = ("accuracy",), device=None, progress: bool = True,
        scheduler=None, writer=None) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_loader``.

    Args:
        model: a module (or any callable with ``train``/``eval``) mapping a batch to outputs.
        train_loader: yields ``(inputs, targets)`` batches.
        loss_fn: ``loss_fn(outputs, targets)`` -> scalar tensor.
        optimizer: updates the model's parameters.
        epochs: number of passes.
        val_loader: evaluated after each epoch (``val_`` entries in the history).
        metrics: ``'accuracy'`` and/or functions ``(outputs, targets) -> float``.
        device: move the model and every batch here first.
        progress: show a tqdm bar with the running loss and metrics.
        scheduler: an LR scheduler stepped after each epoch (ReduceLROnPlateau gets the
            validation loss, or the training loss without a validation set).
        writer: a ``SummaryWriter``: each epoch's values go to TensorBoard as ``loss/train``,
            ``loss/val``, ``accuracy/train``, ... at step ``epoch``.
    Returns:
        a ``History`` with one value per epoch for each of loss, metrics, val_loss, val_metrics.
    """
    if device is not None:
        model.to(device)
    resolved = _resolve_metrics(metrics, loss_fn)
    history = History()
    for epoch in range(epochs):
        model.train()
        bar = _progress_bar(train_loader, epoch, epochs) if progress else None
        try:
            results = _run_epoch(model, train_loader, loss_fn, resolved, optimizer, device, bar)
            if val_loader is not None:
                val = evaluate(model, val_loader, loss_fn, metrics, device)
                results.update({f"val_{k}": v for k, v in val.items()})
                if bar is not None:
                    bar.set_postfix({k: f"{v:.4f}" for k, v in results.items()})
        finally:
            if bar is not None:
                bar.close()
        for k, v in results.items():
            history.setdefault(k, []).append(v)
            if writer is not None:
                split = "val" if k.startswith("val_") else "train"
                writer.add_scalar(f"{k.removeprefix('val_')}/{split}", v, epoch)
        if scheduler is not None:
            _step_scheduler(scheduler, results)
    return history


def _step_scheduler(scheduler, results: dict) -> None:
    if isinstance(scheduler, ReduceLROnPlateau):
        scheduler.step(results.get("val_loss", results["loss"]))
    else:
        scheduler.step()


def _progress_bar(loader, epoch: int, epochs: int):
    from tqdm.auto import tqdm

    try:
        total = len(loader)
    except TypeError:
        total = None
    return tqdm(total=total, desc=f"epoch {epoch + 1}/{epochs}", unit="batch", leave=True)
