"""``ember.special``: torch.special's functions (error functions, gamma and Bessel functions,
the normal distribution's, entropy terms), declared in ``ember/ops/special.py`` and the op
families that hold the ones ``ember`` also exports (``exp2``, ``lgamma``, ``softmax``...)."""
from __future__ import annotations

from .ops.registry import derive, exporter, namespace

derive(exporter("ember.special", globals()))
__all__ = sorted(namespace("ember.special"))
del derive, exporter, namespace  # the declaration API is not part of torch.special
