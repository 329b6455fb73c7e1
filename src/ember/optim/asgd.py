"""ASGD: SGD with a decaying step size that also keeps a running average of the iterates."""
from __future__ import annotations

from typing import Iterable

from ..creation import tensor
from ..tensor import Tensor
from .optimizer import (Optimizer, advance, check_hyper, effective_grad, new_step, scalar_state,
                        zeros_state)


class ASGD(Optimizer):
    """torch.optim.ASGD: ``p *= 1 - lambd*eta``; ``p -= eta*g``; ``ax`` averages the iterates after ``t0``.

    ``eta = lr / (1 + lambd*lr*t)^alpha`` and ``mu = 1 / max(1, t - t0)``, both kept as torch keeps
    them (0-d float32 tensors), so the rounding matches.

    Args:
        params: tensors or parameter groups to optimise.
        lr: learning rate.
        lambd: decay term.
        alpha: power of the step-size decay.
        t0: the step at which averaging starts.
        weight_decay: L2 penalty added to the gradient.
        maximize: ascend instead of descend.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        check_hyper("learning rate", lr)
        check_hyper("weight_decay value", weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        if not state:
            state["step"] = new_step()
            state["eta"] = scalar_state(group["lr"])
            state["mu"] = scalar_state(1.0)
            state["ax"] = zeros_state(param)
        step = advance(state)
        grad = effective_grad(param, grad, group)
        lr, lambd = group["lr"], group["lambd"]
        eta = state["eta"].item()
        param.mul_(1 - lambd * eta)
        param.add_(grad, alpha=-eta)
        ax = state["ax"]
        if state["mu"].item() != 1:
            ax.add_(param.sub(ax).mul_(state["mu"]))
        else:
            ax.copy_(param)
        # through a tensor of the default dtype, as torch: rounded alike even once loaded as float64
        state["eta"].copy_(tensor(lr / ((1 + lambd * lr * step) ** group["alpha"])))
        state["mu"].copy_(tensor(1 / max(1, step - group["t0"])))
