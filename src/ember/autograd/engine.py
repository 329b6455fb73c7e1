"""The reverse-mode engine: graph nodes and one iterative sweep over them.

A node is made by every recorded op. It holds the function that knows the op's derivative
(``fn.backward(node, g)`` returns one gradient per input), the inputs it saved, and the edges
to the producers of its inputs: another node, a leaf tensor, or None for a constant.
"""
from __future__ import annotations

from typing import Callable

from .grad_mode import STATE

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class Node:
    """One recorded op: derivative rule, saved inputs/output, edges to its inputs' producers."""

    __slots__ = ("fn", "inputs", "edges", "versions", "kwargs", "out_data", "out_ndim", "out_version",
                 "hooks", "retained", "freed", "trace", "ctx", "forward_stack", "__weakref__")

    def __init__(self, fn, inputs: tuple, kwargs: dict | None, out_data=None, out_ndim: int = 0) -> None:
        self.fn = fn
        self.out_ndim = out_ndim
        self.inputs = inputs
        # Each input's producer: its node, itself if it is a leaf that needs grad, else None.
        self.edges = tuple([t.grad_fn or (t if t.requires_grad else None) for t in inputs])
        # Versions of the inputs the rule reads, to refuse them if changed in place before backward.
        self.versions = tuple([0 if t._vc is None else t._vc[0] for t in inputs]) \
            if fn.reads_inputs else None
        self.kwargs = kwargs
        self.out_data = out_data
        self.out_version = None  # (the output's version counter, its version when saved)
        self.hooks = None
        self.retained = None
        self.freed = False
        self.trace = None
        self.ctx = None
        if ANOMALY.enabled:
            ANOMALY.record(self)

    def name(self) -> str:
        """Torch-style name of this backward function, e.g. ``MulBackward0``."""
        return f"{self.fn.backward_name}"

    def __repr__(self) -> str:
        return f"<{self.name()} object>"

    def next_functions(self) -> tuple:
        """Producers of this node's inputs, as torch's ``grad_fn.next_functions``."""
        return tuple((e, 0) for e in self.edges)

    def register_hook(self, hook: Callable) -> None:
        """Run ``hook(grad)`` on the gradient of this node's output; it may return a replacement."""
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(hook)

    def saved(self) -> tuple:
        """The saved inputs, checked against in-place changes since they were saved."""
        if self.freed:
            raise RuntimeError(FREED_MESSAGE)
        for t, v in zip(self.inputs, self.versions or ()):
            vc = None if t is None else t._vc  # None: never changed in place (version 0)
            if vc is not None and vc[0] != v:
                i = next(j for j, u in enumerate(self.inputs) if u is t)
                raise RuntimeError(_modified_message(t, self, i, v))
        if self.out_version is not None and self.out_version[0][0] != self.out_version[1]:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: the output 0 of {self.name()} was changed in place after "
                f"{self.name()} saved it. Hint: use an out-of-place op (x = x + 1, not x += 1)."
            )
        return self.inputs

    def free(self) -> None:
        """Drop what was saved for backward (called after a sweep without retain_graph)."""
        self.inputs = None
        self.out_data = None
        self.ctx = None
        self.freed = True


def _modified_message(t, node, index: int, expected: int) -> str:
    shape = list(t.shape)
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{t.dtype} {shape}], which is input {index} of {node.name()}, is at version "
        f"{t._version}; expected version {expected} instead. Hint: the tensor was changed in "
        "place after it was saved for backward; use an out-of-place op instead."
    )


class _Anomaly:
    """State of anomaly detection; the hooks are filled in by ``ember.autograd.anomaly``."""

    __slots__ = ("enabled", "check_nan", "record", "check")

    def __init__(self) -> None:
        self.enabled = False
        self.check_nan = True
        self.record = lambda node: None
        self.check = lambda node, grads: None


ANOMALY = _Anomaly()


def _key(t):
    """The graph object that receives a tensor's gradient: its node, or itself if a leaf."""
    node = t.grad_fn
    if node is not None:
        return node
    return t if t.requires_grad else None


