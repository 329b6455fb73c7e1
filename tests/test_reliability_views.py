"""Issue 15, root fix: views never copy, view(dtype) reads bits, and writes refuse memory
they would read while changing it (torch's overlap rules), compared with torch."""
import itertools

import numpy as np
import pytest
import torch

import ember
from test_reliability2 import _outcome, _same

SPANS = "at least one dimension spans across two contiguous subspaces"
PARTIAL = "some elements of the input tensor and the written-to tensor refer to a single memory"
INTERNAL = "more than one element of the written-to tensor refers to a single memory location"


def _layouts(lib):
    """Tensors of 12 elements laid out in memory in many ways (permuted, sliced, expanded)."""
    base = lib.arange(24.0)
    yield base[:12].reshape(3, 4)
    yield base[:12].reshape(3, 4).t()
    yield base[:12].reshape(2, 3, 2).permute(2, 0, 1)
    yield base[:12].reshape(2, 3, 2).transpose(0, 1)
    yield base.reshape(4, 6)[:2]
    yield base.reshape(4, 6)[:, :3]
    yield base.reshape(2, 12)[0].reshape(2, 1, 6)
    yield base.reshape(2, 12)[:, ::2]
    yield base[:4].reshape(1, 4).expand(3, 4)
    yield base[:6].reshape(2, 1, 3).expand(2, 2, 3)


TARGETS = [(12,), (3, 4), (4, 3), (2, 6), (6, 2), (2, 2, 3), (3, 2, 2), (1, 12, 1), (2, 3, 2),
           (4, 1, 3), (-1,)]


def test_view_refuses_exactly_where_torch_does_and_otherwise_shares_memory():
    cases = 0
    for t_src, e_src in zip(_layouts(torch), _layouts(ember)):
        assert tuple(t_src.stride()) == e_src.stride()
        for shape in TARGETS:
            t_cls, t_msg, _ = _outcome(torch, lambda lib: t_src.view(shape))
            e_cls, e_msg, _ = _outcome(ember, lambda lib: e_src.view(shape))
            assert (e_cls, e_msg) == (t_cls, t_msg), (t_src.shape, t_src.stride(), shape)
            if t_cls is None:
                view = e_src.view(shape)
                assert np.shares_memory(view._data, e_src._data)
                assert view.tolist() == t_src.view(shape).tolist()
                assert view.stride() == tuple(t_src.view(shape).stride())
            cases += 1
    assert cases == 110


def test_the_issue_examples_of_view():
    _same(lambda lib: lib.arange(6.).reshape(2, 3).t().view(6), SPANS)
    _same(lambda lib: lib.ones(3, 1).expand(3, 4).view(12), SPANS)
    _same(lambda lib: lib.arange(6.).reshape(2, 3).t().view_as(lib.ones(6)), SPANS)
    _same(lambda lib: lib.arange(6.).reshape(2, 3).t().reshape(6))  # reshape copies
    _same(lambda lib: lib.arange(6.).view(4), "shape '[4]' is invalid for input of size 6")
    _same(lambda lib: lib.zeros(0, 3).t().view(-1, 0))
    a = ember.arange(6.)
    v = a.view(2, 3)
    v[1, 1] = 40.0
    assert a[4].item() == 40.0 and v._version == a._version == 1


DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


@pytest.mark.parametrize("src", DTYPES)
def test_view_dtype_reinterprets_bits_as_torch(src):
    def make(lib):
        raw = lib.tensor([[0, 1, 2, 3, 64, 128, 255, 7]] * 2, dtype=lib.uint8)
        return raw.view(getattr(lib, src))

    for dst in DTYPES:
        for pick in (lambda x: x, lambda x: x[:, :2], lambda x: x[1], lambda x: x.t(),
                     lambda x: x[:, 1:]):
            got = _outcome(ember, lambda lib: pick(make(lib)).view(getattr(lib, dst)))
            want = _outcome(torch, lambda lib: pick(make(lib)).view(getattr(lib, dst)))
            assert got[:2] == want[:2], (src, dst)
            if want[0] is None:
                t = pick(make(torch)).view(getattr(torch, dst))
                e = pick(make(ember)).view(getattr(ember, dst))
                assert e.shape == tuple(t.shape) and e.stride() == tuple(t.stride())
                assert e.numpy().tobytes() == t.numpy().tobytes()


