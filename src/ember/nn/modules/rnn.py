"""Recurrent layers, as torch.nn: RNN (tanh or ReLU), LSTM (with projections), GRU and their cells.

Each step is a composite of Ember ops (linear maps, sigmoid, tanh, products), so gradients of
every order come from the ops' own rules. Parameter names, shapes, gate order and
initialisation are torch's, so a torch ``state_dict`` loads and gives the same numbers.
"""
from __future__ import annotations

import math
import numbers
import warnings

from ...creation import empty, ones, zeros
from ...ops import elementwise as E
from ...ops import index as I
from ...ops import linalg as L
from ...ops import shape as S
from ...ops.recurrent import lstm_scan
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from ..utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


# ---------------------------------------------------------------------------- one step of each cell


def _gates(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih, b_hh) -> Tensor:
    """``x W_ih^T + b_ih + h W_hh^T + b_hh``: every gate's pre-activation side by side."""
    return E.add(L.linear(x, w_ih, b_ih), L.linear(h, w_hh, b_hh))


def rnn_tanh_cell(x: Tensor, state: tuple, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None) -> tuple:
    """``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``."""
    return (E.tanh(_gates(x, state[0], w_ih, w_hh, b_ih, b_hh)),)


def rnn_relu_cell(x: Tensor, state: tuple, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None) -> tuple:
    """``h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)``."""
    return (E.relu(_gates(x, state[0], w_ih, w_hh, b_ih, b_hh)),)


def lstm_cell(x: Tensor, state: tuple, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None) -> tuple:
    """Gates i, f, g, o in torch's order; ``c' = f c + i g``, ``h' = o tanh(c')`` (then ``W_hr``)."""
    h, c = state
    i, f, g, o = S.chunk(_gates(x, h, w_ih, w_hh, b_ih, b_hh), 4, 1)
    c = E.add(E.mul(E.sigmoid(f), c), E.mul(E.sigmoid(i), E.tanh(g)))
    h = E.mul(E.sigmoid(o), E.tanh(c))
    if w_hr is not None:
        h = L.linear(h, w_hr)
    return h, c


def gru_cell(x: Tensor, state: tuple, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None) -> tuple:
    """``r, z = sigmoid(..)``, ``n = tanh(x_n + r * h_n)``, ``h' = n + z (h - n)`` (torch's order)."""
    h = state[0]
    x_r, x_z, x_n = S.chunk(L.linear(x, w_ih, b_ih), 3, 1)
    h_r, h_z, h_n = S.chunk(L.linear(h, w_hh, b_hh), 3, 1)
    r = E.sigmoid(E.add(x_r, h_r))
    z = E.sigmoid(E.add(x_z, h_z))
    n = E.tanh(E.add(x_n, E.mul(r, h_n)))
    return (E.add(n, E.mul(z, E.sub(h, n))),)


_CELLS = {"RNN_TANH": rnn_tanh_cell, "RNN_RELU": rnn_relu_cell, "LSTM": lstm_cell, "GRU": gru_cell}
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ---------------------------------------------------------------------------- the recurrence


def _run_direction(cell, weights: tuple, steps: list, sizes: list | None, state: tuple,
                   reverse: bool) -> tuple[list, tuple]:
    """Run ``cell`` over ``steps`` (forwards or backwards) from ``state``.

    With ``sizes`` (a packed batch, sizes never growing) only the first ``sizes[t]`` rows step at
    time ``t``: going forwards, finished rows keep their last state; going backwards, rows join
    with their initial state when their sequence begins. Returns each step's output and the final
    state of every row.
    """
    outputs: list = [None] * len(steps)
    order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
    initial = state
    rows = state[0].shape[0]
    if reverse and sizes is not None and sizes[-1] != rows:  # only the longest start at the end
        rows = sizes[-1]
        state = tuple(I.narrow(s, 0, 0, rows) for s in state)
    finished: list = []  # going forwards: the states of rows whose sequences ended, in order
    for t in order:
        if sizes is not None and sizes[t] != rows:
            size = sizes[t]
            if size < rows:
                finished.append(tuple(I.narrow(s, 0, size, rows - size) for s in state))
                state = tuple(I.narrow(s, 0, 0, size) for s in state)
            else:
                state = tuple(S.cat([s, I.narrow(s0, 0, rows, size - rows)])
                              for s, s0 in zip(state, initial))
            rows = size
        state = cell(steps[t], state, *weights)
        outputs[t] = state[0]
    if finished:
        state = tuple(S.cat([s, *parts[::-1]]) for s, parts in
                      zip(state, zip(*finished)))
    return outputs, state


