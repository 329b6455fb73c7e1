"""L-BFGS: quasi-Newton steps from a short history of gradient differences, optionally with a
strong-Wolfe line search, evaluating the loss through a closure (torch.optim.LBFGS)."""
from __future__ import annotations

from typing import Callable, Iterable

from ..autograd.grad_mode import enable_grad, no_grad
from ..ops.shape import cat
from ..tensor import Tensor
from .optimizer import Optimizer


def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), kept within ``bounds``
    (the bracket if None); the bracket's middle when the cubic has no minimum."""
    low, high = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square < 0:
        return (low + high) / 2.0
    d2 = d2_square.sqrt() if isinstance(d2_square, Tensor) else d2_square ** 0.5
    if x1 <= x2:
        at = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        at = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(at, low), high)


class _Bracket:
    """The interval a line search narrows: step sizes, losses, gradients and slopes at both ends."""

    def __init__(self, ts: list, fs: list, gs: list, gtds: list) -> None:
        self.t, self.f, self.g, self.gtd = ts, fs, gs, gtds

    def ends(self) -> tuple:
        """(index of the lower-loss end, index of the other end)."""
        return (0, 1) if self.f[0] <= self.f[-1] else (1, 0)

    def set(self, i: int, t, f, g, gtd) -> None:
        self.t[i], self.f[i], self.g[i], self.gtd[i] = t, f, g, gtd


def _strong_wolfe(evaluate: Callable, t, d: Tensor, f, g: Tensor, gtd, c1: float = 1e-4,
                  c2: float = 0.9, tolerance_change: float = 1e-9, max_ls: int = 25):
    """A step ``t`` along ``d`` meeting the strong Wolfe conditions: bracket one, then zoom in.

    Returns (loss, flat gradient, t, number of evaluations).
    """
    d_norm = d.abs().max()
    g = g.clone()
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    found = False
    bracket = None
    iters = 0
    while iters < max_ls:  # bracketing phase
        if f_new > (f + c1 * t * gtd) or (iters > 1 and f_new >= f_prev):
            bracket = _Bracket([t_prev, t], [f_prev, f_new], [g_prev, g_new.clone()],
                               [gtd_prev, gtd_new])
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket = _Bracket([t], [f_new], [g_new], [gtd_new])
            found = True
            break
        if gtd_new >= 0:
            bracket = _Bracket([t_prev, t], [f_prev, f_new], [g_prev, g_new.clone()],
                               [gtd_prev, gtd_new])
            break
        low, high = t + 0.01 * (t - t_prev), t * 10
        t_prev, t = t, _cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(low, high))
        f_prev, g_prev, gtd_prev = f_new, g_new.clone(), gtd_new
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        iters += 1
    if iters == max_ls:
        bracket = _Bracket([0, t], [f, f_new], [g, g_new], [None, None])
    stuck = False
    lo, hi = bracket.ends()
    while not found and iters < max_ls:  # zoom phase
        if abs(bracket.t[1] - bracket.t[0]) * d_norm < tolerance_change:
            break
        t = _cubic_minimum(bracket.t[0], bracket.f[0], bracket.gtd[0],
                           bracket.t[1], bracket.f[1], bracket.gtd[1])
        t, stuck = _keep_away_from_ends(t, bracket.t, stuck)
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        iters += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket.f[lo]:
            bracket.set(hi, t, f_new, g_new.clone(), gtd_new)
            lo, hi = bracket.ends()
            continue
        if abs(gtd_new) <= -c2 * gtd:
            found = True
        elif gtd_new * (bracket.t[hi] - bracket.t[lo]) >= 0:
            bracket.set(hi, bracket.t[lo], bracket.f[lo], bracket.g[lo], bracket.gtd[lo])
        bracket.set(lo, t, f_new, g_new.clone(), gtd_new)
    return bracket.f[lo], bracket.g[lo], bracket.t[lo], evals


def _keep_away_from_ends(t, ts: list, stuck: bool) -> tuple:
    """Move a trial step that falls within 10% of the bracket's ends inwards (after one such
    step, or when it lies outside), as minFunc does; returns (t, whether progress was poor)."""
    top, bottom = max(ts), min(ts)
    eps = 0.1 * (top - bottom)
    if min(top - t, t - bottom) >= eps:
        return t, False
    if not (stuck or t >= top or t <= bottom):
        return t, True
    t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
    return t, False


