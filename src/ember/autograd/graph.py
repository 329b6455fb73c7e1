"""The backward graph as torch shows it (``torch.autograd.graph``): nodes and saved-tensor hooks."""
from __future__ import annotations

from typing import Any, Callable

from .engine import SAVED_HOOKS, Node

__all__ = ["Node", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks"]


class saved_tensors_hooks:
    """Within this context every tensor an op saves for backward goes through ``pack_hook``; the
    backward pass gets ``unpack_hook(packed)`` back (to compress, offload or log saved values).

    Args:
        pack_hook: ``pack(tensor) -> anything``, called when an op saves a tensor.
        unpack_hook: ``unpack(anything) -> tensor``, called when backward needs it again.
    """

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> "saved_tensors_hooks":
        if _DISABLED:
            raise RuntimeError(_DISABLED[-1])
        SAVED_HOOKS.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc) -> None:
        SAVED_HOOKS.pop()


class save_on_cpu(saved_tensors_hooks):
    """Keep saved tensors in host memory until backward needs them on their device again.

    Args:
        pin_memory: accepted as torch (host memory is not pinned by NumPy).
        device_type: the accelerator the tensors come back to.
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(tensor):
            return tensor.device, tensor.detach().cpu()

        def unpack(packed):
            device, tensor = packed
            return tensor.to(device)

        super().__init__(pack, unpack)


_DISABLED: list = []  # error messages of the active disable_saved_tensors_hooks contexts


class disable_saved_tensors_hooks:
    """Within this context, entering ``saved_tensors_hooks`` raises ``RuntimeError(error_message)``."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        _DISABLED.append(self.error_message)

    def __exit__(self, *exc) -> None:
        _DISABLED.pop()