def toposort(starts: list) -> list:
    """Nodes and leaves reachable from ``starts`` in sweep order: every consumer before its producers.

    Kahn's algorithm from the outputs back: an object is placed once all its consumers are, and a
    leaf at that very moment, so the backward sweep delivers each leaf's gradient (its hooks,
    ``.grad``) as soon as it is final rather than at the end; that is what lets
    DistributedDataParallel all-reduce while backward goes on. Iterative, any depth.
    """
    consumers: dict = {}  # keyed by the objects: nodes and tensors hash by identity
    start_set = set(starts)
    stack = list(starts)
    while stack:  # count each object's consumers; an object is expanded once, when first met
        obj = stack.pop()
        if obj.__class__ is not Node:
            continue
        for e in obj.edges:
            if e is None:
                continue
            n = consumers.get(e)
            if n is None:
                consumers[e] = 1
                if e not in start_set:
                    stack.append(e)
            else:
                consumers[e] = n + 1
    ready = [s for s in dict.fromkeys(starts) if s not in consumers]
    sweep = []
    while ready:
        obj = ready.pop()
        sweep.append(obj)
        if obj.__class__ is not Node:
            continue
        for e in obj.edges:
            if e is None:
                continue
            left = consumers[e] - 1
            consumers[e] = left
            if not left:
                (ready if e.__class__ is Node else sweep).append(e)
    return sweep


OBSERVER = None  # ember.profiler's recorder while it runs: OBSERVER(node, g) -> the node's gradients
_FINAL_CALLBACKS: list[list] = []  # one list per running backward pass, the innermost last


def queue_callback(callback: Callable[[], None]) -> None:
    """Run ``callback()`` when the running backward pass ends (torch's engine ``queue_callback``)."""
    if not _FINAL_CALLBACKS:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    _FINAL_CALLBACKS[-1].append(callback)


def run_backward(roots, grad_roots, retain_graph: bool, create_graph: bool,
                 capture: list | None = None) -> list | None:
    """Propagate ``grad_roots`` from ``roots`` back through the graph.

    With ``capture`` (a list of tensors) return their gradients instead of accumulating into
    leaves' ``.grad`` (this is ``autograd.grad``); otherwise accumulate and return None.
    """
    grads: dict = {}  # node or leaf -> its gradient so far
    starts = []
    for t, g in zip(roots, grad_roots):
        k = _key(t)
        if k is None:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if k in grads:
            grads[k] = grads[k] + g
        else:
            grads[k] = g
            starts.append(k)
    captured: dict = {}
    want = None
    if capture is not None:
        want = {}
        for t in capture:
            k = _key(t)
            if k is not None:
                want[k] = k
    order = toposort(starts)
    prev = STATE.enabled
    STATE.enabled = create_graph
    _FINAL_CALLBACKS.append([])
    try:
        for obj in order:
            g = grads.pop(obj, None)
            if obj.__class__ is not Node:
                _reach_leaf(obj, g, create_graph, want, captured)
                continue
            if g is None:
                if not retain_graph:
                    obj.free()
                continue
            if obj.hooks:
                for hook in obj.hooks:
                    r = hook(g)
                    if r is not None:
                        g = r
            if obj.retained is not None:
                t = obj.retained()
                if t is not None:
                    t.grad = g if create_graph else g.detach()
            if want is not None and obj in want:
                captured[obj] = g
            in_grads = obj.fn.backward(obj, g) if OBSERVER is None else OBSERVER(obj, g)
            if ANOMALY.enabled:
                ANOMALY.check(obj, in_grads)
            if obj.trace is not None:  # ember.explain records the sweep: trace(node, g, in_grads)
                obj.trace(obj, g, in_grads)
            if not retain_graph:
                obj.free()
            for edge, gi in zip(obj.edges, in_grads):
                if edge is None or gi is None:
                    continue
                prev_g = grads.get(edge)
                grads[edge] = gi if prev_g is None else prev_g + gi
        callbacks = _FINAL_CALLBACKS[-1]
        for callback in callbacks:  # a callback may queue more; the loop sees them too
            callback()
    finally:
        _FINAL_CALLBACKS.pop()
        STATE.enabled = prev
    if want is None:
        return None
    return [captured.get(_key(t)) if _key(t) is not None else None for t in capture]


def _reach_leaf(leaf, g, create_graph: bool, want, captured) -> None:
    """Deliver the finished gradient of a leaf: hooks, then capture or accumulate into .grad."""
    if g is None:
        return
    hooks = leaf._hooks
    if hooks:
        for hook in hooks:
            r = hook(g)
            if r is not None:
                g = r
    if want is not None:
        if leaf in want:
            captured[leaf] = g
        return
    accumulate_grad(leaf, g, create_graph)


def accumulate_grad(leaf, g, create_graph: bool) -> None:
    """Add ``g`` into ``leaf.grad``, then run the leaf's post-accumulate-grad hooks."""
    if create_graph:
        leaf.grad = g if leaf.grad is None else leaf.grad + g
    elif leaf.grad is None:
        leaf.grad = g.detach()._owned()
    else:
        leaf.grad._accumulate(g)
    if leaf._post_accumulate_hooks:
        for hook in leaf._post_accumulate_hooks:
            hook(leaf)
