"""Adamax: Adam with the infinity norm of past gradients in place of the second moment."""
from __future__ import annotations

from typing import Iterable

from ..ops.elementwise import maximum
from ..tensor import Tensor
from .optimizer import (Optimizer, advance, check_adam_args, effective_grad, new_step, zeros_state)


class Adamax(Optimizer):
    """torch.optim.Adamax: ``u = max(beta2*u, |g| + eps)``; ``p -= lr/(1-beta1^t) * m / u``.

    Args:
        params: tensors or parameter groups to optimise.
        lr: learning rate.
        betas: decay rates of the first moment and of the infinity norm.
        eps: added to ``|g|`` for stability.
        weight_decay: L2 penalty added to the gradient.
        maximize: ascend instead of descend.
    """

    def __init__(self, params: Iterable, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        check_adam_args(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        if not state:
            state["step"] = new_step()
            state["exp_avg"] = zeros_state(param)
            state["exp_inf"] = zeros_state(param)
        step = advance(state)
        grad = effective_grad(param, grad, group)
        beta1, beta2 = group["betas"]
        exp_avg = state["exp_avg"]
        exp_inf = state["exp_inf"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_inf.copy_(maximum(exp_inf.mul_(beta2), grad.abs().add_(group["eps"])))
        clr = group["lr"] / (1 - beta1 ** step)
        param.addcdiv_(exp_avg, exp_inf, value=-clr)
