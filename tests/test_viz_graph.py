"""ember.viz.graph and Explanation.graph: the boxes say what autograd recorded, and the PNG and SVG
files are real pictures (decoded and parsed), from Graphviz's dot and from the matplotlib fallback."""
from __future__ import annotations

import io
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch

import ember
from ember.lab.explain import bar
from ember.viz import graph
from ember.viz.picture import Picture

ENGINES = ["matplotlib"] + (["dot"] if shutil.which("dot") else [])


def _torch_names(t) -> list:
    """torch's backward node names, each node once, leaves' AccumulateGrad left out."""
    names, seen, stack = [], set(), [t.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        if type(fn).__name__ != "AccumulateGrad":
            names.append(type(fn).__name__)
        stack += [f for f, _ in fn.next_functions]
    return sorted(names)


def _compute(lib, x, w):
    return ((x * w).exp() / 2 - x.tanh()).sum()


def _inputs(lib):
    x = lib.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], requires_grad=True)
    w = lib.tensor([1.0, -1.0, 0.5], requires_grad=True)
    return x, w


def _titles(picture: Picture, kind: str) -> list:
    return sorted(b.lines[0] for b in picture.boxes if b.kind == kind)


def test_one_box_per_recorded_op_named_as_torch_names_it():
    ex, ew = _inputs(ember)
    tx, tw = _inputs(torch)
    p = graph(_compute(ember, ex, ew), params={"x": ex, "w": ew})
    assert _titles(p, "op") == _torch_names(_compute(torch, tx, tw))
    assert _titles(p, "parameter") == ["w", "x"]
    assert _titles(p, "output") == ["output"]
    mul = next(b for b in p.boxes if b.lines[0] == "MulBackward0")
    assert mul.lines[1] == "(2, 3) float32"
    assert all(not a.dashed for a in p.arrows)


def test_values_saved_tensors_and_unnamed_leaves():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    p = graph(y, show_saved=True)
    boxes = {b.lines[0]: b for b in p.boxes}
    assert boxes["leaf"].lines == ["leaf", "(2,) float32", "[1., 2.]"]
    assert boxes["output"].lines[-1] == "5."
    saved = [b for b in p.boxes if b.kind == "saved"]
    assert {b.lines[0] for b in saved} >= {"saved input 0", "saved input 1"}
    assert sum(a.dashed for a in p.arrows) == len(saved)
    big = ember.ones(3, 4, requires_grad=True)
    hidden = graph(big.sum(), show_values=None)
    assert all(len(b.lines) == 2 for b in hidden.boxes if b.lines[0] == "leaf")  # 12 elements: no values
    shown = graph(big.sum(), show_values=True)
    assert any("1., 1., 1., 1." in line for b in shown.boxes for line in b.lines)
    assert all(len(b.lines) == 2 for b in graph(y, show_values=False).boxes)


def test_a_custom_functions_node_and_what_its_ctx_saved():
    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = ember.tensor([1.0, 2.0], requires_grad=True)
    p = graph(Square.apply(x).sum(), show_saved=True)
    assert _titles(p, "op") == ["SquareBackward", "SumBackward0"]  # torch: SquareBackward too
    saved = {b.lines[0]: b.lines[1:] for b in p.boxes if b.kind == "saved"}
    assert saved["saved tensor 0"] == ["(2,) float32", "[1., 2.]"]


def test_an_explanation_shows_its_graph_and_tables_in_a_notebook():
    page = ember.explain("x*y + x", x=2, y=3)._repr_html_()
    assert page.count("<svg") == 1 and "<table>" in page and "Reverse sweep" in page


def test_a_graph_freed_by_backward_still_draws():
    x = ember.tensor(2.0, requires_grad=True)
    y = x.exp() * 3
    y.backward()
    p = graph(y)
    assert _titles(p, "op") == ["ExpBackward0", "MulBackward0"]
    assert p.render("png")[:8] == b"\x89PNG\r\n\x1a\n"


def _check_png(data: bytes) -> np.ndarray:
    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=float)
    assert image.shape[0] > 50 and image.shape[1] > 50
    dark = (image < 128).mean()
    assert 0.005 < dark < 0.5, f"{dark:.3%} of the pixels are dark: blank or black"
    return image


def _check_svg(text: str, picture: Picture) -> None:
    root = ET.fromstring(text.encode("utf-8"))
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    assert {f"n_{b.id}" for b in picture.boxes} <= ids
    assert {a.id for a in picture.arrows} <= ids
    words = " ".join(t for el in root.iter() for t in (el.text or "").split())
    assert "MulBackward0" in words or "v1" in words


