"""Derivatives of whole functions: vjp, jvp, jacobian, hessian, hvp, vhp (torch.autograd.functional).

All are built on ``autograd.grad``. A vjp is one backward sweep. A jvp is the double-vjp
construction: the backward ``u -> Jᵀu`` is linear in the cotangent ``u``, so differentiating
it with respect to ``u`` along ``v`` gives ``J v`` exactly (no finite differences). With
``vectorize=True`` a Jacobian is ONE backward sweep whose cotangents are the rows of the
identity, passed as a batch (``is_grads_batched=True``); without it, one sweep per output
element, as torch does.
"""
from __future__ import annotations

from typing import Callable

from ..creation import eye, zeros, zeros_like
from ..ops.methods import clone
from ..ops.shape import cat, permute, reshape
from ..tensor import Tensor
from . import grad as _grad
from .grad_mode import enable_grad, is_grad_enabled, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

_STRATEGIES = ("forward-mode", "reverse-mode")


# ---------------------------------------------------------------------------- tuples in, tuples out


def _as_tuple(value, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    """Whether ``value`` was a tuple, and it as a tuple of tensors (torch's TypeError otherwise)."""
    is_tuple = isinstance(value, tuple)
    items = value if is_tuple else (value,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f"the value at index {i}" if is_tuple else f"the given {arg_name}"
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                f"but {where} has type {type(item)}."
            )
    return is_tuple, items


def _unpack(result, to_unpack):
    """Undo ``_as_tuple``: one flag per nesting level (outputs, then inputs)."""
    if isinstance(to_unpack, tuple):
        outer, inner = to_unpack
        if not inner:
            result = tuple(r[0] for r in result)
        return result if outer else result[0]
    return result if to_unpack else result[0]


def _fresh_inputs(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """New tensor objects for the inputs, so the function's own captures are told apart.

    With ``create_graph`` an input that already needs grad stays connected (an identity op);
    otherwise it is detached and, if ``need_graph``, made a leaf that requires grad.
    """
    fresh = []
    for t in inputs:
        if create_graph and t.requires_grad:
            fresh.append(clone(t))
        else:
            fresh.append(t.detach().requires_grad_(need_graph))
    return tuple(fresh)


def _finish(tensors: tuple, create_graph: bool) -> tuple:
    """Results without history unless the caller asked for a differentiable result."""
    if create_graph:
        return tensors
    if tensors and isinstance(tensors[0], tuple):
        return tuple(_finish(t, create_graph) for t in tensors)
    return tuple(t.detach() for t in tensors)


def _validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    if len(v) != len(other):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.shape != el_other.shape:
            prefix = f"Entry {i} in " if is_other_tuple else ""
            raise RuntimeError(
                f"{prefix}v has invalid size: should be {el_other.shape} but got {el_v.shape}."
            )


def _prepare_v(v, reference: tuple, is_reference_tuple: bool, create_graph: bool,
               fn_name: str, missing: str) -> tuple | None:
    """``v`` as a checked tuple; None is only allowed when ``reference`` is one 1-element tensor."""
    if v is None:
        if len(reference) != 1 or reference[0].numel() != 1:
            raise RuntimeError(f"The vector v can only be None if {missing} a single Tensor "
                               "with a single element.")
        return None
    _, v = _as_tuple(v, "v", fn_name)
    v = _fresh_inputs(v, create_graph, need_graph=False)
    _validate_v(v, reference, is_reference_tuple)
    return v


# ---------------------------------------------------------------------------- strict-mode checks


def _check_outputs_require_grad(outputs: tuple, strict: bool) -> None:
    if not strict:
        return
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(
                f"Output {i} of the user-provided function does not require gradients. The outputs "
                "must be computed in a differentiable manner from the input when running in strict mode."
            )


def _check_grads_exist(grads: tuple, strict: bool, what: str) -> None:
    """In strict mode, refuse a None (independent) or constant gradient; ``what`` names the stage."""
    if not strict:
        return
    for i, g in enumerate(grads):
        if g is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. "
                               "This is not allowed in strict mode.")
        if not g.requires_grad:
            raise RuntimeError(
                f"The {what} of the user-provided function with respect to input {i} is independent "
                "of the input. This is not allowed in strict mode."
            )


def _fill_in_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool, stage: str,
                   subject: str | None = None) -> tuple:
    """Zeros where the function does not depend on an input; in strict mode, torch's errors
    (naming ``subject``, by default the ``stage`` of the function, as independent)."""
    subject = subject or f"The {stage} of the user-provided function"
    filled = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(f"{subject} is independent of input {i}. This is not allowed "
                                   f"in strict mode.")
            g = zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            raise RuntimeError(f"The {stage} of the user-provided function is independent of input "
                               f"{i}. This is not allowed in strict mode when create_graph=True.")
        filled.append(g)
    return tuple(filled)


