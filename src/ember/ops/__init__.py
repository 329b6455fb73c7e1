"""Ember's ops, one module per family; importing this package loads every op declaration and
installs the Tensor methods they ask for."""
from . import (activation, conv, einsum, elementwise, gamma, grid_sample, index,  # noqa: F401
               interpolate, linalg, pad, pool, random, reduce, shape, sort, special, trig, unpool)
from . import arith  # noqa: F401  (hypot, fmod, copysign, gcd, shifts...)
from . import (builders, covariance, decompositions, distance, integrate,  # noqa: F401
               legacy_linalg, matrix_functions, products, stacking)
from . import cumulative, scatter, sets, statistics  # noqa: F401  (writes, sets, order stats)
from . import lapack_factors, renorm  # noqa: F401  (LDL^T, geqrf, ormqr; renorm)
from .methods import _install

_install()
