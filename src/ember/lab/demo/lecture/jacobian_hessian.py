"""Section 7: the Jacobian (diagonal for an elementwise function) and the Hessian."""
from __future__ import annotations

import ember

from ..runner import Context


def _jacobian_general():
    def f(x):                                   # from ℝ³ to ℝ²: y₁ = x₁·x₂·x₃, y₂ = x₁² + x₂
        return ember.stack([x[0] * x[1] * x[2], x[0] ** 2 + x[1]])

    x = ember.tensor([1.0, 2.0, 3.0])
    J = ember.autograd.functional.jacobian(f, x)    # J[i, j] = ∂yᵢ/∂xⱼ, shape (m, n) = (2, 3)
    return J


def _jacobian_elementwise():
    x = ember.tensor([1.0, 2.0, 3.0])
    J = ember.autograd.functional.jacobian(lambda x: x ** 2, x)   # yᵢ = xᵢ², one xᵢ per yᵢ
    off_diagonal = J * (1 - ember.eye(3))                         # every ∂yᵢ/∂xⱼ with i ≠ j
    is_diagonal = off_diagonal.abs().sum().item() == 0
    return J, is_diagonal


def _hessian():
    def y(x):                                   # the notes' y = x₁³ + x₂² + 4x₁x₂ + 5
        return x[0] ** 3 + x[1] ** 2 + 4 * x[0] * x[1] + 5

    point = ember.tensor([3.0, 4.0])
    gradient = ember.autograd.functional.jacobian(y, point)   # (∂y/∂x₁, ∂y/∂x₂)
    H = ember.autograd.functional.hessian(y, point)           # H[i, j] = ∂²y/∂xᵢ∂xⱼ
    return gradient, H


def run(ctx: Context) -> dict:
    """A Jacobian, why an elementwise function's is diagonal, and a Hessian at the lecture's point."""
    w = ctx.writer
    w.say("The notes: for outputs {yᵢ}ᵢ₌₁ᵐ and inputs {xⱼ}ⱼ₌₁ⁿ the Jacobian collects every ∂yᵢ/∂xⱼ, "
          "an m×n matrix whose row i is the gradient of yᵢ.")
    general = ctx.run(_jacobian_general)
    w.values([("J", general)])
    w.say("For an elementwise function yᵢ depends on xᵢ alone, so ∂yᵢ/∂xⱼ = 0 whenever i ≠ j: "
          "the Jacobian is diagonal, and its diagonal (∂y₁/∂x₁, …, ∂yₙ/∂xₙ) — the row the notes "
          "write — is all there is. Backpropagation never builds it: it multiplies by it.")
    diagonal, is_diagonal = ctx.run(_jacobian_elementwise)
    w.values([("J", diagonal), ("is_diagonal", is_diagonal)])
    w.say("The Hessian holds the second derivatives ∂²y/∂xᵢ∂xⱼ; here of the notes' "
          "y = x₁³ + x₂² + 4x₁x₂ + 5 at (3, 4): [[6x₁, 4], [4, 2]].")
    gradient, hessian = ctx.run(_hessian)
    w.values([("gradient", gradient), ("H", hessian)])
    symmetric = (hessian - hessian.T).abs().sum().item() == 0
    ctx.check(gradient.tolist() == [43.0, 20.0] and symmetric,
            "the gradient is the lecture's (43, 20); the Hessian is symmetric, as second "
            "derivatives of a smooth function are.")
    return {"jacobian": general.tolist(), "elementwise_jacobian": diagonal.tolist(),
            "is_diagonal": is_diagonal, "gradient": gradient.tolist(), "hessian": hessian.tolist(),
            "hessian_symmetric": symmetric}