def _dropout_masks(shape: tuple, sizes: list | None, p: float, like: Tensor) -> list:
    """One dropout mask (0 or ``1/(1-p)``) for a whole layer output, cut into its time steps."""
    mask = F.dropout(ones(shape, dtype=like.dtype, device=like.device), p, True)
    if sizes is None:
        return list(S.unbind(mask, 0))
    return list(S.split(mask, sizes, 0))


def _recurrence(mode: str, steps: list, sizes: list | None, hx: tuple, weights: list,
                num_layers: int, directions: int, dropout: float, training: bool) -> tuple:
    """The stacked (and maybe bidirectional) recurrence, one step at a time: per-step outputs of
    the last layer and the final states, each of shape (num_layers * directions, batch, features)."""
    cell = _CELLS[mode]
    finals: list = []
    for layer in range(num_layers):
        per_direction = []
        for direction in range(directions):
            k = layer * directions + direction
            state = tuple(h[k] for h in hx)
            outs, state = _run_direction(cell, weights[k], steps, sizes, state, direction == 1)
            per_direction.append(outs)
            finals.append(state)
        if directions == 1:
            steps = per_direction[0]
        else:
            steps = [S.cat([f, b], 1) for f, b in zip(*per_direction)]
        if dropout > 0 and training and layer < num_layers - 1:
            width = steps[0].shape[1]
            shape = (sum(sizes), width) if sizes is not None else (len(steps), steps[0].shape[0], width)
            masks = _dropout_masks(shape, sizes, dropout, steps[0])
            steps = [E.mul(x, m) for x, m in zip(steps, masks)]
    return steps, tuple(S.stack(list(parts)) for parts in zip(*finals))


def _lstm_layers(data: Tensor, hx: tuple, weights: list, num_layers: int, directions: int,
                 dropout: float, training: bool) -> tuple:
    """A padded batch (T, B, I) through LSTM layers without projections, each direction of each
    layer as one ``lstm_scan``: the last layer's output (T, B, D * H) and the final states."""
    finals_h, finals_c = [], []
    data = S.contiguous(data)  # batch_first inputs arrive transposed; BLAS wants rows in order
    for layer in range(num_layers):
        outs = []
        for direction in range(directions):
            k = layer * directions + direction
            w_ih, w_hh, b_ih, b_hh, _ = weights[k]
            xw = L.linear(data, w_ih, b_ih)
            if b_hh is not None:
                xw = E.add(xw, b_hh)
            if direction == 1:
                xw = S.flip(xw, (0,))
            hidden = w_hh.shape[1]
            scan = lstm_scan(xw, hx[0][k], hx[1][k], w_hh)
            h = I.narrow(scan, 2, 0, hidden)
            finals_h.append(h[-1])
            finals_c.append(I.narrow(scan[-1], 1, hidden, hidden))
            outs.append(S.flip(h, (0,)) if direction == 1 else h)
        data = outs[0] if directions == 1 else S.cat(outs, 2)
        if dropout > 0 and training and layer < num_layers - 1:
            data = F.dropout(data, dropout, True)
    return data, (S.stack(finals_h), S.stack(finals_c))


# ---------------------------------------------------------------------------- the layers


