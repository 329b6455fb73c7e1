"""Check analytical gradients against central finite differences (torch.autograd.gradcheck).

The analytical Jacobian comes from the engine (one backward sweep per output element) and,
with ``check_forward_ad``, from forward mode (one dual-tensor sweep per input element); the
numerical one from ``(f(x + eps) - f(x - eps)) / 2eps``, one input element at a time, best in
float64. They must agree within ``atol + rtol * |numerical|``; on failure the error names the
output and input, the worst element pair, both values and the difference.
"""
from __future__ import annotations

import warnings
from typing import Callable

from .. import dtypes
from ..creation import randn
from ..generator import Generator
from ..ops.shape import reshape
from ..tensor import Tensor
from . import forward_ad
from . import grad as _grad
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """An analytical gradient disagrees with finite differences (torch's class of the same name)."""


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _differentiable(inputs: tuple) -> list:
    """Positions of the tensors that require grad; warns for non-float64 ones as torch does."""
    positions = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not positions:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none "
                         "of the them have requires_grad=True.")
    for i in positions:
        if inputs[i].dtype != dtypes.float64:
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point. "
                          "This check will likely fail if all the inputs are not of double precision "
                          "floating point.", UserWarning, stacklevel=3)
    return positions


def _float_outputs(func: Callable, inputs: tuple) -> tuple:
    return tuple(o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor) and o.is_floating_point())


def _flat_values(outputs: tuple) -> list:
    """Each output as a flat float64 NumPy-or-CuPy array (values only)."""
    return [o.detach()._data.astype("float64").reshape(-1) for o in outputs]


def _numerical(func: Callable, inputs: tuple, positions: list, eps: float) -> list:
    """``J[o][i]`` as arrays of shape ``(out_o.numel, in_i.numel)``, by central differences."""
    with no_grad():
        sizes = [v.size for v in _flat_values(_float_outputs(func, inputs))]
    jac = [[None] * len(positions) for _ in sizes]
    for col, i in enumerate(positions):
        x = inputs[i]._data
        xp = inputs[i].xp
        columns = []
        for k in range(x.size):
            idx = _index(k, x.shape)
            orig = x[idx].item()
            x[idx] = orig + eps
            with no_grad():
                plus = _flat_values(_float_outputs(func, inputs))
            x[idx] = orig - eps
            with no_grad():
                minus = _flat_values(_float_outputs(func, inputs))
            x[idx] = orig
            columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
        for o, size in enumerate(sizes):
            rows = [c[o] for c in columns]
            jac[o][col] = xp.stack(rows, axis=1) if rows else xp.zeros((size, 0))
    return jac


def _analytical(func: Callable, inputs: tuple, positions: list) -> list:
    """``J[o][i]`` from backward sweeps: row ``k`` is the gradient of output element ``k``."""
    with enable_grad():
        outputs = _float_outputs(func, inputs)
    diff = tuple(inputs[i] for i in positions)
    jac = []
    for out in outputs:
        xp = out.xp
        rows = [[] for _ in diff]
        for k in range(out.numel()):
            grads = (None,) * len(diff)
            if out.requires_grad:
                cot = Tensor._make(xp.zeros(out.numel(), dtype=out._data.dtype))
                cot._data[k] = 1
                grads = _grad(out, diff, reshape(cot, tuple(out.shape)), retain_graph=True, allow_unused=True)
            for r, g, x in zip(rows, grads, diff):
                r.append(xp.zeros(x.numel()) if g is None else g.detach()._data.astype("float64").reshape(-1))
        jac.append([xp.stack(r) if r else xp.zeros((0, x.numel())) for r, x in zip(rows, diff)])
    return jac


def _forward_analytical(func: Callable, inputs: tuple, positions: list) -> list:
    """``J[o][i]`` from forward sweeps: column ``k`` is the tangent of the outputs when input
    element ``k`` is seeded with 1 (``autograd.forward_ad``)."""
    with no_grad():
        sizes = [o.numel() for o in _float_outputs(func, inputs)]
    jac = [[None] * len(positions) for _ in sizes]
    for col, i in enumerate(positions):
        x = inputs[i]
        xp = x.xp
        columns = []
        for k in range(x.numel()):
            seed = Tensor._make(xp.zeros(x.numel(), dtype=x._data.dtype))
            seed._data[k] = 1
            with forward_ad.dual_level():
                duals = list(inputs)
                duals[i] = forward_ad.make_dual(x, reshape(seed, tuple(x.shape)))
                outputs = _float_outputs(func, tuple(duals))
                tangents = [forward_ad.unpack_dual(o).tangent for o in outputs]
            columns.append([xp.zeros(o.numel()) if t is None else
                            t.detach()._data.astype("float64").reshape(-1)
                            for t, o in zip(tangents, outputs)])
        for o, size in enumerate(sizes):
            parts = [c[o] for c in columns]
            jac[o][col] = xp.stack(parts, axis=1) if parts else xp.zeros((size, 0))
    return jac


