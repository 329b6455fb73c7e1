"""Finding the forward pre-hook that a hook-based utility (weight norm, spectral norm,
pruning) registered for one tensor of a module."""
from __future__ import annotations

from ..module import Module


def find_pre_hook(module: Module, kind: type, name: str, attr: str = "name"):
    """``(key, hook)`` of the forward pre-hook of type ``kind`` acting on ``name``, or None."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, kind) and getattr(hook, attr) == name:
            return key, hook
    return None


def remove_pre_hook(module: Module, kind: type, name: str, missing: str,
                    attr: str = "name") -> Module:
    """Undo the ``kind`` hook on ``name`` (its ``remove(module)``) and drop it; ValueError
    with ``missing`` when there is none."""
    found = find_pre_hook(module, kind, name, attr)
    if found is None:
        raise ValueError(missing)
    key, hook = found
    hook.remove(module)
    del module._forward_pre_hooks[key]
    return module
