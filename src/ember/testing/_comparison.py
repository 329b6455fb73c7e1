"""``assert_close``: are two tensors, numbers or nested containers of them equal up to tolerances?

Defaults follow torch: per-dtype ``rtol``/``atol`` (exact for integers and bools), nan unequal
unless ``equal_nan``, dtype/device/shape checked first, and a report of how many elements
mismatch and where the greatest absolute and relative differences are.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Callable

from .. import backend, dtypes
from ..tensor import Tensor

# (rtol, atol) per floating dtype; integers and bools compare exactly
_PRECISIONS = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7)}
_NUMBER = (bool, int, float, complex)


class _Mismatch(Exception):
    """A failed comparison: its exception class and message, before the item path is added."""

    def __init__(self, kind: type, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None, equal_nan: bool = False,
                 check_device: bool = True, check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg: str | Callable[[str], str] | None = None) -> None:
    """Raise AssertionError unless ``actual`` and ``expected`` are close, as torch.testing.assert_close.

    Args:
        actual, expected: tensors, Python numbers, or sequences/mappings of them (compared item by item).
        rtol, atol: relative and absolute tolerance (both or neither; default: by dtype).
        equal_nan: count two nans as equal.
        check_device, check_dtype, check_stride: also require the same device, dtype, strides.
        msg: replaces the report, or a function of the report returning the message.
    """
    if (rtol is None) != (atol is None):
        raise ValueError(
            f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
            f"{'rtol' if rtol is None else 'atol'}."
        )
    options = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=check_device,
                   check_dtype=check_dtype, check_stride=check_stride)
    try:
        _compare(actual, expected, options, path="")
    except _Mismatch as failure:
        if failure.kind is not AssertionError:
            raise failure.kind(failure.message) from None
        if msg is None:
            raise AssertionError(failure.message) from None
        raise AssertionError(msg(failure.message) if callable(msg) else msg) from None


def _compare(actual, expected, options: dict, path: str) -> None:
    """Compare two leaves, or walk two containers in step."""
    if isinstance(actual, Tensor) or isinstance(expected, Tensor) or \
            isinstance(actual, _NUMBER) or isinstance(expected, _NUMBER):
        try:
            _compare_leaves(actual, expected, options)
        except _Mismatch as failure:
            if path and failure.kind is AssertionError:
                failure.message += f"\n\nThe failure occurred for item {path}"
            raise
        return
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            missing = sorted(map(repr, set(expected) - set(actual)))
            extra = sorted(map(repr, set(actual) - set(expected)))
            raise _Mismatch(AssertionError,
                            f"The keys of the mappings do not match:\n"
                            f"Missing keys in the actual mapping: {missing}\n"
                            f"Extra keys in the actual mapping: {extra}")
        for key in expected:
            _compare(actual[key], expected[key], options, f"{path}[{key!r}]")
        return
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise _Mismatch(AssertionError,
                            f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, options, f"{path}[{i}]")
        return
    _no_pair(actual, expected)


def _is_sequence(x) -> bool:
    return isinstance(x, Sequence) and not isinstance(x, str)


def _no_pair(actual, expected) -> None:
    raise _Mismatch(TypeError, f"No comparison pair was able to handle inputs of type "
                               f"{type(actual)} and {type(expected)}.")


def _compare_leaves(actual, expected, options: dict) -> None:
    if isinstance(actual, Tensor) and isinstance(expected, Tensor):
        _compare_tensors(actual, expected, options)
    elif isinstance(actual, _NUMBER) and isinstance(expected, _NUMBER):
        _compare_numbers(actual, expected, options)
    else:
        _no_pair(actual, expected)


def _attribute_mismatch(name: str, a, e) -> None:
    raise _Mismatch(AssertionError, f"The values for attribute '{name}' do not match: {a} != {e}.")


def _tolerances(options: dict, *kinds) -> tuple:
    """The given tolerances, or the loosest defaults of the dtypes involved."""
    if options["rtol"] is not None:
        return options["rtol"], options["atol"]
    pairs = [_PRECISIONS.get(getattr(d, "name", None), (0.0, 0.0)) for d in kinds]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _compare_numbers(actual, expected, options: dict) -> None:
    if options["check_dtype"] and type(actual) is not type(expected):
        _attribute_mismatch("type", type(actual), type(expected))
    kind = dtypes.float64 if isinstance(actual, float) or isinstance(expected, float) else None
    rtol, atol = _tolerances(options, kind)
    if _number_close(actual, expected, rtol, atol, options["equal_nan"]):
        return
    raise _Mismatch(AssertionError, _scalar_message(actual, expected, rtol, atol))


def _number_close(a, e, rtol: float, atol: float, equal_nan: bool) -> bool:
    if a == e:
        return True
    if isinstance(a, complex) or isinstance(e, complex):
        return abs(a - e) <= atol + rtol * abs(e)
    if math.isnan(a) or math.isnan(e):
        return equal_nan and math.isnan(a) and math.isnan(e)
    if math.isinf(a) or math.isinf(e):
        return False
    return abs(a - e) <= atol + rtol * abs(e)


def _compare_tensors(actual: Tensor, expected: Tensor, options: dict) -> None:
    if actual.shape != expected.shape:
        _attribute_mismatch("shape", actual.shape, expected.shape)
    if options["check_device"] and actual.device != expected.device:
        _attribute_mismatch("device", actual.device, expected.device)
    if options["check_dtype"] and actual.dtype != expected.dtype:
        _attribute_mismatch("dtype", actual.dtype, expected.dtype)
    if options["check_stride"] and actual.stride() != expected.stride():
        _attribute_mismatch("stride()", actual.stride(), expected.stride())
    rtol, atol = _tolerances(options, actual.dtype, expected.dtype)
    a = actual.detach().cpu()
    e = expected.detach().cpu().to(a.device)
    if a.dtype != e.dtype:
        common = dtypes.promote(a.dtype, e.dtype)
        a, e = a.to(common), e.to(common)
    xp = a.xp
    ad, ed = a._data, e._data
    if ad.dtype.kind == "b":
        matches = ad == ed
    else:
        matches = xp.isclose(ad, ed, rtol=rtol, atol=atol, equal_nan=options["equal_nan"])
    if bool(matches.all()):
        return
    if ad.ndim == 0:
        message = _scalar_message(a.item(), e.item(), rtol, atol)
    else:
        message = _tensor_message(ad, ed, matches, rtol, atol)
    raise _Mismatch(AssertionError, message)


def _scalar_message(actual, expected, rtol: float, atol: float) -> str:
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _report("Scalars", f"Expected {expected} but got {actual}.",
                   (abs_diff, None, atol), (rel_diff, None, rtol))


def _tensor_message(ad, ed, matches, rtol: float, atol: float) -> str:
    """torch's report: the mismatch count and the greatest differences among the mismatches."""
    numpy = backend.numpy

    total = matches.size
    bad = total - int(matches.sum())
    extra = f"Mismatched elements: {bad} / {total} ({bad / total:.1%})"
    if ad.dtype.kind in "biu":
        ad, ed = ad.astype(numpy.int64), ed.astype(numpy.int64)
    flat_match = matches.reshape(-1)
    abs_diff = abs(ad.reshape(-1) - ed.reshape(-1))
    abs_diff[flat_match] = 0
    with numpy.errstate(divide="ignore", invalid="ignore"):
        rel_diff = abs_diff / abs(ed.reshape(-1))
    rel_diff[flat_match] = 0
    where_abs = _argmax(abs_diff)
    where_rel = _argmax(rel_diff)
    return _report(
        "Tensor-likes", extra,
        (abs_diff[where_abs].item(), _unravel(where_abs, ad.shape), atol),
        (rel_diff[where_rel].item(), _unravel(where_rel, ad.shape), rtol),
    )


def _argmax(values) -> int:
    """torch.max's index: the first nan if any, else the first greatest value."""
    nans = values != values
    if nans.any():
        return int(nans.argmax())
    return int(values.argmax())


def _unravel(flat: int, shape: tuple) -> tuple:
    index = []
    for n in reversed(shape):
        index.append(flat % n)
        flat //= n
    return tuple(index[::-1])


def _report(what: str, extra: str, absolute: tuple, relative: tuple) -> str:
    """The message: header, extra line, then the absolute and relative differences."""
    equality = absolute[2] == 0 and relative[2] == 0
    lines = [f"{what} are not {'equal' if equality else 'close'}!", "", extra]
    for name, (diff, idx, tol) in (("absolute", absolute), ("relative", relative)):
        line = f"{name.title()} difference: {diff}" if idx is None else \
            f"Greatest {name} difference: {diff} at index {idx}"
        lines.append(line if equality else f"{line} (up to {tol} allowed)")
    return "\n".join(lines)
