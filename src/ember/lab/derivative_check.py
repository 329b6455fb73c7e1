"""Check a hand derivation: is ``claimed`` the derivative of ``expr`` with respect to ``wrt``?

Both are strings in Ember's math language. The claim is compared with autograd's derivative
at many random points at once (each variable a vector of samples; every op is elementwise, so
one backward sweep gives the derivative at every sample) and at the given point. When the
claim is wrong, the verdict shows a point where it fails and the correct derivative: SymPy's
symbolic form when SymPy is installed, else autograd's value there.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from .. import dtypes
from ..autograd import grad as _grad
from ..autograd.grad_mode import enable_grad
from ..creation import rand, tensor
from ..generator import Generator
from .mathlang import Expression, MathError, UnknownNameError
from ..ops.shape import cat
from ..tensor import Tensor

SAMPLES = 64
RTOL = 1e-6
ATOL = 1e-9
MIN_VALID = 8
SEED = 0


@dataclass
class DerivativeCheck:
    """The verdict on one claimed derivative; ``bool()`` is whether it is right."""

    expression: str
    wrt: str
    claimed: str
    correct: bool
    points_checked: int
    counterexample: dict | None
    at_point: dict | None
    derivative: str | None

    def __bool__(self) -> bool:
        return self.correct

    def to_dict(self) -> dict:
        return dict(vars(self))

    def _repr_html_(self) -> str:
        """Jupyter's view: the verdict as it prints, green when right, red when wrong."""
        colour = "#1b7f2a" if self.correct else "#b3261e"
        return f"<pre style=\"color:{colour}\">{html.escape(str(self))}</pre>"

    def __str__(self) -> str:
        head = f"d/d{self.wrt} ({self.expression})"
        where = f"{self.points_checked} random points" + (" and at the given point" if self.at_point else "")
        if self.correct:
            lines = [f"✓ right: {head} = {self.claimed}", f"  (matches autograd at {where})"]
            return "\n".join(lines)
        lines = [f"✗ wrong: {head} is not {self.claimed}"]
        if self.derivative is not None:
            lines.append(f"  correct: {head} = {self.derivative}")
        bad = self.counterexample or self.at_point
        point = ", ".join(f"{k}={v:.6g}" for k, v in bad["point"].items())
        lines.append(f"  at {point}: claimed {bad['claimed']:.10g}, autograd {bad['autograd']:.10g}")
        lines.append(f"  (compared with autograd at {where})")
        return "\n".join(lines)


def check_derivative(expr: str, wrt: str, claimed: str, **point) -> DerivativeCheck:
    """Whether ``claimed`` is d(``expr``)/d(``wrt``), checked with autograd.

    Args:
        expr: the function, e.g. ``"(y - (W*x + b))**2"``.
        wrt: the variable to differentiate with respect to, e.g. ``"W"``.
        claimed: the derivative to check, e.g. ``"-2*(y - (W*x + b))*x"``.
        point: optionally a value for every variable, checked in addition to random points.
    Returns:
        A ``DerivativeCheck``: prints as a verdict; false when the claim is wrong.
    """
    f = _single(Expression(expr), "the expression")
    d = _single(Expression(claimed), "the claimed derivative")
    if wrt not in f.variables:
        raise UnknownNameError(f"{wrt!r} does not appear in the expression (its variables: "
                               f"{', '.join(f.variables) or 'none'})")
    stray = [v for v in d.variables if v not in f.variables]
    if stray:
        raise UnknownNameError(f"the claimed derivative uses {', '.join(stray)}, which the expression "
                               "does not")
    unknown = [v for v in point if v not in f.variables]
    if unknown:
        raise UnknownNameError(f"{', '.join(unknown)} is not a variable of the expression")
    at_point = _check_point(f, d, wrt, point) if point else None
    samples = _samples(f, d, wrt)
    counterexample = _first_mismatch(samples)
    correct = counterexample is None and (at_point is None or at_point["agrees"])
    return DerivativeCheck(f.source, wrt, d.source, correct, samples["n"], counterexample, at_point,
                           None if correct else _symbolic_derivative(f, wrt))