def _check_type(name: str, value, kind: type) -> None:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{name} should be of type {kind.__name__}, got: {type(value).__name__}")


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, the checks of
    inputs and states, and packed, unbatched and batch-first inputs."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__()
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        _check_type("bias", bias, bool)
        _check_type("batch_first", batch_first, bool)
        _check_type("input_size", input_size, int)
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        _check_type("hidden_size", hidden_size, int)
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        factory = {"device": device, "dtype": dtype}
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = {"weight_ih": (gate_size, layer_input), "weight_hh": (gate_size, real_hidden)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                names = []
                for kind, shape in shapes.items():
                    setattr(self, kind + suffix, Parameter(empty(shape, **factory)))
                    names.append(kind + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """Accepted for torch code; Ember keeps each weight as its own tensor, so nothing to do."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters of each layer and direction, as torch's ``all_weights``."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _layer_weights(self) -> list[tuple]:
        """Per (layer, direction): (w_ih, w_hh, b_ih, b_hh, w_hr), None where absent."""
        out = []
        for names in self._all_weights:
            found = {name.split("_l")[0]: getattr(self, name) for name in names}
            out.append(tuple(found.get(kind) for kind in
                             ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")))
        return out

    def _state_sizes(self) -> tuple:
        """The feature size of each state tensor: (h,) or, for an LSTM, (h, c)."""
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (real_hidden, self.hidden_size) if self.mode == "LSTM" else (real_hidden,)

    def _check_input(self, input: Tensor, packed: bool) -> None:
        weight_dtype = self.weight_ih_l0.dtype
        if input.dtype != weight_dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). "
                f"Convert input: input.to({weight_dtype}), or convert model: model.to({input.dtype})"
            )
        expected = 2 if packed else 3
        if input.ndim != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.ndim}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")

    def _check_hidden(self, hx: tuple, batch: int) -> None:
        directions = 2 if self.bidirectional else 1
        for k, (h, size) in enumerate(zip(hx, self._state_sizes())):
            expected = (self.num_layers * directions, batch, size)
            if tuple(h.shape) != expected:
                which = f"hidden[{k}]" if self.mode == "LSTM" else "hidden"
                raise RuntimeError(f"Expected {which} size {expected}, got {list(h.shape)}")

    def _unbatched_input_check(self, hx: tuple, batched: bool) -> None:
        want = 3 if batched else 2
        dims = [h.ndim for h in hx]
        if all(d == want for d in dims):
            return
        kind = "batched 3-D" if batched else "unbatched 2-D"
        if self.mode == "LSTM":
            raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but got "
                               f"({dims[0]}-D, {dims[1]}-D) tensors")
        raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got {dims[0]}-D tensor")

    def forward(self, input, hx=None):
        """Run the layers over ``input`` (a tensor or a ``PackedSequence``) from ``hx`` (zeros if
        None); returns ``(output, h_n)``, or ``(output, (h_n, c_n))`` for an LSTM."""
        name = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(self.mode, self.mode)
        packed = isinstance(input, PackedSequence)
        lstm = self.mode == "LSTM"
        if hx is not None:
            hx = tuple(hx) if lstm else (hx,)
        batched = True
        if packed:
            data, batch_sizes, sorted_indices, unsorted_indices = input
            sizes = [int(n) for n in batch_sizes.tolist()]
            batch = sizes[0]
            if hx is not None and sorted_indices is not None:
                hx = tuple(I.index_select(h, 1, sorted_indices) for h in hx)
            self._check_input(data, True)
        else:
            sizes = None
            data = input
            if data.ndim not in (2, 3):
                tensor_word = " tensor" if name == "RNN" else ""
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got "
                                 f"{data.ndim}D{tensor_word} instead")
            batched = data.ndim == 3
            if not batched:
                data = S.unsqueeze(data, 0 if self.batch_first else 1)
            if hx is not None:
                self._unbatched_input_check(hx, batched)
                if not batched:
                    hx = tuple(S.unsqueeze(h, 1) for h in hx)
            if self.batch_first:
                data = S.transpose(data, 0, 1)
            self._check_input(data, False)
            batch = data.shape[1]
            if data.shape[0] == 0:
                raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        directions = 2 if self.bidirectional else 1
        if hx is None:
            hx = tuple(zeros((self.num_layers * directions, batch, size), dtype=data.dtype,
                             device=data.device) for size in self._state_sizes())
        self._check_hidden(hx, batch)
        weights = self._layer_weights()
        if not packed and self.mode == "LSTM" and self.proj_size == 0:
            output, finals = _lstm_layers(data, hx, weights, self.num_layers, directions,
                                          self.dropout, self.training)
        else:
            steps = list(S.split(data, sizes, 0)) if packed else list(S.unbind(data, 0))
            outs, finals = _recurrence(self.mode, steps, sizes, hx, weights, self.num_layers,
                                       directions, self.dropout, self.training)
            output = S.cat(outs, 0) if packed else S.stack(outs, 0)
        if packed:
            output = PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                finals = tuple(I.index_select(h, 1, unsorted_indices) for h in finals)
        else:
            if self.batch_first:
                output = S.transpose(output, 0, 1)
            if not batched:
                output = S.squeeze(output, 1 if not self.batch_first else 0)
                finals = tuple(S.squeeze(h, 1) for h in finals)
        return output, (finals if lstm else finals[0])

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or ReLU)."""

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        modes = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}
        if self.nonlinearity not in modes:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. "
                             "Select from 'tanh' or 'relu'.")
        super().__init__(modes[self.nonlinearity], *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory, with an optional projection of the hidden state (``proj_size``)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit, with torch's reset gate applied after the hidden-side linear map."""

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# ---------------------------------------------------------------------------- the cells


class RNNCellBase(Module):
    """One step of a recurrent cell: ``weight_ih``, ``weight_hh`` and optional biases, as torch."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), **factory))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), **factory))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, **factory))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) for every parameter."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s

    def _step(self, cell, input: Tensor, hx, n_states: int):
        """Check shapes as torch's cells do, add and remove the batch dim, and run one step."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        states = None if hx is None else (tuple(hx) if n_states == 2 else (hx,))
        if states is not None:
            for k, h in enumerate(states):
                if h.ndim not in (1, 2):
                    what = f"hx[{k}]" if n_states == 2 else "hidden"
                    raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {h.ndim}D instead")
        batched = input.ndim == 2
        if not batched:
            input = S.unsqueeze(input, 0)
        if states is None:
            zero = zeros((input.shape[0], self.hidden_size), dtype=input.dtype, device=input.device)
            states = (zero,) * n_states
        elif not batched:
            states = tuple(S.unsqueeze(h, 0) for h in states)
        self._check_cell(input, states)
        out = cell(input, states, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        if not batched:
            out = tuple(S.squeeze(h, 0) for h in out)
        return out if n_states == 2 else out[0]

    def _check_cell(self, input: Tensor, states: tuple) -> None:
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected "
                               f"{self.input_size}")
        for k, h in enumerate(states):
            if h.shape[0] != input.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{k} "
                                   f"batch size {h.shape[0]}")
            if h.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {h.shape[1]}, "
                                   f"expected {self.hidden_size}")
        if input.dtype != self.weight_ih.dtype:
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                               f"{input.dtype} and {self.weight_ih.dtype} ({type(self).__name__})")


class RNNCell(RNNCellBase):
    """One Elman step: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or ReLU)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        cells = {"tanh": rnn_tanh_cell, "relu": rnn_relu_cell}
        if self.nonlinearity not in cells:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return self._step(cells[self.nonlinearity], input, hx, 1)


class LSTMCell(RNNCellBase):
    """One LSTM step: returns ``(h', c')``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple:
        return self._step(lstm_cell, input, hx, 2)


class GRUCell(RNNCellBase):
    """One GRU step: returns ``h'``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._step(gru_cell, input, hx, 1)
