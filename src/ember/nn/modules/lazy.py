"""Lazy modules: layers that learn their input size from the first batch (LazyLinear,
LazyConv*, LazyConvTranspose*, LazyBatchNorm*, LazyInstanceNorm*).

Until the first call their parameters are ``UninitializedParameter``s; a forward pre-hook
then reads the input's shape, materialises and initialises them as the eager layer would,
and turns the module into that layer (``cls_to_become``). Loading a state dict first
materialises them with the saved shapes.
"""
from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...creation import tensor
from ...dtypes import int64
from ...tensor import Tensor
from ..parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from .conv import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d,
                   ConvTranspose3d)
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .linear import Linear
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d


class LazyModuleMixin:
    """Shape inference on the first forward call, then the module becomes ``cls_to_become``."""

    cls_to_become: type | None = None
    _lazy_size: str | None = None  # the size attribute the first input gives

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters,
                                                                with_kwargs=True)

    def _declare_lazy(self, bias: bool, device, dtype) -> None:
        """Uninitialised ``weight`` (and ``bias``), to be shaped by the first call."""
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def _materialize_weight(self, shape: tuple, outputs: int) -> None:
        """Give ``weight`` its shape and ``bias`` (if any) ``outputs`` entries, then initialise
        them as the eager layer does."""
        with no_grad():
            self.weight.materialize(shape)
            if self.bias is not None:
                self.bias.materialize((outputs,))
            self.reset_parameters()

    def reset_parameters(self) -> None:
        """The eager layer's initialisation, once the sizes are known."""
        size = self._lazy_size
        if size is None or (not self.has_uninitialized_params() and getattr(self, size) != 0):
            super().reset_parameters()

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer of this module still lacks its shape."""
        members = list(self._parameters.values()) + list(self._buffers.values())
        return any(is_lazy(t) for t in members if t is not None)

    def initialize_parameters(self, *args, **kwargs) -> None:
        """Materialise the parameters from the first input (each lazy layer defines this)."""
        raise NotImplementedError(f"initialize_parameters is not implemented for "
                                  f"{type(self).__name__}")

    @staticmethod
    def _infer_parameters(module, args: tuple, kwargs: dict | None = None) -> None:
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        del module._initialize_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        for store in (self._parameters, self._buffers):
            for name, value in store.items():
                key = prefix + name
                if is_lazy(value) and key in state_dict and not is_lazy(state_dict[key]):
                    with no_grad():
                        value.materialize(state_dict[key].shape)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


# ---------------------------------------------------------------------------- linear


class LazyLinear(LazyModuleMixin, Linear):
    """A Linear layer whose ``in_features`` is the last dim of its first input."""

    cls_to_become = Linear
    _lazy_size = "in_features"

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(0, 0, False)
        self.out_features = out_features
        self._declare_lazy(bias, device, dtype)

    def initialize_parameters(self, input: Tensor) -> None:
        if not self.has_uninitialized_params():  # loaded from a state dict
            self.in_features = self.weight.shape[1]
            return
        self.in_features = input.shape[-1]
        self._materialize_weight((self.out_features, self.in_features), self.out_features)


# ---------------------------------------------------------------------------- convolutions


class _LazyConv(LazyModuleMixin):
    """Lazy convolutions: ``in_channels`` is the channel dim of the first input."""

    _lazy_size = "in_channels"

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 output_padding=0, device=None, dtype=None) -> None:
        if self.transposed:
            super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False,
                             dilation, padding_mode)
        else:
            super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                             padding_mode)
        self.out_channels = out_channels
        self._declare_lazy(bias, device, dtype)

    def _in_channels(self, input: Tensor) -> int:
        if input.dim() not in (self.dims + 1, self.dims + 2):
            raise RuntimeError(f"Expected {self.dims + 1}D (unbatched) or {self.dims + 2}D "
                               f"(batched) input to {self._get_name()}, but got input of size: "
                               f"{list(input.shape)}")
        return input.shape[1] if input.dim() == self.dims + 2 else input.shape[0]

    def initialize_parameters(self, input: Tensor, *args, **kwargs) -> None:
        if not self.has_uninitialized_params():  # loaded from a state dict
            w = self.weight.shape
            self.in_channels = w[0] if self.transposed else w[1] * self.groups
            return
        self.in_channels = self._in_channels(input)
        if self.in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if self.transposed:
            shape = (self.in_channels, self.out_channels // self.groups)
        else:
            shape = (self.out_channels, self.in_channels // self.groups)
        self._materialize_weight(shape + tuple(self.kernel_size), self.out_channels)


class _LazyConvTranspose(_LazyConv):
    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device, dtype)


def _lazy(mixin: type, eager: type, first_input: str) -> type:
    """The lazy form of the layer ``eager``: ``mixin`` infers its size from ``first_input``."""
    name = f"Lazy{eager.__name__}"
    doc = f"{eager.__name__} with {first_input} inferred from the first input."
    return type(name, (mixin, eager), {"cls_to_become": eager, "__doc__": doc,
                                       "__module__": __name__, "__qualname__": name})


LazyConv1d = _lazy(_LazyConv, Conv1d, "``in_channels``")
LazyConv2d = _lazy(_LazyConv, Conv2d, "``in_channels``")
LazyConv3d = _lazy(_LazyConv, Conv3d, "``in_channels``")
LazyConvTranspose1d = _lazy(_LazyConvTranspose, ConvTranspose1d, "``in_channels``")
LazyConvTranspose2d = _lazy(_LazyConvTranspose, ConvTranspose2d, "``in_channels``")
LazyConvTranspose3d = _lazy(_LazyConvTranspose, ConvTranspose3d, "``in_channels``")


# ---------------------------------------------------------------------------- normalisation


class _LazyNorm(LazyModuleMixin):
    """Lazy batch and instance norms: ``num_features`` is dim 1 of the first input."""

    _lazy_size = "num_features"

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *,
                 bias: bool = True) -> None:
        super().__init__(0, eps, momentum, False, False, device, dtype, bias=False)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = tensor(0, dtype=int64, device=device)

    def initialize_parameters(self, input: Tensor) -> None:
        if not self.has_uninitialized_params():  # loaded from a state dict
            sized = [t for t in (self.weight, self.running_mean) if t is not None]
            if sized:
                self.num_features = sized[0].shape[0]
            return
        self.num_features = input.shape[1]
        with no_grad():
            for name in ("weight", "bias", "running_mean", "running_var"):
                member = getattr(self, name)
                if member is not None and is_lazy(member):
                    member.materialize((self.num_features,))
            self.reset_parameters()


LazyBatchNorm1d = _lazy(_LazyNorm, BatchNorm1d, "``num_features``")
LazyBatchNorm2d = _lazy(_LazyNorm, BatchNorm2d, "``num_features``")
LazyBatchNorm3d = _lazy(_LazyNorm, BatchNorm3d, "``num_features``")
LazyInstanceNorm1d = _lazy(_LazyNorm, InstanceNorm1d, "``num_features``")
LazyInstanceNorm2d = _lazy(_LazyNorm, InstanceNorm2d, "``num_features``")
LazyInstanceNorm3d = _lazy(_LazyNorm, InstanceNorm3d, "``num_features``")
