"""The ONNX graph being built: named values, nodes, initializers, and what depends on the inputs.

Each traced tensor gets a value name. A tensor that no graph input reaches (a parameter, or
anything computed from parameters and constants alone) is not computed in the graph: its
traced value becomes an initializer, so BatchNorm's folded scales or a reshaped bias cost
nothing at run time.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes


class UnsupportedOperatorError(RuntimeError):
    """An op of the traced model has no ONNX conversion (the message names it)."""


def onnx_dtype(dtype) -> int:
    """The ONNX TensorProto element type of an Ember dtype or NumPy dtype."""
    from onnx import helper

    np_dtype = dtype.np if isinstance(dtype, dtypes.dtype) else np.dtype(dtype)
    return helper.np_dtype_to_tensor_dtype(np_dtype)


class Graph:
    """Nodes and initializers under construction, and the names of traced tensors."""

    def __init__(self, opset: int, params: dict[int, str]) -> None:
        self.opset = opset
        self.params = params  # id(parameter or buffer) -> its dotted name
        self.nodes: list = []
        self.initializers: dict[str, object] = {}
        self.names: dict[int, str] = {}  # id(tensor) -> value name
        self.live: set[int] = set()  # ids of tensors that depend on a graph input
        self.keep: list = []  # traced tensors stay alive while their ids are in use
        self.dynamic: dict[int, tuple] = {}  # id(tensor) -> which of its dims follow the batch size
        self._count = 0

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def node(self, op_type: str, inputs: list, *, outputs: int = 1, **attrs):
        """Add a node; returns its output name (or names, when ``outputs`` > 1)."""
        from onnx import helper

        names = [self.fresh(op_type) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=self.fresh(f"n_{op_type}"),
                                           **attrs))
        return names[0] if outputs == 1 else names

    def const(self, array, hint: str = "const") -> str:
        """An initializer holding ``array`` (a NumPy array or a number)."""
        from onnx import numpy_helper

        name = self.fresh(hint)
        self.initializers[name] = numpy_helper.from_array(np.asarray(array), name)
        return name

    def ints(self, values) -> str:
        """An int64 initializer (shapes, axes, pads)."""
        return self.const(np.asarray(list(values), dtype=np.int64), "ints")

    def bind(self, tensor, name: str, live: bool = True, dynamic: tuple = ()) -> None:
        self.names[id(tensor)] = name
        self.keep.append(tensor)
        if live:
            self.live.add(id(tensor))
        if any(dynamic):
            self.dynamic[id(tensor)] = dynamic

    def is_live(self, tensor) -> bool:
        return id(tensor) in self.live

    def name(self, tensor) -> str:
        """The value name of an op's input: traced, a parameter (by its name), or a constant."""
        key = id(tensor)
        if key in self.names:
            return self.names[key]
        from onnx import numpy_helper

        hint = self.params.get(key)
        array = tensor.detach().cpu().numpy()
        name = hint if hint is not None and hint not in self.initializers else self.fresh(hint or "const")
        self.initializers[name] = numpy_helper.from_array(np.ascontiguousarray(array), name)
        self.bind(tensor, name, live=False)
        return name
