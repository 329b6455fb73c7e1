"""Checks of plain Python arguments (sizes, dims) with torch's TypeError for the wrong kind.

``int("3")`` and ``int(2.7)`` both "work", so converting with ``int`` would quietly accept a
string or truncate a float where torch refuses them; these helpers accept only integers
(anything with ``__index__``: Python and NumPy ints, one-element integer tensors).
"""
from __future__ import annotations


def int_arg(value, op: str, name: str, position: int | None = None) -> int:
    """``value`` as an int, or torch's TypeError naming the op and the argument."""
    if isinstance(value, int):
        return int(value)
    if hasattr(value, "__index__") and not isinstance(value, float):
        try:
            return value.__index__()
        except TypeError:
            pass
    where = f" at pos {position}" if position is not None else ""
    raise TypeError(
        f"{op}(): argument '{name}' must be {'tuple of ints' if position is not None else 'int'}, "
        f"but found element of type {type(value).__name__}{where}"
    )


def ints_arg(values, op: str, name: str) -> tuple:
    """A sequence of ints (a size, a shape, a list of dims) checked element by element."""
    return tuple(int_arg(v, op, name, i) for i, v in enumerate(values))
