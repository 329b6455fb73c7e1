"""``ember.profiler``: per-op forward and backward times, shapes and memory, as torch.profiler."""
from .events import EventList, FunctionEvent, FunctionEventAvg
from .profiler import (ProfilerAction, ProfilerActivity, profile, record_function, schedule,
                       tensorboard_trace_handler)
