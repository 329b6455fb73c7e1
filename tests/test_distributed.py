"""ember.distributed, DistributedDataParallel and DistributedSampler.

Multi-process tests launch ``mpiexec -n 2 python tests/_dist_worker.py MODE`` (the worker asserts
its own results) and are skipped, saying why, when the ``distributed`` extra is not installed.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data.distributed import DistributedSampler as TorchDistributedSampler

import ember
import ember.distributed as dist
from ember.utils.data import DistributedSampler

WORKER = Path(__file__).with_name("_dist_worker.py")
EXAMPLE = Path(__file__).parents[1] / "examples" / "ddp_digits.py"
LAUNCH_TIMEOUT = 120  # seconds for a whole mpiexec job; far above what any of them needs


def _mpiexec() -> str | None:
    """The launcher that belongs to this venv's MPI (the extra's MPICH), else one on PATH."""
    beside = Path(sys.executable).with_name("mpiexec")
    return str(beside) if beside.exists() else shutil.which("mpiexec")


needs_mpi = pytest.mark.skipif(
    importlib.util.find_spec("mpi4py") is None or _mpiexec() is None,
    reason="needs mpi4py and mpiexec: pip install 'ember[distributed]' (make test installs it)",
)


def run_ranks(mode: str, out_dir: Path, n: int = 2) -> subprocess.CompletedProcess:
    """Run the worker's ``mode`` on ``n`` ranks."""
    return launch([str(WORKER), mode, str(out_dir)], n)


def launch(script_and_args: list, n: int = 2) -> subprocess.CompletedProcess:
    """``mpiexec -n n python ...``; the test fails (rather than hangs) if it outlives the timeout."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    cmd = [_mpiexec(), "-n", str(n), sys.executable, *script_and_args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=LAUNCH_TIMEOUT, env=env)


# ----------------------------------------------------------------- multi-process (mpiexec)
@needs_mpi
def test_collectives_on_two_ranks(tmp_path):
    result = run_ranks("collectives", tmp_path)
    assert result.returncode == 0, result.stderr


def _single_process_reference() -> dict:
    """The worker's training run on one process with the global batches (no DDP)."""
    sys.path.insert(0, str(WORKER.parent))
    try:
        import _dist_worker as worker
    finally:
        sys.path.pop(0)
    model = worker.make_model(seed=0)  # rank 0's initialisation, which DDP broadcasts
    worker.train(model, contextlib.nullcontext, world=2, rank=None)  # no_sync's stand-in: plain accumulation
    return {n: p.detach().numpy() for n, p in model.named_parameters()}


@needs_mpi
def test_ddp_ranks_bit_identical_and_equal_to_single_process(tmp_path):
    result = run_ranks("ddp", tmp_path)
    assert result.returncode == 0, result.stderr
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in range(2)]
    reference = _single_process_reference()
    assert set(ranks[0].files) == set(reference)
    for name, expected in reference.items():
        assert ranks[0][name].tobytes() == ranks[1][name].tobytes(), name
        np.testing.assert_allclose(ranks[0][name], expected, rtol=1e-5, atol=1e-6, err_msg=name)


@needs_mpi
def test_ddp_digits_example_trains_on_two_ranks():
    result = launch([str(EXAMPLE), "--epochs", "3"])
    assert result.returncode == 0, result.stderr
    found = re.search(r"2 ranks: test accuracy ([\d.]+)%; replicas bit-identical: True", result.stdout)
    assert found, result.stdout
    assert float(found.group(1)) > 90


@needs_mpi
def test_rank_that_raises_ends_the_job_instead_of_hanging(tmp_path):
    start = time.monotonic()
    result = run_ranks("raises", tmp_path)
    assert result.returncode != 0
    assert time.monotonic() - start < 30
    assert "rank 1 failed on purpose" in result.stderr
    assert "rank 1 of 2: uncaught ValueError; aborting all ranks" in result.stderr


@needs_mpi
def test_collective_times_out_when_a_rank_never_arrives(tmp_path):
    start = time.monotonic()
    result = run_ranks("stalls", tmp_path)  # rank 1 sleeps 60 s; the timeout is 3 s
    assert result.returncode != 0
    assert time.monotonic() - start < 30
    assert "all_reduce(dtype=ember.float32, shape=[3]) on rank 0 of 2 did not complete within 3 s" \
        in result.stderr


@needs_mpi
def test_ddp_detects_mismatched_parameter_shapes(tmp_path):
    result = run_ranks("mismatch", tmp_path)
    assert result.returncode != 0
    assert "parameter '2.weight' is ember.float32 [4, 16] on rank 0 but rank 1 has '2.weight' " \
        "ember.float32 [5, 16]" in result.stderr


# ----------------------------------------------------------------- one process (MPI singleton)
@pytest.fixture
def world_of_one():
    """This process as a group of one (MPI's singleton start, no mpiexec needed)."""
    pytest.importorskip("mpi4py", reason="needs mpi4py: pip install 'ember[distributed]'")
    dist.init_process_group("mpi", timeout=10)
    yield
    dist.destroy_process_group()


def test_world_of_one(world_of_one):
    assert dist.is_initialized()
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "mpi")
    x = ember.arange(4.0)
    dist.all_reduce(x, op=dist.ReduceOp.AVG)
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert x._version == 1  # written in place
    with pytest.raises(RuntimeError, match="twice"):
        dist.init_process_group("mpi")
    with pytest.raises(TypeError, match="AVG needs a floating-point tensor, got ember.int64"):
        dist.all_reduce(ember.arange(3), op=dist.ReduceOp.AVG)
    with pytest.raises(ValueError, match="tensor_list has 2 tensors, expected one per rank"):
        dist.all_gather([ember.zeros(1), ember.zeros(1)], ember.zeros(1))
    with pytest.raises(ValueError, match="src=1 is not a rank"):
        dist.broadcast(x, src=1)


