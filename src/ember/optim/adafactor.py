"""Adafactor: Adam-like steps from a factored (row x column) estimate of the squared gradients."""
from __future__ import annotations

from typing import Iterable

from .. import dtypes
from ..creation import zeros
from ..tensor import Tensor
from .optimizer import Optimizer, advance, new_step, zeros_state


class Adafactor(Optimizer):
    """torch.optim.Adafactor: second moments kept as row and column means for matrices (memory
    O(n+m) instead of O(nm)), a relative step ``min(lr, 1/sqrt(t))`` scaled by the parameter's RMS,
    and update clipping at RMS ``d``.

    Args:
        params: tensors or parameter groups to optimise.
        lr: cap of the relative step size and the weight-decay coefficient.
        beta2_decay: ``1 - beta2_t = t^beta2_decay``.
        eps: (eps1 for the denominator, default the dtype's eps; eps2 for the parameter scale).
        d: clipping threshold of the update's RMS.
        weight_decay: decoupled weight decay (scaled by ``lr``).
        maximize: ascend instead of descend.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        if not state:
            state["step"] = new_step()
            if grad.ndim > 1:
                state["row_var"] = zeros(*grad.shape[:-1], 1, dtype=grad.dtype, device=grad.device)
                state["col_var"] = zeros(*grad.shape[:-2], 1, grad.shape[-1], dtype=grad.dtype,
                                         device=grad.device)
            else:
                state["variance"] = zeros_state(grad)
        step = advance(state)
        if group["maximize"]:
            grad = -grad
        lr = group["lr"]
        eps1, eps2 = group["eps"]
        if eps1 is None:
            eps1 = dtypes.finfo(param.dtype).eps
        one_minus_beta2 = step ** group["beta2_decay"]
        rho = min(lr, 1 / (step ** 0.5))
        alpha = max(eps2, param.norm(2).item() / (param.numel() ** 0.5)) * rho
        if group["weight_decay"] != 0:
            param.mul_(1 - lr * group["weight_decay"])
        if grad.ndim > 1:
            row_var, col_var = state["row_var"], state["col_var"]
            row_var.lerp_(grad.norm(dim=-1, keepdim=True).square().div(grad.shape[-1]),
                          one_minus_beta2)
            col_var.lerp_(grad.norm(dim=-2, keepdim=True).square().div(grad.shape[-2]),
                          one_minus_beta2)
            estimate = (row_var @ col_var).div(row_var.mean(dim=-2, keepdim=True).clamp(min=eps1))
        else:
            variance = state["variance"]
            variance.lerp_(grad * grad, one_minus_beta2)
            estimate = variance.clone()
        update = estimate.clamp(min=eps1 * eps1).rsqrt().mul(grad)
        denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * group["d"]))
        param.add_(update, alpha=-alpha / denom)
