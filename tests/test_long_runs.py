"""Deep graphs and long training: no recursion limit, and memory that is given back or stays flat."""
from __future__ import annotations

import gc
import math
import os
import tracemalloc

import ember
from ember import nn, optim
from ember.autograd.engine import Node

CHAIN = 100_000


def _traced_bytes() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_backward_through_a_chain_of_100000_ops_frees_its_memory():
    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    tracemalloc.start()
    try:
        before = _traced_bytes()
        y = x
        for _ in range(CHAIN):
            y = y * 1.00001
        built = _traced_bytes()
        y.sum().backward()
        del y
        after = _traced_bytes()
    finally:
        tracemalloc.stop()
    expected = 1.00001 ** CHAIN
    assert math.isclose(x.grad[0].item(), expected, rel_tol=1e-9)
    assert built - before > CHAIN * 100  # the graph really held something per op...
    assert after - before < 64 * 1024  # ...and all of it was given back


def test_graph_of_100000_ops_freed_without_backward():
    """A graph dropped without backward (an evaluation loop forgetting no_grad) is freed too."""
    x = ember.ones(3, requires_grad=True)
    nodes = _live(Node)
    y = x
    for _ in range(CHAIN):
        y = y + 1.0
    assert _live(Node) - nodes == CHAIN
    del y
    assert _live(Node) == nodes


def _mlp_step(model, opt, x, target) -> float:
    opt.zero_grad()
    loss = ((model(x) - target) ** 2).mean()
    loss.backward()
    opt.step()
    return loss.item()


def _rss() -> int:
    """Resident memory in bytes (Linux /proc; elsewhere the peak from getrusage)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _live(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


def test_10000_training_steps_keep_memory_flat():
    """RSS (cheap enough for 10 000 steps) stays flat, and no tensor or graph node piles up."""
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    x = ember.randn(4, 4)
    target = x.sum(1, keepdim=True)
    first = _mlp_step(model, opt, x, target)
    for _ in range(999):  # warm up: optimiser state, caches
        _mlp_step(model, opt, x, target)
    tensors, nodes, rss = _live(ember.Tensor), _live(Node), _rss()
    for _ in range(9_000):
        loss = _mlp_step(model, opt, x, target)
    assert loss < first / 10  # it trained
    assert _live(ember.Tensor) == tensors and _live(Node) == nodes
    grown = _rss() - rss
    assert grown < 16 * 2**20, f"resident memory grew by {grown / 2**20:.1f} MiB over 9000 steps"
