"""A classifier's output read as a probability distribution, and sampled from.

A softmax classifier's logits define a ``Categorical`` distribution over the classes, and a
binary classifier's single logit a ``Bernoulli``. Seen that way:

- cross-entropy is the negative ``log_prob`` of the true labels (the same number);
- the distribution's ``entropy`` says how unsure the model is about each input;
- ``sample`` draws labels the way the model believes they fall, so the share of sampled labels
  that are right is (up to sampling noise) the mean probability the model gives the truth;
- a bigram character model samples text one character at a time with ``ember.multinomial``.

    python examples/probabilistic_outputs.py
"""
from __future__ import annotations

import ember
import ember.nn.functional as F
from ember import nn
from ember.lab import datasets
from ember.distributions import Bernoulli, Categorical

TEXT = ("the quick brown fox jumps over the lazy dog. a stitch in time saves nine. "
        "the early bird catches the worm. where there is a will there is a way. ")


def train(model: nn.Module, x, y, loss_fn, steps: int = 100, lr: float = 0.05) -> None:
    """Full-batch Adam on (x, y)."""
    opt = ember.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()


def digits_as_categorical() -> dict:
    """Ten digits: logits -> Categorical; log_prob, entropy, and sampled labels."""
    train_set, test_set = datasets.digits(test_size=0.25, seed=0)
    x, y = train_set.tensors
    x_test, y_test = test_set.tensors
    model = nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10))
    train(model, x, y, F.cross_entropy)
    with ember.no_grad():
        belief = Categorical(logits=model(x_test))
        nll = -belief.log_prob(y_test).mean()
        entropy = belief.entropy()
        draws = belief.sample((200,))  # 200 guesses per test image
    predicted = belief.probs.argmax(-1)
    return {
        "cross_entropy": float(F.cross_entropy(model(x_test), y_test)),
        "nll": float(nll),
        "accuracy": float((predicted == y_test).float().mean()),
        "sampled_accuracy": float((draws == y_test).float().mean()),
        "mean_true_prob": float(belief.probs.gather(1, y_test.unsqueeze(1)).mean()),
        "entropy_right": float(entropy[predicted == y_test].mean()),
        "entropy_wrong": float(entropy[predicted != y_test].mean()),
        "batch_shape": tuple(belief.batch_shape),
    }


def zeros_vs_ones_as_bernoulli() -> dict:
    """Two digits: one logit -> Bernoulli; its log_prob is minus the binary cross-entropy."""
    train_set, test_set = datasets.digits(test_size=0.25, seed=0, classes=(0, 1))
    x, y = train_set.tensors
    x_test, y_test = test_set.tensors
    model = nn.Linear(64, 1)
    train(model, x, y.float(), lambda out, t: F.binary_cross_entropy_with_logits(out[:, 0], t),
          steps=30)
    with ember.no_grad():
        logits = model(x_test)[:, 0]
        belief = Bernoulli(logits=logits)
        bce = F.binary_cross_entropy_with_logits(logits, y_test.float())
        coin = belief.sample((100,))
    return {"bce": float(bce), "nll": float(-belief.log_prob(y_test.float()).mean()),
            "sampled_accuracy": float((coin == y_test.float()).float().mean())}


def bigram_text(gen: ember.Generator, length: int = 60) -> str:
    """Count character bigrams in TEXT, then sample new text one character at a time."""
    chars = sorted(set(TEXT))
    index = {c: i for i, c in enumerate(chars)}
    counts = ember.zeros(len(chars), len(chars))
    for a, b in zip(TEXT, TEXT[1:]):
        counts[index[a], index[b]] += 1
    out = [index["t"]]
    for _ in range(length - 1):
        row = counts[out[-1]] + 0.01  # a little smoothing: every character stays possible
        out.append(int(ember.multinomial(row, 1, generator=gen)))
    return "".join(chars[i] for i in out)


def main() -> dict:
    ember.manual_seed(0)
    gen = ember.Generator().manual_seed(0)
    return {"digits": digits_as_categorical(), "binary": zeros_vs_ones_as_bernoulli(),
            "text": bigram_text(gen)}


if __name__ == "__main__":
    r = main()
    d, b = r["digits"], r["binary"]
    print(f"Categorical: cross-entropy {d['cross_entropy']:.4f} = -log_prob {d['nll']:.4f}")
    print(f"  accuracy {d['accuracy']:.1%}; sampled labels right {d['sampled_accuracy']:.1%} "
          f"(mean probability of the truth {d['mean_true_prob']:.1%})")
    print(f"  entropy where right {d['entropy_right']:.3f} nats, where wrong {d['entropy_wrong']:.3f}")
    print(f"Bernoulli: BCE {b['bce']:.4f} = -log_prob {b['nll']:.4f}; "
          f"sampled right {b['sampled_accuracy']:.1%}")
    print(f"bigram sample: {r['text']!r}")
