"""Ember's ops, one module per family; importing this package loads every op declaration and
installs the Tensor methods they ask for."""
from . import (activation, conv, einsum, elementwise, index, interpolate, linalg,  # noqa: F401
               pad, pool, reduce, shape, sort, special, trig)
from . import scatter, sets  # noqa: F401  (indexed writes; sets, counts and search)
from .methods import _install

_install()
