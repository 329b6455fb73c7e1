"""The lecture walkthrough: every section runs (--fast), prints the lecture's numbers, writes real PNGs."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ember
from ember.lab.demo import run
from ember.lab.demo.lecture import SECTIONS
from ember.lab.demo.output import TerminalWriter, wants_colour
from ember.lab.demo.runner import cell_source

NAMES = [s.name for s in SECTIONS]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Run a section once (fast, no colour) and keep its printed text and its result."""
    out = tmp_path_factory.mktemp("demo-out")
    cache = {}

    def section(name: str) -> tuple[str, dict]:
        if name not in cache:
            stream = io.StringIO()
            results = run([name], out=out, fast=True, writer=TerminalWriter(stream, colour=False))
            cache[name] = (stream.getvalue(), results[name])
        return cache[name]

    return section


def _assert_real_png(path: Path) -> None:
    from PIL import Image

    assert path.exists(), path
    with Image.open(path) as image:
        assert image.format == "PNG"
        pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
    assert pixels.var() > 0, f"{path} is blank"


def _torch_elements(values: list) -> list[str]:
    """How torch prints each element of a float32 tensor of ``values``."""
    import torch

    body = repr(torch.tensor(values)).removeprefix("tensor([").removesuffix("])")
    return [v.strip() for v in body.split(",")]


def test_sections_are_in_lecture_order():
    assert NAMES == ["products", "layouts", "devices", "linear-model", "gradient-descent", "partials",
                     "jacobian-hessian", "classification", "hand-check", "forward-reverse"]


@pytest.mark.parametrize("name", NAMES)
def test_section_runs_and_its_pngs_are_real(demo, name):
    text, result = demo(name)
    section = next(s for s in SECTIONS if s.name == name)
    assert section.title in text
    assert all(ok for ok, _ in result["checks"]), result["checks"]
    assert "Traceback" not in text
    for path in result["files"]:
        _assert_real_png(path)
        assert str(path) in text


def test_products(demo):
    text, result = demo("products")
    assert result["inner"] == 14
    assert result["outer"] == [[1, 2, 3], [2, 4, 6], [3, 6, 9]]
    assert "inner = tensor(14.)" in text
    assert ("outer = tensor([[1., 2., 3.],\n"
            "                  [2., 4., 6.],\n"
            "                  [3., 6., 9.]])") in text
    assert "inner = v @ v" in text  # the code it runs is printed
    assert "Slip in the notes" in text and "outer product v·vᵀ" in text


def test_layouts(demo):
    text, result = demo("layouts")
    assert result["channel_last"] == (28, 28, 3)
    assert result["channel_first"] == (3, 28, 28)
    assert result["batch"] == (1, 3, 28, 28)
    assert result["pooled"] == (3, 14, 14)
    assert result["window_max_matches"]
    for shape in ("(28, 28, 3)", "(3, 28, 28)", "(1, 3, 28, 28)", "(1, 3, 14, 14)", "(3, 14, 14)"):
        assert shape in text
    assert "out.shape = ember.Size([3, 14, 14])" in text
    assert [p.name for p in result["files"]] == ["layouts.png"]


def test_devices(demo):
    text, result = demo("devices")
    expected = "cuda" if ember.cuda.is_available() else "cpu"
    assert result["device"] == expected
    assert f"Device used: {expected}" in text
    assert 'device = "cuda" if ember.cuda.is_available() else "cpu"' in text
    assert "array = x.cpu().detach().numpy()" in text
    assert result["numpy_shape"] == (2, 3)
    assert "detach" in result["refusal"]


def test_linear_model(demo):
    text, result = demo("linear-model")
    assert result["n"] == 200
    assert "ŷᵢ = w·xᵢ + b" in text
    assert "x.shape = ember.Size([200, 1])" in text


