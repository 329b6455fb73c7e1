"""Tensors printed as torch prints them: ``tensor([1., 2.], requires_grad=True)``."""
from __future__ import annotations

from . import backend, dtypes

_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Change how tensors print (torch.set_printoptions)."""
    if profile == "default":
        _OPTIONS.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == "short":
        _OPTIONS.update(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == "full":
        _OPTIONS.update(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80)
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth)):
        if v is not None:
            _OPTIONS[k] = v
    _OPTIONS["sci_mode"] = sci_mode


def _float_formatter(values):
    """Pick torch's format for a float array: integer-looking, fixed, or scientific."""
    np = backend.numpy
    finite = values[np.isfinite(values)]
    prec = _OPTIONS["precision"]
    if finite.size == 0:
        return lambda v: _special(v) or f"{v:.{prec}f}"
    absv = np.abs(finite).astype(np.float64)
    nonzero = absv[absv != 0]
    int_mode = bool(np.all(finite == np.ceil(finite)))
    big, small = (float(nonzero.max()), float(nonzero.min())) if nonzero.size else (0.0, 0.0)
    sci = _OPTIONS["sci_mode"]
    if sci is None:
        if int_mode:
            sci = big > 1e8
        else:
            sci = big / small > 1000.0 or big > 1e8 or small < 1e-4 if nonzero.size else False
    if sci:
        return lambda v: _special(v) or f"{v:.{prec}e}"
    if int_mode:
        return lambda v: _special(v) or f"{v:.0f}."
    return lambda v: _special(v) or f"{v:.{prec}f}"


def _special(v) -> str:
    if v != v:
        return "nan"
    if v == float("inf"):
        return "inf"
    if v == float("-inf"):
        return "-inf"
    return ""


def _padded(fmt, sample):
    """Right-align every element to the widest one in ``sample``, as torch lines up columns."""
    width = max((len(fmt(v)) for v in sample.reshape(-1)), default=0)
    return lambda v: fmt(v).rjust(width)


def format_array(arr, prefix: str) -> str:
    """The bracketed body of a tensor's repr, aligned after ``prefix``."""
    np = backend.numpy
    summarize = arr.size > _OPTIONS["threshold"]
    sample = arr if not summarize else np.concatenate(
        [arr.reshape(-1)[: _OPTIONS["edgeitems"]], arr.reshape(-1)[-_OPTIONS["edgeitems"]:]])
    if arr.dtype.kind == "f":
        formatter = {"float_kind": _padded(_float_formatter(sample), sample)}
    elif arr.dtype.kind == "b":
        formatter = {"bool": _padded(lambda v: "True" if v else "False", sample)}
    else:
        formatter = {"int_kind": _padded(lambda v: f"{v}", sample)}
    body = np.array2string(
        arr, separator=", ", prefix=prefix, formatter=formatter,
        threshold=_OPTIONS["threshold"] if summarize else arr.size + 1,
        edgeitems=_OPTIONS["edgeitems"], max_line_width=_OPTIONS["linewidth"],
    )
    return body


def tensor_repr(t) -> str:
    """``repr`` of a tensor in torch's style, with dtype, device and grad suffixes as needed."""
    arr = backend.transfer(t._data, backend.CPU)
    prefix = "tensor("
    suffix = []
    if arr.size == 0:
        body = "[]"
        if arr.shape != (0,):
            suffix.append(f"size={tuple(arr.shape)}")
    else:
        body = format_array(arr, prefix)
    d = t.dtype
    if d not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_):
        suffix.append(f"dtype={d}")
    if t.device.type != "cpu":
        suffix.insert(0, f"device='{t.device}'")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    tail = "".join(", " + s for s in suffix)
    return f"{prefix}{body}{tail})"
