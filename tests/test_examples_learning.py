"""The lecture's models as shipped in examples/: the numbers the issue asks for."""
import os
import sys
import time

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
sys.path.insert(0, EXAMPLES)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == PNG_MAGIC


def test_linear_regression_recovers_w_and_b(tmp_path):
    import linear_regression

    r = linear_regression.main(str(tmp_path))
    for w, b in ((r["w"], r["b"]), (r["nn_w"], r["nn_b"])):
        assert abs(w - 3.0) < 0.05 and abs(b - 2.0) < 0.05, r
    assert r["loss"] < 0.012 and r["nn_loss"] < 0.012  # the noise floor is 0.1**2 = 0.01
    assert _is_png(r["png"]) and _is_png(r["loss_png"])


def test_cats_vs_dogs_both_losses_reach_97_percent():
    import cats_vs_dogs_digits

    r = cats_vs_dogs_digits.main()
    assert r["bce_accuracy"] >= 0.97, r
    assert r["logits_accuracy"] >= 0.97, r
    assert r["n_test"] >= 80


@pytest.mark.slow
def test_digits_mlp_reaches_96_percent_in_under_a_minute(tmp_path):
    import digits_mlp

    start = time.perf_counter()
    r = digits_mlp.main(str(tmp_path))
    elapsed = time.perf_counter() - start
    assert r["test_accuracy"] >= 0.96, r["history"]
    assert elapsed < 60, f"training took {elapsed:.1f} s"
    assert _is_png(r["png"])
