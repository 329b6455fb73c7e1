"""Variable-length sequences for recurrent layers, as torch.nn.utils.rnn: padding and packing.

A ``PackedSequence`` holds the time steps of a batch of sequences (sorted longest first) one
after another, with the batch size of each step, so a recurrent layer runs each step only on
the sequences still going. Packing and padding are one gather and one scatter, differentiable.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from ...creation import full, tensor
from ...dtypes import float16, float32, float64, int64, scalar_name
from ...ops import index as I
from ...ops import shape as S
from ...ops.pad import pad
from ...tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]

_UNSORTED_MESSAGE = (
    "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can "
    "pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this "
    "requirement if you do not need ONNX exportability."
)


class _PackedFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedFields):
    """Packed time steps (``data``), the batch size of each step (a CPU int64 tensor), and the
    permutations between the caller's batch order and the sorted one (None when already sorted)."""

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None,
                sorted_indices: Tensor | None = None, unsorted_indices: Tensor | None = None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # torch's legacy form: PackedSequence((data, batch_sizes))
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> "PackedSequence":
        """``data`` converted as ``Tensor.to``; the index permutations follow it to its device."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self

        def move(t):
            return None if t is None else t.to(data.device)

        return type(self)(data, self.batch_sizes, move(self.sorted_indices),
                          move(self.unsorted_indices))

    def cuda(self, *args: Any, **kwargs: Any) -> "PackedSequence":
        return self.to("cuda" if not args else args[0], **kwargs)

    def cpu(self) -> "PackedSequence":
        return self.to("cpu")

    def double(self) -> "PackedSequence":
        return self.to(dtype=float64)

    def float(self) -> "PackedSequence":
        return self.to(dtype=float32)

    def half(self) -> "PackedSequence":
        return self.to(dtype=float16)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes ``permutation`` (``out[permutation[i]] = i``)."""
    if permutation is None:
        return None
    order = [int(i) for i in permutation.tolist()]
    inverse = [0] * len(order)
    for position, i in enumerate(order):
        inverse[i] = position
    return tensor(inverse, dtype=int64, device=permutation.device)


def _lengths_list(lengths) -> list[int]:
    """``lengths`` (a list or a 1-D CPU tensor) as Python ints, checked as torch does."""
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1 or lengths.is_cuda:
            raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                               f"{lengths.ndim}D {lengths.device.type} {scalar_name(lengths.dtype)} tensor")
        return [int(n) for n in lengths.tolist()]
    return [int(n) for n in lengths]


def _step_sizes(lengths: list[int]) -> list[int]:
    """The batch size of each time step of sequences with these (decreasing) lengths."""
    return [sum(1 for n in lengths if n > t) for t in range(lengths[0])] if lengths else []


def _packed_positions(lengths: list[int], batch: int) -> list[int]:
    """Where each packed row sits in the (time, batch) grid flattened as ``t * batch + b``."""
    return [t * batch + b for t, size in enumerate(_step_sizes(lengths)) for b in range(size)]


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (``(T, B, *)``, or ``(B, T, *)`` with ``batch_first``) of sequences with
    the given lengths; unsorted lengths are sorted first unless ``enforce_sorted``."""
    lengths = _lengths_list(lengths)
    batch_dim = 0 if batch_first else 1
    if input.ndim <= batch_dim:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(input.ndim, 1)}, {max(input.ndim, 1) - 1}], but got {batch_dim})")
    batch = input.shape[batch_dim]
    if len(lengths) != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(lengths)} (batch_size={batch})")
    if any(n <= 0 for n in lengths):
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element "
                           "in 'lengths' that is <= 0")
    steps = input.shape[1 - batch_dim]
    if max(lengths) > steps:
        raise RuntimeError(f"pack_padded_sequence: a length of {max(lengths)} is longer than the "
                           f"{steps} time steps of the input of shape {list(input.shape)}")
    sorted_indices = None
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError(_UNSORTED_MESSAGE)
    else:
        order = sorted(range(batch), key=lambda i: -lengths[i])
        sorted_indices = tensor(order, dtype=int64, device=input.device)
        lengths = [lengths[i] for i in order]
        input = I.index_select(input, batch_dim, sorted_indices)
    if batch_first:
        input = S.transpose(input, 0, 1)
    grid = S.reshape(input, (steps * batch,) + tuple(input.shape[2:]))
    rows = tensor(_packed_positions(lengths, batch), dtype=int64, device=input.device)
    data = I.getitem(grid, rows)
    batch_sizes = tensor(_step_sizes(lengths), dtype=int64)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None) -> tuple:
    """Undo ``pack_padded_sequence``: the padded batch and each sequence's length (caller's order)."""
    sizes = [int(n) for n in sequence.batch_sizes.tolist()]
    batch = sizes[0]
    lengths = [sum(1 for n in sizes if n > b) for b in range(batch)]
    steps = len(sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being {steps}"
            )
        steps = total_length
    data = sequence.data
    rest = tuple(data.shape[1:])
    grid = full((steps * batch,) + rest, padding_value, dtype=data.dtype, device=data.device)
    rows = tensor(_packed_positions(lengths, batch), dtype=int64, device=data.device)
    I.setitem(grid, rows, data)
    padded = S.reshape(grid, (steps, batch) + rest)
    if batch_first:
        padded = S.transpose(padded, 0, 1)
    lengths_out = tensor(lengths, dtype=int64)
    if sequence.unsorted_indices is not None:
        batch_dim = 0 if batch_first else 1
        padded = I.index_select(padded, batch_dim, sequence.unsorted_indices)
        lengths_out = tensor([lengths[i] for i in sequence.unsorted_indices.tolist()], dtype=int64)
    return padded, lengths_out


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of shape ``(L_i, *)`` into ``(L_max, B, *)`` (``(B, L_max, *)`` with
    ``batch_first``), padding each on ``padding_side`` with ``padding_value``."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(S.unbind(sequences, 0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        before, after = (missing, 0) if padding_side == "left" else (0, missing)
        widths = (0, 0) * (s.ndim - 1) + (before, after)
        padded.append(pad(s, widths, value=padding_value) if missing else s)
    return S.stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list:
    """The sequences of a padded batch, each cut to its length."""
    if not batch_first:
        padded_sequences = S.transpose(padded_sequences, 0, 1)
    return [I.narrow(seq, 0, 0, n) for seq, n in zip(S.unbind(padded_sequences, 0),
                                                     _lengths_list(lengths))]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences of shape ``(L_i, *)`` (longest first unless not ``enforce_sorted``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences a ``PackedSequence`` holds, in the caller's order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
