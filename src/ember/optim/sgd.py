"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""
from __future__ import annotations

from typing import Iterable

from ..tensor import Tensor
from ..ops.fused_updates import sgd_momentum_
from .optimizer import Optimizer, check_hyper, effective_grad


class SGD(Optimizer):
    """torch.optim.SGD: ``b = momentum*b + (1-dampening)*g``; ``p -= lr*(g + momentum*b if nesterov else b)``.

    Args:
        params: tensors or parameter groups to optimise.
        lr: learning rate.
        momentum: momentum factor (0 turns it off).
        dampening: damping of the momentum's gradient term.
        weight_decay: L2 penalty added to the gradient.
        nesterov: use Nesterov momentum (needs momentum > 0 and no dampening).
        maximize: ascend instead of descend.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        check_hyper("learning rate", lr)
        check_hyper("momentum value", momentum)
        check_hyper("weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        momentum = group["momentum"]
        buf = state.get("momentum_buffer")
        if momentum != 0 and buf is not None and sgd_momentum_(
                param, grad, buf, lr=group["lr"], momentum=momentum, dampening=group["dampening"],
                weight_decay=group["weight_decay"], nesterov=group["nesterov"],
                maximize=group["maximize"]):
            return  # one fused kernel did the whole update
        grad = effective_grad(param, grad, group)
        if momentum != 0:
            if buf is None:
                buf = grad.detach().clone()
                state["momentum_buffer"] = buf
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
        param.add_(grad, alpha=-group["lr"])
