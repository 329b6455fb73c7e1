"""Image datasets read from folders: ``ImageFolder`` (root/<class>/<image>), as torchvision's."""
from __future__ import annotations

import os
from typing import Callable

from ..utils.data import Dataset

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def pil_loader(path: str):
    """Open an image file with Pillow as RGB."""
    from PIL import Image

    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


def find_classes(directory: str) -> tuple[list[str], dict[str, int]]:
    """The sub-folder names in sorted order and their indices (the class labels)."""
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory: str, class_to_idx: dict[str, int], extensions=None,
                 is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> list[tuple[str, int]]:
    """(path, class index) for every valid file under each class folder, in sorted order."""
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the same time")
    if is_valid_file is None:
        is_valid_file = lambda path: path.lower().endswith(tuple(extensions))  # noqa: E731
    samples = []
    empty = []
    for name in sorted(class_to_idx):
        folder = os.path.join(directory, name)
        found = [os.path.join(root, f)
                 for root, _, files in sorted(os.walk(folder, followlinks=True))
                 for f in sorted(files)]
        valid = [(path, class_to_idx[name]) for path in found if is_valid_file(path)]
        if not valid:
            empty.append(name)
        samples += valid
    if empty and not allow_empty:
        wanted = f"Supported extensions are: {', '.join(extensions)}" if extensions else ""
        raise FileNotFoundError(f"Found no valid file for the classes {', '.join(empty)}. {wanted}")
    return samples


class DatasetFolder(Dataset):
    """Samples ``root/<class>/<file>`` loaded by ``loader``; labels are the sorted class folders."""

    def __init__(self, root: str | os.PathLike, loader: Callable, extensions=None,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 is_valid_file: Callable[[str], bool] | None = None, allow_empty: bool = False) -> None:
        self.root = os.fspath(root)
        if not os.path.isdir(self.root):
            raise FileNotFoundError(f"{type(self).__name__}: no such folder: {self.root}")
        self.loader = loader
        self.extensions = extensions
        self.transform = transform
        self.target_transform = target_transform
        self.classes, self.class_to_idx = find_classes(self.root)
        self.samples = make_dataset(self.root, self.class_to_idx, extensions, is_valid_file, allow_empty)
        self.targets = [target for _, target in self.samples]

    def __getitem__(self, index: int):
        path, target = self.samples[index]
        sample = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __len__(self) -> int:
        return len(self.samples)

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}"]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        return "\n".join(lines)


class ImageFolder(DatasetFolder):
    """Images in ``root/cat/*.png``, ``root/dog/*.png``...: labels by sorted folder name.

    Attributes: ``classes`` (folder names), ``class_to_idx``, ``samples`` ((path, label) pairs),
    ``targets`` and ``imgs`` (the same as ``samples``).
    """

    def __init__(self, root: str | os.PathLike, transform: Callable | None = None,
                 target_transform: Callable | None = None, loader: Callable = pil_loader,
                 is_valid_file: Callable[[str], bool] | None = None, allow_empty: bool = False) -> None:
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None,
                         transform, target_transform, is_valid_file, allow_empty)
        self.imgs = self.samples
