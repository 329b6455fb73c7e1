"""Neural networks (torch.nn): Module, Parameter, layers, containers, losses, functional, init."""
from . import functional, init, parallel, utils
from . import attention  # noqa: E402  (sequences and attention)
from . import _functional  # noqa: F401  (declares more of nn.functional's ops)
from .module import Module
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .parameter import Parameter
from .parameter import Buffer, UninitializedBuffer, UninitializedParameter  # issue 24
from .parallel import DataParallel  # noqa: E402

__all__ = ["Module", "Parameter", "functional", "init"] + _modules_all
__all__ += ["Buffer", "UninitializedBuffer", "UninitializedParameter", "DataParallel"]