def test_view_dtype_shares_memory_and_carries_no_gradient():
    x = ember.zeros(4, requires_grad=True)
    bits = x.detach().view(ember.int32)
    bits[0] = 1065353216  # the bits of 1.0
    assert x[0].item() == 1.0 and x._version == bits._version
    for lib in (torch, ember):
        y = lib.ones(2, requires_grad=True)
        assert not y.view(lib.int32).requires_grad and not y.view(lib.float32).requires_grad
    _same(lambda lib: lib.tensor(1.).view(lib.int16),
          "self.dim() cannot be 0 to view Float as Short")
    _same(lambda lib: lib.arange(6.)[1:5].view(lib.float64),
          "self.storage_offset() must be divisible by 2 to view Float as Double")
    _same(lambda lib: lib.arange(3.).view(lib.float64), "self.size(-1) must be divisible by 2")
    _same(lambda lib: lib.arange(6.).view(2, 3).t().view(lib.int16), "self.stride(-1) must be 1")
    _same(lambda lib: lib.arange(12.).view(4, 3)[:, :2].view(lib.float64),
          "self.stride(0) must be divisible by 2")
    _same(lambda lib: lib.ones(0).view(lib.float64))
    _same(lambda lib: lib.ones(2).view("float32"))


def _a(lib):
    return lib.arange(8.0)


OVERLAPS = {  # name: (the write, what torch says)
    "add_ of a shifted slice": (lambda lib: _a(lib)[1:].add_(_a(lib)[:-1]), None),
    "add_ partial": (lambda lib: (lambda b: b[1:].add_(b[:-1]))(_a(lib)), PARTIAL),
    "sub_ with alpha": (lambda lib: (lambda b: b[1:].sub_(b[:-1], alpha=2))(_a(lib)), PARTIAL),
    "operator +=": (lambda lib: (lambda b: b[1:].__iadd__(b[:-1]))(_a(lib)), PARTIAL),
    "clamp_": (lambda lib: (lambda b: b[1:].clamp_(b[:-1]))(_a(lib)), PARTIAL),
    "addcmul_": (lambda lib: (lambda b: b[1:].addcmul_(b[:-1], b[:-1]))(_a(lib)), PARTIAL),
    "lerp_": (lambda lib: (lambda b: b[1:].lerp_(b[:-1], 0.5))(_a(lib)), PARTIAL),
    "copy_": (lambda lib: (lambda b: b[1:].copy_(b[:-1]))(_a(lib)), PARTIAL),
    "copy_ broadcast": (lambda lib: (lambda b: b[1:3].copy_(b[1:2]))(_a(lib)), PARTIAL),
    "transposed, dense": (lambda lib: (lambda b: b[:6].view(2, 3).t().add_(
        b[2:8].view(2, 3).t()))(_a(lib)), PARTIAL),
    "same memory, other layout": (lambda lib: (lambda b: b.view(2, 4).t().add_(
        b.view(4, 2)))(_a(lib)), PARTIAL),
    "out=": (lambda lib: (lambda b: lib.add(b[:-1], 1, out=b[1:]))(_a(lib)), PARTIAL),
    "setitem slice": (lambda lib: (lambda b: b.__setitem__(slice(1, None), b[:-1]))(_a(lib)),
                      PARTIAL),
    "setitem index": (lambda lib: (lambda b: b.__setitem__(lib.tensor([5, 6]), b[0:2]))(_a(lib)),
                      PARTIAL),
    "setitem mask": (lambda lib: (lambda b: b.__setitem__(b > 5, b[0:2]))(_a(lib)), PARTIAL),
    "index_put_": (lambda lib: (lambda b: b.index_put_((lib.tensor([5, 6]),), b[0:2]))(_a(lib)),
                   PARTIAL),
    "index_copy_": (lambda lib: (lambda b: b.index_copy_(0, lib.tensor([5, 6]), b[0:2]))(_a(lib)),
                    PARTIAL),
    "scatter_": (lambda lib: (lambda b: b.scatter_(0, lib.tensor([5, 6]), b[0:2]))(_a(lib)),
                 PARTIAL),
    "expanded add_": (lambda lib: lib.ones(1).expand(3).add_(1), INTERNAL),
    "expanded copy_": (lambda lib: lib.ones(1).expand(3).copy_(lib.ones(3)), INTERNAL),
    "expanded out=": (lambda lib: lib.add(lib.ones(3), 1, out=lib.ones(1).expand(3)), INTERNAL),
    # allowed: the exact same memory, disjoint memory, strided memory torch does not judge
    "add_ itself": (lambda lib: (lambda b: b.add_(b))(_a(lib)), None),
    "add_ a full alias": (lambda lib: (lambda b: b[:].add_(b))(_a(lib)), None),
    "copy_ a full alias": (lambda lib: (lambda b: b[:].copy_(b.view(2, 4).view(8)))(_a(lib)), None),
    "out= itself": (lambda lib: (lambda b: lib.add(b, 1, out=b))(_a(lib)), None),
    "disjoint slices": (lambda lib: (lambda b: b[4:].add_(b[:4]))(_a(lib)), None),
    "a neighbouring element": (lambda lib: (lambda b: b[1:3].add_(b[0:1]))(_a(lib)), None),
    "strided, interleaved": (lambda lib: (lambda b: b[1::2].add_(b[::2]))(_a(lib)), None),
    "strided, overlapping": (lambda lib: (lambda b: b[0:6:2].add_(b[2:8:2]))(_a(lib)), None),
    "fill_ from itself": (lambda lib: (lambda b: b[1:].fill_(b[1]))(_a(lib)), None),
    "empty": (lambda lib: (lambda b: b[1:1].add_(b[0:0]))(_a(lib)), None),
}


