"""Instance and local response normalisation (torch.nn.functional.instance_norm,
local_response_norm), as compositions of Ember ops, so every derivative order works."""
from __future__ import annotations

from ...creation import arange, tensor
from ...ops import elementwise as E
from ...ops import linalg as L
from ...ops import shape as S
from ...ops.registry import declare
from ...tensor import Tensor
from .. import functional as F


def _verify_spatial_size(shape: tuple) -> None:
    count = 1
    for s in shape[2:]:
        count *= s
    if count == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{list(shape)}")


@declare(namespaces=("ember.nn.functional",))
def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True, momentum: float = 0.1,
                  eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample over its spatial dims (style transfer, GANs).

    With ``use_input_stats`` the sample's own statistics are used and the running ones, when
    given, move by ``momentum`` towards their mean over the batch (unbiased variance, as
    torch); otherwise the running statistics normalise.
    """
    if input.ndim < 2:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, *spatial), got "
                         f"{list(input.shape)}")
    if use_input_stats:
        _verify_spatial_size(tuple(input.shape))
    channels = input.shape[1]
    param_shape = (1, channels) + (1,) * (input.ndim - 2)
    if use_input_stats:
        mean, centred, var = F._moments(input, tuple(range(2, input.ndim)))
        count = input.numel() // (input.shape[0] * channels)
        if running_mean is not None:
            F._update_running(running_mean, mean.reshape(-1, channels).mean(0), momentum)
        if running_var is not None:
            unbiased = var.reshape(-1, channels).mean(0) * (count / (count - 1))
            F._update_running(running_var, unbiased, momentum)
    else:
        centred, var = F._running_moments(input, running_mean, running_var, param_shape,
                                          "instance_norm", "when use_input_stats=False")
    return F._affine(E.mul(centred, E.rsqrt(E.add(var, eps))), weight, bias, param_shape,
                     "instance_norm")


def _mix_channels(x: Tensor, matrix: Tensor) -> Tensor:
    """``sum_j matrix[c, j] * x[:, j, ...]`` for every channel ``c`` (a product along dim 1)."""
    return S.movedim(L.matmul(S.movedim(x, 1, -1), S.transpose(matrix, 0, 1)), -1, 1)


@declare(namespaces=("ember.nn.functional",))
def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Divide each value by ``(k + alpha * mean of squares over size neighbouring channels)^beta``
    (AlexNet's normalisation; the window is zero-padded at the channel edges)."""
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    channels = arange(input.shape[1], device=input.device)
    offset = E.sub(S.unsqueeze(channels, 0), S.unsqueeze(channels, 1))  # j - c
    window = E.logical_and(E.ge(offset, -(size // 2)), E.le(offset, (size - 1) // 2))
    squares = E.mul(input, input)
    mean = E.div(_mix_channels(squares, E.cast(window, input.dtype)), size)
    return E.div(input, E.pow(E.add(E.mul(mean, alpha), k), beta))


def _cross_map_window(channels: int, size: int) -> list:
    """Which channels enter each channel's sum in torch's legacy CrossMapLRN2d (its running
    window: the first ``(size - 1) // 2 + 1`` channels, then one in and one out per step)."""
    pre_pad = int((size - 1) / 2 + 1)
    rows = [[1.0 if j < min(pre_pad, channels) else 0.0 for j in range(channels)]]
    for c in range(1, channels):
        row = list(rows[-1])
        if c < channels - pre_pad + 1:
            row[c + pre_pad - 1] += 1.0
        if c > pre_pad:
            row[c - pre_pad] -= 1.0
        rows.append(row)
    return rows


def cross_map_lrn2d(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                    k: float = 1.0) -> Tensor:
    """torch's legacy CrossMapLRN2d: ``x * (k + alpha / size * window sum of squares)^-beta``."""
    if input.ndim != 4:
        raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D instead.")
    window = tensor(_cross_map_window(input.shape[1], size), dtype=input.dtype,
                    device=input.device)
    scale = E.add(E.mul(_mix_channels(E.mul(input, input), window), alpha / size), k)
    return E.mul(input, E.pow(scale, -beta))
