"""Adagrad: per-coordinate steps scaled by the root of the sum of all squared gradients so far."""
from __future__ import annotations

from typing import Iterable

from ..creation import full_like
from ..tensor import Tensor
from .optimizer import Optimizer, advance, check_hyper, effective_grad, new_step


class Adagrad(Optimizer):
    """torch.optim.Adagrad: ``s += g*g``; ``p -= lr/(1+(t-1)*lr_decay) * g / (sqrt(s) + eps)``.

    Args:
        params: tensors or parameter groups to optimise.
        lr: learning rate.
        lr_decay: decay of the learning rate with the step count.
        weight_decay: L2 penalty added to the gradient.
        initial_accumulator_value: starting value of the sum of squares.
        eps: added to the denominator for stability.
        maximize: ascend instead of descend.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10,
                 foreach: bool | None = None, *, maximize: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        check_hyper("learning rate", lr)
        check_hyper("lr_decay value", lr_decay)
        check_hyper("weight_decay value", weight_decay)
        check_hyper("initial_accumulator_value value", initial_accumulator_value)
        check_hyper("epsilon value", eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                _init_state(self.state[p], p, group)

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        if not state:
            _init_state(state, param, group)
        step = advance(state)
        grad = effective_grad(param, grad, group)
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        state_sum = state["sum"]
        state_sum.addcmul_(grad, grad, value=1)
        std = state_sum.sqrt().add_(group["eps"])
        param.addcdiv_(grad, std, value=-clr)


def _init_state(state: dict, param: Tensor, group: dict) -> None:
    """Adagrad's state, made eagerly (as torch does) or for a group added later."""
    state["step"] = new_step()
    state["sum"] = full_like(param, group["initial_accumulator_value"])
