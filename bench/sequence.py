"""Benchmarks of sequence models: W7, one Adam step of a 2-layer LSTM, and W8, one AdamW step of a
4-layer pre-norm causal Transformer encoder over token embeddings.

Each model is written once as PyTorch code and run with ``lib = torch`` and ``lib = ember`` in
the same process, from the same initial weights (torch's, copied through ``state_dict``) and the
same batch (target ratio <= 1.3 for both).
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check_and_compare, configure_threads  # noqa: E402

LSTM_SIZES = dict(input=64, hidden=256, seq=64, batch=32, classes=10)
ENCODER_SIZES = dict(d_model=128, heads=4, ff=512, layers=4, seq=64, batch=16, vocab=256)
STEPS = 2


def build_lstm(lib):
    """A 2-layer LSTM with a linear read-out of every step, as torch code against ``lib``."""
    nn = lib.nn

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            s = LSTM_SIZES
            self.lstm = nn.LSTM(s["input"], s["hidden"], num_layers=2)
            self.head = nn.Linear(s["hidden"], s["classes"])

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out).reshape(-1, LSTM_SIZES["classes"])

    return Tagger()


def build_encoder(lib):
    """Embedding, a 4-layer pre-norm GELU Transformer encoder with a causal mask, a linear head."""
    nn = lib.nn
    s = ENCODER_SIZES

    class CausalLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(s["vocab"], s["d_model"])
            layer = nn.TransformerEncoderLayer(s["d_model"], s["heads"], s["ff"], dropout=0.0,
                                               activation="gelu", batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, s["layers"], enable_nested_tensor=False)
            self.head = nn.Linear(s["d_model"], s["vocab"])
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(s["seq"]))

        def forward(self, tokens):
            h = self.encoder(self.embed(tokens), mask=self.mask, is_causal=True)
            return self.head(h).reshape(-1, s["vocab"])

    return CausalLM()


def _run(lib, model, state: dict, optimizer, x_np, y_np, device: str):
    """One unit of work: STEPS optimiser steps on the same batch; returns the last loss."""
    model.load_state_dict({k: lib.from_numpy(v.copy()) for k, v in state.items()})
    model.to(device)
    opt = optimizer(model.parameters())
    x = lib.from_numpy(x_np).to(device)
    y = lib.from_numpy(y_np).to(device)

    def run() -> float:
        for _ in range(STEPS):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        return loss.item()

    return run


def lstm_runs(device: str = "cpu") -> dict:
    """W7's unit of work for each library, from torch's initial weights."""
    import torch

    import ember

    torch.manual_seed(0)
    state = {k: v.numpy().copy() for k, v in build_lstm(torch).state_dict().items()}
    rng = np.random.default_rng(0)
    s = LSTM_SIZES
    x = rng.standard_normal((s["seq"], s["batch"], s["input"])).astype(np.float32)
    y = rng.integers(0, s["classes"], s["seq"] * s["batch"])
    return {lib.__name__: _run(lib, build_lstm(lib), state, lambda p, lib=lib: lib.optim.Adam(p, lr=1e-3),
                               x, y, device) for lib in (ember, torch)}


def encoder_runs(device: str = "cpu") -> dict:
    """W8's unit of work for each library, from torch's initial weights."""
    import torch

    import ember

    torch.manual_seed(0)
    state = {k: v.numpy().copy() for k, v in build_encoder(torch).state_dict().items()}
    rng = np.random.default_rng(0)
    s = ENCODER_SIZES
    tokens = rng.integers(0, s["vocab"], (s["batch"], s["seq"] + 1))
    x, y = tokens[:, :-1].copy(), tokens[:, 1:].reshape(-1).copy()
    return {lib.__name__: _run(lib, build_encoder(lib), state,
                               lambda p, lib=lib: lib.optim.AdamW(p, lr=1e-3), x, y, device)
            for lib in (ember, torch)}


def main() -> None:
    configure_threads()
    w7 = lstm_runs()
    check_and_compare("W7 LSTM 2x256, seq 64, batch 32, Adam", w7["ember"], w7["torch"], target=1.3,
                      per=STEPS, tol=1e-4, warmup=1)
    w8 = encoder_runs()
    check_and_compare("W8 pre-norm encoder 4x128, seq 64, AdamW", w8["ember"], w8["torch"],
                      target=1.3, per=STEPS, tol=1e-4, warmup=1)


if __name__ == "__main__":
    main()
