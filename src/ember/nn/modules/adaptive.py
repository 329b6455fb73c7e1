"""AdaptiveLogSoftmaxWithLoss: a softmax over a large vocabulary split into a frequent head
and rarer clusters with smaller projections (Grave et al., "Efficient softmax approximation
for GPUs"), as torch.nn.AdaptiveLogSoftmaxWithLoss."""
from __future__ import annotations

from collections import namedtuple
from typing import Sequence

from ... import dtypes
from ...creation import zeros
from ...ops import elementwise as E
from ...ops import index as I
from ...ops import reduce as R
from ...ops import shape as S
from ...tensor import Tensor
from .. import functional as F
from ..module import Module
from .container import ModuleList, Sequential
from .linear import Linear

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Log-probability of each target (``output``) and their mean negative (``loss``): the
    head scores the ``cutoffs[0]`` most frequent classes and one entry per cluster; a
    cluster's classes are scored by its own two-layer projection, shrunk by ``div_value``."""

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int],
                 div_value: float = 4.0, head_bias: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in "
                             "an increasing order, where each value is between 1 and "
                             "n_classes-1")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, device=device, dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(
                Linear(in_features, hidden, bias=False, device=device, dtype=dtype),
                Linear(hidden, size, bias=False, device=device, dtype=dtype)))

    def reset_parameters(self) -> None:
        """Re-initialise the head and every cluster's projections."""
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def _check(self, input: Tensor, target: Tensor) -> None:
        if target.dim() == 1:
            if input.shape[0] != target.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch "
                                   "dimension.")
            if input.dim() != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs "
                                   f"with size {input.shape}")
        elif target.dim() == 0:
            if input.dim() != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs "
                                   f"with size {input.shape}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")

    def forward(self, input_: Tensor, target_: Tensor) -> _ASMoutput:
        self._check(input_, target_)
        batched = target_.dim() > 0
        input = input_ if batched else S.unsqueeze(input_, 0)
        target = target_ if batched else S.unsqueeze(target_, 0)
        if target.numel() and (int(R.amin(target).item()) < 0
                               or int(R.amax(target).item()) >= self.n_classes):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values "
                               f"in range [{R.amin(target).item()}, {R.amax(target).item()}] "
                               "were found. ")
        batch = target.shape[0]
        head_column = target
        output = zeros(batch, dtype=input.dtype, device=input.device)
        for i in range(self.n_clusters):
            low, high = self.cutoffs[i], self.cutoffs[i + 1]
            member = E.logical_and(E.ge(target, low), E.lt(target, high))
            rows = S.reshape(I.nonzero(member), (-1,))
            if rows.numel() == 0:
                continue
            head_column = E.where(member, self.shortlist_size + i, head_column)
            cluster = F.log_softmax(self.tail[i](I.index_select(input, 0, rows)), dim=1)
            relative = E.sub(I.index_select(target, 0, rows), low)
            local = S.squeeze(I.gather(cluster, 1, S.unsqueeze(relative, 1)), 1)
            output = I.scatter_add(output, 0, rows, local)
        head = F.log_softmax(self.head(input), dim=1)
        output = E.add(output, S.squeeze(I.gather(head, 1, S.unsqueeze(head_column, 1)), 1))
        loss = R.mean(E.neg(output))
        return _ASMoutput(output if batched else S.squeeze(output, 0), loss)

    def _full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:
        head = F.log_softmax(head_output, dim=1)
        pieces = [head[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster = F.log_softmax(self.tail[i](input), dim=1)
            pieces.append(E.add(cluster, head[:, self.shortlist_size + i:self.shortlist_size + i + 1]))
        return S.cat(pieces, 1)

    def log_prob(self, input: Tensor) -> Tensor:
        """Log-probabilities of all ``n_classes`` classes, (N, n_classes)."""
        return self._full_log_prob(input, self.head(input))

    def predict(self, input: Tensor) -> Tensor:
        """The most likely class of each row (the full distribution only where the head's best
        guess is a cluster)."""
        head_output = self.head(input)
        best = R.argmax(head_output, 1)
        outside = E.ge(best, self.shortlist_size)
        if not bool(outside.any().item()):
            return best
        full = R.argmax(self._full_log_prob(input, head_output), 1)
        return E.where(outside, full, best).to(dtype=dtypes.int64)
