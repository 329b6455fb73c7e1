"""A small CNN on scikit-learn's 8x8 handwritten digits (real scans of 1797 digits).

Each flat 64-pixel row becomes a 1x8x8 image (the channel-first layout convolutions expect),
then: conv 1->32 3x3, batch norm, ReLU, conv 32->64 3x3, batch norm, ReLU, 2x2 max pool
(8x8 -> 4x4), dropout, linear 64*4*4 -> 10. Adam with a step decay; it reaches about 99 %
test accuracy (at least 98 %) in a few seconds of CPU time.

    python examples/cnn_digits.py
"""
from __future__ import annotations

import time

import ember
from ember.lab.train import evaluate as _evaluate
from ember import nn, optim
from ember.lab import datasets
from ember.utils.data import DataLoader


def make_model() -> nn.Module:
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),  # (N, 64) pixels -> (N, 1, 8, 8) images
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 64, 8, 8) -> (N, 64, 4, 4)
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(64 * 4 * 4, 10),
    )


def accuracy(model: nn.Module, loader: DataLoader) -> float:
    """Fraction of correctly classified samples (evaluation mode, no graph)."""
    return _evaluate(model, loader, nn.functional.cross_entropy)["accuracy"]


def main(epochs: int = 10, verbose: bool = True) -> float:
    """Train on 80 % of the digits and return the accuracy on the other 20 %."""
    ember.manual_seed(0)
    train_set, test_set = datasets.digits(test_size=0.2, seed=0)
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True,
                              generator=ember.Generator().manual_seed(0))
    test_loader = DataLoader(test_set, batch_size=512)
    model = make_model()
    optimizer = optim.Adam(model.parameters(), lr=2e-3)
    schedule = optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.3)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for epoch in range(epochs):
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        schedule.step()
        if verbose:
            print(f"epoch {epoch + 1:2d}  loss {loss.item():.4f}  test accuracy "
                  f"{accuracy(model, test_loader):.4f}  ({time.perf_counter() - start:.1f} s)")
    return accuracy(model, test_loader)


if __name__ == "__main__":
    acc = main()
    print(f"test accuracy: {acc:.2%} on {len(datasets.digits()[1])} held-out digits")
