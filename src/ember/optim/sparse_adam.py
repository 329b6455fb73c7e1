"""SparseAdam: lazy Adam that changes moments and parameters only where a gradient arrived."""
from __future__ import annotations

import math
from typing import Iterable

from ..tensor import Tensor
from .optimizer import Optimizer, check_betas, zeros_state


class SparseAdam(Optimizer):
    """torch.optim.SparseAdam's update, for the gradients Ember has (dense ones).

    torch feeds it sparse gradients (``nn.Embedding(sparse=True)``) and touches only the listed
    entries. Ember has no sparse tensors: the entries a step touches are those with a nonzero
    gradient (an embedding row no sample looked up has a zero gradient), and every other entry
    keeps its moments and value, as torch's lazy update does.

    Args:
        params: tensors or parameter groups to optimise.
        lr: learning rate.
        betas: decay rates of the first and second moment estimates.
        eps: added to the denominator for stability.
        maximize: ascend instead of descend.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, maximize: bool = False) -> None:
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_betas(betas)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = zeros_state(param)
            state["exp_avg_sq"] = zeros_state(param)
        state["step"] += 1
        step = state["step"]
        if group["maximize"]:
            grad = -grad
        untouched = grad == 0
        beta1, beta2 = group["betas"]
        exp_avg = state["exp_avg"]
        exp_avg_sq = state["exp_avg_sq"]
        avg_change = grad.sub(exp_avg).mul_(1 - beta1)
        sq_change = grad.pow(2).sub_(exp_avg_sq).mul_(1 - beta2)
        exp_avg.add_(avg_change.masked_fill(untouched, 0))
        exp_avg_sq.add_(sq_change.masked_fill(untouched, 0))
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = group["lr"] * math.sqrt(bias_correction2) / bias_correction1
        update = exp_avg.div(exp_avg_sq.sqrt().add_(group["eps"])).mul_(-step_size)
        param.add_(update.masked_fill(untouched, 0))
