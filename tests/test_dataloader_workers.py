"""DataLoader with worker processes, samplers and datasets, checked against torch and num_workers=0."""
from __future__ import annotations

import importlib
import multiprocessing
import os
import signal
import time
import tracemalloc
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.utils.data import (ChainDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
                              StackDataset, TensorDataset, WeightedRandomSampler, get_worker_info)

pytestmark = pytest.mark.filterwarnings("ignore:This DataLoader will create")


def _lib_data(lib):
    return importlib.import_module(f"{lib.__name__}.utils.data")


class Squares(Dataset):
    """Samples (tensor, int) with a failure at ``bad``."""

    def __init__(self, n: int = 23, bad: int | None = None, lib=ember) -> None:
        self.n, self.bad, self.lib = n, bad, lib

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            raise ValueError(f"bad sample {i}")
        return self.lib.tensor([float(i)]), i * i


def _shard(self):
    """0..n-1, each worker yielding its share (worker k takes k, k+w, ...)."""
    info = _lib_data(self.lib).get_worker_info()
    start, step = (0, 1) if info is None else (info.id, info.num_workers)
    return iter(range(start, self.n, step))


class Shards(IterableDataset):
    lib = ember
    __iter__ = _shard

    def __init__(self, n: int) -> None:
        self.n = n


class TorchShards(torch.utils.data.IterableDataset):
    lib = torch
    __iter__ = _shard

    def __init__(self, n: int) -> None:
        self.n = n


SHARDS = {"ember": Shards, "torch": TorchShards}


def _children_gone(timeout: float = 10.0) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        if not multiprocessing.active_children():
            return True
        time.sleep(0.05)
    return False


def _plain(batch):
    if hasattr(batch, "tolist"):
        return batch.tolist()
    if isinstance(batch, (list, tuple)):
        return [_plain(b) for b in batch]
    if isinstance(batch, dict):
        return {k: _plain(v) for k, v in batch.items()}
    return batch


@pytest.mark.parametrize("kwargs", [dict(batch_size=4, shuffle=True), dict(batch_size=5, drop_last=True),
                                    dict(batch_size=None), dict(batch_size=3, prefetch_factor=1)])
def test_workers_give_the_batches_of_num_workers_0(kwargs):
    ds = Squares()
    ember.manual_seed(3)
    want = [_plain(b) for b in DataLoader(ds, **{k: v for k, v in kwargs.items() if k != "prefetch_factor"})]
    ember.manual_seed(3)
    got = [_plain(b) for b in DataLoader(ds, num_workers=2, **kwargs)]
    assert got == want
    assert _children_gone()


def test_tensor_dataset_fast_path_in_workers():
    x = ember.arange(40.0).reshape(20, 2)
    y = ember.arange(20)
    want = [_plain(b) for b in DataLoader(TensorDataset(x, y), batch_size=6)]
    assert [_plain(b) for b in DataLoader(TensorDataset(x, y), batch_size=6, num_workers=2)] == want


@pytest.mark.parametrize("workers,batch,drop", [(2, 3, False), (3, 3, True), (2, None, False), (3, 4, False)])
def test_iterable_dataset_sharding_matches_torch(workers, batch, drop):
    got = [_plain(b) for b in DataLoader(Shards(11), batch_size=batch, num_workers=workers,
                                         drop_last=drop)]
    want = [_plain(b) for b in torch.utils.data.DataLoader(TorchShards(11), batch_size=batch,
                                                           num_workers=workers, drop_last=drop)]
    assert got == want
    assert _children_gone()


def test_worker_error_reraised_as_torch_with_traceback_and_no_worker_left():
    messages = []
    for lib in (ember, torch):
        loader = _lib_data(lib).DataLoader(Squares(10, bad=5, lib=lib), batch_size=2, num_workers=2)
        batches = iter(loader)
        with pytest.raises(ValueError) as info:
            for _ in batches:
                pass
        messages.append(str(info.value))
        if lib is ember:
            assert _children_gone()
        else:  # torch's workers outlive the error until its iterator is collected
            batches._shutdown_workers()
    first, last = messages[0].splitlines(), messages[1].splitlines()
    assert first[0] == last[0] == "Caught ValueError in DataLoader worker process 0."
    assert first[1] == last[1] == "Original Traceback (most recent call last):"
    assert first[-1] == last[-1] == "ValueError: bad sample 5"
    assert any("__getitem__" in line for line in first)


