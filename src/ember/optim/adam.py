"""Adam and AdamW: bias-corrected moment estimates, optional AMSGrad, L2 or decoupled weight decay."""
from __future__ import annotations

from typing import Iterable

from ..ops.elementwise import maximum
from ..ops.fused_updates import adam_
from ..tensor import Tensor
from .optimizer import (Optimizer, advance, check_adam_args, decayed_grad, moments, update_moments,
                        zeros_state)


class Adam(Optimizer):
    """torch.optim.Adam, with torch's update formulas and their order of evaluation.

    ``m = lerp(m, g, 1-beta1)``, ``v = beta2*v + (1-beta2)*g*g``,
    ``p -= lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps)``.

    Args:
        params: tensors or parameter groups to optimise.
        lr: learning rate.
        betas: decay rates of the first and second moment estimates.
        eps: added to the denominator for stability.
        weight_decay: L2 penalty (added to the gradient; AdamW decays the weights instead).
        amsgrad: use the running maximum of the second moment (AMSGrad).
        maximize: ascend instead of descend.
        decoupled_weight_decay: decay the weights directly, as AdamW.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        check_adam_args(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        step = advance(state)
        if not group["amsgrad"] and adam_(
                param, grad, *moments(state, param), lr=group["lr"], betas=group["betas"],
                eps=group["eps"], step=step, weight_decay=group["weight_decay"],
                decoupled=group.get("decoupled_weight_decay", False), maximize=group["maximize"]):
            return  # one fused kernel did the whole update
        lr = group["lr"]
        grad = decayed_grad(param, grad, group)
        beta1, beta2 = group["betas"]
        exp_avg, exp_avg_sq = update_moments(state, param, grad, group["betas"])
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2 ** 0.5
        second = exp_avg_sq
        if group["amsgrad"]:
            if "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = zeros_state(param)
            second = state["max_exp_avg_sq"]
            second.copy_(maximum(second, exp_avg_sq))
        denom = (second.sqrt() / bias_correction2_sqrt).add_(group["eps"])
        param.addcdiv_(exp_avg, denom, value=-step_size)


class AdamW(Adam):
    """torch.optim.AdamW: Adam whose weight decay shrinks the weights (``p *= 1 - lr*wd``)."""

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)
