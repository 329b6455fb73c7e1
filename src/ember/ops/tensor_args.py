"""torch's TypeError for a non-tensor where an op wants a tensor (``ember.sum([1, 2])``).

An op's body reads its tensor arguments (``x.ndim``, ``x.dtype``) before any check, so a list or
a string there fails deep inside with Python's AttributeError ("'list' object has no attribute
'ndim'"). Rather than a check in every op, each exported op is wrapped once: only when its body
fails is the call's binding inspected, and an argument its signature types as a tensor that is
not one is named in torch's words. Calls that succeed pay one wrapper frame and nothing more.
"""
from __future__ import annotations

import functools
import inspect
import re
from typing import Callable

from ..tensor import Tensor


class NotATensorError(TypeError, AttributeError):
    """A non-tensor where a tensor belongs. A TypeError, as torch's C++ ops raise, and an
    AttributeError, as its Python-level functions (``F.mse_loss([1], t)``) do: code written to
    catch either catches it."""


# Parameters torch's schemas give these names hold tensors, annotated or not.
_TENSOR_NAMES = {"input", "other", "self"}
_TENSORS_NAMES = {"tensors", "operands"}
# torch's names for what Ember's bodies call ``x``, ``y``: its schemas' first and second tensors.
_TORCH_NAMES = {1: "input", 2: "other"}


def checked(exported: Callable, body: Callable, name: str) -> Callable:
    """``exported`` raising torch's TypeError when an argument ``body`` types as a tensor (or
    a sequence of tensors) is something else and the call failed on it."""
    signature = None

    @functools.wraps(exported)
    def fn(*args, **kwargs):
        try:
            return exported(*args, **kwargs)
        except (AttributeError, TypeError) as e:
            nonlocal signature
            signature = signature or _signature(body)
            _raise_if_not_tensor(name, signature, args, kwargs, e)
            raise

    return fn


def _signature(body: Callable) -> inspect.Signature | None:
    try:
        return inspect.signature(body)
    except (TypeError, ValueError):  # a builtin or a callable without one: nothing to name
        return None


def _raise_if_not_tensor(name: str, signature, args: tuple, kwargs: dict, cause) -> None:
    if signature is None:
        return
    kwargs = {k: v for k, v in kwargs.items() if k != "out"}
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return
    for position, (param, value) in enumerate(bound.arguments.items(), start=1):
        kind = _tensor_kind(signature.parameters[param])
        if kind == "tensor" and not _is_tensor_like(value, signature.parameters[param]):
            shown = _TORCH_NAMES.get(position, param) if len(param) == 1 else param
            raise NotATensorError(f"{name}(): argument '{shown}' (position {position}) must be "
                                  f"Tensor, not {type(value).__name__}") from cause
        if kind == "tensors":
            items = value if isinstance(value, (list, tuple)) else (value,)
            if len(items) == 1 and isinstance(items[0], (list, tuple)):
                items = items[0]  # cat((a, b)) given as one sequence argument
            for i, item in enumerate(items):
                if not isinstance(item, Tensor):
                    raise NotATensorError(f"{name}(): expected Tensor as element {i} in "
                                          f"argument {position - 1}, but got "
                                          f"{type(item).__name__}") from cause


def _tensor_kind(param: inspect.Parameter) -> str:
    """"tensor" for a parameter typed as one tensor, "tensors" for a sequence (or ``*tensors``)
    of them, "" otherwise."""
    note = param.annotation if isinstance(param.annotation, str) else getattr(
        param.annotation, "__name__", "")
    if param.annotation is inspect.Parameter.empty:
        return ("tensors" if param.name in _TENSORS_NAMES else
                "tensor" if param.name in _TENSOR_NAMES else "")
    if "Tensor" not in note:
        return ""
    if param.kind is inspect.Parameter.VAR_POSITIONAL or re.search(
            r"(Sequence|list|tuple|Iterable)\[\s*Tensor", note):
        return "tensors"
    return "tensor" if re.fullmatch(r"Tensor(\s*\|\s*None)?|Optional\[Tensor\]", note) else ""


def _is_tensor_like(value, param: inspect.Parameter) -> bool:
    """A tensor, or what a tensor-typed parameter also takes: None where it is optional, a
    Python number (torch's Scalar overloads)."""
    if isinstance(value, Tensor) or isinstance(value, (bool, int, float)):
        return True
    return value is None and (param.default is None or "None" in str(param.annotation))
