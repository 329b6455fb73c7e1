"""The graph of an ``ember.explain`` result: each node with its value and its adjoint, each edge with its
local derivative, read from the recorded forward trace and reverse sweep (in forward mode: each node
with its value and its tangent in every sweep)."""
from __future__ import annotations

from ..lab.explain import bar, dot, fmt
from .picture import Picture


def adjoints(explanation) -> dict:
    """Each name's final adjoint: the output's seed, the last running sum each input reached."""
    final = {}
    for c in explanation.backward:
        final.setdefault(c.node, c.adjoint)
        final[c.input] = c.accumulated
    if explanation.forward:
        final.setdefault(explanation.forward[-1].name, 1.0)
    for name, g in explanation.gradient.items():
        final.setdefault(name, g)
    return final


def local_derivatives(explanation) -> dict:
    """(node, input position) -> the local derivative on that edge; constants' edges have none."""
    names = set(explanation.point) | {s.name for s in explanation.forward}
    by_node = {}
    for c in explanation.backward:
        by_node.setdefault(c.node, []).append(c.local)
    locals_ = {}
    for s in explanation.forward:
        sent = iter(by_node.get(s.name, ()))
        for position, arg in enumerate(s.args):
            if arg in names:
                locals_[(s.name, position)] = next(sent, None)
    return locals_


def tangents(explanation) -> dict:
    """Forward mode: each name's tangents, one per sweep (an input's: 1 in its own sweep, else 0)."""
    seeds = list(explanation.point)
    found = {name: [1.0 if seed == name else 0.0 for seed in seeds] for name in seeds}
    found.update((s.name, list(t)) for s, t in zip(explanation.forward, explanation.tangents))
    return found


def _derivative_line(explanation, name: str, final: dict) -> str:
    """``x̄ = 337`` (reverse mode's adjoint) or ``ẋ = [1, 0, 0, 0]`` (forward mode's tangents)."""
    if explanation.mode == "forward":
        return f"{dot(name)} = {fmt(final.get(name))}"
    return f"{bar(name)} = {fmt(final.get(name))}"


def explanation_graph(explanation, engine: str = "auto", annotate: bool = True) -> Picture:
    """The picture of a worked derivative: ``v3 = mul(v1, x)``, its value and adjoint (in forward
    mode its tangents, one per sweep), in every box.

    With ``annotate=False`` only the definitions: for a page that fills the numbers in step by step.
    """
    final = tangents(explanation) if explanation.mode == "forward" else adjoints(explanation)
    locals_ = local_derivatives(explanation)
    picture = Picture(engine=engine)
    output = explanation.forward[-1].name if explanation.forward else None
    for name, value in explanation.point.items():
        kind = "output" if name == output else "leaf"
        lines = [f"{name} = {fmt(value)}", _derivative_line(explanation, name, final)]
        picture.add(name, lines if annotate else [name], kind)
    for s in explanation.forward:
        kind = "output" if s.name == output else "op"
        lines = [f"{s.name} = {s.definition}", f"= {fmt(s.value)}",
                 _derivative_line(explanation, s.name, final)]
        picture.add(s.name, lines if annotate else lines[:1], kind)
        for position, arg in enumerate(s.args):
            if (s.name, position) in locals_:
                local = locals_[(s.name, position)]
                shown = annotate and local is not None
                picture.connect(arg, s.name, label=f"∂={fmt(local)}" if shown else "")
            else:
                constant = picture.add(f"{s.name}_c{position}", [arg], "constant")
                picture.connect(constant, s.name)
    return picture
