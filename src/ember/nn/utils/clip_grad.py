"""Gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_), in place under no_grad."""
from __future__ import annotations

from typing import Iterable

from ...autograd.grad_mode import no_grad
from ...ops import elementwise as E
from ...ops import reduce as R
from ...ops import shape as S
from ...tensor import Tensor
from ...creation import tensor


def _grads(parameters) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


@no_grad()
def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale all gradients together so their joint ``norm_type`` norm is at most ``max_norm``.

    Returns:
        The total norm of the gradients before clipping (a 0-d tensor), as torch does.
    """
    grads = _grads(parameters)
    if not grads:
        return tensor(0.0)
    norms = S.stack([R.norm(g, norm_type) for g in grads])
    total = R.amax(norms) if norm_type == float("inf") else R.norm(norms, norm_type)
    if error_if_nonfinite and not bool(E.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {float(norm_type)} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
            "by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    scale = E.clamp(E.div(max_norm, E.add(total, 1e-6)), max=1.0)
    for g in grads:
        g.mul_(E.cast(scale, g.dtype))
    return total


@no_grad()
def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]`` in place."""
    for g in _grads(parameters):
        g.clamp_(-clip_value, clip_value)