def _index(flat_index: int, shape: tuple) -> tuple:
    """A flat element index as a multi-index into ``shape``."""
    idx = []
    for size in reversed(shape):
        idx.append(flat_index % size)
        flat_index //= size
    return tuple(reversed(idx))


def _mismatch(o: int, i: int, num, ana, out_shape: tuple, in_shape: tuple, atol: float, rtol: float) -> str:
    """The failure message: the worst element pair, both values, the difference, then both Jacobians."""
    diff = abs(num - ana) - (atol + rtol * abs(num))
    worst = int(diff.argmax())
    row, col = divmod(worst, num.shape[1])
    bad = int((diff > 0).sum())
    n, a = float(num[row, col]), float(ana[row, col])
    return (
        f"Jacobian mismatch for output {o} with respect to input {i}: at output element "
        f"{_index(row, out_shape)} and input element {_index(col, in_shape)} numerical = {n:.10g} but "
        f"analytical = {a:.10g} (difference {abs(n - a):.3g}, allowed {atol + rtol * abs(n):.3g} = "
        f"atol + rtol * |numerical|); {bad} of {num.size} entries disagree.\n"
        f"numerical:{_matrix(num)}\nanalytical:{_matrix(ana)}"
    )


_PRINT_LIMIT = 400


def _matrix(m) -> str:
    """A Jacobian as aligned rows (or just its shape when it is too big to read)."""
    if m.size > _PRINT_LIMIT:
        return f" ({m.shape[0]}x{m.shape[1]}, too large to print)"
    return "\n" + "\n".join("  " + " ".join(f"{v:>11.6g}" for v in row) for row in m.tolist())


