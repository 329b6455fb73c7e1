"""Small real and synthetic datasets, and readers for MNIST-format IDX files (no downloads).

``digits`` is scikit-learn's shipped copy of the UCI 8x8 handwritten digits (1797 images);
``linear`` draws ``y = w x + b + noise``; ``read_idx``/``MNIST`` read the IDX files that MNIST
and Fashion-MNIST are distributed as, for users who have them on disk.
"""
from __future__ import annotations

import gzip
import os

from .. import backend, dtypes
from ..creation import from_numpy
from ..tensor import Tensor
from ..utils.data import Dataset, TensorDataset


def digits(test_size: float = 0.2, seed: int = 0, classes=None) -> tuple[TensorDataset, TensorDataset]:
    """scikit-learn's 8x8 handwritten digits as (train, test) datasets of ``(pixels, label)``.

    Args:
        test_size: fraction of the images held out for testing (stratified by label).
        seed: seed of the train/test split.
        classes: keep only these digits (labels stay the digits themselves).
    Returns:
        two TensorDatasets: float32 pixels of shape (64,) scaled to [0, 1], int64 labels.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    np = backend.numpy
    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    y = data.target.astype(np.int64)
    if classes is not None:
        keep = np.isin(y, list(classes))
        x, y = x[keep], y[keep]
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    return (TensorDataset(from_numpy(x_tr), from_numpy(y_tr)),
            TensorDataset(from_numpy(x_te), from_numpy(y_te)))


def linear(n: int = 1000, w: float = 3.0, b: float = 2.0, noise: float = 0.1,
           seed: int = 0) -> tuple[Tensor, Tensor]:
    """Regression data ``y = w * x + b + noise * N(0, 1)`` with ``x ~ U(-1, 1)``.

    Returns:
        ``(x, y)``, float32 tensors of shape (n, 1).
    """
    np = backend.numpy
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n, 1))
    y = w * x + b + noise * rng.standard_normal((n, 1))
    return from_numpy(x.astype(np.float32)), from_numpy(y.astype(np.float32))


# ---------------------------------------------------------------------------- IDX files

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> Tensor:
    """Read an IDX file (MNIST's format; ``.gz`` files are decompressed) into a tensor.

    The header is two zero bytes, a type code, the number of dimensions, then each size as a
    big-endian int32; the values follow, big-endian.
    """
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"read_idx: cannot read {path}: {exc}") from None
    np = backend.numpy
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path} is truncated: its header needs {header} bytes")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = header + dtype.itemsize * int(np.prod(shape, dtype=np.int64))
    if len(raw) != expected:
        raise ValueError(f"read_idx: {path} has {len(raw)} bytes, but its header (shape {list(shape)}, "
                         f"{dtype.name}) says {expected}: truncated or damaged")
    values = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return from_numpy(values.astype(dtype.newbyteorder("="), copy=True))


class MNIST(Dataset):
    """MNIST (or Fashion-MNIST) from its IDX files in ``root`` (as torchvision lays them out).

    Looks for ``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte`` (``t10k-...`` for the
    test split), optionally ``.gz``, in ``root``, ``root/MNIST/raw`` or ``root/raw``.
    Samples are ``(image, label)``: a float32 (1, 28, 28) image in [0, 1] (what ToTensor gives)
    passed through ``transform`` if given, and an int label.
    """

    def __init__(self, root: str | os.PathLike, train: bool = True, transform=None,
                 target_transform=None, download: bool = False) -> None:
        if download:
            raise RuntimeError("MNIST: Ember never downloads; put the IDX files in root and pass "
                               "download=False")
        self.root = os.fspath(root)
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        prefix = "train" if train else "t10k"
        images = read_idx(self._find(f"{prefix}-images-idx3-ubyte"))
        labels = read_idx(self._find(f"{prefix}-labels-idx1-ubyte"))
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise ValueError(f"MNIST: images {list(images.shape)} and labels {list(labels.shape)} "
                             f"in {self.root} do not belong together")
        self.data = images
        self.targets = labels.to(dtypes.int64)

    def _find(self, name: str) -> str:
        for folder in (self.root, os.path.join(self.root, "MNIST", "raw"), os.path.join(self.root, "raw")):
            for candidate in (name, name + ".gz"):
                path = os.path.join(folder, candidate)
                if os.path.exists(path):
                    return path
        raise FileNotFoundError(f"MNIST: {name}[.gz] not found in {self.root} (nor in its MNIST/raw "
                                "or raw folders)")

    def __len__(self) -> int:
        return self.data.shape[0]

    def __getitem__(self, index: int):
        image = (self.data[index].float() / 255.0).unsqueeze(0)
        target = int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target
