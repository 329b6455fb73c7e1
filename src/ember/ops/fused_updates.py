"""The optimizers' updates as fused kernels: one pass over a parameter and its state.

Adam's update is ~10 elementwise ops, each a pass over memory; here it is one kernel that reads
``p``, ``g``, ``m``, ``v`` once and writes ``p``, ``m``, ``v`` in place (SGD's momentum step
likewise). The optimizers try these first and keep their op-by-op path, torch's formulas in
Ember ops, where no kernel takes the tensors (small, strided, not float32/float64, numba
missing) or where the step itself is recorded (``differentiable=True``).
"""
from __future__ import annotations

from .. import backend_fused
from ..autograd.grad_mode import STATE
from ..tensor import Tensor


def _recorded(*tensors: Tensor) -> bool:
    """True when autograd would record an update of these tensors."""
    return STATE.enabled and any(t.requires_grad for t in tensors)


def _changed(done: bool, *tensors: Tensor) -> bool:
    """Count an in-place change of each tensor when the kernel ran; ``done`` back."""
    if done:
        for t in tensors:
            t._bump_version()
    return done


def adam_(param: Tensor, grad: Tensor, exp_avg: Tensor, exp_avg_sq: Tensor, *, lr: float,
          betas: tuple, eps: float, step: float, weight_decay: float, decoupled: bool,
          maximize: bool) -> bool:
    """One Adam(W) step of ``param`` and its moments in place; False where the caller's op
    path must run instead (nothing changed then)."""
    if _recorded(param, grad, exp_avg, exp_avg_sq):
        return False
    done = backend_fused.adam_(param._data, grad._data, exp_avg._data, exp_avg_sq._data, lr=lr,
                               beta1=betas[0], beta2=betas[1], eps=eps, step=step,
                               weight_decay=weight_decay, decoupled=decoupled, maximize=maximize)
    return _changed(done, param, exp_avg, exp_avg_sq)


def sgd_momentum_(param: Tensor, grad: Tensor, buf: Tensor, *, lr: float, momentum: float,
                  dampening: float, weight_decay: float, nesterov: bool, maximize: bool) -> bool:
    """One SGD step with momentum of ``param`` and its buffer in place; False where the
    caller's op path must run instead (nothing changed then)."""
    if _recorded(param, grad, buf):
        return False
    done = backend_fused.sgd_momentum_(param._data, grad._data, buf._data, lr=lr,
                                       momentum=momentum, dampening=dampening,
                                       weight_decay=weight_decay, nesterov=nesterov,
                                       maximize=maximize)
    return _changed(done, param, buf)