def test_ddp_launches_a_bucket_as_soon_as_its_gradients_are_ready(world_of_one):
    from ember import nn
    from ember.nn.parallel import DistributedDataParallel as DDP

    first, last = nn.Linear(8, 16), nn.Linear(16, 4)
    ddp = DDP(nn.Sequential(first, last), bucket_cap_mb=0.0002)
    buckets = ddp.reducer.buckets
    assert [b.params for b in buckets] == [[last.bias, last.weight], [first.bias, first.weight]]
    seen = []
    x = ember.randn(3, 8)
    hidden = first(x)
    hidden.register_hook(lambda g: seen.append(ddp.reducer.next_bucket))
    ddp.reducer.prepare_for_backward(sync=True)
    last(hidden).sum().backward()
    assert seen == [1]  # the last layer's bucket was in flight while backward went on
    assert all(b.work.is_completed() for b in buckets)
    assert ddp.reducer.next_bucket == 2


def test_ddp_names_parameters_without_gradient(world_of_one):
    from ember import nn
    from ember.nn.parallel import DistributedDataParallel as DDP

    ddp = DDP(nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)]))
    with pytest.raises(RuntimeError, match=r"no gradient in this backward pass: \['0.weight', '0.bias'\]"):
        ddp.reducer.prepare_for_backward(sync=True)
        ddp.module[1](ember.ones(1, 2)).sum().backward()
    ddp = DDP(nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)]), find_unused_parameters=True)
    ddp.reducer.prepare_for_backward(sync=True)
    ddp.module[1](ember.ones(1, 2)).sum().backward()
    assert ddp.module[0].weight.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_uninitialised_group_errors_like_torch():
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="only has the 'mpi' backend"):
        dist.init_process_group("nccl")


def test_import_without_mpi4py_and_clear_error():
    code = (
        "import sys; sys.modules['mpi4py'] = None\n"
        "import ember, ember.distributed as dist, ember.nn.parallel, ember.utils.data\n"
        "try:\n    dist.init_process_group('mpi')\n"
        "except RuntimeError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "pip install 'ember[distributed]'" in out.stdout


# ----------------------------------------------------------------- DistributedSampler vs torch
SAMPLER_CASES = [(n, replicas, drop_last) for n in (0, 1, 7, 10, 12) for replicas in (1, 3, 4)
                 for drop_last in (False, True)] + [(2, 5, False)]  # padding longer than the data


def _ember_permutation(n: int, generator) -> torch.Tensor:
    """torch.randperm replaced by Ember's, seeded the same way, to compare the split exactly."""
    g = ember.Generator().manual_seed(generator.initial_seed())
    return torch.tensor(ember.randperm(n, generator=g).tolist(), dtype=torch.int64)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("n,replicas,drop_last", SAMPLER_CASES)
def test_distributed_sampler_matches_torch(monkeypatch, n, replicas, drop_last, shuffle):
    monkeypatch.setattr(torch, "randperm", _ember_permutation)
    for epoch in (0, 3):
        for rank in range(replicas):
            kwargs = dict(num_replicas=replicas, rank=rank, shuffle=shuffle, seed=5, drop_last=drop_last)
            ours = DistributedSampler(range(n), **kwargs)
            theirs = TorchDistributedSampler(range(n), **kwargs)
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs)
            assert len(ours) == len(theirs)


def test_distributed_sampler_epochs_partition_and_reshuffle():
    n, replicas = 10, 2
    orders = []
    for epoch in range(2):
        parts = []
        for rank in range(replicas):
            s = DistributedSampler(range(n), num_replicas=replicas, rank=rank, seed=1)
            s.set_epoch(epoch)
            parts.append(list(s))
        assert sorted(parts[0] + parts[1]) == list(range(n))
        orders.append(parts)
    assert orders[0] != orders[1]


def test_distributed_sampler_rejects_bad_rank():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)


# ----------------------------------------------------------------- engine support DDP builds on
def _hook_log(lib, queue_callback) -> list:
    """Post-accumulate hooks and end-of-backward callbacks, in the order they run."""
    x = lib.ones(3, requires_grad=True)
    seen = []
    x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    x.register_hook(lambda g: queue_callback(lambda: seen.append("end")))
    (x * x + x).sum().backward()  # x used twice: one accumulation, one hook call
    (2 * x).sum().backward()  # the hook sees the accumulated .grad
    lib.autograd.grad((3 * x).sum(), x)  # no accumulation, so no post-accumulate hook
    return seen


def test_post_accumulate_grad_hook_and_queue_callback_match_torch():
    from ember.autograd.engine import queue_callback

    torch_queue = torch.autograd.Variable._execution_engine.queue_callback
    assert _hook_log(ember, queue_callback) == _hook_log(torch, torch_queue)
    with pytest.raises(RuntimeError, match="Final callbacks can only be installed during backward pass."):
        queue_callback(lambda: None)
    with pytest.raises(RuntimeError, match="cannot be registered on non-leaf tensors"):
        (ember.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_backward_delivers_each_leaf_gradient_as_soon_as_it_is_final():
    w1 = ember.ones(4, 4, requires_grad=True)
    w2 = ember.ones(4, 4, requires_grad=True)
    order = []
    w2.register_post_accumulate_grad_hook(lambda t: order.append("w2"))
    hidden = ember.tanh(ember.ones(2, 4) @ w1)
    hidden.register_hook(lambda g: order.append("hidden"))
    (hidden @ w2.t()).sum().backward()
    assert order == ["w2", "hidden"]  # w2's gradient did not wait for the rest of the sweep
