"""DistributedDataParallel: one model replica per rank, gradients averaged across ranks by MPI."""
from __future__ import annotations

import contextlib
from typing import Iterator

from ... import distributed as dist
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ..module import Module
from .reducer import Reducer


class DistributedDataParallel(Module):
    """Wrap ``module`` so that ``backward()`` leaves every rank with the ranks' average gradient.

    At wrap time the parameters and buffers are copied from rank 0 to all ranks (after checking
    that every rank has the same parameter names and shapes), so all replicas start equal and,
    fed the same averaged gradients, stay bit-identical. The wrapped model is ``self.module``;
    like torch, ``state_dict()`` keys carry a ``module.`` prefix (save ``ddp.module.state_dict()``
    to load the weights into an unwrapped model).

    Args:
        module: the model to replicate.
        device_ids, output_device, dim: accepted for torch code; unused (the module stays on
            its device, and inputs are not scattered: each rank feeds its own batch).
        broadcast_buffers: copy rank 0's buffers (e.g. BatchNorm statistics) to all ranks
            before each forward.
        process_group: only None (the default group).
        bucket_cap_mb: size of the gradient buckets, one all-reduce each.
        find_unused_parameters: allow parameters that get no gradient in a backward pass
            (they count as zero on that rank) instead of raising.
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group: object = None,
                 bucket_cap_mb: float = 25, find_unused_parameters: bool = False) -> None:
        super().__init__()
        if not dist.is_initialized():
            raise ValueError(
                "DistributedDataParallel: Default process group has not been initialized, please "
                "make sure to call init_process_group."
            )
        if process_group is not None:
            raise ValueError("DistributedDataParallel: only the default process group is supported")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self._sync_buffers = broadcast_buffers and any(True for _ in module.buffers())
        self.require_backward_grad_sync = True
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError(
                "DistributedDataParallel is not needed when a module doesn't have any parameter "
                "that requires a gradient."
            )
        _check_same_parameters(module)
        _broadcast_from_rank0(module.parameters())
        _broadcast_from_rank0(module.buffers())
        self.reducer = Reducer(named, bucket_cap_mb, find_unused_parameters)

    def forward(self, *inputs, **kwargs):
        """Run the module; arm gradient averaging for the next backward unless in ``no_sync``."""
        if self._sync_buffers:
            _broadcast_from_rank0(self.module.buffers())
        if is_grad_enabled():
            self.reducer.prepare_for_backward(self.require_backward_grad_sync)
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Accumulate gradients locally (no communication) for backward passes of forwards run inside."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous


def _broadcast_from_rank0(tensors) -> None:
    """Overwrite each tensor with rank 0's values, all broadcasts in flight at once."""
    with no_grad():
        works = [dist.broadcast(t, src=0, async_op=True) for t in tensors]
    for work in works:
        work.wait()


def _check_same_parameters(module: Module) -> None:
    """Raise on every rank, naming the parameter and ranks, unless all ranks' parameters agree."""
    mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in module.named_parameters()]
    everyone = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, mine)
    reference = everyone[0]
    for rank, theirs in enumerate(everyone[1:], start=1):
        if len(theirs) != len(reference):
            raise RuntimeError(
                f"DistributedDataParallel: rank 0 has {len(reference)} parameters but rank {rank} "
                f"has {len(theirs)}; every rank must wrap the same model"
            )
        for (name0, shape0, dtype0), (name, shape, dtype) in zip(reference, theirs):
            if (name0, shape0, dtype0) != (name, shape, dtype):
                raise RuntimeError(
                    f"DistributedDataParallel: parameter '{name0}' is {dtype0} {list(shape0)} on "
                    f"rank 0 but rank {rank} has '{name}' {dtype} {list(shape)}; every rank must "
                    "wrap the same model"
                )
