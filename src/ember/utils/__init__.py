"""Utilities that sit beside the tensor library, as in torch: ``ember.utils.data``."""
from __future__ import annotations

from . import benchmark, data

__all__ = ["benchmark", "data"]
