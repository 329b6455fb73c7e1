"""The batching-rule check: each op sample run under ``ember.func.vmap`` against ``torch.func.vmap``.

Every tensor argument gets a batch of three: itself and two permutations of its elements (the
same values, so each stays in the op's domain and every index stays valid). Two mappings are
checked: every positional tensor batched, and only the first. A primitive that falls back to
the per-sample loop must be one ``ops/batching.py`` lists in ``LOOPED`` (or an index batched
by vmap, ``LOOPED_INDEXING``).
"""
from __future__ import annotations

import warnings
import zlib

import numpy as np
import torch

import ember
from ember.ops.batching import LOOPED, LOOPED_INDEXING
from harness import assert_close, flatten, map_arrays

BATCH = 3


def _batched(rng, sample):
    """The sample's positional arrays given a leading batch dim (kwargs stay unbatched)."""

    def stack(a):
        flat = a.reshape(-1)
        return np.stack([a] + [rng.permutation(flat).reshape(a.shape) for _ in range(BATCH - 1)])

    args, kwargs = sample
    return map_arrays(args, stack), kwargs


def _in_dims(args, only_first: bool):
    """0 for each array leaf of ``args`` (only the first, with ``only_first``), None elsewhere."""
    seen = []

    def dims(obj):
        if isinstance(obj, np.ndarray):
            seen.append(obj)
            return 0 if not only_first or len(seen) == 1 else None
        if isinstance(obj, (tuple, list)):
            return type(obj)(dims(o) for o in obj) if isinstance(obj, list) else tuple(dims(o) for o in obj)
        if isinstance(obj, dict):
            return {k: dims(v) for k, v in obj.items()}
        return None

    return tuple(dims(a) for a in args), len(seen)


def _unbatch_unmapped(args, in_dims):
    """Arrays not mapped keep only their first batch row (the original sample's)."""
    if isinstance(args, np.ndarray):
        return args if in_dims == 0 else args[0, ...]
    if isinstance(args, (tuple, list)):
        parts = [_unbatch_unmapped(a, d) for a, d in zip(args, in_dims)]
        return type(args)(parts) if isinstance(args, list) else tuple(parts)
    if isinstance(args, dict):
        return {k: _unbatch_unmapped(v, in_dims[k]) for k, v in args.items()}
    return args


def check_vmap(info, sample, dtype: str) -> int:
    """Compare the op under both vmaps for both mappings; returns how many mappings torch ran."""
    rng = np.random.default_rng(zlib.crc32(info.name.encode()))
    args, kwargs = _batched(rng, sample)
    ran = 0
    for only_first in (False, True):
        in_dims, n = _in_dims(args, only_first)
        if not n or (only_first and n == 1):
            continue
        call_args = _unbatch_unmapped(args, in_dims)
        t_args, t_kwargs = map_arrays((call_args, kwargs), torch.tensor)
        try:
            want = flatten(torch.func.vmap(lambda *a: info.ref(torch, *a, **t_kwargs), in_dims)(*t_args))
        except Exception:  # torch has no vmap for this sample (data-dependent shapes, .item())
            continue
        e_args, e_kwargs = map_arrays((call_args, kwargs), ember.tensor)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = flatten(ember.func.vmap(lambda *a: info.fn(*a, **e_kwargs), in_dims)(*e_args))
        looped = {str(w.message).split("batching rule for ")[1].split(".")[0]
                  for w in caught if "performance drop" in str(w.message)}
        allowed = set(LOOPED) | set(LOOPED_INDEXING)
        assert looped <= allowed, f"{info.name}: looped over the batch for {looped - allowed}"
        assert len(got) == len(want), f"{info.name}: {len(got)} outputs under vmap, torch {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            assert_close(g, w, dtype, f"{info.name} under vmap (only first mapped: {only_first}) "
                                      f"output {i}", info.tol.get(dtype))
        ran += 1
    return ran
