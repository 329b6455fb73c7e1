"""A 10-class MLP on scikit-learn's 8x8 handwritten digits, trained with ``ember.lab.train.fit``.

``fit`` runs the ordinary loop (zero_grad, forward, loss, backward, step) with a progress bar,
steps a cosine learning-rate schedule each epoch, and returns a per-epoch history, plotted to
a PNG.

    python examples/digits_mlp.py [output-dir]
"""
from __future__ import annotations

import os
import sys

import ember
from ember import nn, optim
from ember.lab import datasets
from ember.lab.train import fit
from ember.utils.data import DataLoader


def make_model() -> nn.Module:
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def main(out_dir: str | None = None, epochs: int = 30, progress: bool = False) -> dict:
    """Train on 80 % of the digits, evaluate on the rest; return accuracy and the history."""
    ember.manual_seed(0)
    train_set, test_set = datasets.digits(test_size=0.2, seed=0)
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True,
                              generator=ember.Generator().manual_seed(0))
    test_loader = DataLoader(test_set, batch_size=256)
    model = make_model()
    optimizer = optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    history = fit(model, train_loader, nn.CrossEntropyLoss(), optimizer, epochs,
                  val_loader=test_loader, progress=progress, scheduler=scheduler)
    result = {"test_accuracy": history["val_accuracy"][-1], "train_loss": history["loss"][-1],
              "history": history}
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        result["png"] = history.plot(os.path.join(out_dir, "digits_mlp_history.png"))
    return result


if __name__ == "__main__":
    r = main(sys.argv[1] if len(sys.argv) > 1 else ".", progress=True)
    print(f"test accuracy {r['test_accuracy']:.2%}, final train loss {r['train_loss']:.4f}; plot {r['png']}")
