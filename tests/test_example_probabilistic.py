"""examples/probabilistic_outputs.py: a classifier's output as a Categorical / Bernoulli."""
import os
import sys

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
sys.path.insert(0, EXAMPLES)


def test_classifier_outputs_as_distributions():
    import probabilistic_outputs

    r = probabilistic_outputs.main()
    d, b = r["digits"], r["binary"]
    assert abs(d["cross_entropy"] - d["nll"]) < 1e-5  # cross-entropy is -log_prob
    assert abs(b["bce"] - b["nll"]) < 1e-5
    assert d["accuracy"] > 0.93 and d["batch_shape"] == (450,)
    assert abs(d["sampled_accuracy"] - d["mean_true_prob"]) < 0.01  # 90000 draws
    assert d["entropy_wrong"] > 3 * d["entropy_right"]
    assert b["sampled_accuracy"] > 0.9
    text = r["text"]
    assert len(text) == 60 and set(text) <= set(probabilistic_outputs.TEXT)
