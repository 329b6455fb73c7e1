"""Train a small CNN on any folder of labelled images: ``root/<class>/<image>`` (an ImageFolder).

    python examples/cats_vs_dogs.py --data DIR [--epochs N] [--size S]

``DIR`` holds one sub-folder per class (e.g. ``DIR/cat/*.jpg`` and ``DIR/dog/*.jpg``); labels
are the sorted folder names. Without ``--data`` the script writes a small folder of
*generated* images itself (cats are drawn as discs, dogs as squares, with random colours,
sizes, positions and noise) and says so: it is a smoke test of the pipeline, not a photo task.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import ember
from ember.lab.train import evaluate as _evaluate
from ember import nn, optim
from ember.utils.data import DataLoader, random_split
from ember.vision import datasets, transforms as T


def generate_folder(root: str, per_class: int = 200, size: int = 32, seed: int = 0) -> str:
    """Write ``root/cat/*.png`` (discs) and ``root/dog/*.png`` (squares); return ``root``."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    for label in ("cat", "dog"):
        os.makedirs(os.path.join(root, label), exist_ok=True)
        for i in range(per_class):
            background = tuple(int(c) for c in rng.integers(0, 120, 3))
            img = Image.new("RGB", (size, size), background)
            draw = ImageDraw.Draw(img)
            r = int(rng.integers(size // 6, size // 3))
            cx, cy = (int(c) for c in rng.integers(r, size - r, 2))
            colour = tuple(int(c) for c in rng.integers(120, 256, 3))
            box = (cx - r, cy - r, cx + r, cy + r)
            (draw.ellipse if label == "cat" else draw.rectangle)(box, fill=colour)
            noisy = np.array(img, dtype=np.int16) + rng.integers(-25, 26, (size, size, 3))
            Image.fromarray(noisy.clip(0, 255).astype(np.uint8)).save(
                os.path.join(root, label, f"{i:03d}.png"))
    return root


def make_model(classes: int, size: int) -> nn.Module:
    """Three conv blocks (conv, batch norm, ReLU, 2x2 max pool), then a linear classifier."""
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * (size // 8) ** 2, classes),
    )


def evaluate(model: nn.Module, loader: DataLoader) -> float:
    """Accuracy over a loader, in evaluation mode and without a graph."""
    return _evaluate(model, loader, nn.functional.cross_entropy)["accuracy"]


def main(data: str | None = None, epochs: int = 8, size: int = 32, seed: int = 0) -> float:
    """Train on 80 % of the ImageFolder at ``data`` (or generated images); return validation accuracy."""
    ember.manual_seed(seed)
    workdir = None
    if data is None:
        workdir = tempfile.TemporaryDirectory()
        data = generate_folder(workdir.name, seed=seed)
        print(f"No --data given: training on GENERATED images (discs = 'cat', squares = 'dog') "
              f"written to {data}. Pass --data DIR to use your own ImageFolder.")
    transform = T.Compose([
        T.Resize(size), T.CenterCrop(size), T.RandomHorizontalFlip(),
        T.ToTensor(), T.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]),
    ])
    folder = datasets.ImageFolder(data, transform=transform)
    print(f"{len(folder)} images, classes {folder.class_to_idx}")
    n_val = max(1, len(folder) // 5)
    train_set, val_set = random_split(folder, [len(folder) - n_val, n_val],
                                      generator=ember.Generator().manual_seed(seed))
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True,
                              generator=ember.Generator().manual_seed(seed))
    val_loader = DataLoader(val_set, batch_size=64)
    model = make_model(len(folder.classes), size)
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for epoch in range(epochs):
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}, validation accuracy "
              f"{evaluate(model, val_loader):.3f} ({time.perf_counter() - start:.1f} s)")
    acc = evaluate(model, val_loader)
    if workdir is not None:
        workdir.cleanup()
    return acc


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="an ImageFolder root: DIR/<class>/<image>")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--size", type=int, default=32, help="images are resized to size x size")
    args = parser.parse_args()
    accuracy = main(args.data, args.epochs, args.size)
    print(f"validation accuracy: {accuracy:.3f}")
