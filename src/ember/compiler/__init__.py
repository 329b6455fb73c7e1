"""``ember.compiler`` (torch.compiler) and ``ember.compile`` (torch.compile).

``ember.compile(fn)`` traces ``fn`` once per input signature into a flat program of array calls
and replays it, forward and backward; see ``compiled.py`` for what it guards and when it runs
eagerly instead, and ``explain`` for why.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .compiled import LIVE, CompiledFunction
from .exc import CompilerError, RecompileLimitExceeded, Unsupported
from .module import CompiledModule
from .stance import config, disable, is_compiling, set_stance

__all__ = ["compile", "reset", "disable", "set_stance", "is_compiling", "is_dynamo_compiling",
           "explain", "config", "CompilerError", "Unsupported", "RecompileLimitExceeded"]


def compile(model: Callable | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend: str | Callable = "inductor", mode: str | None = None,
            options: dict | None = None, disable: bool = False):
    """Compile a function or module: traced once per input signature, replayed after.

    Args:
        model: a function or an ``nn.Module`` (None: return a decorator).
        fullgraph: raise ``Unsupported`` where the function cannot be traced whole, instead of
            running it eagerly.
        dynamic, backend, mode, options: torch's; accepted (one backend: the replayed program;
            shapes are always specialized, a new shape retraces).
        disable: run ``model`` eagerly (a no-op compile).
    Returns:
        The compiled function (a ``CompiledModule`` for a module), or a decorator.
    """
    settings = dict(fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                    options=options, disable=disable)
    if model is None:
        return lambda fn: compile(fn, **settings)
    if not callable(model):
        raise RuntimeError(f"ember.compile: expected a callable or a Module, got {type(model).__name__}")
    if hasattr(model, "named_parameters") and hasattr(model, "forward"):
        return CompiledModule(model, **settings)
    return CompiledFunction(model, **settings)


def reset() -> None:
    """Forget every traced program of every compiled function (torch.compiler.reset)."""
    for fn in list(LIVE):
        fn.reset()


def is_dynamo_compiling() -> bool:
    """True while a trace runs (torch.compiler.is_dynamo_compiling)."""
    return is_compiling()


@dataclass
class ExplainOutput:
    """What ``explain`` found: programs traced, signatures run eagerly and why, ops per program."""

    graph_count: int = 0
    graph_break_count: int = 0
    break_reasons: list = field(default_factory=list)
    op_count: int = 0
    ops_per_graph: list = field(default_factory=list)
    out: object = None

    def __str__(self) -> str:
        lines = [f"Graph Count: {self.graph_count}", f"Graph Break Count: {self.graph_break_count}",
                 f"Op Count: {self.op_count}", "Break Reasons:"]
        lines += [f"  {r}" for r in self.break_reasons]
        return "\n".join(lines)


def explain(fn: Callable, *extra_args, **extra_kwargs):
    """``explain(fn)(*args)``: compile ``fn`` afresh, call it once, say what was traced and why not.

    As ``torch._dynamo.explain``: returns an ``ExplainOutput``.
    """
    def run(*args, **kwargs) -> ExplainOutput:
        compiled = compile(fn)
        out = compiled(*args, **kwargs)
        report = ExplainOutput(out=out)
        for record in compiled._ember_explain():
            if record["reason"] is None:
                report.graph_count += 1
                report.ops_per_graph.append(record["ops"])
                report.op_count += record["ops"] + record["backward_ops"]
            else:
                report.graph_break_count += 1
                report.break_reasons.append(record["reason"])
        return report

    if extra_args or extra_kwargs:
        return run(*extra_args, **extra_kwargs)
    return run