def _fail(message: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(message)
    return False


def gradcheck(func: Callable, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False, masked: bool | None = None) -> bool:
    """Compare the engine's gradients of ``func`` at ``inputs`` with central finite differences.

    Args:
        func: takes the inputs, returns a tensor or a tuple of tensors.
        inputs: a tensor or a tuple; those with ``requires_grad`` are checked (use float64).
        eps: finite-difference step; atol, rtol: tolerances (``|a - n| <= atol + rtol |n|``).
        raise_exception: raise ``GradcheckError`` on a mismatch instead of returning False.
        nondet_tol: allowed difference between two backward passes (reentrancy check).
        check_grad_dtypes: also require each gradient to have its input's dtype.
        check_batched_grad: also compare one batched backward (``is_grads_batched``) with the loop.
        check_forward_ad: also compare forward mode's Jacobian (dual tensors) with the numbers.
        check_backward_ad: compare the engine's (reverse mode's) Jacobian (the default).
        check_batched_forward_grad: refused (it needs vmap over forward mode).
        check_undefined_grad, fast_mode, masked: accepted for torch compatibility; the full
            (slow-mode) check always runs.
    Returns:
        True when all Jacobians agree.
    """
    if check_batched_forward_grad:
        raise NotImplementedError("gradcheck: check_batched_forward_grad needs vmap over forward "
                                  "mode, which Ember's gradcheck does not run")
    inputs = _as_tuple(inputs)
    positions = _differentiable(inputs)
    if not (check_forward_ad or check_backward_ad):
        return True
    numerical = _numerical(func, inputs, positions, eps)
    with enable_grad():
        outputs = _float_outputs(func, inputs)
    if check_forward_ad:
        forward = _forward_analytical(func, inputs, positions)
        wrong = _first_mismatch(forward, numerical, outputs, inputs, positions, atol, rtol)
        if wrong:
            return _fail("While considering the forward AD (jvp) Jacobian: " + wrong,
                         raise_exception)
    if not check_backward_ad:
        return True
    analytical = _analytical(func, inputs, positions)
    again = _analytical(func, inputs, positions)
    for o in range(len(outputs)):
        for col, i in enumerate(positions):
            if not _close(analytical[o][col], again[o][col], nondet_tol, 0.0):
                return _fail(f"Backward is not reentrant for output {o} with respect to input {i}: two "
                             f"backward passes differ by more than nondet_tol={nondet_tol}.", raise_exception)
    wrong = _first_mismatch(analytical, numerical, outputs, inputs, positions, atol, rtol)
    if wrong:
        return _fail(wrong, raise_exception)
    if check_grad_dtypes and not _grad_dtypes_match(outputs, inputs, positions):
        return _fail("Gradient has dtype mismatch: a gradient's dtype differs from its input's.",
                     raise_exception)
    if check_batched_grad and not _batched_matches(func, inputs, positions, atol, rtol):
        return _fail("Batched grad mismatch: one backward over batched cotangents differs from one "
                     "backward per cotangent.", raise_exception)
    return True


def _first_mismatch(analytical: list, numerical: list, outputs: tuple, inputs: tuple,
                    positions: list, atol: float, rtol: float) -> str | None:
    """The message for the first Jacobian block that disagrees with the numbers (None if none)."""
    for o, out in enumerate(outputs):
        for col, i in enumerate(positions):
            num, ana = numerical[o][col], analytical[o][col]
            if not _close(ana, num, atol, rtol):
                return _mismatch(o, i, num, ana, tuple(out.shape), tuple(inputs[i].shape), atol, rtol)
    return None


def _close(a, b, atol: float, rtol: float) -> bool:
    return bool((abs(a - b) <= atol + rtol * abs(b)).all())


def _grad_dtypes_match(outputs: tuple, inputs: tuple, positions: list) -> bool:
    diff = tuple(inputs[i] for i in positions)
    for out in outputs:
        if not out.requires_grad:
            continue
        cot = Tensor._make(out.xp.ones(tuple(out.shape), dtype=out._data.dtype))
        grads = _grad(out, diff, cot, retain_graph=True, allow_unused=True)
        if any(g is not None and g.dtype != x.dtype for g, x in zip(grads, diff)):
            return False
    return True


def _batched_matches(func: Callable, inputs: tuple, positions: list, atol: float, rtol: float) -> bool:
    """One backward over a batch of random cotangents equals one backward per cotangent."""
    diff = tuple(inputs[i] for i in positions)
    gen = Generator().manual_seed(0)
    with enable_grad():
        outputs = tuple(o for o in _float_outputs(func, inputs) if o.requires_grad)
    if not outputs:
        return True
    cots = tuple(randn((3,) + tuple(o.shape), generator=gen, dtype=o.dtype, device=o.device) for o in outputs)
    batched = _grad(outputs, diff, cots, retain_graph=True, allow_unused=True, is_grads_batched=True)
    for b in range(3):
        single = _grad(outputs, diff, tuple(c[b] for c in cots), retain_graph=True, allow_unused=True)
        for s, g in zip(single, batched):
            if (s is None) != (g is None):
                return False
            if s is not None and not _close(g[b]._data, s._data, atol, rtol):
                return False
    return True


def gradgradcheck(func: Callable, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
                  check_grad_dtypes: bool = False, check_batched_grad: bool = False,
                  check_fwd_over_rev: bool = False, check_rev_over_rev: bool = True,
                  fast_mode: bool = False, masked: bool = False) -> bool:
    """Check second derivatives: ``gradcheck`` of the map ``(inputs, v) -> vᵀJ`` built with
    ``create_graph=True``. Random float64 cotangents ``v`` are drawn (seeded) unless given.

    Args and returns as ``gradcheck``; ``grad_outputs`` are the cotangents ``v`` to use.
    """
    inputs = _as_tuple(inputs)
    positions = _differentiable(inputs)
    if not (check_rev_over_rev or check_fwd_over_rev):
        return True
    with enable_grad():
        outputs = _float_outputs(func, inputs)
    if grad_outputs is None:
        gen = Generator().manual_seed(0)
        grad_outputs = tuple(randn(tuple(o.shape), generator=gen, dtype=o.dtype, device=o.device,
                                   requires_grad=True) for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def first_derivative(*args):
        ins, cots = args[:n_in], args[n_in:]
        diff = tuple(ins[i] for i in positions)
        with enable_grad():  # even when the finite differences run under no_grad
            outs = _float_outputs(func, ins)
            pairs = [(o, c) for o, c in zip(outs, cots) if o.requires_grad]
            if not pairs:
                return ()
            grads = _grad(tuple(o for o, _ in pairs), diff, tuple(c for _, c in pairs),
                          create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_grad_dtypes=check_grad_dtypes, check_batched_grad=check_batched_grad,
                     check_forward_ad=check_fwd_over_rev, check_backward_ad=check_rev_over_rev)