@pytest.mark.parametrize("engine", ENGINES)
def test_png_and_svg_files_are_pictures(tmp_path, engine):
    ex, ew = _inputs(ember)
    p = graph(_compute(ember, ex, ew), params={"x": ex, "w": ew}, engine=engine)
    assert p.renderer() == engine
    _check_png(p.save(tmp_path / "g.png").read_bytes())
    _check_svg(p.save(tmp_path / "g.svg").read_text(encoding="utf-8"), p)
    assert p._repr_png_()[:4] == b"\x89PNG"
    assert "<svg" in p._repr_svg_()
    with pytest.raises(ValueError, match="must end in .png or .svg"):
        p.save(tmp_path / "g.jpg")


@pytest.mark.parametrize("engine", ENGINES)
def test_explanation_graph_shows_values_adjoints_and_local_derivatives(engine):
    e = ember.explain(lambda x, u, k, l: 3 * x**5 + 2 * u**2 * k * x + l * x + l, x=2, u=4, k=3, l=1)
    p = e.graph(engine=engine)
    boxes = {b.id: b.lines for b in p.boxes}
    assert [boxes[n] for n in "xukl"] == [[f"{n} = {v}", f"{bar(n)} = {g}"]
                                          for n, v, g in zip("xukl", (2, 4, 3, 1), (337, 96, 64, 3))]
    assert boxes["v1"] == ["v1 = pow(x, 5)", "= 32", f"{bar('v1')} = 3"]
    labels = {(a.tail, a.head): a.label for a in p.arrows}
    assert labels[("x", "v1")] == "∂=80" and labels[("u", "v3")] == "∂=8"
    constants = [b for b in p.boxes if b.kind == "constant"]
    assert sorted(b.lines[0] for b in constants) == ["2", "2", "3", "5"]
    _check_png(p.render("png"))
    _check_svg(p.svg(), p)


def test_forward_mode_graph_shows_each_nodes_tangents_one_per_sweep():
    e = ember.explain("3*x**5 + 2*u**2*k*x + l*x + l", mode="forward", x=2, u=4, k=3, l=1)
    boxes = {b.id: b.lines for b in e.graph(engine="matplotlib").boxes}
    assert boxes["x"] == ["x = 2", "x\u0307 = [1, 0, 0, 0]"]
    assert boxes["v1"] == ["v1 = pow(x, 5)", "= 32", "v\u03071 = [80, 0, 0, 0]"]
    assert boxes["v10"][-1] == "v\u030710 = [337, 96, 64, 3]"  # the partials, one per sweep
    assert not any("\u0304" in line for lines in boxes.values() for line in lines)  # no adjoints


def test_auto_falls_back_to_matplotlib_without_dot(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert Picture().renderer() == "matplotlib"


def test_layout_places_boxes_apart_and_outputs_below_inputs():
    from ember.viz.layout import layout

    boxes = [(i, [f"box {i}"]) for i in "abcde"]
    arrows = [("a", "c"), ("b", "c"), ("c", "e"), ("a", "e"), ("d", "e")]
    placed, routes = layout(boxes, arrows)
    assert placed["a"].y < placed["c"].y < placed["e"].y
    for i in "abcde":
        for j in "abcde":
            if i < j and abs(placed[i].y - placed[j].y) < 1:
                assert abs(placed[i].x - placed[j].x) >= (placed[i].width + placed[j].width) / 2
    assert len(routes[3]) == 4  # a -> e bends through c's row


def test_edge_labels_do_not_cover_each_other_or_the_boxes():
    from ember.viz.layout import CHAR_WIDTH, LINE_HEIGHT, _overlap, _rect, layout, place_labels

    e = ember.explain(lambda x, u, k, l: 3 * x**5 + 2 * u**2 * k * x + l * x + l, x=2, u=4, k=3, l=1)
    p = e.graph(engine="matplotlib")
    placed, routes = layout([(b.id, b.lines) for b in p.boxes], [(a.tail, a.head) for a in p.arrows])
    labels = [a.label for a in p.arrows]
    spots = place_labels(routes, labels, placed)
    rects = [_rect(*spot, len(t) * CHAR_WIDTH, LINE_HEIGHT) for spot, t in zip(spots, labels) if t]
    boxes = [_rect(b.x, b.y, b.width, b.height) for b in placed.values()]
    assert len(rects) == sum(bool(t) for t in labels) == 16
    assert not any(_overlap(r, o) for i, r in enumerate(rects) for o in rects[i + 1:] + boxes)


def test_import_ember_loads_no_drawing_library():
    code = "import sys, ember; print([m for m in ('matplotlib', 'graphviz', 'PIL') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_tensor_and_check_rich_display():
    t = ember.tensor([[1.0, 2.5], [3.0, 4.0]])
    page = t._repr_html_()
    assert "<pre>tensor([[1.0000, 2.5000]," in page and "<td>2.5000</td>" in page
    assert "<table" not in ember.zeros(3)._repr_html_()
    assert "✗ wrong" in ember.check_derivative("x**2", "x", "x")._repr_html_()
