"""RAdam: Adam whose adaptive step is switched on only once the variance estimate is reliable."""
from __future__ import annotations

from typing import Iterable

from ..tensor import Tensor
from .optimizer import (Optimizer, advance, check_adam_args, decayed_grad, update_moments)


class RAdam(Optimizer):
    """torch.optim.RAdam: plain momentum steps while ``rho_t <= 5``, then rectified Adam steps.

    Args:
        params: tensors or parameter groups to optimise.
        lr: learning rate.
        betas: decay rates of the first and second moment estimates.
        eps: added to the denominator for stability.
        weight_decay: L2 penalty (or decoupled decay with ``decoupled_weight_decay``).
        decoupled_weight_decay: decay the weights directly, as AdamW.
        maximize: ascend instead of descend.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_adam_args(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        step = advance(state)
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        grad = decayed_grad(param, grad, group)
        exp_avg, exp_avg_sq = update_moments(state, param, grad, group["betas"])
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        corrected = exp_avg / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t <= 5.0:
            param.add_(corrected * lr, alpha=-1.0)
            return
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        adaptive = (bias_correction2 ** 0.5) / exp_avg_sq.sqrt().add_(group["eps"])
        param.add_(corrected * lr * adaptive * rect, alpha=-1.0)