class LBFGS(Optimizer):
    """torch.optim.LBFGS: each ``step(closure)`` runs up to ``max_iter`` quasi-Newton iterations.

    Args:
        params: the tensors to optimise (one group only, as torch).
        lr: step size (the initial step of the first iteration is scaled by the gradient's size).
        max_iter: iterations per ``step``.
        max_eval: closure evaluations per ``step`` (``max_iter * 1.25``).
        tolerance_grad: stop when the largest gradient entry is this small.
        tolerance_change: stop when the loss or the parameters change less than this.
        history_size: how many curvature pairs to remember.
        line_search_fn: None (fixed steps) or ``"strong_wolfe"``.
    """

    def __init__(self, params: Iterable, lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size,
                        line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _flat_grad(self) -> Tensor:
        """All gradients as one vector (zeros for a parameter without one)."""
        return cat([p.new_zeros(p.numel()) if p.grad is None else p.grad.reshape(-1)
                    for p in self._params], 0)

    def _add_grad(self, step_size, update: Tensor) -> None:
        """``params += step_size * update`` with ``update`` a flat vector."""
        offset = 0
        for p in self._params:
            n = p.numel()
            p.add_(update[offset:offset + n].view_as(p), alpha=step_size)
            offset += n

    def _evaluate_at(self, closure: Callable, x: list, t, d: Tensor) -> tuple:
        """Loss and flat gradient at ``x + t*d``; the parameters are put back to ``x`` after."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._flat_grad()
        for p, saved in zip(self._params, x):
            p.copy_(saved)
        return loss, flat_grad

    def _direction(self, state: dict, flat_grad: Tensor, d, t, group: dict) -> Tensor:
        """The next search direction: -H g by the two-loop recursion over the stored pairs."""
        y = flat_grad.sub(state["prev_flat_grad"])
        s = d.mul(t)
        ys = y.dot(s)
        if ys > 1e-10:
            if len(state["old_dirs"]) == group["history_size"]:
                for name in ("old_dirs", "old_stps", "ro"):
                    state[name].pop(0)
            state["old_dirs"].append(y)
            state["old_stps"].append(s)
            state["ro"].append(1.0 / ys)
            state["H_diag"] = ys / y.dot(y)
        dirs, steps, ro = state["old_dirs"], state["old_stps"], state["ro"]
        al = state.setdefault("al", [None] * group["history_size"])
        q = flat_grad.neg()
        for i in range(len(dirs) - 1, -1, -1):
            al[i] = steps[i].dot(q) * ro[i]
            q.add_(dirs[i], alpha=-al[i])
        r = q.mul(state["H_diag"])
        for i in range(len(dirs)):
            be_i = dirs[i].dot(r) * ro[i]
            r.add_(steps[i], alpha=al[i] - be_i)
        return r

    @no_grad()
    def step(self, closure: Callable):
        """Run the iterations; ``closure`` clears the gradients, computes the loss, calls
        backward and returns the loss. Returns the loss from the first evaluation."""
        group = self.param_groups[0]
        lr = group["lr"]
        tolerance_change = group["tolerance_change"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        closure = enable_grad()(closure)
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = closure()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if flat_grad.abs().max() <= group["tolerance_grad"]:
            return orig_loss
        d, t = state.get("d"), state.get("t")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = flat_grad.neg()
                state.update(old_dirs=[], old_stps=[], ro=[], H_diag=1)
            else:
                d = self._direction(state, flat_grad, d, t, group)
            if state.get("prev_flat_grad") is None:
                state["prev_flat_grad"] = flat_grad.clone()
            else:
                state["prev_flat_grad"].copy_(flat_grad)
            prev_loss = loss
            state["prev_loss"] = prev_loss
            t = min(1.0, 1.0 / flat_grad.abs().sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:
                break
            used = 0
            if group["line_search_fn"] is not None:
                if group["line_search_fn"] != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x = [p.clone() for p in self._params]
                loss, flat_grad, t, used = _strong_wolfe(
                    lambda step, x=x, d=d: self._evaluate_at(closure, x, step, d),
                    t, d, loss, flat_grad, gtd, max_ls=max_eval - evals)
                self._add_grad(t, d)
                optimal = flat_grad.abs().max() <= group["tolerance_grad"]
            else:
                self._add_grad(t, d)
                optimal = False
                if n_iter != max_iter:
                    loss = float(closure())
                    flat_grad = self._flat_grad()
                    optimal = flat_grad.abs().max() <= group["tolerance_grad"]
                    used = 1
            evals += used
            state["func_evals"] += used
            if n_iter == max_iter or evals >= max_eval or optimal:
                break
            if d.mul(t).abs().max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break
        state["d"], state["t"] = d, t
        return orig_loss
