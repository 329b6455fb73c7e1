"""examples/char_lm.py: a short run of each model learns (the loss falls well below a uniform
guess) and writes a sample drawn from the text's characters."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))


@pytest.mark.parametrize("model", ["lstm", "transformer"])
def test_char_lm_short_run_learns(model):
    import char_lm

    r = char_lm.main(model, steps=30, seq=24, batch=12, lr=1e-2, progress=False, small=True)
    # the corpus is Ember's own README and notes, which change with every commit: a margin
    assert r["first_loss"] > r["uniform_loss"] - 0.75
    assert r["last_loss"] < r["first_loss"] - 0.8, (r["first_loss"], r["last_loss"])
    text = char_lm.corpus()
    assert r["sample"].startswith("The gradient ") and len(r["sample"]) == len("The gradient ") + 200
    assert set(r["sample"]) <= set(text)


def test_char_lm_refuses_an_unknown_model():
    import char_lm

    with pytest.raises(ValueError, match="--model must be 'lstm' or 'transformer'"):
        char_lm.main("gru", steps=1, progress=False)
