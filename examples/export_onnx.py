"""Take a trained model out of Ember: the lecture's cats-vs-dogs classifier as an ONNX file.

Trains the walkthrough's classifier (64 pixels -> 16 -> 1, handwritten 3s as cats and 8s as
dogs), exports it with a dynamic batch axis, and, when onnxruntime is installed, runs the test
set through the file to show it gives Ember's numbers.

    python examples/export_onnx.py [out.onnx]
"""
from __future__ import annotations

import sys

import numpy as np

import ember
from ember import nn, optim
from ember.utils.data import DataLoader, TensorDataset


def _threes_and_eights() -> tuple[TensorDataset, ember.Tensor]:
    """scikit-learn's 8x8 handwritten 3s and 8s, pixels in [0, 1]: 80 % to train, 20 % to test."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    keep = np.isin(digits.target, (3, 8))
    pixels = (digits.data[keep] / 16.0).astype(np.float32)
    is_eight = (digits.target[keep] == 8).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(pixels))
    cut = int(0.8 * len(pixels))
    train, test = order[:cut], order[cut:]
    train_set = TensorDataset(ember.tensor(pixels[train]), ember.tensor(is_eight[train]))
    return train_set, ember.tensor(pixels[test])


def train_classifier(epochs: int = 20) -> tuple[nn.Module, ember.Tensor]:
    """The walkthrough's classifier, trained as the lecture trains it; returns it and test images."""
    ember.manual_seed(0)
    train, test_images = _threes_and_eights()
    model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 1))
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = DataLoader(train, batch_size=32, shuffle=True, generator=ember.Generator().manual_seed(0))
    for _ in range(epochs):
        for images, dog in loader:
            optimizer.zero_grad()
            loss_fn(model(images).squeeze(1), dog).backward()
            optimizer.step()
    return model.eval(), test_images


def main(path: str = "classifier.onnx", epochs: int = 20, verbose: bool = True) -> dict:
    """Train, export to ``path``, and compare onnxruntime's outputs with Ember's if it is installed."""
    model, images = train_classifier(epochs)
    ember.onnx.export(model, images[:1], path, input_names=["pixels"], output_names=["logit"],
                      dynamic_axes={"pixels": {0: "batch"}, "logit": {0: "batch"}})
    result = {"path": path, "max_difference": None}
    try:
        import onnxruntime
    except ImportError:
        if verbose:
            print(f"wrote {path} (install onnxruntime to run it)")
        return result
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"pixels": images.numpy()})
    expected = model(images).detach().numpy()
    result["max_difference"] = float(np.abs(logits - expected).max())
    result["dog_fraction"] = float((logits > 0).mean())
    if verbose:
        print(f"wrote {path}; onnxruntime on {len(images)} test images: largest difference from "
              f"Ember {result['max_difference']:.2e}, {result['dog_fraction']:.0%} called dogs")
    return result


if __name__ == "__main__":
    main(*sys.argv[1:2])
