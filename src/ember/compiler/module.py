"""``ember.compile(module)``: the module's call compiled, the module itself still reachable."""
from __future__ import annotations

from .compiled import CompiledFunction


class CompiledModule:
    """A compiled module, as torch's ``OptimizedModule``: call it; other attributes are the
    module's (``_orig_mod`` is the module itself)."""

    def __init__(self, module, **settings) -> None:
        object.__setattr__(self, "_orig_mod", module)
        object.__setattr__(self, "_compiled", CompiledFunction(module._call_eager, module=module,
                                                               **settings))

    def __call__(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._orig_mod, name)

    def __setattr__(self, name: str, value) -> None:
        setattr(self._orig_mod, name, value)

    def __repr__(self) -> str:
        return f"CompiledModule({self._orig_mod!r})"

    def _ember_explain(self) -> list[dict]:
        """What the compiled call traced, per signature (see ``CompiledFunction``)."""
        return self._compiled._ember_explain()
