"""Ember's ops, one module per family; importing this package loads every op declaration and
installs the Tensor methods they ask for."""
from . import (activation, conv, einsum, elementwise, gamma, index, interpolate,  # noqa: F401
               linalg, pad, pool, random, reduce, shape, sort, special, trig)
from . import (builders, decompositions, distance, integrate, legacy_linalg,  # noqa: F401
               matrix_functions, products, stacking, statistics)
from .methods import _install

_install()
