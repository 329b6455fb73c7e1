"""DataParallel on one device: the wrapped module itself, as torch's on a CPU.

Ember runs one process on one device, so there is nothing to replicate: ``forward`` calls the
module on the whole batch, which is what torch does with no CUDA devices or a single one.
The wrapper keeps torch's attributes (``module``, ``device_ids``, ``output_device``, ``dim``)
and its state dict keys (``module.``-prefixed), so training scripts run unchanged.
"""
from __future__ import annotations

from ... import cuda
from ..module import Module


def _index(device) -> int:
    """A device id from an int, a ``cuda:N`` string or a device."""
    if isinstance(device, int):
        return device
    index = getattr(device, "index", None)
    if index is None and isinstance(device, str):
        index = int(device.split(":")[1]) if ":" in device else 0
    return index or 0


class DataParallel(Module):
    """Wraps ``module``; calling the wrapper calls the module on the whole batch."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0) -> None:
        super().__init__()
        self.module = module
        if not cuda.is_available():  # torch keeps only these two on a CPU
            self.device_ids = []
            return
        if device_ids is None:
            device_ids = list(range(cuda.device_count()))
        self.device_ids = [_index(d) for d in device_ids]
        self.output_device = _index(output_device if output_device is not None else
                                    self.device_ids[0])
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
