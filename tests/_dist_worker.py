"""Programs that tests/test_distributed.py runs on several ranks with ``mpiexec -n 2``.

``python tests/_dist_worker.py MODE [OUT_DIR]``. Each mode checks its own results with assert
(a failed assert raises, which aborts the whole job with a non-zero exit status).
"""
from __future__ import annotations

import contextlib
import sys
import time

import numpy as np

import ember
import ember.distributed as dist

STEPS = 4
LOCAL_BATCH = 8
BUCKET_CAP_MB = 0.0002  # ~210 bytes: the test model's 848 bytes of gradients make two buckets


def make_model(seed: int):
    """The test MLP, initialised from ``seed``."""
    from ember import nn

    ember.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))


def global_batch(step: int, world: int):
    """The same global batch on every rank (and in the single-process reference)."""
    rng = np.random.default_rng(100 + step)
    x = rng.standard_normal((LOCAL_BATCH * world, 8)).astype(np.float32)
    y = rng.integers(0, 4, LOCAL_BATCH * world)
    return ember.from_numpy(x), ember.from_numpy(y)


def train(model, step_fn, world: int, rank: int | None) -> None:
    """STEPS optimiser steps; the last one accumulates two micro-batches (the first under no_sync)."""
    from ember import nn, optim

    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for step in range(STEPS + 1):
        x, y = global_batch(step, world)
        if rank is not None:
            x = x[rank * LOCAL_BATCH:(rank + 1) * LOCAL_BATCH]
            y = y[rank * LOCAL_BATCH:(rank + 1) * LOCAL_BATCH]
        if step == STEPS - 1:
            with step_fn():
                loss_fn(model(x), y).backward()
            continue
        loss_fn(model(x), y).backward()
        opt.step()
        opt.zero_grad()


def ddp(out_dir: str) -> None:
    """Train DDP-wrapped replicas that start from different seeds; save each rank's parameters."""
    from ember.nn.parallel import DistributedDataParallel as DDP

    rank, world = dist.get_rank(), dist.get_world_size()
    model = DDP(make_model(seed=rank), bucket_cap_mb=BUCKET_CAP_MB)
    assert len(model.reducer.buckets) == 2, len(model.reducer.buckets)
    assert list(model.state_dict())[0].startswith("module."), list(model.state_dict())
    train(model, model.no_sync, world, rank)
    params = {n: p.detach().numpy().copy() for n, p in model.module.named_parameters()}
    np.savez(f"{out_dir}/rank{rank}.npz", **params)
    x, y = global_batch(STEPS + 1, world)
    for synced in (False, True):
        model.zero_grad()
        with model.no_sync() if not synced else contextlib.nullcontext():
            out = model(x[rank * LOCAL_BATCH:(rank + 1) * LOCAL_BATCH])
        ember.nn.functional.cross_entropy(out, y[rank * LOCAL_BATCH:(rank + 1) * LOCAL_BATCH]).backward()
        grad = model.module[0].weight.grad
        grads = [ember.zeros_like(grad) for _ in range(world)]
        dist.all_gather(grads, grad)
        assert np.array_equal(grads[0].numpy(), grads[1].numpy()) == synced, synced


def collectives(out_dir: str) -> None:
    """Each collective's result against what it must be, on every rank."""
    rank, world = dist.get_rank(), dist.get_world_size()
    x = ember.arange(6, dtype=ember.float32).reshape(2, 3) + rank
    dist.all_reduce(x)
    expected = 2 * np.arange(6, dtype=np.float32).reshape(2, 3) + 1
    assert np.array_equal(x.numpy(), expected), x
    y = (ember.arange(6, dtype=ember.float64).reshape(2, 3) + rank).t()  # not contiguous
    dist.all_reduce(y, op=dist.ReduceOp.AVG)
    assert np.array_equal(y.numpy(), (np.arange(6.0).reshape(2, 3) + 0.5).T), y
    for op, value in ((dist.ReduceOp.MAX, world - 1), (dist.ReduceOp.MIN, 0)):
        z = ember.tensor([rank, rank])
        dist.all_reduce(z, op=op)
        assert z.tolist() == [value, value], (op, z)
    b = ember.full((3,), float(rank))
    dist.broadcast(b, src=1)
    assert b.tolist() == [1.0, 1.0, 1.0], b
    parts = [ember.zeros(2) for _ in range(world)]
    dist.all_gather(parts, ember.full((2,), float(rank)))
    assert [p.tolist() for p in parts] == [[float(r)] * 2 for r in range(world)], parts
    objects = [None] * world
    dist.all_gather_object(objects, {"rank": rank, "pad": "x" * rank})
    assert objects == [{"rank": r, "pad": "x" * r} for r in range(world)], objects
    work = dist.all_reduce(ember.ones(3), async_op=True)
    assert work.wait()
    dist.barrier()


def raises(out_dir: str) -> None:
    """Rank 1 dies of an exception while rank 0 waits in a collective."""
    if dist.get_rank() == 1:
        raise ValueError("rank 1 failed on purpose")
    dist.all_reduce(ember.ones(3))
    time.sleep(60)  # never reached: the abort ends this rank


def stalls(out_dir: str) -> None:
    """Rank 1 never reaches the collective; rank 0's all_reduce must time out, not hang."""
    if dist.get_rank() == 1:
        time.sleep(60)
    dist.all_reduce(ember.ones(3))


def mismatch(out_dir: str) -> None:
    """Rank 1 wraps a model whose last layer has another shape."""
    from ember import nn
    from ember.nn.parallel import DistributedDataParallel as DDP

    width = 4 if dist.get_rank() == 0 else 5
    DDP(nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, width)))


if __name__ == "__main__":
    mode = sys.argv[1]
    timeout = 3 if mode == "stalls" else 60
    dist.init_process_group("mpi", timeout=timeout)
    globals()[mode](sys.argv[2] if len(sys.argv) > 2 else ".")
    dist.destroy_process_group()