# ---------------------------------------------------------------------------- grad helpers


def differentiable_grad(outputs: tuple, inputs: tuple, grad_outputs: tuple | None = None, *,
                        create_graph: bool = False, retain_graph: bool | None = None,
                        is_grads_batched: bool = False) -> tuple:
    """``autograd.grad`` over the outputs that need grad; None for every input if none do."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    kept = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not kept:
        return (None,) * len(inputs)
    outs, gos = zip(*kept)
    if all(g is None for g in gos):
        gos = None
    return _grad(outs, inputs, gos, retain_graph=retain_graph, create_graph=create_graph,
                 allow_unused=True, is_grads_batched=is_grads_batched)


def standard_basis(tensors: tuple) -> tuple:
    """The identity over all elements of ``tensors``, split into one batched cotangent per tensor.

    With ``n`` elements in total, the chunk for tensor ``t`` has shape ``(n, *t.shape)``; row ``k``
    of the chunks together is the ``k``-th unit vector.
    """
    sizes = [t.numel() for t in tensors]
    total = sum(sizes)
    chunks = []
    start = 0
    for t, size in zip(tensors, sizes):
        identity = eye(total, dtype=t.dtype, device=t.device)
        chunks.append(reshape(identity[:, start:start + size], (total,) + tuple(t.shape)))
        start += size
    return tuple(chunks)


def split_rows(batched: Tensor, tensors: tuple) -> list:
    """Split a ``(n, ...)`` batch along dim 0 into one part per tensor of ``tensors`` (by numel)."""
    parts = []
    start = 0
    for t in tensors:
        parts.append(batched[start:start + t.numel()])
        start += t.numel()
    return parts


def batched_zeros(rows: int, like: Tensor) -> Tensor:
    """Zeros of shape ``(rows, *like.shape)``: the Jacobian rows of an unused input."""
    return zeros((rows,) + tuple(like.shape), dtype=like.dtype, device=like.device)


def rows_last(rows: Tensor, rest_shape: tuple, lead_shape: tuple) -> Tensor:
    """A ``(n, *rest_shape)`` batch of tangents as a ``(*rest_shape, *lead_shape)`` Jacobian block."""
    k = len(rest_shape)
    moved = permute(rows, tuple(range(1, k + 1)) + (0,))
    return reshape(moved, tuple(rest_shape) + tuple(lead_shape))


def reverse_jacobian(outputs: tuple, inputs: tuple, create_graph: bool,
                     chunk_size: int | None = None) -> list:
    """``J[i][j]`` (output i, input j), from ONE backward sweep over batched cotangents.

    ``chunk_size`` bounds the batch: one sweep per ``chunk_size`` rows of the Jacobian.
    """
    basis = standard_basis(outputs)
    total = basis[0].shape[0]
    step = chunk_size or total or 1
    pieces = []
    for start in range(0, max(total, 1), step):
        part = tuple(b[start:start + step] for b in basis) if step < total else basis
        rows = part[0].shape[0]
        vj = differentiable_grad(outputs, inputs, part, create_graph=create_graph,
                                 retain_graph=True, is_grads_batched=True)
        pieces.append([g if g is not None else batched_zeros(rows, inp) for g, inp in zip(vj, inputs)])
    per_input = []
    for parts, inp in zip(zip(*pieces), inputs):
        blocks = split_rows(parts[0] if len(parts) == 1 else cat(list(parts), 0), outputs)
        per_input.append([reshape(b, tuple(o.shape) + tuple(inp.shape)) for b, o in zip(blocks, outputs)])
    return [list(row) for row in zip(*per_input)]


def forward_jacobian(outputs: tuple, inputs: tuple, create_graph: bool = False) -> list:
    """``J[i][j]`` by the double-vjp construction with batched tangents (forward-mode columns).

    ``g(u) = Jᵀu`` is built with ``create_graph``; its vjp with respect to ``u`` along the
    basis vectors of the inputs gives the Jacobian's columns ``J e_k`` in one batched sweep.
    """
    dummies = tuple(zeros_like(o, requires_grad=True) for o in outputs)
    with enable_grad():
        g = differentiable_grad(outputs, inputs, dummies, create_graph=True, retain_graph=True)
    basis = standard_basis(inputs)
    total = basis[0].shape[0]
    used = [(gi, b) for gi, b in zip(g, basis) if gi is not None]
    columns = (None,) * len(outputs)
    if used:
        gs, bs = zip(*used)
        columns = differentiable_grad(gs, dummies, bs, create_graph=create_graph,
                                      retain_graph=True, is_grads_batched=True)
    jac = []
    for col, out in zip(columns, outputs):
        rows = col if col is not None else batched_zeros(total, out)
        blocks = split_rows(rows, inputs)
        jac.append([rows_last(b, tuple(out.shape), tuple(inp.shape)) for b, inp in zip(blocks, inputs)])
    return jac


def _looped_jacobian(outputs: tuple, inputs: tuple, create_graph: bool, strict: bool) -> list:
    """``J[i][j]`` with one backward sweep per output element (``vectorize=False``, as torch)."""
    jac = []
    for i, out in enumerate(outputs):
        rows = [[] for _ in inputs]
        flat = reshape(out, (-1,))
        for k in range(out.numel()):
            vj = differentiable_grad((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
            vj = _fill_in_zeros(vj, inputs, strict, create_graph, "jacobian",
                                f"Output {i} of the user-provided function")
            for j, g in enumerate(vj):
                rows[j].append(reshape(g, (1, -1)))
        jac.append([_stack_rows(r, out, inp) for r, inp in zip(rows, inputs)])
    return jac


def _stack_rows(rows: list, out: Tensor, inp: Tensor) -> Tensor:
    shape = tuple(out.shape) + tuple(inp.shape)
    if not rows:
        return zeros(shape, dtype=inp.dtype, device=inp.device)
    return reshape(cat(rows, 0), shape)


# ---------------------------------------------------------------------------- public API


def vjp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``vᵀ J`` of ``func`` at ``inputs``, with ``func(inputs)``: one backward sweep.

    Args:
        func: takes the input tensor(s), returns a tensor or a tuple of tensors.
        inputs: a tensor or a tuple of tensors.
        v: cotangent shaped like the output(s); optional for a one-element output.
        create_graph: make the results differentiable.
        strict: raise if an output does not depend on an input (instead of giving zeros).
    Returns:
        ``(func_output, vjp)``, each a tensor or tuple as the output / inputs were.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _fresh_inputs(inputs, create_graph, need_graph=True)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "vjp")
        _check_outputs_require_grad(outputs, strict)
        v = _prepare_v(v, outputs, is_outputs_tuple, create_graph, "vjp",
                       "the user-provided function returns")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = differentiable_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "output")
    return (_unpack(_finish(outputs, create_graph), is_outputs_tuple),
            _unpack(_finish(result, create_graph), is_inputs_tuple))


def jvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``J v`` of ``func`` at ``inputs``, with ``func(inputs)``, by the double-vjp construction.

    Args and returns as ``vjp``, with ``v`` shaped like the inputs and the result like the outputs.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _fresh_inputs(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, "jvp",
                       "the input to the user-provided function is")
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jvp")
        _check_outputs_require_grad(outputs, strict)
        # The backward is linear in its cotangent, so its value is irrelevant: zeros will do.
        dummies = tuple(zeros_like(o, requires_grad=True) for o in outputs)
        grad_inputs = differentiable_grad(outputs, inputs, dummies, create_graph=True)
        _check_grads_exist(grad_inputs, strict, "gradient")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = differentiable_grad(grad_inputs, dummies, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, outputs, strict, create_graph, "jacobian")
    return (_unpack(_finish(outputs, create_graph), is_outputs_tuple),
            _unpack(_finish(result, create_graph), is_outputs_tuple))


def jacobian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: ``J[i][j]`` has shape ``out_i.shape + in_j.shape``.

    Args:
        func: takes the input tensor(s), returns a tensor or a tuple of tensors.
        inputs: a tensor or a tuple of tensors.
        create_graph: make the Jacobian differentiable (for Hessians and beyond).
        strict: raise if an output does not depend on an input (not with ``vectorize``).
        vectorize: one backward sweep over a batch of basis cotangents instead of one per row.
        strategy: ``"reverse-mode"`` (rows) or ``"forward-mode"`` (columns, double-vjp; needs
            ``vectorize=True``, as in torch).
    Returns:
        A tensor, a tuple over outputs or inputs, or a tuple of tuples when both are tuples.
    """
    if strategy not in _STRATEGIES:
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode", '
                         f'got {strategy!r}.')
    if strategy == "forward-mode" and create_graph:
        raise NotImplementedError('jacobian: `create_graph=True` and `strategy="forward-mode"` are not '
                                  'supported together (yet). Use `strategy="reverse-mode"`.')
    if strategy == "forward-mode" and strict:
        raise RuntimeError('jacobian: `strict=True` and `strategy="forward-mode"` are not supported '
                           'together (yet). Use `strict=False` or `strategy="reverse-mode"`.')
    if strategy == "forward-mode" and not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian "
                                  "is only implemented for `vectorize=True`.")
    if vectorize and strict:
        raise RuntimeError("jacobian: `strict=True` and `vectorized=True` are not supported together. "
                           "Please either set `strict=False` or `vectorize=False`.")
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _fresh_inputs(inputs, create_graph, need_graph=True)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                              "jacobian")
        _check_outputs_require_grad(outputs, strict)
        if strategy == "forward-mode":
            jac = forward_jacobian(outputs, inputs)
        elif vectorize:
            jac = reverse_jacobian(outputs, inputs, create_graph)
        else:
            jac = _looped_jacobian(outputs, inputs, create_graph, strict)
    jac = _finish(tuple(tuple(row) for row in jac), create_graph)
    return _unpack(jac, (is_outputs_tuple, is_inputs_tuple))


