"""Anomaly detection: find the op whose backward produced nan, and where the user created it.

With anomaly mode on, every recorded node keeps the user-code stack of its creation
(``node.forward_stack``; ``node.trace`` belongs to ``ember.explain``), and every gradient a
backward rule returns is checked for nan. The first
nan raises a RuntimeError naming the backward function (``MulBackward0``) and showing the
forward line that created it, as ``torch.autograd.detect_anomaly`` does.
"""
from __future__ import annotations

import functools
import os
import traceback
from typing import Callable

from .. import dtypes
from .engine import ANOMALY

_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _user_frames() -> list:
    """The current stack without Ember's own frames (the user's code that made the op)."""
    stack = traceback.extract_stack()
    return [f for f in stack if not os.path.abspath(f.filename).startswith(_EMBER_DIR)]


def _record(node) -> None:
    node.forward_stack = _user_frames()


def _has_nan(g) -> bool:
    data = getattr(g, "_data", None)
    if data is None or data.dtype.kind not in dtypes.FLOAT_KINDS:
        return False
    return bool(g.xp.isnan(data).any())


def _check(node, grads) -> None:
    """Raise if a gradient the node's rule returned holds nan (only when ``check_nan``)."""
    if not ANOMALY.check_nan:
        return
    for i, g in enumerate(grads):
        if g is not None and _has_nan(g):
            raise RuntimeError(
                f"Function '{node.name()}' returned nan values in its {i}th output.\n"
                f"{forward_trace(node)}"
            )


def forward_trace(node) -> str:
    """The traceback of the forward call that created ``node`` (recorded in anomaly mode)."""
    stack = getattr(node, "forward_stack", None)  # unset: made while anomaly mode was off
    if not stack:
        return (f"No forward traceback for {node.name()}: it was created while anomaly mode "
                "was off.")
    lines = "".join(traceback.format_list(stack))
    return f"Traceback of forward call that caused the error:\n{lines}"


ANOMALY.record = _record
ANOMALY.check = _check


def is_anomaly_enabled() -> bool:
    """True while anomaly detection is on."""
    return ANOMALY.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """True while anomaly detection also checks backward results for nan."""
    return ANOMALY.check_nan


class set_detect_anomaly:
    """Turn anomaly detection on or off: call it, or use it as a context manager.

    Args:
        mode: True to record forward tracebacks and check backward results.
        check_nan: raise when a backward function returns nan (default True).
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_detect_anomaly(): mode must be a bool, got {type(mode).__name__}")
        self._prev = (ANOMALY.enabled, ANOMALY.check_nan)
        ANOMALY.enabled = mode
        ANOMALY.check_nan = check_nan

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> bool:
        ANOMALY.enabled, ANOMALY.check_nan = self._prev
        return False


class detect_anomaly:
    """Context manager (or decorator) that turns anomaly detection on for a block of code.

    Inside it, a backward function returning nan raises a RuntimeError that names the
    function and shows the user-code line whose forward op created it.
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self._prev = None

    def __enter__(self) -> "detect_anomaly":
        self._prev = (ANOMALY.enabled, ANOMALY.check_nan)
        ANOMALY.enabled = True
        ANOMALY.check_nan = self.check_nan
        return self

    def __exit__(self, *exc) -> bool:
        ANOMALY.enabled, ANOMALY.check_nan = self._prev
        return False

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapped
