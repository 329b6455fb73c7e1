"""The default process group: MPI's world, its timeout, and the abort-on-exception hook.

``init_process_group`` duplicates ``MPI.COMM_WORLD`` (so Ember's collectives never match
messages of the user's own mpi4py code) and installs a ``sys.excepthook`` that calls
``MPI_Abort``: a rank that dies of an exception then takes the whole job down instead of
leaving the other ranks waiting forever in their next collective.
"""
from __future__ import annotations

import sys
import time
from datetime import timedelta

from ._mpi import mpi

DEFAULT_TIMEOUT = timedelta(minutes=30)  # torch's default for the CPU backends
ABORT_GRACE_SECONDS = 0.5


class ProcessGroup:
    """Everything a collective needs: the communicator, this rank, the size and the timeout."""

    def __init__(self, comm, timeout: float) -> None:
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.timeout = timeout

    def abort(self, message: str) -> None:
        """Print ``message`` and end every rank of the job (MPI_Abort on the world)."""
        sys.stderr.write(f"ember.distributed: rank {self.rank} of {self.size}: {message}\n")
        sys.stdout.flush()
        sys.stderr.flush()
        time.sleep(ABORT_GRACE_SECONDS)  # the launcher stops forwarding output once it sees the abort
        mpi().COMM_WORLD.Abort(1)


class _State:
    """The default group (None before ``init_process_group``) and the hook it replaced."""

    group: ProcessGroup | None = None
    previous_excepthook = None


_STATE = _State()


def to_seconds(timeout: "timedelta | float | None", op: str) -> float:
    """A timeout (``timedelta`` or seconds; None for the default) in seconds, checked positive."""
    if timeout is None:
        return DEFAULT_TIMEOUT.total_seconds()
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    if seconds <= 0:
        raise ValueError(f"{op}: timeout must be positive, got {timeout!r}")
    return seconds


def init_process_group(backend: str = "mpi", init_method: str | None = None,
                       timeout: "timedelta | float | None" = None, world_size: int = -1,
                       rank: int = -1, **kwargs) -> None:
    """Join the job started by ``mpiexec`` (rank and size come from MPI, as torch's MPI backend).

    Args:
        backend: only ``"mpi"``.
        init_method: unused (MPI's launcher already connected the ranks); kept for torch code.
        timeout: how long a collective may wait for the other ranks (a ``timedelta`` or
            seconds; 30 minutes by default) before it raises, which aborts the job.
        world_size, rank: optional; if given they must agree with what ``mpiexec`` started.
    """
    if _STATE.group is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    if backend is None or str(backend).lower() != "mpi":
        raise ValueError(
            f"init_process_group: Ember only has the 'mpi' backend, got backend={backend!r}"
        )
    seconds = to_seconds(timeout, "init_process_group")
    MPI = mpi()
    group = ProcessGroup(MPI.COMM_WORLD.Dup(), seconds)
    _check_agrees("world_size", world_size, group.size)
    _check_agrees("rank", rank, group.rank)
    _STATE.group = group
    _STATE.previous_excepthook = sys.excepthook
    sys.excepthook = _abort_on_exception


def _check_agrees(name: str, given: int, actual: int) -> None:
    if given not in (-1, None) and given != actual:
        raise ValueError(
            f"init_process_group: {name}={given} was given, but mpiexec started this process "
            f"with {name}={actual}"
        )


def _abort_on_exception(exc_type, exc, tb) -> None:
    """Print the traceback as usual, then abort all ranks so that none waits forever."""
    _STATE.previous_excepthook(exc_type, exc, tb)
    group = _STATE.group
    if group is not None:
        group.abort(f"uncaught {exc_type.__name__}; aborting all ranks (MPI_Abort)")


def destroy_process_group(group: object = None) -> None:
    """Leave the default group and restore ``sys.excepthook`` (MPI itself stays initialised)."""
    _check_group(group)
    current = _require("destroy_process_group")
    _STATE.group = None
    if sys.excepthook is _abort_on_exception:
        sys.excepthook = _STATE.previous_excepthook
    current.comm.Free()


def is_initialized() -> bool:
    """True between ``init_process_group`` and ``destroy_process_group``."""
    return _STATE.group is not None


def _check_group(group: object) -> None:
    if group is not None:
        raise ValueError("ember.distributed has only the default group; pass group=None")


def _require(op: str) -> ProcessGroup:
    """The default group, or torch's error when it was not initialised."""
    if _STATE.group is None:
        raise ValueError(
            f"{op}: Default process group has not been initialized, please make sure to call "
            "init_process_group."
        )
    return _STATE.group


def default_group(op: str, group: object = None) -> ProcessGroup:
    """The group a collective runs on (only the default group exists)."""
    _check_group(group)
    return _require(op)


def get_rank(group: object = None) -> int:
    """This process's rank (0 .. world size - 1)."""
    return default_group("get_rank", group).rank


def get_world_size(group: object = None) -> int:
    """How many processes take part."""
    return default_group("get_world_size", group).size


def get_backend(group: object = None) -> str:
    """The backend's name: always ``"mpi"``."""
    default_group("get_backend", group)
    return "mpi"
