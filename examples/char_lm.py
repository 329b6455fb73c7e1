"""A character-level language model trained on Ember's own docs (README.md and the lecture notes).

An LSTM (``--model lstm``) or a small causal Transformer (``--model transformer``) learns to
predict the next character of random windows of the text, with a progress bar showing the
loss, then writes a sample continuation of a prompt.

    python examples/char_lm.py [--model lstm|transformer] [--steps 400] [--seq 64] [--batch 32]
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

import ember
import ember.nn.functional as F
from ember import nn

ROOT = Path(__file__).resolve().parent.parent


def corpus() -> str:
    """The text that ships with Ember: its README and the lecture notes, in a fixed order."""
    files = [ROOT / "README.md", *sorted((ROOT / "docs" / "lecture").glob("*.md"))]
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


class LSTMModel(nn.Module):
    """Embedding, a stacked LSTM, and a linear read-out of each step's hidden state."""

    def __init__(self, vocab: int, embed: int = 64, hidden: int = 256, layers: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True,
                            dropout=0.1 if layers > 1 else 0.0)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens: ember.Tensor, state=None):
        out, state = self.lstm(self.embed(tokens), state)
        return self.head(out), state


class TransformerModel(nn.Module):
    """Token and position embeddings, a pre-norm causal Transformer encoder, a linear read-out."""

    def __init__(self, vocab: int, context: int, d_model: int = 128, heads: int = 4,
                 layers: int = 3) -> None:
        super().__init__()
        self.context = context
        self.embed = nn.Embedding(vocab, d_model)
        self.position = nn.Embedding(context, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout=0.1,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d_model),
                                             enable_nested_tensor=False)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, tokens: ember.Tensor, state=None):
        length = tokens.shape[1]
        positions = ember.arange(length, device=tokens.device)
        mask = nn.Transformer.generate_square_subsequent_mask(length, device=tokens.device)
        h = self.embed(tokens) + self.position(positions)
        return self.head(self.encoder(h, mask=mask, is_causal=True)), None


def _batch(data: np.ndarray, seq: int, batch: int, rng) -> tuple:
    """``batch`` random windows of ``seq`` characters and the characters that follow each."""
    starts = rng.integers(0, len(data) - seq - 1, batch)
    window = np.stack([data[s:s + seq + 1] for s in starts])
    return ember.tensor(window[:, :-1]), ember.tensor(window[:, 1:])


def sample(model: nn.Module, prompt: str, stoi: dict, itos: list, length: int = 200,
           temperature: float = 0.8, context: int = 64, seed: int = 0) -> str:
    """Continue ``prompt`` one character at a time, drawing from the softened predictions."""
    model.eval()
    rng = np.random.default_rng(seed)
    tokens = [stoi[c] for c in prompt if c in stoi] or [0]
    out = []
    state = None
    with ember.no_grad():
        feed = tokens
        for _ in range(length):
            if isinstance(model, LSTMModel):
                logits, state = model(ember.tensor([feed]), state)
            else:
                logits, _ = model(ember.tensor([tokens[-context:]]))
            probs = F.softmax(logits[0, -1] / temperature, -1).numpy().astype(np.float64)
            nxt = int(rng.choice(len(probs), p=probs / probs.sum()))
            tokens.append(nxt)
            feed = [nxt]
            out.append(itos[nxt])
    model.train()
    return prompt + "".join(out)


def main(model: str = "lstm", steps: int = 400, seq: int = 64, batch: int = 32, lr: float = 3e-3,
         progress: bool = True, small: bool = False, seed: int = 0) -> dict:
    """Train for ``steps`` AdamW steps; return the first and last losses, the time and a sample.

    ``small`` shrinks the model (the test's short run).
    """
    ember.manual_seed(seed)
    rng = np.random.default_rng(seed)
    text = corpus()
    itos = sorted(set(text))
    stoi = {c: i for i, c in enumerate(itos)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    if model == "lstm":
        net = LSTMModel(len(itos), 16, 48, 1) if small else LSTMModel(len(itos))
    elif model == "transformer":
        net = TransformerModel(len(itos), seq, 32, 2, 1) if small else TransformerModel(len(itos), seq)
    else:
        raise ValueError(f"char_lm: --model must be 'lstm' or 'transformer', got {model!r}")
    optimizer = ember.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.01)
    schedule = ember.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    losses = []
    bar = _progress(steps, model, progress)
    start = time.perf_counter()
    for _ in range(steps):
        x, y = _batch(data, seq, batch, rng)
        logits, _ = net(x)
        loss = F.cross_entropy(logits.reshape(-1, len(itos)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
        bar.update()
    bar.close()
    seconds = time.perf_counter() - start
    window = max(1, min(20, steps // 5))
    return {"first_loss": float(np.mean(losses[:window])), "last_loss": float(np.mean(losses[-window:])),
            "uniform_loss": math.log(len(itos)), "seconds": seconds, "losses": losses,
            "sample": sample(net, "The gradient ", stoi, itos, context=seq)}


def _progress(steps: int, model: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=steps, desc=f"char-lm ({model})", unit="step", disable=not enabled)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("lstm", "transformer"), default="lstm")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    args = parser.parse_args()
    r = main(args.model, args.steps, args.seq, args.batch, args.lr)
    print(f"loss {r['first_loss']:.3f} -> {r['last_loss']:.3f} (uniform guess {r['uniform_loss']:.3f}) "
          f"in {r['seconds'] / 60:.1f} min\n--- sample ---\n{r['sample']}")
