"""The one global switch of autograd: whether ops record a graph."""
from __future__ import annotations

import functools


class _State:
    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = True


STATE = _State()


def is_grad_enabled() -> bool:
    """True when ops record the graph for backward."""
    return STATE.enabled


class _GradMode:
    """Base of the grad-mode context managers; each also works as a decorator."""

    mode = True

    def __enter__(self) -> None:
        self._prev = STATE.enabled
        STATE.enabled = self.mode

    def __exit__(self, *exc) -> bool:
        STATE.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)

        return wrapper

    def _args(self) -> tuple:
        return ()

    def clone(self):
        return self.__class__(*self._args())


class no_grad(_GradMode):
    """Ops inside record nothing: for evaluation and in-place parameter updates."""

    mode = False


class enable_grad(_GradMode):
    """Turn recording back on inside a ``no_grad`` block."""

    mode = True


class inference_mode(_GradMode):
    """Like ``no_grad`` (Ember has no separate inference tensors)."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode
        self._flag = mode

    def _args(self) -> tuple:
        return (self._flag,)


class set_grad_enabled(_GradMode):
    """Set recording on or off; works as a function call, a context manager or a decorator."""

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):  # as torch: "yes" or 1 is refused, not taken as truthy
            raise TypeError(f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, "
                            f"not {type(mode).__name__}")
        self.mode = mode
        self._prev = STATE.enabled
        STATE.enabled = self.mode

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> bool:
        STATE.enabled = self._prev
        return False

    def __call__(self, fn):
        STATE.enabled = self._prev
        return super().__call__(fn)

    def _args(self) -> tuple:
        return (self.mode,)
