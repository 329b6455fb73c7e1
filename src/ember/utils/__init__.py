"""Utilities that sit beside the tensor library, as in torch: ``ember.utils.data``."""
from __future__ import annotations

from . import data

__all__ = ["data"]
