"""The lecture's second model: a cats-vs-dogs classifier with 0/1 labels, on real images.

The images are scikit-learn's 8x8 handwritten digits: 3 plays "cat" (label 0), 8 plays "dog"
(label 1). The classifier is trained twice: ending in ``Sigmoid`` with ``BCELoss``, and
returning logits with the numerically stable ``BCEWithLogitsLoss``.

    python examples/cats_vs_dogs_digits.py
"""
from __future__ import annotations

import ember
from ember import nn, optim
from ember.lab import datasets
from ember.utils.data import DataLoader, TensorDataset

CAT, DOG = 3, 8


def cats_and_dogs(seed: int = 0):
    """Train/test datasets of (pixels, 0.0 for a cat or 1.0 for a dog)."""
    train, test = datasets.digits(test_size=0.25, seed=seed, classes=(CAT, DOG))

    def relabel(ds):
        x, digit = ds.tensors
        return TensorDataset(x, (digit == DOG).float().unsqueeze(1))

    return relabel(train), relabel(test)


def make_model(probabilities: bool) -> nn.Module:
    """A small MLP; with ``probabilities`` it ends in a Sigmoid, otherwise it returns logits."""
    layers = [nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1)]
    if probabilities:
        layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


def train(model: nn.Module, loss_fn, train_set, epochs: int = 30, seed: int = 0) -> float:
    """Plain training loop: Adam, shuffled mini-batches; returns the last epoch's mean loss."""
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    loader = DataLoader(train_set, batch_size=32, shuffle=True,
                        generator=ember.Generator().manual_seed(seed))
    for _ in range(epochs):
        total = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
    return total / len(train_set)


def accuracy(model: nn.Module, dataset, threshold: float) -> float:
    """Fraction of images whose predicted class (score above ``threshold``) is right."""
    x, y = dataset.tensors
    model.eval()
    with ember.no_grad():
        predicted = (model(x) > threshold).float()
    model.train()
    return (predicted == y).float().mean().item()


def main(epochs: int = 30) -> dict:
    """Train both variants; return their final training losses and test accuracies."""
    train_set, test_set = cats_and_dogs()
    ember.manual_seed(0)
    with_sigmoid = make_model(probabilities=True)
    bce_loss = train(with_sigmoid, nn.BCELoss(), train_set, epochs)
    ember.manual_seed(0)
    with_logits = make_model(probabilities=False)
    logits_loss = train(with_logits, nn.BCEWithLogitsLoss(), train_set, epochs)
    return {"bce_loss": bce_loss, "bce_accuracy": accuracy(with_sigmoid, test_set, 0.5),
            "logits_loss": logits_loss, "logits_accuracy": accuracy(with_logits, test_set, 0.0),
            "n_test": len(test_set)}


if __name__ == "__main__":
    r = main()
    print(f"Sigmoid + BCELoss:  train loss {r['bce_loss']:.4f}, test accuracy {r['bce_accuracy']:.2%}")
    print(f"BCEWithLogitsLoss:  train loss {r['logits_loss']:.4f}, test accuracy {r['logits_accuracy']:.2%}")
    print(f"({r['n_test']} test images of cats (3) and dogs (8))")
