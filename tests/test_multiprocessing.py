"""``ember.multiprocessing``: tensors shared between processes as torch shares CPU tensors; ``spawn``."""
from __future__ import annotations

import pytest

import ember
import ember.multiprocessing as mp


def _child(queue, done) -> None:
    t = queue.get()
    t.add_(10)  # in place: the parent must see it
    p = queue.get()
    view = queue.get()
    done.put((t.tolist(), type(p).__name__, p.requires_grad, t.is_shared(), view.tolist()))


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_tensors_on_a_queue_share_memory(method):
    ctx = mp.get_context(method)
    queue, done = ctx.Queue(), ctx.Queue()
    t = ember.arange(6.0)
    p = ember.nn.Parameter(ember.ones(2))
    proc = ctx.Process(target=_child, args=(queue, done))
    proc.start()
    queue.put(t)
    queue.put(p)
    queue.put(ember.arange(10.0)[2:8:2])
    seen, kind, requires_grad, shared, view = done.get(timeout=60)
    proc.join(timeout=60)
    assert proc.exitcode == 0
    assert seen == t.tolist() == [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]
    assert kind == "Parameter" and requires_grad and shared and t.is_shared()
    assert view == [2.0, 4.0, 6.0]


def _add_rank(rank: int, t) -> None:
    t[rank] += rank + 1


def _fail_on_one(rank: int) -> None:
    if rank == 1:
        raise ValueError("boom in rank 1")


def _exit_code(rank: int) -> None:
    raise SystemExit(3)


def test_spawn_runs_ranks_on_shared_tensors_and_reports_failures():
    t = ember.zeros(4).share_memory_()
    assert mp.spawn(_add_rank, args=(t,), nprocs=3) is None
    assert t.tolist() == [1.0, 2.0, 3.0, 0.0]
    with pytest.raises(mp.ProcessRaisedException) as info:
        mp.spawn(_fail_on_one, nprocs=2, start_method="fork")
    lines = str(info.value).splitlines()
    assert lines[2] == "-- Process 1 terminated with the following error:"
    assert lines[-1] == "ValueError: boom in rank 1" and info.value.error_index == 1
    with pytest.raises(mp.ProcessExitedException, match="process 0 terminated with exit code 3"):
        mp.spawn(_exit_code, nprocs=1, start_method="fork")
    context = mp.spawn(_add_rank, args=(t,), nprocs=1, join=False, start_method="fork")
    while not context.join():
        pass
    assert t.tolist() == [2.0, 2.0, 3.0, 0.0]


def test_share_memory_and_module_share_memory():
    t = ember.arange(3.0)
    assert not t.is_shared()
    assert t.share_memory_() is t and t.is_shared() and t.tolist() == [0.0, 1.0, 2.0]
    model = ember.nn.Linear(2, 2)
    model.share_memory()
    assert all(p.is_shared() for p in model.parameters())
    y = ember.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf tensor"):
        mp.reductions.reduce_tensor(y)
    assert mp.get_sharing_strategy() == "file_descriptor"
    assert mp.get_all_sharing_strategies() == {"file_descriptor"}
    with pytest.raises(ValueError, match="sharing strategy"):
        mp.set_sharing_strategy("file_system")
    assert mp.Process is not None and mp.cpu_count() >= 1
