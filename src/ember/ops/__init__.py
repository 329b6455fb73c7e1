"""Ember's ops, one module per family; importing this package installs the Tensor methods."""
from . import (activation, elementwise, index, linalg, reduce, shape, sort, special,  # noqa: F401
               trig)
from .methods import _install

_install()
