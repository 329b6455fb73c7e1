"""The reverse-mode engine: graph nodes and one iterative sweep over them.

A node is made by every recorded op. It holds the function that knows the op's derivative
(``fn.backward(node, g)`` returns one gradient per input), the inputs it saved, and the edges
to the producers of its inputs: another node, a leaf tensor, or None for a constant.
"""
from __future__ import annotations

import functools
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

    # hooks: the tensor hooks ``hook(g)`` of the output; prehooks/posthooks: torch's node hooks
    __slots__ = ("fn", "inputs", "edges", "versions", "kwargs", "out_data", "out_ndim", "out_version",
                 "hooks", "prehooks", "posthooks", "_metadata", "packed", "retained", "freed", "trace",
                 "shown_edges",
                 "ctx", "forward_stack", "__weakref__")

    def __init__(self, fn, inputs: tuple, kwargs: dict | None, out_data=None, out_ndim: int = 0) -> None:
        self.fn = fn
        self.out_ndim = out_ndim
        self.inputs = inputs
        # Each input's producer: its node, itself if it is a leaf that needs grad, else None.
        self.edges = tuple([t.grad_fn or (t if t._requires_grad else None) for t in inputs])
        # Versions of the inputs the rule reads, to refuse them if changed in place before backward.
        self.versions = tuple([0 if t._vc is None else t._vc[0] for t in inputs]) \
            if fn.reads_inputs else None
        self.kwargs = kwargs
        self.out_data = out_data
        self.out_version = None  # (the output's version counter, its version when saved)
        self.hooks = None
        self.prehooks = None
        self.posthooks = None
        self._metadata = None
        self.packed = None
        self.shown_edges = None  # what next_functions shows for a composite renamed as torch's op
        self.retained = None
        self.freed = False
        self.trace = None
        self.ctx = None
        if SAVED_HOOKS and fn.reads_inputs:
            self._pack()
        if ANOMALY.enabled:
            ANOMALY.record(self)

    def name(self) -> str:
        """Torch's name of this backward function, e.g. ``MulBackward0`` (also the class name)."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object>"

    @property
    def next_functions(self) -> tuple:
        """``(producer, 0)`` per input, as torch: a node, an AccumulateGrad for a leaf, or None."""
        edges = self.edges if self.shown_edges is None else self.shown_edges
        return tuple((e if e is None or isinstance(e, Node) else AccumulateGrad(e), 0)
                     for e in edges)

    @property
    def metadata(self) -> dict:
        """A dict for the user's own notes about this node (torch's ``grad_fn.metadata``)."""
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def register_hook(self, hook: Callable) -> "_HookHandle":
        """Call ``hook(grad_inputs, grad_outputs)`` after this node ran; a tuple it returns replaces
        ``grad_inputs`` (torch's node post-hook)."""
        if self.posthooks is None:
            self.posthooks = []
        return _HookHandle(self.posthooks, hook)

    def register_prehook(self, hook: Callable) -> "_HookHandle":
        """Call ``hook(grad_outputs)`` before this node runs; a tuple it returns replaces them."""
        if self.prehooks is None:
            self.prehooks = []
        return _HookHandle(self.prehooks, hook)

    def _add_tensor_hook(self, hook: Callable) -> "_HookHandle":
        """A hook ``hook(grad)`` of the output tensor (``Tensor.register_hook`` on a non-leaf)."""
        if self.hooks is None:
            self.hooks = []
        return _HookHandle(self.hooks, hook)

    def _pack(self) -> None:
        """Hand what this node saves to the innermost ``saved_tensors_hooks`` pair's ``pack``."""
        Tensor = TENSOR_CLASS[0]
        pack, unpack = SAVED_HOOKS[-1]
        out = None if self.out_data is None else pack(Tensor._make(self.out_data))
        inputs = tuple((pack(t), _autograd_meta(t)) for t in self.inputs)
        self.packed = (inputs, out, unpack)
        self.inputs = None
        self.out_data = None

    def _unpack(self) -> None:
        """Bring back what ``_pack`` handed out, through ``unpack``, with its place in the graph."""
        Tensor = TENSOR_CLASS[0]
        inputs, out, unpack = self.packed
        restored = []
        for packed, meta in inputs:
            t = unpack(packed)
            if isinstance(meta, Tensor):  # a leaf that needs grad: higher orders must reach it
                same = t._data is meta._data or bool((t.xp.asarray(t._data) == meta._data).all())
                t = meta if same else Tensor._make(t._data)
            elif meta is not None:
                t = Tensor._make(t._data, True, meta)
            restored.append(t)
        self.inputs = tuple(restored)
        if out is not None:
            self.out_data = unpack(out)._data
        self.packed = None

    def saved(self) -> tuple:
        """The saved inputs, checked against in-place changes since they were saved."""
        if self.freed:
            raise RuntimeError(FREED_MESSAGE)
        if self.packed is not None:
            self._unpack()
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


class AccumulateGrad:
    """The graph's sink for a leaf in ``next_functions``: ``variable`` is the leaf (as torch)."""

    next_functions = ()

    def __init__(self, variable) -> None:
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad object>"


class _HookHandle:
    """Returned by the node hook registrations; ``remove()`` takes the hook away again."""

    def __init__(self, hooks: list, hook: Callable) -> None:
        hooks.append(hook)
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


_NODE_CLASSES: dict = {}


def node_class(name: str) -> type:
    """The Node subclass named ``name`` (``MulBackward0``), so ``type(grad_fn).__name__`` is torch's."""
    cls = _NODE_CLASSES.get(name)
    if cls is None:
        cls = type(name, (Node,), {"__slots__": (), "__module__": "ember.autograd.graph"})
        _NODE_CLASSES[name] = cls
    return cls


def make_node(fn, inputs: tuple, kwargs: dict | None, out_data=None, out_ndim: int = 0) -> Node:
    """A node for ``fn`` of the class named after its backward (``fn.backward_name``)."""
    return node_class(fn.backward_name)(fn, inputs, kwargs, out_data, out_ndim)


def rename_node(out, name: str, *inputs) -> None:
    """Give the node that made ``out`` torch's name for the op a composite stands for.

    ``mean`` is a sum and a division here but one ``MeanBackward0`` node in torch; the node
    that finished the composite takes that name (never an input's node, which is not ours).
    """
    node = getattr(out, "grad_fn", None)
    if node is None or any(getattr(t, "grad_fn", None) is node for t in inputs):
        return
    node.__class__ = node_class(name)
    # next_functions shows the composite's inputs, as torch's one node has them for edges
    shown = []
    for arg in inputs:
        for t in (arg if isinstance(arg, (list, tuple)) else (arg,)):
            if hasattr(t, "grad_fn") and hasattr(t, "requires_grad"):
                shown.append(t.grad_fn or (t if t.requires_grad else None))
    node.shown_edges = tuple(shown)


def _autograd_meta(t):
    """What ties a saved tensor into the graph: the leaf itself if it needs grad, else its node."""
    if t.grad_fn is None:
        return t if t.requires_grad else None
    return t.grad_fn


def torch_backward(name: "str | Callable[..., str | None]", order: Callable | None = None) -> Callable:
    """Decorator of an op: the node that finishes it gets torch's backward name for that op.

    ``name`` is the name, or a function of the op's arguments giving it (None: keep the name
    of the last primitive), as torch's name can depend on them (``SumBackward0`` / ``1``).
    ``order(*args, **kwargs)`` lists the inputs in the order torch's node has its edges.
    """
    def wrap(op: Callable) -> Callable:
        @functools.wraps(op)
        def named(*args, **kwargs):
            out = op(*args, **kwargs)
            if isinstance(out, (tuple, list)):  # split, chunk, unbind
                parts = out
            elif getattr(out, "grad_fn", None) is None:  # the common case outside autograd: done
                return out
            else:
                parts = (out,)
            label = name if isinstance(name, str) else name(*args, **kwargs)
            if label is not None:
                inputs = args if order is None else order(*args, **kwargs)
                for t in parts:
                    rename_node(t, label, *inputs)
            return out
        return named
    return wrap


SAVED_HOOKS: list = []  # (pack, unpack) pairs of the active saved_tensors_hooks, innermost last
# The Tensor class, which saved_tensors_hooks hand to pack and get back from unpack. tensor.py
# registers it (register_tensor_class) when it is defined: Tensor is built on this engine.
TENSOR_CLASS: list = []


def register_tensor_class(cls: type) -> None:
    """Tell the engine which class wraps the arrays it hands to saved-tensor hooks."""
    TENSOR_CLASS[:] = [cls]


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
    return t if t._requires_grad else None


def toposort(starts: list) -> list:
    """Nodes and leaves reachable from ``starts`` in sweep order: every consumer before its producers.

    Kahn's algorithm from the outputs back: an object is placed once all its consumers are, and a
    leaf at that very moment, so the backward sweep delivers each leaf's gradient (its hooks,
    ``.grad``) as soon as it is final rather than at the end; that is what lets
    DistributedDataParallel all-reduce while backward goes on. Iterative, any depth.
    """
    if len(starts) == 1 and isinstance(starts[0], Node):
        edges = [e for e in starts[0].edges if e is not None]
        if not [e for e in edges if isinstance(e, Node)]:  # one node over leaves (ember.compile's)
            # each leaf placed at its last use, as the general sweep below places it
            return [starts[0]] + list(dict.fromkeys(reversed(edges)))[::-1]
    consumers: dict = {}  # keyed by the objects: nodes and tensors hash by identity
    start_set = set(starts)
    stack = list(starts)
    while stack:  # count each object's consumers; an object is expanded once, when first met
        obj = stack.pop()
        if not isinstance(obj, Node):
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
        if not isinstance(obj, Node):
            continue
        for e in obj.edges:
            if e is None:
                continue
            left = consumers[e] - 1
            consumers[e] = left
            if not left:
                (ready if isinstance(e, Node) else sweep).append(e)
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
            if not isinstance(obj, Node):
                _reach_leaf(obj, g, create_graph, want, captured)
                continue
            if g is None:
                if not retain_graph:
                    obj.free()
                continue
            if obj.hooks:
                g = _run_tensor_hooks(obj.hooks, g)
            if obj.retained is not None:
                t = obj.retained()
                if t is not None:
                    t.grad = g if create_graph else g.detach()
            if want is not None and obj in want:
                captured[obj] = g
            if obj.prehooks:
                g = _run_prehooks(obj, g)
            in_grads = obj.fn.backward(obj, g) if OBSERVER is None else OBSERVER(obj, g)
            if obj.posthooks:
                in_grads = _run_posthooks(obj, in_grads, g)
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


def _run_tensor_hooks(hooks: list, g):
    """Run ``hook(g)`` tensor hooks in turn; a replacement must keep g's shape and dtype (as torch)."""
    for hook in list(hooks):
        r = hook(g)
        if r is None:
            continue
        name = getattr(hook, "__name__", type(hook).__name__)
        if not isinstance(r, TENSOR_CLASS[0]):
            raise TypeError(f"expected Tensor or None (got {type(r).__name__}) from hook '{name}'")
        if tuple(r.shape) != tuple(g.shape):
            raise RuntimeError(f"hook '{name}' has changed the size of value (was {list(g.shape)} "
                               f"got {list(r.shape)})")
        if r.dtype != g.dtype:
            raise RuntimeError(f"hook '{name}' has changed the type of value (was {g.dtype} "
                               f"got {r.dtype})")
        g = r
    return g


def _run_prehooks(node: Node, g):
    """torch's node pre-hooks: ``hook((g,))`` may return a replacement tuple."""
    for hook in list(node.prehooks):
        r = hook((g,))
        if r is not None:
            g = r[0]
    return g


def _run_posthooks(node: Node, in_grads: tuple, g) -> tuple:
    """torch's node post-hooks: ``hook(grad_inputs, (g,))`` may return replacement grad_inputs."""
    in_grads = tuple(in_grads)
    for hook in list(node.posthooks):
        r = hook(in_grads, (g,))
        if r is not None:
            in_grads = tuple(r)
    return in_grads


def _reach_leaf(leaf, g, create_graph: bool, want, captured) -> None:
    """Deliver the finished gradient of a leaf: hooks, then capture or accumulate into .grad."""
    if g is None:
        return
    if leaf._hooks:
        g = _run_tensor_hooks(leaf._hooks, g)
    if want is not None:
        if leaf in want:
            captured[leaf] = _in_dtype_of(leaf, g)
        return
    accumulate_grad(leaf, g, create_graph)


def _in_dtype_of(leaf, g):
    """``g`` in ``leaf``'s floating dtype: as torch, a leaf's gradient has the leaf's dtype."""
    if g._data.dtype != leaf._data.dtype and g.is_floating_point() and leaf.is_floating_point():
        return g.to(leaf.dtype)
    return g


def accumulate_grad(leaf, g, create_graph: bool) -> None:
    """Add ``g`` into ``leaf.grad``, then run the leaf's post-accumulate-grad hooks."""
    g = _in_dtype_of(leaf, g)
    current = leaf._grad if leaf.grad_fn is None else leaf.grad  # a non-leaf's read warns
    if create_graph:
        leaf.grad = g if current is None else current + g
    elif current is None:
        leaf.grad = g.detach()._owned()
    else:
        current._accumulate(g)
    if leaf._post_accumulate_hooks:
        for hook in leaf._post_accumulate_hooks:
            hook(leaf)
