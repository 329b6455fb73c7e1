"""Tensors printed as torch prints them: ``tensor([1., 2.], requires_grad=True)``.

The layout follows torch's printing rules exactly (one width for every element, fixed,
integer-looking or scientific notation chosen from the whole tensor, `` ...`` for summarised
dimensions, torch's line breaking), so ``repr`` strings match torch's character for character.
"""
from __future__ import annotations

import math

from . import backend, dtypes

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80}
_PROFILES = {
    "default": _DEFAULTS,
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}
_OPTIONS = dict(_DEFAULTS, sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Change how tensors print (torch.set_printoptions)."""
    if profile is not None:
        _OPTIONS.update(_PROFILES[profile])
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth)):
        if v is not None:
            _OPTIONS[k] = v
    _OPTIONS["sci_mode"] = sci_mode


class _Formatter:
    """One number format for a whole tensor, chosen as torch chooses it."""

    def __init__(self, arr) -> None:
        np = backend.numpy
        self.floating = arr.dtype.kind in dtypes.FLOAT_KINDS
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        flat = arr.reshape(-1)
        if not self.floating:
            for v in flat.tolist():
                self.width = max(self.width, len(str(v)))
            return
        vals = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if vals.size:
            self._measure(vals)
        if _OPTIONS["sci_mode"] is not None:
            self.sci_mode = _OPTIONS["sci_mode"]

    def _measure(self, vals) -> None:
        np = backend.numpy
        prec = _OPTIONS["precision"]
        mags = np.abs(vals)
        lo, hi = float(mags.min()), float(mags.max())
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        if self.int_mode:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8
            pattern, extra = ("{:.%de}" % prec, 0) if self.sci_mode else ("{:.0f}", 1)
        else:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
            pattern, extra = ("{:.%de}" if self.sci_mode else "{:.%df}") % prec, 0
        for v in vals.tolist():
            self.width = max(self.width, len(pattern.format(v)) + extra)

    def format(self, value) -> str:
        prec = _OPTIONS["precision"]
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.width}.{prec}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = f"{value:.{prec}f}"
        return " " * (self.width - len(text)) + text


def _summarized(arr):
    """The edge elements torch looks at to choose the format of a summarised tensor."""
    np = backend.numpy
    edge = _OPTIONS["edgeitems"]
    if arr.ndim == 0:
        return arr
    if arr.ndim == 1:
        return np.concatenate([arr[:edge], arr[-edge:]]) if arr.shape[0] > 2 * edge else arr
    rows = list(range(arr.shape[0]))
    if arr.shape[0] > 2 * edge:
        rows = rows[:edge] + rows[-edge:]
    return np.stack([_summarized(arr[i]) for i in rows])


def _vector(arr, indent: int, summarize: bool, fmt: _Formatter) -> str:
    edge = _OPTIONS["edgeitems"]
    per_line = max(1, int(math.floor((_OPTIONS["linewidth"] - indent) / (fmt.width + 2))))
    if summarize and arr.shape[0] > 2 * edge:
        items = [fmt.format(v) for v in arr[:edge].tolist()] + [" ..."]
        items += [fmt.format(v) for v in arr[-edge:].tolist()]
    else:
        items = [fmt.format(v) for v in arr.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(arr, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if arr.ndim == 0:
        return fmt.format(arr.item())
    if arr.ndim == 1:
        return _vector(arr, indent, summarize, fmt)
    edge = _OPTIONS["edgeitems"]
    n = arr.shape[0]
    if summarize and n > 2 * edge:
        parts = [_nested(arr[i], indent + 1, summarize, fmt) for i in range(edge)] + ["..."]
        parts += [_nested(arr[i], indent + 1, summarize, fmt) for i in range(n - edge, n)]
    else:
        parts = [_nested(arr[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def format_array(arr, prefix: str) -> str:
    """The bracketed body of a tensor's repr, laid out to follow ``prefix`` on its first line."""
    if arr.dtype.kind in dtypes.FLOAT_KINDS and arr.dtype.itemsize < 4:
        arr = arr.astype(backend.numpy.float32)
    summarize = arr.size > _OPTIONS["threshold"]
    fmt = _Formatter(_summarized(arr) if summarize else arr)
    return _nested(arr, len(prefix), summarize, fmt)


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    """Append ``, key=value`` parts, breaking the line where torch does."""
    parts = [text]
    last = len(text) - text.rfind("\n") + 1
    width = _OPTIONS["linewidth"]
    for s in suffixes:
        if last + len(s) + 2 > width:
            parts.append(",\n" + " " * indent + s)
            last = indent + len(s)
        else:
            parts.append(", " + s)
            last += len(s) + 2
    return "".join(parts) + ")"


def tensor_repr(t) -> str:
    """``repr`` of a tensor in torch's style, with dtype, device and grad suffixes as needed."""
    arr = backend.transfer(t._data, backend.CPU)
    prefix = "tensor("
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    if arr.size == 0:
        body = "[]"
        if arr.shape != (0,):
            suffixes.append(f"size={tuple(arr.shape)}")
    else:
        body = format_array(arr, prefix)
    d = t.dtype
    if d not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_):
        suffixes.append(f"dtype={d}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, len(prefix))
