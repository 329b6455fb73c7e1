"""What the compiler does right now: its stance, the recompile limit, whether a trace is running."""
from __future__ import annotations

import functools
from typing import Callable

STANCES = ("default", "force_eager", "eager_on_recompile", "fail_on_recompile",
           "eager_then_compile")


class _Config:
    """``ember.compiler.config``: torch's ``torch._dynamo.config`` knobs that apply here."""

    __slots__ = ("recompile_limit",)

    def __init__(self) -> None:
        self.recompile_limit = 8  # torch's default: more signatures than this run eagerly


config = _Config()


class _State:
    """The stance, and how deep we are inside a trace or a ``disable``d function."""

    __slots__ = ("stance", "tracing", "disabled")

    def __init__(self) -> None:
        self.stance = "default"
        self.tracing = 0
        self.disabled = 0


STATE = _State()


class set_stance:
    """Set the compiler's stance: as a call, a context manager or a decorator (as torch's).

    ``"default"`` compiles; ``"force_eager"`` runs every compiled function eagerly;
    ``"eager_on_recompile"`` uses programs already traced and runs new signatures eagerly;
    ``"fail_on_recompile"`` raises instead of tracing a new signature;
    ``"eager_then_compile"`` runs each new signature eagerly once, then traces it.
    """

    def __init__(self, stance: str = "default", *, skip_guard_eval_unsafe: bool = False,
                 force_backend=None) -> None:
        if stance not in STANCES:
            raise RuntimeError(f"set_stance: unknown stance {stance!r}; expected one of {STANCES}")
        if STATE.tracing:
            raise RuntimeError("Attempt to call set_stance inside a torch.compile region")
        self._previous = STATE.stance
        self._stance = stance
        STATE.stance = stance

    def __enter__(self) -> "set_stance":
        return self

    def __exit__(self, *exc) -> None:
        STATE.stance = self._previous

    def __call__(self, fn: Callable) -> Callable:
        STATE.stance = self._previous  # as a decorator: the stance holds only inside fn
        stance = self._stance

        @functools.wraps(fn)
        def run(*args, **kwargs):
            previous = STATE.stance
            STATE.stance = stance
            try:
                return fn(*args, **kwargs)
            finally:
                STATE.stance = previous

        return run


def is_compiling() -> bool:
    """True while ``ember.compile`` traces a function (torch.compiler.is_compiling)."""
    return STATE.tracing > 0


def disable(fn: Callable | None = None, recursive: bool = True, *, reason: str | None = None):
    """Run ``fn`` (and, with ``recursive``, compiled functions it calls) without compiling.

    Usable as ``@disable``, ``@disable(recursive=False)`` or ``disable(fn)``.
    """
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)
    inner = getattr(fn, "_ember_original", fn)

    @functools.wraps(inner)
    def run(*args, **kwargs):
        if not recursive:
            return inner(*args, **kwargs)
        STATE.disabled += 1
        try:
            return inner(*args, **kwargs)
        finally:
            STATE.disabled -= 1

    run._ember_disabled = reason or "ember.compiler.disable"
    return run
