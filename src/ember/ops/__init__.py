"""Ember's ops, one module per family; importing this package installs the Tensor methods."""
from . import (activation, einsum, elementwise, index, linalg, reduce, shape, sort,  # noqa: F401
               special, trig)
from .methods import _install

_install()
