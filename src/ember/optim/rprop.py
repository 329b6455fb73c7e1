"""Rprop: per-coordinate step sizes that grow while the gradient keeps its sign and shrink when it flips."""
from __future__ import annotations

from typing import Iterable

from ..creation import full_like
from ..tensor import Tensor
from .optimizer import Optimizer, advance, check_hyper, effective_grad, new_step, zeros_state


class Rprop(Optimizer):
    """torch.optim.Rprop: the step size is multiplied by ``etaplus`` or ``etaminus`` by the sign of
    ``g * g_prev``, clamped to ``step_sizes``; after a sign flip that coordinate skips a step.

    Args:
        params: tensors or parameter groups to optimise.
        lr: initial step size.
        etas: (etaminus, etaplus) multipliers, ``0 < etaminus < 1 < etaplus``.
        step_sizes: (minimal, maximal) step size.
        maximize: ascend instead of descend.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_hyper("learning rate", lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        if not state:
            state["step"] = new_step()
            state["prev"] = zeros_state(param)
            state["step_size"] = full_like(grad, group["lr"])
        advance(state)
        grad = effective_grad(param, grad, group, l2=False)
        etaminus, etaplus = group["etas"]
        low, high = group["step_sizes"]
        prev = state["prev"]
        step_size = state["step_size"]
        sign = grad.mul(prev).sign()
        factor = sign.masked_fill(sign > 0, etaplus).masked_fill(sign < 0, etaminus)
        factor = factor.masked_fill(sign == 0, 1)
        step_size.mul_(factor).clamp_(low, high)
        grad = grad.masked_fill(factor == etaminus, 0)
        param.addcmul_(grad.sign(), step_size, value=-1)
        prev.copy_(grad)
