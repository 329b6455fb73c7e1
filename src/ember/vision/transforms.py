"""Image transforms as torchvision's: ToTensor, Normalize, Resize, CenterCrop, RandomCrop,
RandomHorizontalFlip, Compose.

They take a Pillow image (imported lazily: Pillow is an optional extra) or an Ember tensor of
shape (..., H, W). Geometric transforms keep the input's kind; ``ToTensor`` turns an
H x W x C image into a C x H x W float32 tensor in [0, 1]. Randomness comes from Ember's
generator, so ``ember.manual_seed`` makes augmentations repeatable.
"""
from __future__ import annotations

from numbers import Number
from typing import Callable, Sequence

from .. import backend, creation, dtypes
from ..nn import functional as F
from ..tensor import Tensor


def _is_pil(img) -> bool:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is an optional extra
        return False
    return isinstance(img, Image.Image)


def _check_image(name: str, img) -> None:
    if not _is_pil(img) and not isinstance(img, Tensor):
        raise TypeError(f"{name}: expected a PIL Image or an ember Tensor, got {type(img).__name__}")
    if isinstance(img, Tensor) and img.ndim < 2:
        raise ValueError(f"{name}: expected a tensor of shape (..., H, W), got {list(img.shape)}")


def image_size(img) -> tuple[int, int]:
    """(height, width) of a PIL image or a (..., H, W) tensor."""
    if _is_pil(img):
        return img.height, img.width
    return tuple(img.shape[-2:])


def _pair(name: str, size) -> tuple[int, int]:
    """An int (square) or (h, w) size."""
    if isinstance(size, Number):
        return int(size), int(size)
    size = tuple(int(s) for s in size)
    if len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(f"{name}: size must be an int or a sequence of 1 or 2 ints, got {size}")
    return size


class Compose:
    """Apply transforms one after another."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({lines}\n)"


class ToTensor:
    """H x W x C image (PIL or NumPy array) -> C x H x W tensor; uint8 [0, 255] becomes float32 [0, 1].

    Other NumPy dtypes keep their values (as torchvision); a 2-D array gets one channel.
    """

    def __call__(self, pic) -> Tensor:
        np = backend.numpy
        if _is_pil(pic):
            arr = np.array(pic)
            if pic.mode == "1":
                arr = arr.astype(np.uint8) * 255
        elif isinstance(pic, np.ndarray):
            arr = pic
        else:
            raise TypeError(f"ToTensor: pic should be a PIL Image or ndarray, got {type(pic).__name__}")
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if arr.ndim != 3:
            raise ValueError(f"ToTensor: expected an H x W x C image, got an array of shape {arr.shape}")
        chw = np.ascontiguousarray(arr.transpose(2, 0, 1))
        if chw.dtype == np.uint8:
            chw = chw.astype(dtypes.get_default_dtype().np) / np.float32(255)
        return creation.from_numpy(chw)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """``(x - mean[c]) / std[c]`` per channel of a C x H x W (or N x C x H x W) float tensor."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean = list(mean)
        self.std = list(std)
        self.inplace = inplace

    def __call__(self, tensor: Tensor) -> Tensor:
        if not isinstance(tensor, Tensor) or not tensor.is_floating_point():
            raise TypeError(f"Normalize: expected a floating-point ember Tensor, got "
                            f"{getattr(tensor, 'dtype', type(tensor).__name__)}")
        if tensor.ndim < 3:
            raise ValueError(f"Normalize: expected a tensor image of shape (C, H, W), got "
                             f"{list(tensor.shape)}")
        mean = creation.tensor(self.mean, dtype=tensor.dtype, device=tensor.device)
        std = creation.tensor(self.std, dtype=tensor.dtype, device=tensor.device)
        if 0 in std.tolist():
            raise ValueError(f"Normalize: std evaluated to zero after conversion to {tensor.dtype}, "
                             "leading to division by zero.")
        shape = (-1, 1, 1)
        out = (tensor - mean.reshape(shape)) / std.reshape(shape)
        return tensor.copy_(out) if self.inplace else out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


