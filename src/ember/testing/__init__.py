"""``ember.testing``: compare tensors with torch's tolerances and reports; make test tensors."""
from __future__ import annotations

from ._comparison import assert_close
from ._creation import make_tensor

__all__ = ["assert_close", "make_tensor"]