def _single(e: Expression, what: str) -> Expression:
    if e.n_outputs != 1:
        raise MathError(f"{what} must be one expression, not a tuple")
    return e


def _derivative(f: Expression, wrt: str, values: dict, strict: bool) -> tuple:
    """``f`` and ``df/dwrt`` at ``values`` (tensors of samples, or numbers), by autograd."""
    env = {k: v if isinstance(v, Tensor) else tensor(v, dtype=dtypes.float64) for k, v in values.items()}
    env[wrt] = env[wrt].detach().requires_grad_(True)
    with enable_grad():
        y = f.evaluate(env, strict=strict)
        if not y.requires_grad:
            return y, env[wrt] * 0
        (dy,) = _grad(y.sum(), env[wrt])
    return y.detach(), dy


def _check_point(f: Expression, d: Expression, wrt: str, point: dict) -> dict:
    missing = [v for v in f.variables if v not in point]
    if missing:
        raise MathError(f"the point needs a value for {', '.join(missing)} too")
    values = {k: _number(k, v) for k, v in point.items()}
    _, true = _derivative(f, wrt, values, strict=True)
    claim = d.evaluate(values).item()
    true = true.item()
    return {"point": values, "claimed": claim, "autograd": true, "agrees": _close(claim, true)}


def _number(name: str, value) -> float:
    """A point's value as a float, or a MathError naming the variable."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise MathError(f"the value of {name} must be a number, got {value!r}") from None


def _close(a: float, b: float) -> bool:
    """Equal within tolerance; the same infinity, or nan on both sides (both undefined), agree."""
    if a == b or (a != a and b != b):
        return True
    return abs(a - b) <= ATOL + RTOL * abs(b)


def _draw(names: tuple, low: float, high: float, gen: Generator) -> dict:
    return {n: rand(SAMPLES, generator=gen, dtype=dtypes.float64) * (high - low) + low for n in names}


def _samples(f: Expression, d: Expression, wrt: str) -> dict:
    """Derivative and claim at random points where both are defined: first in [-3, 3], then, if
    some were undefined there (e.g. log), also in [0.1, 3]."""
    gen = Generator().manual_seed(SEED)
    batches = [_draw(f.variables, -3.0, 3.0, gen)]
    result = _evaluate_samples(f, d, wrt, batches[0])
    if result["n"] < SAMPLES:
        batches.append(_draw(f.variables, 0.1, 3.0, gen))
        merged = {n: cat([b[n] for b in batches]) for n in f.variables}
        result = _evaluate_samples(f, d, wrt, merged)
    if result["n"] < MIN_VALID:
        raise MathError("could not find enough points where the expression and the claim are both defined")
    return result


def _evaluate_samples(f: Expression, d: Expression, wrt: str, values: dict) -> dict:
    y, true = _derivative(f, wrt, values, strict=False)
    claim = d.evaluate(values, strict=False) + true * 0  # broadcast a constant claim to every sample
    xp = true.xp
    ok = xp.isfinite(y._data) & xp.isfinite(true._data) & xp.isfinite(claim._data)
    return {"values": {n: v._data[ok] for n, v in values.items()}, "autograd": true._data[ok],
            "claimed": claim._data[ok], "n": int(ok.sum())}


def _first_mismatch(samples: dict) -> dict | None:
    true, claim = samples["autograd"], samples["claimed"]
    bad = abs(claim - true) > ATOL + RTOL * abs(true)
    if not bad.any():
        return None
    i = int(bad.argmax())
    point = {n: float(v[i]) for n, v in samples["values"].items()}
    return {"point": point, "claimed": float(claim[i]), "autograd": float(true[i])}


def _symbolic_derivative(f: Expression, wrt: str) -> str | None:
    """The correct derivative from SymPy (an optional extra); None without it."""
    try:
        import sympy
    except ImportError:
        return None
    return str(sympy.diff(f.to_sympy(), sympy.Symbol(wrt)))
