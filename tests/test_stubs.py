"""The checked-in Tensor stub (src/ember/tensor.pyi) lists every method the declarations install."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import gen_stubs  # noqa: E402

import ember  # noqa: E402


def test_the_tensor_stub_is_current() -> None:
    assert gen_stubs.STUB.read_text(encoding="utf-8") == gen_stubs.stub_text(), \
        "run tools/gen_stubs.py"


def test_the_stub_names_every_public_tensor_method() -> None:
    text = gen_stubs.STUB.read_text(encoding="utf-8")
    for name in dir(ember.Tensor):
        if not name.startswith("_"):
            assert f"def {name}(" in text or f"    {name}: Any" in text, name
