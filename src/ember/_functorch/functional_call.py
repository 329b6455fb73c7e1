"""``functional_call`` and ``stack_module_state``: a module run with parameters given as
arguments, so ``grad`` and ``vmap`` can treat them as inputs (torch.func's)."""
from __future__ import annotations

import contextlib
from typing import Sequence

from ..ops import shape as S
from ..tensor import Tensor


def _merge(dicts) -> dict:
    if isinstance(dicts, dict):
        return dicts
    if isinstance(dicts, (tuple, list)):
        if not all(isinstance(d, dict) for d in dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        keys = [k for d in dicts for k in d]
        repeated = sorted({k for k in keys if keys.count(k) > 1}, key=keys.index)
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional "
                             "call is ambiguous")
        return {k: v for d in dicts for k, v in d.items()}
    raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, "
                     f"but got {type(dicts)}")


def _slots(module) -> dict:
    """Every parameter and buffer of ``module`` by its state-dict name: (owner's dict, key), tied
    names included."""
    found = {}
    for prefix, sub in module.named_modules(remove_duplicate=False):
        for store in (sub._parameters, sub._buffers):
            for key, value in store.items():
                if value is not None:
                    found[f"{prefix}.{key}" if prefix else key] = (store, key)
    return found


@contextlib.contextmanager
def _reparametrized(module, values: dict, tie_weights: bool, strict: bool):
    slots = _slots(module)
    if strict:
        missing = [k for k in slots if k not in values]
        unexpected = [k for k in values if k not in slots]
        if missing or unexpected:
            lines = []
            if unexpected:
                lines.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
            if missing:
                lines.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                               + "\n\t".join(lines))
    chosen = dict(values)
    if tie_weights:  # a tensor shared under several names takes the value given for any of them
        by_tensor = {}
        for name, (store, key) in slots.items():
            by_tensor.setdefault(id(store[key]), []).append(name)
        for names in by_tensor.values():
            given = [n for n in names if n in values]
            for n in given[1:]:
                if values[n] is not values[given[0]]:
                    raise ValueError(f"functional_call got multiple values for keys {given}, which "
                                     "are tied. Consider using tie_weights=False")
            for n in names:
                if given and n not in chosen:
                    chosen[n] = values[given[0]]
    saved = []
    try:
        for name, value in chosen.items():
            if name in slots:
                store, key = slots[name]
                saved.append((store, key, store[key]))
                store[key] = value
        yield
    finally:
        for store, key, old in reversed(saved):
            store[key] = old


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """``module(*args, **kwargs)`` with its parameters and buffers replaced by the given tensors.

    Args:
        module: the module to call.
        parameter_and_buffer_dicts: a dict (or a tuple/list of dicts) from state-dict names to
            tensors; names not given keep the module's own.
        args, kwargs: the call's arguments (a single non-tuple ``args`` is one argument).
        tie_weights: a tensor the module shares under several names takes the given value for all.
        strict: every parameter and buffer must be given, and nothing else.
    """
    values = _merge(parameter_and_buffer_dicts)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrized(module, values, tie_weights, strict):
        return module(*args, **(kwargs or {}))


def _stacked_leaf(tensors: list, name: str) -> Tensor:
    grads = {t.requires_grad for t in tensors}
    if len(grads) > 1:
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    out = S.stack([t.detach() for t in tensors])
    return out.requires_grad_(True) if grads == {True} else out


def stack_module_state(models: Sequence) -> tuple[dict, dict]:
    """The parameters and buffers of ``models`` (same class) stacked by name, for ``vmap`` ensembles.

    The stacked parameters are new leaves that require grad (ready for an optimizer).
    """
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if len({type(m) for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    params = [dict(m.named_parameters()) for m in models]
    buffers = [dict(m.named_buffers()) for m in models]
    return ({k: _stacked_leaf([p[k] for p in params], k) for k in params[0]},
            {k: _stacked_leaf([b[k] for b in buffers], k) for k in buffers[0]})
