"""The Tensor: an array plus what autograd needs to know about it.

Deliberately thin. Arithmetic, reductions and shape methods are attached from ``ember.ops``
(see ``ops/methods.py``), so every operator forwards to the one implementation of its op.
"""
from __future__ import annotations

import warnings
from typing import Callable, Iterator

from . import _shared_memory, backend, dtypes
from ._printing import tensor_repr
from .autograd import backward as _autograd_backward
from .autograd.engine import register_tensor_class
from .autograd.forward_ad import LEVELS, copy_tangents, move_tangents
from .autograd.grad_mode import STATE
from .autograd.variable import Variable
from .memory_format import is_contiguous_as


_DETACH_HINT = (" If you want to use a computed variable in a subgraph that doesn't require "
                "differentiation use var_no_grad = var.detach().")
_NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead."
)



def _check_no_partial_overlap(op: str, written, inputs: tuple) -> None:
    """torch's refusal of a write whose input shares only some of the written memory (the
    input would be changed while it is read); the same memory in the same layout is fine."""
    for t in inputs:
        if not isinstance(t, Tensor):
            continue
        read = t._data
        if read is written or (written.base is None and read.base is None):
            continue  # the same array, or two arrays that each own their memory
        if backend.overlap(written, read) == "partial":
            raise RuntimeError(
                "unsupported operation: some elements of the input tensor and the written-to "
                "tensor refer to a single memory location. Please clone() the tensor before "
                f"performing the operation. ({op})"
            )


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation."""

    # _vc: the version counter ([n], shared with views and detached copies; None until needed)
    # _view: (base, view ops, base version when this view's history was read) for a view
    __slots__ = ("_data", "_requires_grad", "_grad", "grad_fn", "_vc", "_view", "_hooks",
                 "_post_accumulate_hooks", "_retains_grad", "__weakref__")
    __array_priority__ = 1000  # make ndarray + Tensor defer to Tensor.__radd__
    _batched = False  # True for vmap's BatchedTensor (ops/batching.py), never for Parameters

    def __init__(self, *args, dtype=None, device=None, requires_grad: bool = False) -> None:
        # imported here, not at the top: the legacy torch.Tensor(...) constructor lives with the
        # factories in creation.py, which import Tensor
        from .creation import _tensor_from_args

        src = _tensor_from_args(args, dtype, device)
        self._data = src._data
        self._requires_grad = False
        self._grad = None
        self.grad_fn = None
        self._vc = None
        self._view = None
        self._hooks = None
        self._post_accumulate_hooks = None
        self._retains_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, requires_grad: bool = False, grad_fn=None) -> "Tensor":
        """Wrap an array without copying or checking (the fast path every op uses)."""
        t = object.__new__(cls)
        t._data = data
        t._requires_grad = requires_grad
        t._grad = None
        t.grad_fn = grad_fn
        t._vc = None
        t._view = None
        t._hooks = None
        t._post_accumulate_hooks = None
        t._retains_grad = False
        return t

    # ----------------------------------------------------------------- metadata
    @property
    def data(self) -> "Tensor":
        """The same values without history (shares memory), as torch's ``.data``."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value: "Tensor") -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.from_numpy(self._data.dtype)

    @property
    def device(self) -> backend.device:
        return backend.device_of(self._data)

    @property
    def xp(self):
        """The array module (numpy or cupy) of this tensor's data."""
        return backend.xp_of(self._data)

    @property
    def shape(self) -> "Size":
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape, or the length of one dimension."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def ndimension(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def nelement(self) -> int:
        return int(self._data.size)

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes the elements take (``numel() * itemsize``)."""
        return self._data.nbytes

    def stride(self, dim: int | None = None):
        """Elements to step in memory for one step along each dim (0 along an expanded dim)."""
        steps = backend.element_strides(self._data)
        return steps if dim is None else steps[_wrap_dim(dim, self._data.ndim, "stride")]

    def storage_offset(self) -> int:
        """Elements from the start of the memory this tensor shares to its first element."""
        return (backend.address_of(self._data) - backend.address_of(backend.root_of(self._data))) \
            // self._data.itemsize

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind in dtypes.FLOAT_KINDS

    def get_device(self) -> int:
        d = self.device
        return -1 if d.index is None else d.index

    def is_contiguous(self, memory_format=None) -> bool:
        """True when the elements lie densely in C order (or in ``memory_format``'s order)."""
        if memory_format is None:
            return bool(self._data.flags.c_contiguous)
        return is_contiguous_as(self, memory_format)

    def data_ptr(self) -> int:
        return backend.address_of(self._data)

    def share_memory_(self) -> "Tensor":
        """Move the values into memory other processes can map (for ``ember.multiprocessing``)."""
        return _shared_memory.share_memory_(self)

    def is_shared(self) -> bool:
        """True when the values live in memory shared with other processes."""
        return _shared_memory.is_shared(self)

    # ----------------------------------------------------------------- conversion
    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return backend.read_scalar(self._data)

    def tolist(self):
        """Nested Python lists (a number for a 0-d tensor)."""
        return backend.transfer(self._data, backend.CPU).tolist()

    def numpy(self, *, force: bool = False):
        """The NumPy array (shared memory), as torch: refuses tensors that need grad or live on a GPU."""
        if self._data.dtype.kind == "V":  # NumPy has no bfloat16 of its own: torch refuses too
            raise TypeError("Got unsupported ScalarType BFloat16")
        if self.requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        if self.device.type != "cpu":
            if force:
                return backend.transfer(self._data, backend.CPU)
            raise TypeError(
                f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                "copy the tensor to host memory first."
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype)

    def detach(self) -> "Tensor":
        """The same data (shared) cut off from the graph; in-place changes to either count as
        changes to both (one version counter), as in torch."""
        t = Tensor._make(self._data)
        t._vc = self._shared_version()
        return t

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self.requires_grad = False
        return self

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self._data.shape[0]):
            yield self[i]

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                "Boolean value of Tensor with more than one value is ambiguous"
                if self._data.size else "Boolean value of Tensor with no values is ambiguous"
            )
        return bool(backend.read_scalar(self._data))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    __hash__ = object.__hash__  # identity, in C: the engine keys its dicts by nodes and leaves

    def __repr__(self) -> str:
        return tensor_repr(self)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and spec:
            return format(self.item(), spec)
        return repr(self)

    def __reduce__(self):
        from .serialization import _rebuild_tensor  # here: serialization sits above Tensor

        return (_rebuild_tensor, (backend.transfer(self._data, backend.CPU), self.requires_grad))

    # ----------------------------------------------------------------- autograd
    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Mark this leaf as needing gradients (only floating-point tensors can)."""
        if requires_grad and self._data.dtype.kind not in dtypes.FLOAT_KINDS:
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients (got {self.dtype})"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
"you can only change requires_grad flags of leaf variables." + _DETACH_HINT)
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def requires_grad(self) -> bool:
        """Whether autograd records operations on this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None:  # as torch: only a leaf's flag may be changed
            raise RuntimeError("you can only change requires_grad flags of leaf variables."
                               + ("" if value else _DETACH_HINT))
        self.requires_grad_(value)

    @property
    def grad(self) -> "Tensor | None":
        """The gradient backward accumulated here (a leaf's, or a non-leaf's after retain_grad)."""
        if self.grad_fn is not None and not self._retains_grad:
            warnings.warn(_NON_LEAF_GRAD, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        if value is not None:  # as torch: a gradient has its tensor's shape and dtype
            if not isinstance(value, Tensor):
                raise TypeError("assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of "
                    f"size '{list(self.shape)}'. Please ensure that the gradient and the tensor "
                    "are the same size")
            if value.dtype != self.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{value.dtype}' to a tensor with "
                    f"dtype '{self.dtype}'. The gradient must match the tensor's dtype.")
        self._grad = value

    def backward(self, gradient: "Tensor | None" = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        Args:
            gradient: the gradient of some scalar with respect to ``self``; needed unless
                ``self`` has one element.
            retain_graph: keep the graph for another backward (defaults to ``create_graph``).
            create_graph: record the backward pass too, for higher derivatives.
            inputs: accumulate only into these tensors.
        """
        _autograd_backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        import weakref

        self._retains_grad = True
        self.grad_fn.retained = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook: Callable) -> "RemovableHandle":
        """Call ``hook(grad)`` when this tensor's gradient is computed; a return value replaces it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._add_tensor_hook(hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook: Callable) -> "RemovableHandle":
        """Call ``hook(self)`` after backward has accumulated into this leaf's ``.grad`` (as torch)."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = []
        self._post_accumulate_hooks.append(hook)
        return RemovableHandle(self._post_accumulate_hooks, hook)

    # ----------------------------------------------------------------- in place
    @property
    def _version(self) -> int:
        """How many times this tensor's memory was changed in place (torch's ``_version``)."""
        vc = self._vc
        return 0 if vc is None else vc[0]

    @_version.setter
    def _version(self, value: int) -> None:
        self._shared_version()[0] = value

    def _shared_version(self) -> list:
        """The version counter, made on first use, to share with a view or a detached copy."""
        if self._vc is None:
            self._vc = [0]
        return self._vc

    def _check_inplace(self, op: str, inputs: tuple = (), written=None) -> None:
        """Refuse in-place changes that would corrupt autograd (a leaf that needs grad, or a
        view of one), write one memory location twice (an expanded tensor), or read memory
        that the write changes (an input partly overlapping ``written``, by default all of
        ``self``); every in-place op and ``out=`` comes through here before it writes."""
        data = self._data
        if data.size > 1 and any(s == 0 and n > 1 for s, n in zip(data.strides, data.shape)):
            raise RuntimeError(
                f"unsupported operation: more than one element of the written-to tensor refers to "
                f"a single memory location. Please clone() the tensor before performing the "
                f"operation. ({op})"
            )
        if inputs:
            _check_no_partial_overlap(op, data if written is None else written, inputs)
        if not STATE.enabled:
            return
        if self.requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"a leaf Variable that requires grad is being used in an in-place operation. "
                f"({op})"
            )
        if self._view is not None and self._view[0].requires_grad and self._view[0].grad_fn is None:
            raise RuntimeError(
                f"a view of a leaf Variable that requires grad is being used in an in-place "
                f"operation. ({op})"
            )

    def _take_result(self, result: "Tensor", stacklevel: int = 3) -> "Tensor":
        """``self`` as an ``out=`` argument receives ``result``: resized first where its shape
        differs (with torch's warning when it had elements), then written as ``_set_result``."""
        if result._data.shape != self._data.shape:
            if self._data.size:
                warnings.warn(
                    f"An output with one or more elements was resized since it had shape "
                    f"{list(self._data.shape)}, which does not match the required output shape "
                    f"{list(result._data.shape)}. This behavior is deprecated, and in a future "
                    "PyTorch release outputs will not be resized unless they have zero elements. "
                    "You can explicitly reuse an out tensor t by resizing it, inplace, to zero "
                    "elements with t.resize_(0).", UserWarning, stacklevel=stacklevel)
            self._data = backend.xp_of(self._data).empty(result._data.shape, self._data.dtype)
        return self._set_result(result)

    def _set_result(self, result: "Tensor") -> "Tensor":
        """Make ``self`` hold ``result`` in place: same array memory, new history, new version.

        Through a view whose base is in a graph, the base's history is rewritten instead (its
        old value with the view's region replaced) and the view read anew from it, as torch's
        CopySlices does.
        """
        if result._batched and not self._batched:
            raise RuntimeError(  # a tensor vmap batches written into one it does not: torch's words
                "vmap: inplace arithmetic(self, *extra_args) is not possible because there exists a "
                "Tensor `other` in extra_args that has more elements than `self`. This happened due "
                "to `other` being vmapped over but `self` not being vmapped over in a vmap. Please "
                "try to use out-of-place operators instead of inplace arithmetic.")
        view = self._view
        if view is not None and STATE.enabled and (result.requires_grad or view[0].requires_grad):
            from .ops.views import write_through  # here: an op, and ops sit above Tensor

            return write_through(self, result)
        if result._data is not self._data:
            if result._data.shape != self._data.shape:
                raise RuntimeError(
                    f"output with shape {list(self._data.shape)} doesn't match the broadcast "
                    f"shape {list(result._data.shape)}"
                )
            xp = backend.xp_of(self._data)
            xp.copyto(self._data, result._data, casting="unsafe")
        if result.grad_fn is not None:
            self.grad_fn = result.grad_fn
            self._requires_grad = True
        if LEVELS.active:
            move_tangents(result, self)
        self._bump_version()
        return self

    def _snapshot(self) -> "Tensor":
        """A copy of the current value that keeps the current history (input of an in-place op)."""
        if STATE.enabled and self.requires_grad:
            if self.grad_fn is None:
                return self
            snap = Tensor._make(self._data.copy(), True, self.grad_fn)
        else:
            snap = Tensor._make(self._data)
        if LEVELS.active:
            copy_tangents(self, snap)
        return snap

    def _owned(self) -> "Tensor":
        """This tensor with data no other tensor shares (a fresh copy)."""
        return Tensor._make(self._data.copy())

    def _accumulate(self, g: "Tensor") -> None:
        """``self += g`` on the raw arrays (gradient accumulation outside any graph)."""
        self._data += g._data
        vc = self._vc  # _bump_version, inlined: this runs for every leaf of every backward
        if vc is None:
            self._vc = [1]
        else:
            vc[0] += 1

    def _bump_version(self) -> None:
        """Count one more in-place change of this tensor's memory."""
        vc = self._vc
        if vc is None:
            self._vc = [1]
        else:
            vc[0] += 1


class Size(tuple):
    """A tensor's shape: a tuple that prints as torch's ``Size([2, 3])``."""

    def __repr__(self) -> str:
        return f"ember.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` takes the hook away again."""

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _wrap_dim(dim: int, ndim: int, op: str) -> int:
    """Turn a possibly negative ``dim`` into an index, with torch's IndexError when out of range."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim + n if dim < 0 else dim


register_tensor_class(Tensor)
Variable.register(Tensor)
