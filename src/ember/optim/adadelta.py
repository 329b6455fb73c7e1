"""Adadelta: steps scaled by the ratio of running RMS of past updates to that of gradients."""
from __future__ import annotations

from typing import Iterable

from ..tensor import Tensor
from .optimizer import Optimizer, advance, check_hyper, effective_grad, new_step, zeros_state


class Adadelta(Optimizer):
    """torch.optim.Adadelta: ``delta = sqrt(acc_delta+eps)/sqrt(square_avg+eps) * g``; ``p -= lr*delta``.

    Args:
        params: tensors or parameter groups to optimise.
        lr: scale of the update (1.0 in the paper).
        rho: decay of the running averages.
        eps: added inside the square roots for stability.
        weight_decay: L2 penalty added to the gradient.
        maximize: ascend instead of descend.
    """

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        check_hyper("learning rate", lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_hyper("epsilon value", eps)
        check_hyper("weight_decay value", weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        if not state:
            state["step"] = new_step()
            state["square_avg"] = zeros_state(param)
            state["acc_delta"] = zeros_state(param)
        advance(state)
        grad = effective_grad(param, grad, group)
        rho, eps = group["rho"], group["eps"]
        square_avg = state["square_avg"]
        acc_delta = state["acc_delta"]
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = acc_delta.add(eps).sqrt_()
        delta.div_(std).mul_(grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        param.add_(delta, alpha=-group["lr"])
