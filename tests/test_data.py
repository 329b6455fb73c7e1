"""ember.utils.data (datasets, samplers, DataLoader, collation) and ember.lab.datasets."""
import collections
import gzip
import struct

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
from ember.lab import datasets
from ember.utils import data as eud


def _tensors(lib, n=10):
    x = lib.tensor(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    y = lib.tensor(np.arange(n, dtype=np.int64))
    return x, y


def _same(e, t):
    """Ember and torch collation results agree in structure, dtype and values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), type(e)
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    elif isinstance(t, dict):
        assert type(e) is type(t) and e.keys() == t.keys()
        for k in t:
            _same(e[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t) and len(e) == len(t)
        for a, b in zip(e, t):
            _same(a, b)
    else:
        assert e == t


# ---------------------------------------------------------------------------- datasets


def test_tensor_dataset_subset_concat():
    x, y = _tensors(ember)
    ds = eud.TensorDataset(x, y)
    assert len(ds) == 10
    xi, yi = ds[3]
    np.testing.assert_array_equal(xi.numpy(), [9, 10, 11])
    assert yi.item() == 3
    sub = eud.Subset(ds, [7, 2])
    assert len(sub) == 2 and sub[0][1].item() == 7
    both = ds + sub
    assert isinstance(both, eud.ConcatDataset) and len(both) == 12
    assert both[11][1].item() == 2 and both[-1][1].item() == 2 and both[9][1].item() == 9
    with pytest.raises(ValueError, match="Size mismatch"):
        eud.TensorDataset(x, ember.zeros(3))


def test_random_split_counts_match_torch_and_generator_repeats():
    ds = eud.TensorDataset(*_tensors(ember, 11))
    tds = tud.TensorDataset(*_tensors(torch, 11))
    for lengths in ([3, 8], [0.5, 0.5], [0.3, 0.3, 0.4], [0.1, 0.9]):
        parts = eud.random_split(ds, lengths, generator=ember.Generator().manual_seed(1))
        tparts = tud.random_split(tds, lengths, generator=torch.Generator().manual_seed(1))
        assert [len(p) for p in parts] == [len(p) for p in tparts]
        seen = sorted(i for p in parts for i in p.indices)
        assert seen == list(range(11))
    a = eud.random_split(ds, [5, 6], generator=ember.Generator().manual_seed(7))
    b = eud.random_split(ds, [5, 6], generator=ember.Generator().manual_seed(7))
    assert a[0].indices == b[0].indices
    with pytest.raises(ValueError, match="Sum of input lengths"):
        eud.random_split(ds, [3, 3])


def test_samplers():
    ds = list(range(7))
    assert list(eud.SequentialSampler(ds)) == list(range(7))
    g = ember.Generator().manual_seed(3)
    perm = list(eud.RandomSampler(ds, generator=g))
    assert sorted(perm) == list(range(7))
    draws = list(eud.RandomSampler(ds, replacement=True, num_samples=20))
    assert len(draws) == 20 and all(0 <= d < 7 for d in draws)
    assert len(list(eud.RandomSampler(ds, num_samples=10))) == 10
    batches = list(eud.BatchSampler(eud.SequentialSampler(ds), 3, drop_last=False))
    assert batches == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(eud.BatchSampler(ds, 3, drop_last=True)) == 2
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        eud.BatchSampler(ds, 0, drop_last=False)


# ---------------------------------------------------------------------------- DataLoader


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (10, False), (4, True)])
def test_dataloader_batches_equal_torchs(batch_size, drop_last):
    loader = eud.DataLoader(eud.TensorDataset(*_tensors(ember)), batch_size=batch_size, drop_last=drop_last)
    tloader = tud.DataLoader(tud.TensorDataset(*_tensors(torch)), batch_size=batch_size,
                             drop_last=drop_last)
    assert len(loader) == len(tloader)
    got = list(loader)
    want = list(tloader)
    assert len(got) == len(want)
    for e, t in zip(got, want):
        _same(e, t)


def test_fast_path_equals_per_sample_collation():
    ds = eud.TensorDataset(*_tensors(ember))
    sub = eud.Subset(ds, [9, 1, 4, 4, 0])
    for d in (ds, sub):
        fast = list(eud.DataLoader(d, batch_size=3))
        slow = list(eud.DataLoader(d, batch_size=3, collate_fn=lambda b: eud.default_collate(b)))
        for a, b in zip(fast, slow):
            for u, v in zip(a, b):
                np.testing.assert_array_equal(u.numpy(), v.numpy())


def test_shuffle_with_seeded_generator_repeats_and_covers():
    ds = eud.TensorDataset(*_tensors(ember, 25))

    def order(seed):
        loader = eud.DataLoader(ds, batch_size=4, shuffle=True, generator=ember.Generator().manual_seed(seed))
        return [int(v) for _, y in loader for v in y.tolist()]

    assert order(5) == order(5)
    assert order(5) != order(6)
    assert sorted(order(5)) == list(range(25))
    loader = eud.DataLoader(ds, batch_size=4, shuffle=True, generator=ember.Generator().manual_seed(5))
    first = [y.tolist() for _, y in loader]
    second = [y.tolist() for _, y in loader]
    assert first != second  # a new order each epoch
    ember.manual_seed(0)
    a = [y.tolist() for _, y in eud.DataLoader(ds, batch_size=5, shuffle=True)]
    ember.manual_seed(0)
    b = [y.tolist() for _, y in eud.DataLoader(ds, batch_size=5, shuffle=True)]
    assert a == b  # the default generator is seeded by ember.manual_seed


class _Samples(eud.Dataset):
    def __init__(self, make):
        self.make = make

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return self.make(i)


Point = collections.namedtuple("Point", "x y")
SAMPLES = {
    "tuple": lambda lib, i: (lib.tensor([i, i + 1.0]), i),
    "list": lambda lib, i: [np.full(2, i, dtype=np.float32), float(i) / 2, "s%d" % i],
    "dict": lambda lib, i: {"img": np.ones((2, 2), dtype=np.uint8) * i, "label": i, "ok": i % 2 == 0},
    "nested": lambda lib, i: {"pair": (lib.tensor(float(i)), np.float64(i)), "meta": {"id": i}},
    "namedtuple": lambda lib, i: Point(lib.tensor([i]), np.int32(i)),
}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_default_collate_matches_torchs(kind):
    make = SAMPLES[kind]
    got = list(eud.DataLoader(_Samples(lambda i: make(ember, i)), batch_size=2))
    want = list(tud.DataLoader(_Samples(lambda i: make(torch, i)), batch_size=2))
    assert len(got) == len(want) == 3
    for e, t in zip(got, want):
        _same(e, t)


def test_sampler_batch_sampler_collate_fn_and_no_batching():
    ds = eud.TensorDataset(*_tensors(ember))
    loader = eud.DataLoader(ds, batch_size=2, sampler=[9, 8, 7])
    assert [y.tolist() for _, y in loader] == [[9, 8], [7]]
    loader = eud.DataLoader(ds, batch_sampler=[[0, 5], [2]])
    assert [y.tolist() for _, y in loader] == [[0, 5], [2]] and len(loader) == 2
    loader = eud.DataLoader(ds, batch_size=4, collate_fn=lambda batch: len(batch))
    assert list(loader) == [4, 4, 2]
    single = list(eud.DataLoader(_Samples(lambda i: np.arange(i + 1)), batch_size=None))
    assert isinstance(single[2], ember.Tensor) and single[2].tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        eud.DataLoader(ds, sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        eud.DataLoader(ds, batch_size=3, batch_sampler=[[0]])


class _Stream(eud.IterableDataset):
    def __iter__(self):
        return iter(range(7))

    def __len__(self):
        return 7


def test_iterable_dataset():
    got = [b.tolist() for b in eud.DataLoader(_Stream(), batch_size=3)]
    assert got == [[0, 1, 2], [3, 4, 5], [6]]
    dropped = [b.tolist() for b in eud.DataLoader(_Stream(), batch_size=3, drop_last=True)]
    assert dropped == [[0, 1, 2], [3, 4, 5]]
    assert len(eud.DataLoader(_Stream(), batch_size=3)) == 3
    with pytest.raises(ValueError, match="IterableDataset"):
        eud.DataLoader(_Stream(), shuffle=True)


def test_reachable_as_torch_paths():
    assert ember.utils.data.DataLoader is eud.DataLoader
    assert ember.utils.data.TensorDataset is eud.TensorDataset


# ---------------------------------------------------------------------------- ember.lab.datasets


def test_digits_is_real_split_data():
    train, test = datasets.digits(test_size=0.25, seed=0)
    assert len(train) + len(test) == 1797 and len(test) == 450
    x, y = train.tensors
    assert x.shape[1] == 64 and x.dtype == ember.float32 and y.dtype == ember.int64
    assert 0.0 <= x.min().item() and x.max().item() == 1.0
    assert sorted(set(y.tolist())) == list(range(10))
    again, _ = datasets.digits(test_size=0.25, seed=0)
    np.testing.assert_array_equal(again.tensors[0].numpy(), x.numpy())
    cats, _ = datasets.digits(classes=(3, 8))
    assert set(cats.tensors[1].tolist()) == {3, 8}


def test_linear_data():
    x, y = datasets.linear(500, w=-2.0, b=0.5, noise=0.0, seed=1)
    assert x.shape == (500, 1) and y.dtype == ember.float32
    np.testing.assert_allclose(y.numpy(), -2.0 * x.numpy() + 0.5, rtol=1e-6, atol=1e-6)
    x2, _ = datasets.linear(500, seed=1)
    np.testing.assert_array_equal(x.numpy(), x2.numpy())


def _write_idx(path, array, code, compress=False):
    header = bytes([0, 0, code, array.ndim]) + struct.pack(">" + "i" * array.ndim, *array.shape)
    raw = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(raw)
    return raw


@pytest.mark.parametrize("dtype,code", [(np.uint8, 0x08), (np.int16, 0x0B), (np.int32, 0x0C),
                                        (np.float32, 0x0D), (np.float64, 0x0E)])
def test_read_idx_round_trip(tmp_path, dtype, code):
    arr = (np.arange(24).reshape(2, 3, 4) * 3 - 7).astype(dtype) if dtype != np.uint8 else \
        np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "a.idx", arr, code)
    t = datasets.read_idx(tmp_path / "a.idx")
    assert t.shape == (2, 3, 4)
    np.testing.assert_array_equal(t.numpy(), arr)
    _write_idx(tmp_path / "a.idx.gz", arr, code, compress=True)
    np.testing.assert_array_equal(datasets.read_idx(tmp_path / "a.idx.gz").numpy(), arr)


def test_read_idx_errors(tmp_path):
    raw = _write_idx(tmp_path / "a.idx", np.arange(10, dtype=np.uint8), 0x08)
    (tmp_path / "short.idx").write_bytes(raw[:-3])
    with pytest.raises(ValueError, match="short.idx.*truncated"):
        datasets.read_idx(tmp_path / "short.idx")
    (tmp_path / "bad.idx").write_bytes(b"\x12\x34\x08\x01" + raw[4:])
    with pytest.raises(ValueError, match="bad.idx is not an IDX file"):
        datasets.read_idx(tmp_path / "bad.idx")
    (tmp_path / "bad.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="bad.gz"):
        datasets.read_idx(tmp_path / "bad.gz")


def test_mnist_reader_on_small_files(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    _write_idx(raw / "train-images-idx3-ubyte.gz", images, 0x08, compress=True)
    _write_idx(raw / "train-labels-idx1-ubyte", labels, 0x08)
    ds = datasets.MNIST(tmp_path, train=True)
    assert len(ds) == 5 and ds.targets.dtype == ember.int64
    img, label = ds[2]
    assert img.shape == (1, 28, 28) and img.dtype == ember.float32 and label == 4
    np.testing.assert_allclose(img.numpy()[0], images[2] / 255.0, rtol=1e-6)
    loader = eud.DataLoader(ds, batch_size=2)
    xb, yb = next(iter(loader))
    assert xb.shape == (2, 1, 28, 28) and yb.tolist() == [3, 1]
    with pytest.raises(FileNotFoundError, match="t10k-images"):
        datasets.MNIST(tmp_path, train=False)
