"""The optimiser base class: parameter groups, per-parameter state, state dicts in torch's format.

A subclass declares its hyperparameters (``defaults``) and one method, ``_update(param, grad,
state, group)``, that changes one parameter in place with Ember ops. ``step`` runs it under
``no_grad`` for every parameter that has a gradient; state lives on the parameter's device.
"""
from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from typing import Any, Callable, Iterable

from .. import dtypes
from ..autograd.grad_mode import enable_grad, set_grad_enabled
from ..creation import tensor, zeros_like
from ..tensor import Tensor

_REQUIRED = object()
required = _REQUIRED  # torch's sentinel for a hyperparameter without a default


class Optimizer:
    """Base class of all optimisers: holds ``param_groups``, ``state`` and ``defaults``.

    Args:
        params: an iterable of tensors, or of dicts each holding ``params`` and group options.
        defaults: the hyperparameters every group gets unless it sets its own.
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {type(params).__module__}.{type(params).__name__}"
            )
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (the rest come from ``defaults``)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering "
                "of tensors in sets will change between runs. Please use a list instead."
            )
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not (self.defaults.get("differentiable") or p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group, params=params)
        for name, default in self.defaults.items():
            if default is _REQUIRED and name not in group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}"
                )
            group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error (as torch, the parameter is kept twice)",
                          UserWarning, stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: ``None`` (the default), or zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                p.grad = p.grad.detach()
                p.grad.zero_()

    def _update_all(self) -> None:
        """Run ``_update`` for every parameter with a gradient; recorded only if ``differentiable``
        (torch's meaning: the step itself can be differentiated, e.g. in meta-learning)."""
        with set_grad_enabled(bool(self.defaults.get("differentiable", False))):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if group.get("capturable"):
                        check_capturable(p, type(self).__name__)
                    state = self.state.get(p)
                    if state is None:
                        state = {}
                    self._update(p, p.grad, state, group)
                    if state:
                        self.state[p] = state

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; ``closure`` re-evaluates the loss first.

        Returns:
            the closure's loss, or None without a closure.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._update_all()
        return loss

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        """Change ``param`` in place from its gradient (each optimiser's own rule)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}`` as torch."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and state saved by ``state_dict`` (tensors go to each parameter)."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)}) than the optimizer ({len(self.param_groups)})"
            )
        for i, (mine, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size of "
                    f"optimizer's group: group {i} has {len(saved['params'])} saved parameters, "
                    f"the optimizer has {len(mine['params'])}"
                )
        by_index = {}
        for mine, saved in zip(self.param_groups, saved_groups):
            for p, k in zip(mine["params"], saved["params"]):
                by_index[k] = p
        self.state = defaultdict(dict)
        for k, s in state_dict["state"].items():
            p = by_index.get(int(k))
            if p is None:
                continue
            self.state[p] = {name: _state_value(name, v, p) for name, v in s.items()}
        self.param_groups = [
            dict(copy.deepcopy({n: v for n, v in saved.items() if n != "params"}), params=mine["params"])
            for mine, saved in zip(self.param_groups, saved_groups)
        ]

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _state_value(name: str, value, param: Tensor):
    """A loaded state entry placed like torch: on the parameter's device (and dtype if floating)."""
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    if name == "step":
        return value.clone()
    if value.is_floating_point() and param.is_floating_point():
        return value.to(param.device, param.dtype).clone()
    return value.to(param.device).clone()


# ---------------------------------------------------------------------- helpers for subclasses


def check_hyper(name: str, value, low: float = 0.0) -> None:
    """torch's check of a hyperparameter: a ValueError naming it when below ``low``."""
    if isinstance(value, Tensor):
        value = value.item()
    if not value >= low:
        raise ValueError(f"Invalid {name}: {value}")


def new_step() -> Tensor:
    """The step counter torch keeps: a 0-d float tensor on the CPU (float64 if that is the default)."""
    scalar = dtypes.float64 if dtypes.get_default_dtype() == dtypes.float64 else dtypes.float32
    return tensor(0.0, dtype=scalar)


def check_betas(betas: tuple) -> None:
    """torch's check of Adam-style betas: each in [0, 1)."""
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def check_adam_args(lr, eps, betas: tuple, weight_decay) -> None:
    """torch's checks of the hyperparameters the Adam family shares, in torch's order."""
    check_hyper("learning rate", lr)
    check_hyper("epsilon value", eps)
    check_betas(betas)
    check_hyper("weight_decay value", weight_decay)


def scalar_state(value: float) -> Tensor:
    """A 0-d state value kept as torch keeps it (float32, or float64 if that is the default), so
    arithmetic on it rounds as torch's does."""
    out = new_step()
    out.fill_(value)
    return out


_CAPTURABLE_STATE = {"NAdam": "params, mu_products and state_steps",
                     "ASGD": "params, mus, etas, and state_steps"}


def check_capturable(param: Tensor, optimizer: str) -> None:
    """``capturable=True`` is for CUDA graphs: torch refuses it for parameters not on a GPU."""
    if param.device.type != "cuda":
        what = _CAPTURABLE_STATE.get(optimizer, "params and state_steps")
        raise AssertionError(
            f"If capturable=True, {what} must be on supported devices: ['cuda']."
        )


def advance(state: dict) -> float:
    """Add one to ``state['step']`` (made at the first step) and return the new count."""
    step = state.get("step")
    if step is None:
        step = state["step"] = new_step()
    step.add_(1)
    return step.item()


def zeros_state(param: Tensor) -> Tensor:
    """A zero buffer shaped, typed and placed like ``param``."""
    return zeros_like(param)


def effective_grad(param: Tensor, grad: Tensor, group: dict, l2: bool = True) -> Tensor:
    """The gradient with ``maximize`` (sign flip) and, if ``l2``, ``weight_decay`` added, as torch."""
    if group.get("maximize", False):
        grad = -grad
    wd = group.get("weight_decay", 0)
    if l2 and wd != 0:
        grad = grad.add(param, alpha=wd)
    return grad


def decayed_grad(param: Tensor, grad: Tensor, group: dict) -> Tensor:
    """Weight decay as the group asks (``decoupled_weight_decay``: shrink the weights, as AdamW;
    else L2, added to the gradient), with ``maximize`` applied: the gradient the rule uses."""
    decoupled = group.get("decoupled_weight_decay", False)
    if decoupled and group["weight_decay"] != 0:
        param.mul_(1 - group["lr"] * group["weight_decay"])
    return effective_grad(param, grad, group, l2=not decoupled)


def moments(state: dict, param: Tensor) -> tuple:
    """Adam's running moments ``(exp_avg, exp_avg_sq)``, zeros made at the first step."""
    if "exp_avg" not in state:
        state["exp_avg"] = zeros_state(param)
        state["exp_avg_sq"] = zeros_state(param)
    return state["exp_avg"], state["exp_avg_sq"]


def update_moments(state: dict, param: Tensor, grad: Tensor, betas: tuple) -> tuple:
    """Adam's running moments (made at the first step): ``m = lerp(m, g, 1-beta1)``,
    ``v = beta2*v + (1-beta2)*g*g``; returns ``(m, v)``."""
    beta1, beta2 = betas
    exp_avg, exp_avg_sq = moments(state, param)
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    return exp_avg, exp_avg_sq
