"""RMSprop: divide the gradient by a running root mean square, optionally centred, with momentum."""
from __future__ import annotations

from typing import Iterable

from ..tensor import Tensor
from .optimizer import Optimizer, advance, check_hyper, effective_grad, new_step, zeros_state


class RMSprop(Optimizer):
    """torch.optim.RMSprop: ``v = alpha*v + (1-alpha)*g*g``; ``p -= lr * g / (sqrt(v) + eps)``.

    Args:
        params: tensors or parameter groups to optimise.
        lr: learning rate.
        alpha: smoothing constant of the running mean square.
        eps: added to the denominator for stability.
        weight_decay: L2 penalty added to the gradient.
        momentum: momentum factor applied to the scaled step.
        centered: subtract the squared running mean of the gradient (variance estimate).
        maximize: ascend instead of descend.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_hyper("learning rate", lr)
        check_hyper("epsilon value", eps)
        check_hyper("momentum value", momentum)
        check_hyper("weight_decay value", weight_decay)
        check_hyper("alpha value", alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        if not state:
            state["step"] = new_step()
            state["square_avg"] = zeros_state(param)
            if group["momentum"] > 0:
                state["momentum_buffer"] = zeros_state(param)
            if group["centered"]:
                state["grad_avg"] = zeros_state(param)
        advance(state)
        grad = effective_grad(param, grad, group)
        alpha = group["alpha"]
        square_avg = state["square_avg"]
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.lerp_(grad, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add_(group["eps"])
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf.mul_(group["momentum"]).addcdiv_(grad, avg)
            param.add_(buf, alpha=-group["lr"])
        else:
            param.addcdiv_(grad, avg, value=-group["lr"])
