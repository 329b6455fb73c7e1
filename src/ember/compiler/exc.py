"""The compiler's exceptions, named as torch's (``torch._dynamo.exc``)."""
from __future__ import annotations


class CompilerError(RuntimeError):
    """Base of ``ember.compile``'s errors (torch's ``TorchDynamoException``, a RuntimeError)."""


class Unsupported(CompilerError):
    """A graph break under ``fullgraph=True``: the function cannot be traced as one program."""


class RecompileLimitExceeded(CompilerError):
    """A recompile the ``fail_on_recompile`` stance forbids."""
