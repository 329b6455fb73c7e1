"""Gradient averaging for DistributedDataParallel: buckets, readiness hooks, overlapped all-reduce.

Parameters are grouped, in reverse registration order (roughly the order backward produces their
gradients), into buckets of about ``bucket_cap_mb`` of gradients each. A post-accumulate-grad hook
on every parameter copies its gradient into its bucket's flat buffer; once all of a bucket's
gradients are there, the bucket's non-blocking all-reduce starts, while backward goes on with
the layers below. Buckets start strictly in index order, so every rank issues the same
collectives in the same order. A callback queued on the autograd engine waits for all of them
before ``backward()`` returns and writes the averaged gradients back into ``param.grad``.
"""
from __future__ import annotations

from ... import distributed as dist
from ...autograd.engine import queue_callback
from ...autograd.grad_mode import no_grad
from ...creation import zeros
from ...tensor import Tensor


class Bucket:
    """Some parameters whose gradients are reduced together, by one collective on one flat buffer.

    The buffer and a view of it shaped like each parameter are made once; each step a ready
    gradient is copied into its view, and after the all-reduce the average is copied back.
    """

    def __init__(self, named: list) -> None:
        self.names = [name for name, _ in named]
        self.params = [p for _, p in named]
        first = self.params[0]
        with no_grad():
            self.flat = zeros(sum(p.numel() for p in self.params), dtype=first.dtype, device=first.device)
            self.views = []
            offset = 0
            for p in self.params:
                self.views.append(self.flat[offset:offset + p.numel()].view(p.shape))
                offset += p.numel()
        self.ready = [False] * len(self.params)
        self.pending = len(self.params)
        self.work = None

    def reset(self) -> None:
        """Forget the last backward pass: no gradient ready, no collective in flight."""
        self.ready = [False] * len(self.params)
        self.pending = len(self.params)
        self.work = None

    def mark_ready(self, i: int) -> None:
        """Copy parameter ``i``'s gradient into the buffer."""
        with no_grad():
            self.views[i].copy_(self.params[i].grad)
        self.ready[i] = True
        self.pending -= 1

    def launch(self) -> None:
        """Start the all-reduce (a parameter that got no gradient counts as zeros)."""
        with no_grad():
            for view, ready in zip(self.views, self.ready):
                if not ready:
                    view.zero_()
        self.work = dist.all_reduce(self.flat, op=dist.ReduceOp.AVG, async_op=True)

    def write_back(self) -> None:
        """Wait for the all-reduce and copy the averaged gradients into each ``param.grad``."""
        self.work.wait()
        with no_grad():
            for p, avg in zip(self.params, self.views):
                if p.grad is None:
                    p.grad = avg.clone()
                else:
                    p.grad.copy_(avg)


def assign_buckets(named_params: list, cap_bytes: int) -> list[Bucket]:
    """Group parameters, last registered first, into buckets of one dtype and device up to ``cap_bytes``."""
    buckets: list[list] = []
    open_bucket: dict[tuple, tuple[list, int]] = {}
    for name, p in reversed(named_params):
        key = (p.dtype, p.device)
        members, size = open_bucket.get(key, (None, 0))
        if members is None:
            members = []
            buckets.append(members)
        members.append((name, p))
        size += p.numel() * p.element_size()
        if size >= cap_bytes:
            open_bucket.pop(key, None)
        else:
            open_bucket[key] = (members, size)
    return [Bucket(members) for members in buckets]


class Reducer:
    """Averages the gradients of ``named_params`` across ranks during each armed backward pass."""

    def __init__(self, named_params: list, bucket_cap_mb: float, find_unused_parameters: bool) -> None:
        self.buckets = assign_buckets(named_params, int(bucket_cap_mb * 1024 * 1024))
        self.find_unused_parameters = find_unused_parameters
        self.armed = False
        self.finalizing = False
        self.next_bucket = 0
        self._slot = {}
        for bucket in self.buckets:
            for i, p in enumerate(bucket.params):
                self._slot[id(p)] = (bucket, i)
                p.register_post_accumulate_grad_hook(self._on_grad_ready)

    def prepare_for_backward(self, sync: bool) -> None:
        """Arm (or, under ``no_sync``, disarm) the hooks for the next backward pass."""
        for bucket in self.buckets:
            bucket.reset()
        self.next_bucket = 0
        self.finalizing = False
        self.armed = sync

    def _on_grad_ready(self, param: Tensor) -> None:
        if not self.armed:
            return
        if not self.finalizing:
            queue_callback(self._finalize)
            self.finalizing = True
        bucket, i = self._slot[id(param)]
        if bucket.ready[i]:
            raise RuntimeError(
                f"DistributedDataParallel: parameter '{bucket.names[i]}' was marked ready twice in "
                "one backward pass (backward run twice through the same forward?). Call forward "
                "again, through the DDP module, before each backward."
            )
        bucket.mark_ready(i)
        self._launch_ready()
        self._drive_progress()

    def _launch_ready(self) -> None:
        """Start every bucket whose gradients are all ready, in index order only."""
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].pending == 0:
            self.buckets[self.next_bucket].launch()
            self.next_bucket += 1

    def _drive_progress(self) -> None:
        """Let MPI move the data of in-flight buckets (it progresses only inside MPI calls)."""
        for bucket in self.buckets[:self.next_bucket]:
            bucket.work.is_completed()

    def _finalize(self) -> None:
        """End of backward: reduce what is left, wait for every bucket, write the averages back."""
        self.armed = False
        unready = [name for b in self.buckets for name, r in zip(b.names, b.ready) if not r]
        unready.reverse()  # buckets hold the parameters last first; name them in model order
        if unready and not self.find_unused_parameters:
            raise RuntimeError(
                "DistributedDataParallel: these parameters received no gradient in this backward "
                f"pass: {unready}. If your model has parameters that are not used in producing "
                "the loss, pass find_unused_parameters=True to DistributedDataParallel (their "
                "gradients then count as zeros on this rank)."
            )
        for bucket in self.buckets[self.next_bucket:]:
            bucket.pending = 0
        self._launch_ready()
        for bucket in self.buckets:
            bucket.write_back()
