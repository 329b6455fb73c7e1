"""ember.vision: transforms by their definitions (torchvision's semantics) and ImageFolder on real PNGs."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import ember
from ember.utils.data import DataLoader
from ember.vision import datasets, transforms as T


def _rgb(h: int = 6, w: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_to_tensor_from_array_and_pil() -> None:
    arr = _rgb()
    for pic in (arr, Image.fromarray(arr)):
        t = T.ToTensor()(pic)
        assert t.dtype == ember.float32 and tuple(t.shape) == (3, 6, 5)
        np.testing.assert_allclose(t.numpy(), arr.transpose(2, 0, 1) / np.float32(255), rtol=1e-7)
        assert 0.0 <= t.numpy().min() and t.numpy().max() <= 1.0


def test_to_tensor_gray_and_non_uint8() -> None:
    gray = Image.fromarray(_rgb()[:, :, 0])
    assert tuple(T.ToTensor()(gray).shape) == (1, 6, 5)
    floats = np.random.default_rng(1).random((4, 3, 2))
    t = T.ToTensor()(floats)  # not uint8: values kept, as torchvision
    assert t.dtype == ember.float64
    np.testing.assert_array_equal(t.numpy(), floats.transpose(2, 0, 1))
    with pytest.raises(TypeError):
        T.ToTensor()([1, 2, 3])


def test_normalize_matches_the_formula_and_torch() -> None:
    x = np.random.default_rng(2).random((3, 4, 4)).astype(np.float32)
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    got = T.Normalize(mean, std)(ember.tensor(x)).numpy()
    m, s = torch.tensor(mean)[:, None, None], torch.tensor(std)[:, None, None]
    np.testing.assert_allclose(got, ((torch.tensor(x) - m) / s).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize([0.0], [0.0])(ember.tensor(x))


def test_resize_pil_uses_pillow_and_tensor_uses_interpolate() -> None:
    img = Image.fromarray(_rgb(8, 12))
    out = T.Resize(4)(img)  # shorter side -> 4, aspect kept: 4 x 6
    assert (out.height, out.width) == (4, 6)
    assert np.array_equal(np.array(out), np.array(img.resize((6, 4), Image.BILINEAR)))
    x = ember.rand(3, 8, 12)
    y = T.Resize((5, 7))(x)
    want = torch.nn.functional.interpolate(torch.tensor(x.numpy())[None], size=(5, 7), mode="bilinear",
                                           align_corners=False)[0]
    np.testing.assert_allclose(y.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    assert T.resized_size(10, 20, 5) == (5, 10) and T.resized_size(20, 10, 5) == (10, 5)


def test_center_crop_tensor_and_pil_agree() -> None:
    arr = _rgb(7, 6)
    t = T.CenterCrop((3, 4))(T.ToTensor()(arr))
    top, left = int(round((7 - 3) / 2)), int(round((6 - 4) / 2))
    np.testing.assert_array_equal(t.numpy(), T.ToTensor()(arr[top:top + 3, left:left + 4]).numpy())
    p = T.CenterCrop((3, 4))(Image.fromarray(arr))
    np.testing.assert_array_equal(np.array(p), arr[top:top + 3, left:left + 4])
    padded = T.CenterCrop(9)(T.ToTensor()(arr))  # larger than the image: zero border
    assert tuple(padded.shape) == (3, 9, 9) and padded.numpy()[:, 0].sum() == 0


def test_random_crop_is_a_window_of_the_padded_image_and_seeded() -> None:
    x = ember.arange(2 * 5 * 5, dtype=ember.float32).reshape(2, 5, 5)
    crop = T.RandomCrop(3, padding=1)
    ember.manual_seed(3)
    a = crop(x)
    ember.manual_seed(3)
    b = crop(x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    padded = np.pad(x.numpy(), ((0, 0), (1, 1), (1, 1)))
    windows = [padded[:, i:i + 3, j:j + 3] for i in range(5) for j in range(5)]
    assert any(np.array_equal(a.numpy(), w) for w in windows)
    with pytest.raises(ValueError, match="larger than the input"):
        T.RandomCrop(9)(x)


def test_random_horizontal_flip() -> None:
    x = ember.rand(3, 4, 5)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(x).numpy(), x.numpy()[..., ::-1])
    assert T.RandomHorizontalFlip(0.0)(x) is x
    img = Image.fromarray(_rgb())
    np.testing.assert_array_equal(np.array(T.RandomHorizontalFlip(1.0)(img)), np.array(img)[:, ::-1])


def test_compose_runs_in_order() -> None:
    pipeline = T.Compose([T.CenterCrop(4), T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)])
    t = pipeline(Image.fromarray(_rgb()))
    assert tuple(t.shape) == (3, 4, 4) and t.numpy().min() >= -1 and t.numpy().max() <= 1


def _write_folder(root, counts: dict) -> None:
    for k, (name, n) in enumerate(counts.items()):
        (root / name).mkdir()
        for i in range(n):
            Image.fromarray(_rgb(8, 8, seed=10 * k + i)).save(root / name / f"{i}.png")
    (root / "cat" / "notes.txt").write_text("not an image")


def test_image_folder_labels_by_sorted_folder(tmp_path) -> None:
    _write_folder(tmp_path, {"dog": 3, "cat": 2})
    ds = datasets.ImageFolder(tmp_path, transform=T.ToTensor(), target_transform=lambda y: y * 10)
    assert ds.classes == ["cat", "dog"]
    assert ds.class_to_idx == {"cat": 0, "dog": 1}
    assert len(ds) == 5 and ds.targets == [0, 0, 1, 1, 1] and ds.imgs == ds.samples
    assert ds.samples[0] == (str(tmp_path / "cat" / "0.png"), 0)
    x, y = ds[4]
    assert tuple(x.shape) == (3, 8, 8) and y == 10
    np.testing.assert_allclose(x.numpy(), T.ToTensor()(_rgb(8, 8, seed=2)).numpy())  # dog/2.png
    xb, yb = next(iter(DataLoader(ds, batch_size=5)))
    assert tuple(xb.shape) == (5, 3, 8, 8) and yb.tolist() == [0, 0, 10, 10, 10]


def test_image_folder_errors(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="class folder"):
        datasets.ImageFolder(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no valid file"):
        datasets.ImageFolder(tmp_path)
