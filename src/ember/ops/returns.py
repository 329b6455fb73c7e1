"""torch's ``return_types``: tuples of results whose parts also have names (``.min``, ``.max``)."""
from __future__ import annotations


def return_type(name: str, *fields: str) -> type:
    """A tuple subclass called ``name`` whose items are also the attributes ``fields``."""

    def field(i: int) -> property:
        return property(lambda self: self[i], doc=f"The result's {fields[i]} (item {i}).")

    def __repr__(self) -> str:
        parts = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"torch.return_types.{name}(\n{parts})"

    body = {f: field(i) for i, f in enumerate(fields)}
    body.update(__slots__=(), __repr__=__repr__,
                __doc__=f"``({', '.join(fields)})`` as torch.{name} returns.")
    return type(name, (tuple,), body)