def test_key_error_in_worker_keeps_its_class():
    class Missing(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return {}["key"]

    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 0"):
        list(DataLoader(Missing(), num_workers=1))
    assert _children_gone()


def test_break_and_interrupt_leave_no_worker_behind():
    for batch in DataLoader(Squares(200), batch_size=2, num_workers=2):
        break
    del batch
    assert _children_gone()

    class Interrupting(Dataset):
        def __len__(self):
            return 50

        def __getitem__(self, i):
            if i == 10:
                os.kill(os.getppid(), signal.SIGINT)
                time.sleep(1)
            return i

    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return  # this process does not turn Ctrl-C into KeyboardInterrupt (a test runner's worker)
    with pytest.raises(KeyboardInterrupt):
        for _ in DataLoader(Interrupting(), batch_size=2, num_workers=2):
            pass
    assert _children_gone()


def test_dead_worker_and_timeout_are_reported():
    class Dying(Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            os._exit(3)

    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) .*\) exited unexpectedly"):
        list(DataLoader(Dying(), num_workers=1))

    class Slow(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            time.sleep(1)
            return i

    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.3 seconds"):
        list(DataLoader(Slow(), num_workers=1, timeout=0.3))
    assert _children_gone()


def test_worker_info_seeds_and_init_fn():
    def init(worker_id):
        info = get_worker_info()
        assert info.id == worker_id and info.num_workers == 2 and isinstance(info.dataset, Dataset)

    class Seeds(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = get_worker_info()
            return info.id, info.seed, ember.rand(1).item()

    ember.manual_seed(0)
    rows = list(DataLoader(Seeds(), batch_size=None, num_workers=2, worker_init_fn=init))
    ids = [r[0] for r in rows]
    seeds = {r[0]: r[1] for r in rows}
    assert ids == [0, 1, 0, 1] and seeds[1] == seeds[0] + 1
    assert rows[0][2] != rows[1][2]  # workers draw different random numbers
    assert get_worker_info() is None
    list(DataLoader(Squares(), batch_size=4, num_workers=2, worker_init_fn=init))


def test_persistent_workers_reuse_processes_across_epochs():
    loader = DataLoader(Squares(9), batch_size=2, num_workers=2, persistent_workers=True)
    first = [_plain(b) for b in loader]
    pids = sorted(p.pid for p in multiprocessing.active_children())
    for _ in loader:
        break  # an abandoned epoch: the next one must not see its leftovers
    assert [_plain(b) for b in loader] == first
    assert sorted(p.pid for p in multiprocessing.active_children()) == pids
    del loader
    assert _children_gone()


def test_spawn_context_and_pin_memory_accepted():
    x = ember.arange(12.0).reshape(6, 2)
    want = [_plain(b) for b in DataLoader(TensorDataset(x), batch_size=4)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = [_plain(b) for b in DataLoader(TensorDataset(x), batch_size=4, num_workers=1,
                                             multiprocessing_context="spawn", pin_memory=True)]
    assert got == want
    if not ember.accelerator.is_available():
        with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator"):
            list(DataLoader([1, 2], pin_memory=True))


def test_option_errors_as_torch():
    for lib in (ember, torch):
        D = _lib_data(lib)
        with pytest.raises(ValueError, match="prefetch_factor option could only be specified"):
            D.DataLoader([1], prefetch_factor=2)
        with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
            D.DataLoader([1], persistent_workers=True)
        with pytest.raises(ValueError, match="num_workers option should be non-negative"):
            D.DataLoader([1], num_workers=-1)


def test_random_sampler_with_replacement_is_lazy():
    sampler = RandomSampler(range(10), replacement=True, num_samples=10 ** 10)
    assert len(sampler) == 10 ** 10
    tracemalloc.start()
    try:
        it = iter(sampler)
        draws = [next(it) for _ in range(2000)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 ** 20 and set(draws) <= set(range(10)) and len(set(draws)) == 10
    loader = DataLoader(range(10), sampler=sampler, batch_size=4, num_workers=1)
    assert len(loader) == 10 ** 10 // 4
    batches = iter(loader)
    assert len(next(batches)) == 4
    del batches


def test_weighted_random_sampler():
    counts = np.bincount(list(WeightedRandomSampler([1.0, 0.0, 3.0], 4000,
                                                    generator=ember.Generator().manual_seed(0))),
                         minlength=3)
    assert counts[1] == 0 and 2.5 < counts[2] / counts[0] < 3.5
    once = list(WeightedRandomSampler([1, 2, 3, 4], 4, replacement=False))
    assert sorted(once) == [0, 1, 2, 3]
    for lib in (ember, torch):
        D = _lib_data(lib)
        with pytest.raises(ValueError, match="weights should be a 1d sequence"):
            D.WeightedRandomSampler([[1.0]], 2)
        with pytest.raises(ValueError, match="num_samples should be a positive integer"):
            D.WeightedRandomSampler([1.0], 0)
        with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist.size"):
            list(D.WeightedRandomSampler([1.0, 1.0], 3, replacement=False))
        with pytest.raises(RuntimeError, match="probability tensor contains either `inf`, `nan`"):
            list(D.WeightedRandomSampler([-1.0, 1.0], 1))
        with pytest.raises(RuntimeError, match=r"invalid multinomial distribution \(sum of prob"):
            list(D.WeightedRandomSampler([0.0, 0.0], 1))
        assert sorted(D.WeightedRandomSampler([1.0, 0.0], 2, replacement=False)) == [0, 1]


def test_stack_and_chain_datasets_as_torch():
    for lib in (ember, torch):
        D = _lib_data(lib)
        stack = D.StackDataset(x=list(range(5)), y=[str(i) for i in range(5)])
        assert stack[3] == {"x": 3, "y": "3"} and len(stack) == 5
        assert _plain(next(iter(D.DataLoader(stack, batch_size=2)))) == {"x": [0, 1], "y": ["0", "1"]}
        pair = D.StackDataset(list(range(3)), list(range(3, 6)))
        assert pair[1] == (1, 4)
        with pytest.raises(ValueError, match="Size mismatch between datasets"):
            D.StackDataset([1], [1, 2])
        chain = D.ChainDataset([SHARDS[lib.__name__](3), SHARDS[lib.__name__](2)])
        assert list(chain) == [0, 1, 2, 0, 1]
    assert StackDataset(a=[1, 2]).__getitems__([1, 0]) == [{"a": 2}, {"a": 1}]
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        len(ChainDataset([Squares(2)]))
