"""Rich display of tensors in Jupyter: as torch prints them, plus a table for a small matrix.
``install()`` gives ``Tensor`` its ``_repr_html_`` (Tensor stays thin; ember.viz calls it on import)."""
from __future__ import annotations

import html

from .._printing import _Formatter
from ..tensor import Tensor

TABLE_LIMIT = 20  # a 2-d tensor gets a table when neither side is longer than this


def tensor_html(t) -> str:
    """``repr(t)`` in a <pre>, and for a small 2-d tensor its elements in a table (one number format)."""
    out = f"<pre>{html.escape(repr(t))}</pre>"
    if t.ndim != 2 or t.numel() == 0 or max(t.shape) > TABLE_LIMIT:
        return out
    data = t.detach().cpu().numpy()
    fmt = _Formatter(data)
    head = "<tr><th></th>" + "".join(f"<th>{j}</th>" for j in range(data.shape[1])) + "</tr>"
    body = "".join(f"<tr><th>{i}</th>" + "".join(f"<td>{html.escape(fmt.format(v).strip())}</td>"
                                                 for v in row.tolist()) + "</tr>"
                   for i, row in enumerate(data))
    return f"{out}<table style=\"font-family:monospace\"><thead>{head}</thead><tbody>{body}</tbody></table>"


def install() -> None:
    """Give ``Tensor`` its notebook display (called when ember.viz is imported)."""
    Tensor._repr_html_ = tensor_html
