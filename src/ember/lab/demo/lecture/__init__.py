"""The lecture's topics in the order the notes take them: one module per section."""
from __future__ import annotations

from ..runner import Section
from . import (classification, devices, forward_reverse, gradient_descent, hand_check,
               jacobian_hessian, layouts, linear_model, partials, products)

SECTIONS: tuple[Section, ...] = (
    Section("products", "Inner and outer products", products.run),
    Section("layouts", "Image layouts and 2×2 pooling", layouts.run),
    Section("devices", "Devices and the NumPy bridge", devices.run),
    Section("linear-model", "The linear model ŷ = w·x + b and its data", linear_model.run),
    Section("gradient-descent", "Gradient descent", gradient_descent.run),
    Section("partials", "Partial derivatives at a point, step by step", partials.run),
    Section("jacobian-hessian", "The Jacobian and the Hessian", jacobian_hessian.run),
    Section("classification", "Classification: cats vs dogs", classification.run),
    Section("hand-check", "Checking a hand derivation", hand_check.run),
    Section("forward-reverse", "Forward vs reverse mode", forward_reverse.run),
)
