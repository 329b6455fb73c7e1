"""Nested tuples, lists and dicts flattened to leaves and rebuilt (torch.utils._pytree's subset)."""
from __future__ import annotations

_LEAF = "*"


def tree_flatten(tree) -> tuple[list, object]:
    """The leaves of ``tree`` (anything that is not a tuple, list or dict) and its structure."""
    if isinstance(tree, (tuple, list)):
        parts = [tree_flatten(c) for c in tree]
        return [x for leaves, _ in parts for x in leaves], (type(tree), None, [s for _, s in parts])
    if isinstance(tree, dict):
        keys = list(tree)
        parts = [tree_flatten(tree[k]) for k in keys]
        return [x for leaves, _ in parts for x in leaves], (dict, keys, [s for _, s in parts])
    return [tree], _LEAF


def _count(spec) -> int:
    return 1 if spec == _LEAF else sum(_count(s) for s in spec[2])


def tree_unflatten(leaves: list, spec):
    """Rebuild the structure ``spec`` from ``leaves`` in flattening order."""
    if spec == _LEAF:
        return leaves[0]
    kind, keys, children = spec
    built = []
    start = 0
    for child in children:
        n = _count(child)
        built.append(tree_unflatten(leaves[start:start + n], child))
        start += n
    if kind is dict:
        return dict(zip(keys, built))
    if hasattr(kind, "_fields"):
        return kind(*built)
    return kind(built)


def broadcast_to_and_flatten(prefix, spec) -> list | None:
    """``prefix`` (a tree whose leaves stand for whole subtrees of ``spec``) flattened to one
    entry per leaf of ``spec``; None where the structures differ."""
    if spec == _LEAF or not isinstance(prefix, (tuple, list, dict)):
        return [prefix] * _count(spec)
    kind, keys, children = spec
    if isinstance(prefix, dict):
        if kind is not dict or set(prefix) != set(keys):
            return None
        items = [prefix[k] for k in keys]
    else:
        if kind is dict or isinstance(prefix, tuple) != issubclass(kind, tuple) or \
                len(prefix) != len(children):
            return None
        items = list(prefix)
    out = []
    for item, child in zip(items, children):
        part = broadcast_to_and_flatten(item, child)
        if part is None:
            return None
        out.extend(part)
    return out


def describe(spec) -> str:
    """A short printable form of a structure (for error messages)."""
    if spec == _LEAF:
        return "*"
    kind, keys, children = spec
    inner = ", ".join(describe(c) for c in children)
    if kind is dict:
        return "{" + ", ".join(f"{k!r}: {describe(c)}" for k, c in zip(keys, children)) + "}"
    return f"({inner},)" if issubclass(kind, tuple) and len(children) == 1 else \
        (f"({inner})" if issubclass(kind, tuple) else f"[{inner}]")
