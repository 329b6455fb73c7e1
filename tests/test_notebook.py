"""docs/lecture.ipynb: generated from the walkthrough's sections, up to date, and run end to end in a
real kernel (nbclient + ipykernel) with the lecture's numbers in its outputs."""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

import ember

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "lecture.ipynb"

for needed in ("nbformat", "nbclient", "ipykernel"):
    if importlib.util.find_spec(needed) is None:
        pytest.skip(f"needs {needed}: pip install nbformat nbclient ipykernel (in the dev extra)",
                    allow_module_level=True)

sys.path.insert(0, str(ROOT / "tools"))
import gen_notebook  # noqa: E402

import nbformat  # noqa: E402


def test_the_committed_notebook_is_the_generated_one():
    committed = nbformat.read(str(NOTEBOOK), as_version=4)
    fresh = gen_notebook.notebook()
    cells = lambda nb: [(c.cell_type, c.source) for c in nb.cells]
    assert cells(committed) == cells(fresh), "stale: run tools/gen_notebook.py --execute"
    nbformat.validate(committed)


def _outputs(nb) -> tuple:
    """All the text the cells showed (Markdown, HTML, plain), and how many images."""
    texts, images = [], 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", "".join(out.get("traceback", []))
            data = out.get("data", {})
            texts += [data[k] for k in ("text/markdown", "text/html", "text/plain") if k in data]
            texts.append(out.get("text", ""))
            images += "image/png" in data
    return "\n".join(texts), images


@pytest.mark.slow
def test_the_notebook_runs_end_to_end_with_the_lecture_numbers(tmp_path, monkeypatch):
    src = str(Path(ember.__file__).resolve().parents[1])  # the kernel imports this checkout's ember
    paths = [src] + [p for p in [os.environ.get("PYTHONPATH")] if p]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    monkeypatch.setenv("EMBER_DEMO_FAST", "1")
    nb = gen_notebook.execute(gen_notebook.notebook(), tmp_path)
    text, images = _outputs(nb)
    assert "✓ 43 and 20; 18; 337, 96, 64, 3 — the lecture's answers, exactly." in text
    assert "| ∂z/∂x | 15x⁴ + 2u²k + l | 337 | 337. |" in text
    assert "inner = tensor(14.)" in text
    assert text.count("<svg") >= 3          # the explanations show their graphs
    assert images >= 4                      # the PNGs, shown inline
    assert len(list((tmp_path / "demo-out").glob("*.png"))) >= 4
