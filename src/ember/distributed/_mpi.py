"""The one place that imports mpi4py, lazily, so ``import ember`` never needs MPI."""
from __future__ import annotations

INSTALL_HINT = "pip install 'ember[distributed]' (installs mpi4py and MPICH)"


def mpi_available() -> bool:
    """True when mpi4py is installed (checked without importing it, which would start MPI)."""
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None


def mpi():
    """The ``mpi4py.MPI`` module (initialising MPI on first use), or a clear error naming the extra."""
    try:
        from mpi4py import MPI
    except (ImportError, OSError, RuntimeError) as e:  # no mpi4py, or no MPI library for it
        raise RuntimeError(
            f"ember.distributed needs mpi4py and an MPI library, which are not installed ({e}). "
            f"Install them with: {INSTALL_HINT}"
        ) from e
    return MPI
