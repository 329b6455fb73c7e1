"""F.grid_sample and F.affine_grid against torch: every mode, padding mode and corner
alignment, 4-D and 5-D, with gradients for the image and the grid (second order for
bilinear)."""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from nn_compare import check_fn

RNG = np.random.default_rng(3)
CASES = [(m, p, a) for m, p, a in itertools.product(["bilinear", "nearest", "bicubic"],
                                                     ["zeros", "border", "reflection"],
                                                     [False, True])]


@pytest.mark.parametrize("mode, padding_mode, align_corners", CASES)
def test_grid_sample_2d(mode, padding_mode, align_corners):
    x = RNG.standard_normal((2, 3, 4, 5))
    grid = RNG.uniform(-1.4, 1.4, (2, 3, 4, 2))  # reaches outside the image
    check_fn(lambda x, g: F.grid_sample(x, g, mode, padding_mode, align_corners),
             lambda x, g: TF.grid_sample(x, g, mode, padding_mode, align_corners), [x, grid],
             order=2 if mode == "bilinear" else 1)


@pytest.mark.parametrize("mode, padding_mode, align_corners",
                         [c for c in CASES if c[0] != "bicubic"])
def test_grid_sample_3d(mode, padding_mode, align_corners):
    x = RNG.standard_normal((2, 2, 3, 4, 3))
    grid = RNG.uniform(-1.4, 1.4, (2, 2, 3, 2, 3))
    check_fn(lambda x, g: F.grid_sample(x, g, mode, padding_mode, align_corners),
             lambda x, g: TF.grid_sample(x, g, mode, padding_mode, align_corners), [x, grid],
             order=1)


def test_grid_sample_float32_and_warning():
    x = RNG.standard_normal((1, 2, 5, 5)).astype("float32")
    grid = RNG.uniform(-1, 1, (1, 3, 3, 2)).astype("float32")
    check_fn(lambda x, g: F.grid_sample(x, g, align_corners=False),
             lambda x, g: TF.grid_sample(x, g, align_corners=False), [x, grid], "float32", order=1)
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior"):
        F.grid_sample(ember.tensor(x), ember.tensor(grid))


def test_grid_sample_errors():
    x, g = ember.zeros(1, 1, 3, 3), ember.zeros(1, 2, 2, 2)
    with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or 'bicubic'"):
        F.grid_sample(x, g, mode="area", align_corners=False)
    with pytest.raises(ValueError, match="expected padding_mode to be 'zeros', 'border'"):
        F.grid_sample(x, g, padding_mode="wrap", align_corners=False)
    with pytest.raises(RuntimeError, match="expected grid to have size 2 in last dimension"):
        F.grid_sample(x, ember.zeros(1, 2, 2, 3), align_corners=False)
    with pytest.raises(RuntimeError, match="same batch size"):
        F.grid_sample(x, ember.zeros(2, 2, 2, 2), align_corners=False)
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D input"):
        F.grid_sample(ember.zeros(1, 1, 2, 2, 2), ember.zeros(1, 1, 1, 1, 3), mode="bicubic",
                      align_corners=False)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.grid_sample(x, g.double(), align_corners=False)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 3), (2, 3, 4, 2, 5), (2, 1, 3, 1, 2)])
def test_affine_grid(size, align_corners):
    theta = RNG.standard_normal((2, 2, 3) if len(size) == 4 else (2, 3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unit-size grids with align_corners warn, as torch
        check_fn(lambda t: F.affine_grid(t, size, align_corners),
                 lambda t: TF.affine_grid(t, size, align_corners), [theta])


def test_affine_grid_then_grid_sample_is_a_spatial_transformer():
    x = RNG.standard_normal((2, 3, 6, 6))
    theta = RNG.standard_normal((2, 2, 3)) * 0.5
    check_fn(lambda x, t: F.grid_sample(x, F.affine_grid(t, (2, 3, 4, 4), False), align_corners=False),
             lambda x, t: TF.grid_sample(x, TF.affine_grid(t, (2, 3, 4, 4), False), align_corners=False),
             [x, theta])


def test_affine_grid_errors():
    with pytest.raises(ValueError, match="Expected theta to have floating point type"):
        F.affine_grid(ember.zeros(1, 2, 3, dtype=ember.int64), (1, 1, 2, 2), False)
    with pytest.raises(ValueError, match="Expected a batch of 2D affine matrices of shape Nx2x3"):
        F.affine_grid(ember.zeros(1, 3, 4), (1, 1, 2, 2), False)
    with pytest.raises(ValueError, match="Expected a batch of 3D affine matrices of shape Nx3x4"):
        F.affine_grid(ember.zeros(1, 2, 3), (1, 1, 2, 2, 2), False)
    with pytest.raises(NotImplementedError, match="affine_grid only supports 4D and 5D sizes"):
        F.affine_grid(ember.zeros(1, 2, 3), (1, 1, 2), False)
    with pytest.raises(ValueError, match="Expected non-zero, positive output size"):
        F.affine_grid(ember.zeros(1, 2, 3), (1, 1, 0, 2), False)
    with pytest.warns(UserWarning, match="unit-size grids"):
        F.affine_grid(ember.zeros(1, 2, 3), (1, 1, 1, 2), True)
