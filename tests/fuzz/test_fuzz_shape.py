"""Fuzz movement ops against torch: good and bad shapes, dims, sizes and split points."""
from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

import ember
from fuzzlib import DTYPES, arrays, budget, check, dims, shapes, tensor_arrays

_int = st.integers(-5, 5)
_sizes = st.lists(st.integers(-2, 5), max_size=4).map(tuple)


@st.composite
def shape_calls(draw):
    """``(name, args)``: an op on a drawn tensor with drawn (often wrong) arguments."""
    x = draw(tensor_arrays())
    n = x.ndim
    d = dims(n, allow_none=False, allow_tuple=False)
    options = {
        "reshape": lambda: (draw(_sizes),),
        "flatten": lambda: (draw(d), draw(d)),
        "unflatten": lambda: (draw(d), draw(st.lists(st.integers(-1, 4), min_size=1, max_size=3))),
        "transpose": lambda: (draw(d), draw(d)),
        "permute": lambda: (tuple(draw(st.permutations(range(n)))) if draw(st.booleans())
                            else draw(dims(n, allow_none=False)),),
        "squeeze": lambda: () if draw(st.booleans()) else (draw(d),),
        "unsqueeze": lambda: (draw(st.integers(-n - 2, n + 1)),),
        "flip": lambda: (draw(dims(n, allow_none=False)),),
        "movedim": lambda: (draw(d), draw(d)),
        "narrow": lambda: (draw(d), draw(_int), draw(st.integers(-1, 4))),
        "split": lambda: (draw(st.one_of(st.integers(-1, 4), st.lists(st.integers(0, 4), max_size=3))),
                          draw(d)),
        "chunk": lambda: (draw(st.integers(-1, 5)), draw(d)),
        "repeat": lambda: (draw(st.lists(st.integers(-1, 3), max_size=5).map(tuple)),),
        "expand": lambda: (draw(_sizes),),
        "broadcast_to": lambda: (draw(_sizes),),
        "t": lambda: (),
        "tril": lambda: (draw(_int),),
        "triu": lambda: (draw(_int),),
        "unbind": lambda: (draw(d),),
        "ravel": lambda: (),
        "swapaxes": lambda: (draw(d), draw(d)),
    }
    name = draw(st.sampled_from(sorted(options)))
    return name, (x,) + options[name]()


@budget(450)
@given(call=shape_calls())
def test_shape_op(call):
    name, args = call
    if name in ("expand", "broadcast_to") and _torch_expand_bug(args[0], args[1]):
        return
    method = lambda t, *a: getattr(t, name)(*a)  # noqa: E731 - the Tensor method (torch has no torch.repeat)
    check(name, method, method, args)


def _torch_expand_bug(x, sizes) -> bool:
    """torch 2.13 accepts negative sizes in expand when the result is empty (expand(-2, 0))."""
    return (0 in sizes or not x.size) and min(sizes, default=0) < 0


@budget(200)
@given(name=st.sampled_from(["cat", "stack", "hstack", "vstack"]),
       shapes_=st.lists(shapes(0, 3), min_size=0, max_size=3),
       dtypes=st.lists(st.sampled_from(DTYPES), min_size=3, max_size=3), data=st.data())
def test_join(name, shapes_, dtypes, data):
    """Joining tensors of drawn (often mismatched) shapes and dtypes along a drawn dim."""
    parts = [data.draw(arrays(dt, s)) for s, dt in zip(shapes_, dtypes)]
    kwargs = {}
    if name in ("cat", "stack"):
        kwargs["dim"] = data.draw(st.integers(-4, 3))
    check(name, lambda ts, **kw: getattr(ember, name)(ts, **kw),
          lambda ts, **kw: getattr(torch, name)(ts, **kw), (parts,), kwargs)
