"""Section 6: partial derivatives at a point, with ember.explain's step-by-step tables."""
from __future__ import annotations

import inspect

import ember

from ..runner import Context


def y_of_x(x):
    return 3 * x**2 + 15


def y_of_x1_x2(x1, x2):
    return x1**3 + x2**2 + 4 * x1 * x2 + 5


def z(x, u, k, l):
    return 3 * x**5 + 2 * u**2 * k * x + l * x + l


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")

# Each function, its output's name, the point, and per input: the notes' formula and value there.
LECTURE = (
    (y_of_x, "y", {"x": 3.0}, (("x", "6x", 18),)),
    (y_of_x1_x2, "y", {"x1": 3.0, "x2": 4.0}, (("x1", "3x₁² + 4x₂", 43), ("x2", "2x₂ + 4x₁", 20))),
    (z, "z", {"x": 2.0, "u": 4.0, "k": 3.0, "l": 1.0},
     (("x", "15x⁴ + 2u²k + l", 337), ("u", "4ukx", 96), ("k", "2u²x", 64), ("l", "x + 1", 3))),
)


def _backward():
    x = ember.tensor(3.0, requires_grad=True)
    y = 3 * x**2 + 15
    y.backward()                      # dy/dx at x = 3 lands in x.grad
    return x.grad


def _explain(f, point):
    work = ember.explain(f, **point)  # the forward trace and the reverse sweep, step by step
    return work


def _pictures(work):
    graph = work.graph()              # each node with its value and adjoint, each edge its local derivative
    page = work.to_html()             # one HTML page that steps through both sweeps, node by node
    return graph, page


def run(ctx: Context) -> dict:
    """The lecture's three worked examples: Ember's answers, how it gets them, and the notes' values."""
    wr = ctx.writer
    wr.say("The notes work out three derivatives by hand. The torch way to get one is backward():")
    grad = ctx.run(_backward)
    wr.values([("x.grad", grad)])
    wr.say("ember.explain shows how reverse mode gets there: each intermediate value vᵢ of the "
           "forward pass, then each adjoint v̄ᵢ = ∂y/∂vᵢ of the reverse sweep with the local "
           "derivative it used, ending in the partial derivatives.")
    found = {}
    for f, out, point, notes in LECTURE:
        wr.code(inspect.getsource(f))
        work = ctx.run(_explain, f, point)
        wr.block(work)
        rows = []
        for name, formula, value in notes:
            ember_value = work.gradient[name]
            rows.append((f"∂{out}/∂{name.translate(_SUBSCRIPTS)}", formula, value, ember_value))
            found[(f.__name__, name)] = float(ember_value)
        wr.table(["derivative", "the notes", "notes' value", "Ember"], rows)
    wr.say("The same work for z as pictures: its graph, and a page to click through both sweeps.")
    graph, page = ctx.run(_pictures, work)
    png = graph.save(ctx.png("partials-z-graph"))
    wr.picture(png, "the graph of z at x = 2, u = 4, k = 3, l = 1: values, adjoints, local derivatives")
    html = ctx.out / "partials-z.html"
    html.write_text(page, encoding="utf-8")
    wr.say(f"The page is written to {html.name}, beside the PNGs: open it in a browser and press Next "
           "to watch the engine work.")
    exact = all(found[(f.__name__, name)] == value for f, _, _, notes in LECTURE for name, _, value in notes)
    ctx.check(exact, "43 and 20; 18; 337, 96, 64, 3 — the lecture's answers, exactly.")
    wr.slip("they expand ∂z/∂u = 4ukx as 4 × 4 × 3 × x/2. At x = 2 it is 4 × 4 × 3 × 2 = 96: "
            "the value 96 is right, the x/2 is not.")
    return {"backward": grad.item(), "y_of_x": found[("y_of_x", "x")],
            "y_of_x1_x2": [found[("y_of_x1_x2", n)] for n in ("x1", "x2")],
            "z": [found[("z", n)] for n in ("x", "u", "k", "l")]}
