"""``vmap``: a function of one sample made a function of a batch (torch.func.vmap).

Each call opens a vmap level; the mapped arguments become ``BatchedTensor``s of that level and
every primitive they reach runs its batching rule on the whole batch at once
(``ops/batching.py``). The outputs leave the level with their batch dim at ``out_dims``.
"""
from __future__ import annotations

import functools
from typing import Callable

from ..autograd.vmap_state import vmap_level
from ..ops import index as I, shape as S
from ..ops.batching import BatchedTensor, unwrap, wrap
from ..tensor import Tensor
from .pytree import broadcast_to_and_flatten, describe, tree_flatten, tree_unflatten

_RANDOMNESS = ("error", "different", "same")


def _name(func) -> str:
    return getattr(func, "__name__", repr(func))


def _check_in_dims(func, in_dims, args: tuple) -> tuple[int, list, list, object]:
    """The batch size, one in_dim per leaf of ``args``, the leaves and the structure (torch's checks)."""
    name = _name(func)
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be "
                         "int or a (potentially nested) tuple matching the structure of inputs, got: "
                         f"{type(in_dims)}.")
    if not args:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or "
                         "you are trying to vmap over a function with no inputs. The latter is "
                         "unsupported.")
    leaves, spec = tree_flatten(args)
    dims = broadcast_to_and_flatten(in_dims, spec)
    if dims is None:
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible "
                         f"with the structure of `inputs`. in_dims has structure "
                         f"{describe(tree_flatten(in_dims)[1])} but inputs has structure "
                         f"{describe(spec)}.")
    for i, (arg, d) in enumerate(zip(leaves, dims)):
        if d is not None and (not isinstance(d, int) or isinstance(d, bool)):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an "
                             "input but in_dim must be either an integer dimension or None.")
        if d is not None and not isinstance(arg, Tensor):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an "
                             f"input but the input is of type {type(arg)}. We cannot vmap over "
                             "non-Tensor arguments, please use None as the respective in_dim")
        if d is not None and not -arg.dim() <= d < arg.dim():
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some "
                             f"input, but that input is a Tensor of dimensionality {arg.dim()} so "
                             f"expected in_dim to satisfy -{arg.dim()} <= in_dim < {arg.dim()}.")
        if d is not None:
            dims[i] = d % arg.dim()
    sizes = [arg.shape[d] for arg, d in zip(leaves, dims) if d is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped dimension, "
                         f"got sizes {sizes} for the mapped dimension")
    return sizes[0], dims, leaves, spec


def _out_dims(func, out_dims, outputs) -> tuple[list, list, object]:
    name = _name(func)
    leaves, spec = tree_flatten(outputs)

    def incompatible():
        return ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not "
                          "compatible with the structure of `outputs`. out_dims has structure "
                          f"{describe(tree_flatten(out_dims)[1])} but outputs has structure "
                          f"{describe(spec)}.")

    if isinstance(outputs, Tensor):
        if isinstance(out_dims, tuple) and len(out_dims) == 1:
            dims = list(out_dims)
        elif isinstance(out_dims, int) or out_dims is None:
            dims = [out_dims]
        else:
            raise incompatible()
    else:
        dims = broadcast_to_and_flatten(out_dims, spec)
        if dims is None:
            raise incompatible()
    for d in dims:
        if d is not None and not isinstance(d, int):
            raise ValueError(f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an int, None "
                             "or a python collection of ints representing where in the outputs the "
                             f"vmapped dimension should appear.")
    return leaves, dims, spec


def _remove_batch_dim(func, out, level: int, size: int, out_dim) -> Tensor:
    name = _name(func)
    if out_dim is None:
        if isinstance(out, Tensor) and unwrap(out, level) is not None:
            raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when "
                             "out_dim is None")
        return out
    if not isinstance(out, Tensor):
        raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                         f"{type(out)}. Did you mean to set out_dims= to None for output?")
    value = unwrap(out, level)
    if value is None:  # the same for every sample: expanded (a view), as torch
        value = S.expand(S.unsqueeze(out, 0), (size,) + tuple(out.shape))
    rank = value.dim()
    if not -rank <= out_dim < rank:
        raise IndexError(f"vmap({name}, ...): Dimension out of range (expected to be in range of "
                         f"[{-rank}, {rank - 1}], but got {out_dim})")
    return S.movedim(value, 0, out_dim) if out_dim % rank else value


def _run(func, size: int, dims: list, leaves: list, spec, out_dims, randomness: str, kwargs):
    with vmap_level(size, randomness) as level:
        batched = [a if d is None else wrap(S.movedim(a, d, 0) if d else a, level)
                   for a, d in zip(leaves, dims)]
        outputs = func(*tree_unflatten(batched, spec), **kwargs)
        outs, odims, ospec = _out_dims(func, out_dims, outputs)
        flat = [_remove_batch_dim(func, o, level, size, d) for o, d in zip(outs, odims)]
    return flat, odims, ospec


def vmap(func: Callable, in_dims=0, out_dims=0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """``func`` mapped over a dimension of its inputs, batched through every op (torch.func.vmap).

    Args:
        func: a function of tensors (in tuples, lists, dicts), returning tensors.
        in_dims: the mapped dim of each input (int, None for unmapped, or a tree matching the args).
        out_dims: where the mapped dim goes in each output (int, None, or a tree).
        randomness: ``"error"`` (random ops refuse), ``"different"`` (each sample draws its own)
            or ``"same"`` (one draw shared by the batch).
        chunk_size: map at most this many samples at a time (bounds memory); results concatenated.
    """
    if randomness not in _RANDOMNESS:
        raise RuntimeError("Only allowed values for randomness are 'error', 'different', or 'same'. "
                           f"Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        size, dims, leaves, spec = _check_in_dims(func, in_dims, args)
        if chunk_size is None or chunk_size >= size:
            flat, _, ospec = _run(func, size, dims, leaves, spec, out_dims, randomness, kwargs)
            return tree_unflatten(flat, ospec)
        pieces = []
        for start in range(0, size, chunk_size):
            part = [a if d is None else I.narrow(a, d, start, min(chunk_size, size - start))
                    for a, d in zip(leaves, dims)]
            n = min(chunk_size, size - start)
            pieces.append(_run(func, n, dims, part, spec, out_dims, randomness, kwargs))
        _, odims, ospec = pieces[0]
        flat = [parts[0] if d is None else S.cat(list(parts), d)
                for parts, d in zip(zip(*(p[0] for p in pieces)), odims)]
        return tree_unflatten(flat, ospec)

    return wrapped


def is_batched(t) -> bool:
    """Whether ``t`` is a tensor batched by an active vmap."""
    return isinstance(t, BatchedTensor)
