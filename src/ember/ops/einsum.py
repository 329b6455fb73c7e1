"""``einsum``: sums of products named by index letters, and ``tensordot`` built on it.

The equation is first made explicit (``...`` replaced by letters, the output written out, as
torch's implicit mode orders it). The derivative for each operand is another einsum, of the
output's gradient with the other operands, so einsum differentiates to any order.
"""
from __future__ import annotations

import string

from ..tensor import Tensor, _wrap_dim
from . import reduce as R
from . import shape as S
from .registry import apply, declare, primitive
from ..creation import eye

_FREE = list(string.ascii_letters)


def _explicit(equation: str, operands: tuple) -> str:
    """The equation with its ellipses spelled out and its output written, or a clear error."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(operands):
        raise RuntimeError(f"einsum(): {'more' if len(operands) > len(subs) else 'fewer'} "
                           f"operands were provided than specified in the equation")
    used = set(eq) - set(".,->")
    spare = [c for c in _FREE if c not in used]
    widest = 0
    for sub, t in zip(subs, operands):
        named = len(sub.replace("...", ""))
        if "..." not in sub and named != t.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) "
                               f"does not match the number of dimensions ({t.ndim}) for operand "
                               f"{subs.index(sub)} and no ellipsis was given")
        if "..." in sub:
            widest = max(widest, t.ndim - named)
    ellipsis = "".join(spare[:widest])
    subs = [sub.replace("...", ellipsis[widest - (t.ndim - len(sub.replace("...", ""))):])
            for sub, t in zip(subs, operands)]
    if arrow:
        out = out.replace("...", ellipsis)
    else:
        letters = "".join(subs)
        out = ellipsis + "".join(sorted(c for c in set(letters) - set(ellipsis)
                                        if letters.count(c) == 1))
    return ",".join(subs) + "->" + out


def _einsum_rule(g, out, *operands, equation):
    lhs, out_sub = equation.split("->")
    subs = lhs.split(",")
    grads = []
    for i, (t, sub) in enumerate(zip(operands, subs)):
        if not t.requires_grad:
            grads.append(None)
            continue
        unique = "".join(dict.fromkeys(sub))  # a repeated letter reads a diagonal
        shape = tuple(t._data.shape[sub.index(c)] for c in unique)
        others = [(s, o) for j, (s, o) in enumerate(zip(subs, operands)) if j != i]
        known = set(out_sub).union(*(set(s) for s, _ in others))
        target = "".join(c for c in unique if c in known)
        grad = apply(_einsum, g, *(o for _, o in others),
                     equation=",".join([out_sub] + [s for s, _ in others]) + "->" + target)
        grad = _to_operand(grad, target, unique, shape)
        grads.append(grad if unique == sub else _onto_diagonal(grad, unique, sub, equation, t))
    return tuple(grads)


def _onto_diagonal(grad: Tensor, unique: str, sub: str, equation: str, like: Tensor) -> Tensor:
    """The gradient over an operand's distinct letters put on the diagonals its repeated
    letters read (zeros elsewhere): an einsum with identity matrices."""
    spare = iter(c for c in _FREE if c not in equation)
    seen, letters, eyes = set(), [], []
    for c in sub:
        if c in seen:
            letters.append(next(spare))
            eyes.append(c + letters[-1])
        else:
            seen.add(c)
            letters.append(c)
    identities = [eye(like._data.shape[sub.index(pair[0])], dtype=like.dtype, device=like.device)
                  for pair in eyes]
    return apply(_einsum, grad, *identities,
                 equation=",".join([unique] + eyes) + "->" + "".join(letters))


def _to_operand(grad: Tensor, target: str, sub: str, shape: tuple) -> Tensor:
    """The gradient over ``target`` laid out as the operand (``sub``, ``shape``): letters only
    the operand has are broadcast back, and its broadcast size-1 dims summed."""
    grad = S.reshape(grad, tuple(grad._data.shape[target.index(c)] if c in target else 1
                                 for c in sub))
    summed = tuple(k for k, n in enumerate(shape) if n == 1 and grad._data.shape[k] != 1)
    if summed:
        grad = R.sum(grad, summed, keepdim=True)
    return S.expand(grad, *shape)


_einsum = primitive("einsum", lambda xp, *arrays, equation: xp.einsum(equation, *arrays),
                    _einsum_rule, batchable=False, jvp="multilinear",
                    formula="each operand's gradient is the einsum of the output's gradient "
                            "with the other operands", batch="einsum")


@declare(prim=_einsum)
def einsum(equation: str, *operands) -> Tensor:
    """``einsum("ij,jk->ik", a, b)``: products summed over the letters the output lacks."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    equation = _explicit(equation, operands)
    _check_sizes(equation, operands)
    return apply(_einsum, *operands, equation=equation)


def _check_sizes(equation: str, operands: tuple) -> None:
    """Each letter names one size across the operands (size 1 broadcasts), as torch checks."""
    seen = {}
    for i, (sub, t) in enumerate(zip(equation.split("->")[0].split(","), operands)):
        for c, n in zip(sub, t._data.shape):
            before = seen.get(c, 1)
            if n != 1 and before != 1 and n != before:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which "
                                   f"does not broadcast with previously seen size {before}")
            if n != 1:
                seen[c] = n


def _check_contracted(a: Tensor, b: Tensor, pairs: tuple) -> None:
    """torch's errors for tensordot's contracted dims: lists of one length, dims in range, equal
    sizes."""
    if len(pairs[0]) != len(pairs[1]):
        raise RuntimeError("both dimension lists should have same length")
    for i, j in zip(*pairs):
        size_a = a.shape[_wrap_dim(i, a.ndim, "tensordot")]
        size_b = b.shape[_wrap_dim(j, b.ndim, "tensordot")]
        if size_a != size_b:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {size_a} "
                               f"in dim {i} and second has size {size_b} in dim {j}")


@declare(out="exact")
def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Contract the last ``dims`` dims of ``a`` with the first of ``b`` (or the listed pairs)."""
    if a.dtype != b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        pairs = (list(range(-dims, 0)), list(range(dims)))
    else:
        pairs = tuple([d] if isinstance(d, int) else list(d) for d in dims)
    _check_contracted(a, b, pairs)
    left = list(_FREE[:a.ndim])
    right = list(_FREE[a.ndim:a.ndim + b.ndim])
    for i, j in zip(*pairs):
        right[j % b.ndim] = left[i % a.ndim]
    contracted = {left[i % a.ndim] for i in pairs[0]}
    out = [c for c in left if c not in contracted] + [c for c in right if c not in contracted]
    return einsum(f"{''.join(left)},{''.join(right)}->{''.join(out)}", a, b)