def resized_size(h: int, w: int, size, max_size: int | None = None) -> tuple[int, int]:
    """torchvision's output size: an int matches the shorter side, keeping the aspect ratio."""
    if not isinstance(size, Number) and len(size) == 2:
        return int(size[0]), int(size[1])
    short_target = int(size if isinstance(size, Number) else size[0])
    short, long = (h, w) if h <= w else (w, h)
    new_short, new_long = short_target, int(short_target * long / short)
    if max_size is not None and new_long > max_size:
        new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_short, new_long) if h <= w else (new_long, new_short)


class Resize:
    """Resize to ``size`` ((h, w), or an int for the shorter side), bilinear by default.

    PIL images are resized by Pillow (as torchvision does); tensors by ``F.interpolate``
    (without torchvision's antialiasing when shrinking).
    """

    def __init__(self, size, interpolation: str = "bilinear", max_size: int | None = None,
                 antialias: bool | None = True) -> None:
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"Resize: interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")
        self.size = size
        self.interpolation = interpolation
        self.max_size = max_size
        self.antialias = antialias

    def __call__(self, img):
        _check_image("Resize", img)
        h, w = image_size(img)
        out = resized_size(h, w, self.size, self.max_size)
        if _is_pil(img):
            from PIL import Image

            method = Image.BILINEAR if self.interpolation == "bilinear" else Image.NEAREST
            return img.resize((out[1], out[0]), method)
        lead = tuple(img.shape[:-2])
        batch = img.reshape((-1, 1) + (h, w)) if lead else img.reshape(1, 1, h, w)
        kw = {"align_corners": False} if self.interpolation == "bilinear" else {}
        x = batch if batch.is_floating_point() else batch.float()
        resized = F.interpolate(x, size=out, mode=self.interpolation, **kw).reshape(lead + out)
        return resized if img.is_floating_point() else resized.round().to(img.dtype)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, interpolation={self.interpolation})"


def crop(img, top: int, left: int, height: int, width: int):
    """The (height, width) region at (top, left); parts outside the image are zeros."""
    if _is_pil(img):
        return img.crop((left, top, left + width, top + height))
    h, w = image_size(img)
    pads = [max(-left, 0), max(left + width - w, 0), max(-top, 0), max(top + height - h, 0)]
    if any(pads):
        img = F.pad(img, pads)
        top, left = top + pads[2], left + pads[0]
    return img[..., top:top + height, left:left + width]


class CenterCrop:
    """Cut the central (h, w) region (zero-padding an image smaller than that, as torchvision)."""

    def __init__(self, size) -> None:
        self.size = _pair("CenterCrop", size)

    def __call__(self, img):
        _check_image("CenterCrop", img)
        h, w = image_size(img)
        th, tw = self.size
        top = int(round((h - th) / 2.0))
        left = int(round((w - tw) / 2.0))
        return crop(img, top, left, th, tw)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


class RandomCrop:
    """Cut a random (h, w) region, after optional padding (torchvision's arguments)."""

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill: float = 0,
                 padding_mode: str = "constant") -> None:
        self.size = _pair("RandomCrop", size)
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def _pad(self, img, left: int, top: int, right: int, bottom: int):
        if _is_pil(img):
            from PIL import ImageOps

            return ImageOps.expand(img, (left, top, right, bottom), fill=self.fill)
        value = self.fill if self.padding_mode == "constant" else None
        return F.pad(img, [left, right, top, bottom], mode=self.padding_mode, value=value)

    def __call__(self, img):
        _check_image("RandomCrop", img)
        if self.padding is not None:
            p = [self.padding] * 4 if isinstance(self.padding, Number) else list(self.padding)
            p = p * 2 if len(p) == 2 else p
            img = self._pad(img, *p)
        h, w = image_size(img)
        th, tw = self.size
        if self.pad_if_needed and (w < tw or h < th):
            img = self._pad(img, max(tw - w, 0), max(th - h, 0), max(tw - w, 0), max(th - h, 0))
            h, w = image_size(img)
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than the input "
                             f"image size {(h, w)}")
        if (h, w) == (th, tw):
            return img
        top = int(creation.randint(0, h - th + 1, (1,)).item())
        left = int(creation.randint(0, w - tw + 1, (1,)).item())
        return crop(img, top, left, th, tw)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror the image left-right with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img):
        _check_image("RandomHorizontalFlip", img)
        if creation.rand(1).item() >= self.p:
            return img
        if _is_pil(img):
            from PIL import Image

            return img.transpose(Image.FLIP_LEFT_RIGHT)
        return img.flip(-1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"
