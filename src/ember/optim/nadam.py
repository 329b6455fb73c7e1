"""NAdam: Adam with Nesterov momentum, its momentum warmed up by ``momentum_decay``."""
from __future__ import annotations

from typing import Iterable

from ..tensor import Tensor
from .optimizer import (Optimizer, advance, check_adam_args, check_hyper, decayed_grad,
                        scalar_state, update_moments)


class NAdam(Optimizer):
    """torch.optim.NAdam, with torch's formulas and order of evaluation.

    ``mu_t = beta1*(1 - 0.5*0.96^(t*momentum_decay))``; the step mixes the gradient and the
    first moment with weights from the running product of the ``mu``.

    Args:
        params: tensors or parameter groups to optimise.
        lr: learning rate.
        betas: decay rates of the first and second moment estimates.
        eps: added to the denominator for stability.
        weight_decay: L2 penalty (or decoupled decay with ``decoupled_weight_decay``).
        momentum_decay: how fast the momentum coefficient warms up.
        decoupled_weight_decay: decay the weights directly, as AdamW (NAdamW).
        maximize: ascend instead of descend.
    """

    def __init__(self, params: Iterable, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_adam_args(lr, eps, betas, weight_decay)
        check_hyper("momentum_decay value", momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        step = advance(state)
        if "mu_product" not in state:
            state["mu_product"] = scalar_state(1.0)
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        bias_correction2 = 1 - beta2 ** step
        grad = decayed_grad(param, grad, group)
        decay = group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * decay)))
        mu_product = state["mu_product"]
        mu_product.mul_(mu)
        exp_avg, exp_avg_sq = update_moments(state, param, grad, group["betas"])
        denom = exp_avg_sq.div(bias_correction2).sqrt().add_(group["eps"])
        product = mu_product.item()
        product_next = product * mu_next
        param.addcdiv_(grad, denom, value=-lr * (1.0 - mu) / (1.0 - product))
        param.addcdiv_(exp_avg, denom, value=-lr * mu_next / (1.0 - product_next))
