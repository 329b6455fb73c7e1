"""The lecture's worked numbers (lecture 2: products and partial derivatives) as named tests."""
from __future__ import annotations

import ember


def test_dot_of_123_with_itself_is_14() -> None:
    v = ember.tensor([1, 2, 3])
    assert ember.dot(v, v).item() == 14


def test_outer_of_123_with_itself() -> None:
    v = ember.tensor([1, 2, 3])
    assert ember.outer(v, v).tolist() == [[1, 2, 3], [2, 4, 6], [3, 6, 9]]


def test_partials_of_cubic_in_two_variables_are_43_and_20() -> None:
    """y = x1^3 + x2^2 + 4 x1 x2 + 5 at (3, 4): dy/dx1 = 3 x1^2 + 4 x2, dy/dx2 = 2 x2 + 4 x1."""
    x1 = ember.tensor(3.0, requires_grad=True)
    x2 = ember.tensor(4.0, requires_grad=True)
    y = x1 ** 3 + x2 ** 2 + 4 * x1 * x2 + 5
    y.backward()
    assert x1.grad.item() == 43
    assert x2.grad.item() == 20


def test_derivative_of_quadratic_at_3_is_18() -> None:
    """y = 3 x^2 + 15 at x = 3: dy/dx = 6 x."""
    x = ember.tensor(3.0, requires_grad=True)
    y = 3 * x ** 2 + 15
    y.backward()
    assert x.grad.item() == 18


def test_partials_of_z_are_337_96_64_3() -> None:
    """z = 3 x^5 + 2 u^2 k x + l x + l at x=2, u=4, k=3, l=1."""
    x, u, k, l = (ember.tensor(v, requires_grad=True) for v in (2.0, 4.0, 3.0, 1.0))
    z = 3 * x ** 5 + 2 * u ** 2 * k * x + l * x + l
    z.backward()
    assert [t.grad.item() for t in (x, u, k, l)] == [337, 96, 64, 3]