def test_gradient_descent(demo):
    text, result = demo("gradient-descent")
    assert abs(result["w"] - 3.0) < 0.05 and abs(result["b"] - 2.0) < 0.05
    assert result["losses"][-1] < result["losses"][0] / 100
    assert result["nn_w"] == pytest.approx(result["w"], rel=1e-5)  # optim.SGD does the same update
    assert result["nn_b"] == pytest.approx(result["b"], rel=1e-5)
    assert "w -= lr * w.grad" in text
    steps = len(result["losses"])
    shown = [result["losses"][s] for s in sorted(set(range(0, steps, steps // 10)) | {steps - 1})]
    for number in _torch_elements(shown):  # the loss column is printed as torch prints a tensor
        assert f"  {number}\n" in text
    assert sorted(p.name for p in result["files"]) == ["gradient-descent-fit.png",
                                                       "gradient-descent-loss.png"]


def test_partials(demo):
    text, result = demo("partials")
    assert result["backward"] == 18
    assert result["y_of_x"] == 18
    assert result["y_of_x1_x2"] == [43, 20]
    assert result["z"] == [337, 96, 64, 3]
    for row in ("∂y/∂x ", "∂y/∂x₁", "∂y/∂x₂", "∂z/∂x", "∂z/∂u", "∂z/∂k", "∂z/∂l"):
        assert row in text
    for value in ("18.", "43.", "20.", "337.", "96.", "64.", "3."):
        assert value in text
    assert "x/2" in text  # the notes' slip in ∂z/∂u is pointed out


def test_jacobian_hessian(demo):
    text, result = demo("jacobian-hessian")
    assert result["jacobian"] == [[6, 3, 2], [2, 1, 0]]
    assert result["elementwise_jacobian"] == [[2, 0, 0], [0, 4, 0], [0, 0, 6]]
    assert result["is_diagonal"]
    assert result["gradient"] == [43, 20]
    assert result["hessian"] == [[18, 4], [4, 2]]
    assert result["hessian_symmetric"]
    assert "gradient = tensor([43., 20.])" in text


def test_classification(demo):
    text, result = demo("classification")
    assert result["accuracy"] >= 0.95
    assert "stand in" in text and '3 is a "cat"' in text
    assert [p.name for p in result["files"]] == ["classification.png"]
    assert "├─Linear: 1-1" + " " * 28 + "[32, 16]" + " " * 18 + "1,040" + " " * 21 + "33,280" in text
    assert "Total params: 1,057" in text  # ember.summary of the classifier


def test_hand_check(demo):
    text, result = demo("hand-check")
    assert not result["notes_ok"]
    assert result["fixed_ok"]
    assert "−2(y − (Wx + b))·x" in text


def test_cell_source_shows_the_working_lines():
    def cell(a):
        """Not shown."""
        b = a + 1  # shown, comment and all
        return b

    assert cell_source(cell) == "b = a + 1  # shown, comment and all"


def _ember(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ember", "demo", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_list():
    done = _ember("--list")
    assert done.returncode == 0
    for s in SECTIONS:
        assert s.name in done.stdout and s.title in done.stdout


def test_unknown_section_exits_2_with_the_list():
    done = _ember("products", "no-such-section")
    assert done.returncode == 2
    assert "no-such-section" in done.stderr
    for name in NAMES:
        assert name in done.stderr
    assert done.stdout == ""  # nothing ran


def test_console_script_and_summary(tmp_path):
    script = Path(sys.executable).with_name("ember")
    if not script.exists():
        pytest.skip("the ember console script is not installed in this environment")
    done = subprocess.run([str(script), "demo", "layouts", "--out", str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"PNG is in {tmp_path.resolve()}/: layouts.png" in " ".join(done.stdout.split())
    _assert_real_png(tmp_path / "layouts.png")


class _FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_tty_and_never_with_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert wants_colour(_FakeTTY())
    assert not wants_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not wants_colour(_FakeTTY())


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("no_color", [False, True])
def test_no_color_respected_on_a_real_terminal(no_color):
    import pty

    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if no_color:
        env["NO_COLOR"] = "1"
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "ember", "demo", "products"], stdout=follower,
                            stderr=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closes when the process exits
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=120) == 0
    output = b"".join(chunks).decode()
    assert "tensor(14.)" in output
    assert ("\x1b[" in output) is not no_color


def test_gen_docs_writes_a_page_from_the_section(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
    try:
        import gen_docs
    finally:
        sys.path.pop(0)
    assert gen_docs.main(["products", "--out", str(tmp_path)]) == 0
    page = (tmp_path / "01-products.md").read_text(encoding="utf-8")
    assert "```python\nv = ember.tensor([1.0, 2.0, 3.0])" in page
    assert "inner = tensor(14.)" in page
    assert "Slip in the notes" in page
    assert "01-products.md" in (tmp_path / "README.md").read_text(encoding="utf-8")


def test_readme_quickstart_runs_and_prints_what_it_says(capsys):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quickstart", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert len(block.strip().splitlines()) <= 12
    ember.manual_seed(0)
    exec(compile(block, "README.md quickstart", "exec"), {})
    printed = capsys.readouterr().out
    assert printed == "tensor(18.)\ntensor([[3.0000]]) tensor([2.0000])\n"


def test_missing_extra_is_one_clear_line(monkeypatch, capsys, tmp_path):
    from ember.__main__ import main

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if matplotlib were not installed
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "layouts", "--out", str(tmp_path)])
    assert exit_.value.code == 1
    assert 'pip install "ember[extras]"' in capsys.readouterr().err