def hessian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar ``func``: the Jacobian of its gradient (``H[i][j]`` per input pair).

    Args as ``jacobian``; ``outer_jacobian_strategy`` picks the mode of the outer Jacobian.
    Returns:
        A tensor of shape ``in.shape + in.shape``, or a tuple of tuples for tuple inputs.
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in _STRATEGIES:
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_func(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_outputs_require_grad(t_out, strict)
        if is_out_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain "
                               "a single element")
        return reshape(out, ())

    def gradient(*inp):
        jac = jacobian(scalar_func, inp, create_graph=True)
        _check_grads_exist(jac, strict, "jacobian")
        return jac

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _unpack(result, (is_inputs_tuple, is_inputs_tuple))


def _scalar_output(func: Callable, inputs: tuple, strict: bool, fn_name: str) -> tuple:
    is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", fn_name)
    _check_outputs_require_grad(outputs, strict)
    if is_outputs_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a "
                           "single element")
    return outputs


def _scalar_start(func: Callable, inputs, v, create_graph: bool, strict: bool, fn_name: str) -> tuple:
    """Shared start of vhp/hvp (call under enable_grad): inputs, v, scalar output and its gradient."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _fresh_inputs(inputs, create_graph, need_graph=True)
    v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, fn_name,
                   "the input to the user-provided function is")
    outputs = _scalar_output(func, inputs, strict, fn_name)
    jac = differentiable_grad(outputs, inputs, create_graph=True)
    _check_grads_exist(jac, strict, "jacobian")
    return is_inputs_tuple, inputs, v, outputs, jac


def _second_order_result(outputs: tuple, grads_of: tuple, wrt: tuple, v: tuple, inputs: tuple,
                         is_inputs_tuple: bool, create_graph: bool, strict: bool) -> tuple:
    """Shared end of vhp/hvp: the vjp of ``grads_of`` w.r.t. ``wrt`` with ``v``, packed with the output."""
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = differentiable_grad(grads_of, wrt, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "hessian")
    return (_finish(outputs, create_graph)[0], _unpack(_finish(result, create_graph), is_inputs_tuple))


def vhp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``vᵀ H`` of a scalar ``func`` at ``inputs``, with ``func(inputs)``: two backward sweeps.

    Args and returns as ``vjp``, with ``v`` shaped like the inputs.
    """
    with enable_grad():
        is_inputs_tuple, inputs, v, outputs, jac = _scalar_start(func, inputs, v, create_graph, strict, "vhp")
    return _second_order_result(outputs, jac, inputs, v, inputs, is_inputs_tuple, create_graph, strict)


def hvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``H v`` of a scalar ``func`` at ``inputs``, with ``func(inputs)``: double-vjp over the gradient.

    Args and returns as ``vhp`` (equal to it for twice continuously differentiable ``func``).
    """
    with enable_grad():
        is_inputs_tuple, inputs, v, outputs, jac = _scalar_start(func, inputs, v, create_graph, strict, "hvp")
        dummies = tuple(zeros_like(t, requires_grad=True) for t in inputs)
        double_back = differentiable_grad(jac, inputs, dummies, create_graph=True)
        _check_grads_exist(double_back, strict, "hessian")
    return _second_order_result(outputs, double_back, dummies, v, inputs, is_inputs_tuple, create_graph,
                                strict)
