"""``ember.utils.benchmark``: Timer, Measurement and Compare, as torch.utils.benchmark."""
from .common import Measurement, TaskSpec, select_unit
from .compare import Compare
from .timer import Timer, timer
