"""``ember.autograd.profiler``: torch's older profiler interface over ``ember.profiler``.

Courses still write ``with torch.autograd.profiler.profile() as prf: ...`` and print
``prf.key_averages().table(...)``; this is the same recorder with that signature.
"""
from __future__ import annotations

import warnings

from ..profiler import EventList, FunctionEvent, ProfilerActivity, record_function
from ..profiler import profile as _profile

__all__ = ["EventList", "FunctionEvent", "profile", "record_function"]


class profile(_profile):
    """Record op times while active (``torch.autograd.profiler.profile``).

    Args:
        enabled: False: record nothing (the context manager is a no-op).
        use_cuda: deprecated in torch (with its FutureWarning): ``use_device="cuda"``.
        use_device: ``"cuda"`` also records device time of ops on a GPU.
        record_shapes, profile_memory: as ``ember.profiler.profile``; ``with_flops`` also keeps
            shapes, as torch's; ``with_stack``, ``with_modules`` and the rest are accepted.
    """

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False,
                 use_device: str | None = None, record_shapes: bool = False,
                 with_flops: bool = False, profile_memory: bool = False, with_stack: bool = False,
                 with_modules: bool = False, use_cpu: bool = True, **unused) -> None:
        if use_cuda:
            warnings.warn("The attribute `use_cuda` will be deprecated soon, please use "
                          "``use_device = 'cuda'`` instead.", FutureWarning, stacklevel=2)
            use_device = "cuda"
        activities = [ProfilerActivity.CPU]
        if use_device == "cuda":
            activities.append(ProfilerActivity.CUDA)
        super().__init__(activities=activities, record_shapes=record_shapes or with_flops,
                         profile_memory=profile_memory, with_stack=with_stack,
                         with_modules=with_modules)
        self.enabled = enabled

    def start(self) -> None:
        if self.enabled:
            super().start()

    @property
    def function_events(self) -> EventList:
        """Every recorded event, in start order (torch's ``function_events``)."""
        return self.events()