@pytest.mark.parametrize("name", OVERLAPS)
def test_writes_over_memory_they_read_are_refused_as_torch(name):
    write, message = OVERLAPS[name]
    _same(write, message)
    if message is None:
        assert _outcome(torch, write)[0] is None
        t, e = write(torch), write(ember)
        assert e.tolist() == t.tolist()


def test_overlap_check_names_the_op():
    a = ember.arange(8.0)
    with pytest.raises(RuntimeError, match=r"\(copy_\)"):
        a[1:].copy_(a[:-1])
    with pytest.raises(RuntimeError, match=r"\(add\)"):
        ember.add(a[:-1], 1, out=a[1:])
    assert a.tolist() == list(range(8))  # nothing was written


def test_overlap_classification_of_the_backend():
    from ember import backend

    a = np.arange(8.0)
    assert backend.overlap(a, a) == "full"
    assert backend.overlap(a[:4], a[4:]) == "no"
    assert backend.overlap(a[1:], a[:-1]) == "partial"
    assert backend.overlap(a[::2], a[1::2]) == "unknown"
    assert backend.overlap(a.reshape(2, 4).T, a.reshape(4, 2)) == "partial"
    assert backend.overlap(a[:0], a) == "no"
    assert backend.overlap(a.reshape(2, 4).T, a.reshape(2, 4).T.copy()) == "no"


@pytest.mark.parametrize("lib", [torch, ember])
def test_every_layout_pair_is_judged_as_torch(lib):
    """All pairs of slices of one buffer, as in-place adds: refused exactly where torch refuses."""
    slices = [slice(0, 4), slice(2, 6), slice(4, 8), slice(0, 8), slice(0, 8, 2), slice(1, 5)]
    for w, r in itertools.product(slices, repeat=2):
        n_w, n_r = len(range(8)[w]), len(range(8)[r])
        if n_r not in (n_w, 1):
            continue
        want = _outcome(torch, lambda lib: (lambda b: b[w].add_(b[r]))(_a(lib)))[0]
        got = _outcome(lib, lambda lib: (lambda b: b[w].add_(b[r]))(_a(lib)))[0]
        assert got == want, (w, r)


def test_view_inside_vmap_reads_each_sample():
    for lib in (torch, ember):
        assert tuple(lib.func.vmap(lambda x: x.view(6))(lib.ones(4, 2, 3)).shape) == (4, 6)
        assert tuple(lib.func.vmap(lambda x: x.view(lib.int16))(lib.ones(4, 3)).shape) == (4, 6)
        assert tuple(lib.func.vmap(lambda x: x.view(lib.float64))(lib.ones(4, 4)).shape) == (4, 2)


def test_writing_through_a_dtype_view_of_a_leaf_is_allowed_as_torch():
    def write(lib):
        a = lib.ones(2, requires_grad=True)
        a.view(lib.int32).add_(1)
        return a.tolist()

    assert write(ember) == write(torch)


VIEW_OPS = {
    "t": lambda a: a.t(), "transpose": lambda a: a.transpose(0, 1),
    "permute": lambda a: a.permute(1, 0),
    "narrow": lambda a: a.narrow(1, 0, 2), "select": lambda a: a.select(0, 1),
    "diagonal": lambda a: a.diagonal(), "squeeze": lambda a: a.unsqueeze(0).squeeze(0),
    "unsqueeze": lambda a: a.unsqueeze(1), "unflatten": lambda a: a.unflatten(1, (3, 1)),
    "split": lambda a: a.split(1)[0], "chunk": lambda a: a.chunk(2)[1],
    "movedim": lambda a: a.movedim(0, 1), "mT": lambda a: a.mT, "unbind": lambda a: a.unbind(0)[0],
    "expand": lambda a: a[:1].expand(3, 3), "unfold": lambda a: a.unfold(1, 2, 1),
    "view_as": lambda a: a.view_as(a), "view": lambda a: a.view(3, 2),
    "as_strided": lambda a: a.as_strided((2, 2), (1, 2)), "slice": lambda a: a[:, 1:],
    "swapaxes": lambda a: a.swapaxes(0, 1), "hsplit": lambda a: a.hsplit(3)[0],
    "view(dtype)": lambda a: a.view(a.dtype),
}


@pytest.mark.parametrize("name", VIEW_OPS)
def test_ops_torch_defines_as_views_share_memory(name):
    """A write to the base shows through the view (and the version counter is shared)."""
    for lib in (torch, ember):
        base = lib.arange(6.0).reshape(2, 3)
        view = VIEW_OPS[name](base)
        before = view.clone()
        base.add_(100.0)
        assert view._version == base._version
        assert (view - before).eq(100.0).all(), (lib.__name__, name)
