"""Ember's benchmark suite: eight workloads, Ember vs PyTorch (and HIPS autograd, micrograd).

Every library runs the same work in this one process, round-robin, median of at least 7 runs
after warm-up. Prints a table and writes bench/results.md with the machine it ran on.

    python bench/run.py [--quick] [--device cpu|cuda] [--threads N] [--only W1,W3]

``--quick`` (CI) proves every workload runs, with few repeats; it asserts nothing about time.
HIPS ``autograd`` and ``micrograd`` join where installed (``pip install -e ".[bench]"``) and
where they can express the work.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cnn  # noqa: E402
import hessian  # noqa: E402
import linreg  # noqa: E402
import memory  # noqa: E402
import mlp  # noqa: E402
import overhead  # noqa: E402
import sequence  # noqa: E402
import per_sample  # noqa: E402
from common import limit_threads, measure, wait_for_devices  # noqa: E402

LIBS = ("ember", "torch", "autograd", "micrograd")


@dataclass
class Workload:
    """One row: the work for each library that can do it, the unit it is reported in, a target."""

    key: str
    title: str
    unit: str  # "us" or "ms" per ``per`` calls
    target: float
    per: int
    fns: dict[str, Callable[[], object]] = field(default_factory=dict)


def _optional(name: str):
    try:
        return __import__(name)
    except ImportError:
        return None


# ---------------------------------------------------------------------------- W1 scalar partials

W1_CALLS = 200


def w1(device: str) -> Workload:
    """z = 3x⁵ + 2u²kx + lx + l at x=2, u=4, k=3, l=1: build the graph and run backward."""
    import ember
    import torch

    wl = Workload("W1", "scalar partials (build + backward)", "us", 0.5, W1_CALLS,
                  {"ember": _w1_loop(ember, device, _w1_z), "torch": _w1_loop(torch, device, _w1_z)})
    ag = _optional("autograd")
    if ag is not None:
        grad = ag.grad(lambda p: 3 * p[0] ** 5 + 2 * p[1] ** 2 * p[2] * p[0] + p[3] * p[0] + p[3])
        point = np.array([2.0, 4.0, 3.0, 1.0])
        wl.fns["autograd"] = lambda: [grad(point) for _ in range(W1_CALLS)]
    if _optional("micrograd") is not None:
        from micrograd.engine import Value

        def micro():
            for _ in range(W1_CALLS):
                x, u, k, l = Value(2.0), Value(4.0), Value(3.0), Value(1.0)
                z = 3 * x**5 + 2 * u**2 * k * x + l * x + l
                z.backward()
            return x.grad

        wl.fns["micrograd"] = micro
    return wl


def _w1_z(x, u, k, l):
    """W1's formula."""
    return 3 * x**5 + 2 * u**2 * k * x + l * x + l


def _w1_loop(lib, device: str, z_of: Callable) -> Callable[[], object]:
    """W1_CALLS times: make the four leaves, ``z_of`` them, backward."""

    def run():
        for _ in range(W1_CALLS):
            x = lib.tensor(2.0, requires_grad=True, device=device)
            u = lib.tensor(4.0, requires_grad=True, device=device)
            k = lib.tensor(3.0, requires_grad=True, device=device)
            l = lib.tensor(1.0, requires_grad=True, device=device)
            z_of(x, u, k, l).backward()
        return x.grad

    return run


# ---------------------------------------------------------------------------- W2 linear regression


def w2(device: str) -> Workload:
    """ŷ = w·x + b on N = 1 000 000 float32 points: MSE and full-batch gradient descent."""
    import ember
    import torch

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, linreg.N).astype(np.float32)
    y = (3 * x + 2 + 0.1 * rng.standard_normal(linreg.N)).astype(np.float32)
    wl = Workload("W2", f"linear regression N=1e6, {linreg.STEPS} GD steps", "ms", 1.2, 1,
                  {"ember": linreg.make_run(ember, x, y, device),
                   "torch": linreg.make_run(torch, x, y, device)})
    ag = _optional("autograd")
    if ag is not None:
        loss_grad = ag.grad(lambda p: np.mean((p[0] * x + p[1] - y) ** 2))

        def run():
            p = np.zeros(2, dtype=np.float32)
            for _ in range(linreg.STEPS):
                p = p - linreg.LR * loss_grad(p)
            return p

        wl.fns["autograd"] = run
    return wl


# ---------------------------------------------------------------------------- W3 MLP


def _w3_data() -> tuple:
    """W3's initial weights, inputs and labels (NumPy, seed 0)."""
    rng = np.random.default_rng(0)
    weights = mlp.initial_weights(rng)
    x = rng.standard_normal((mlp.BATCH, mlp.SIZES[0])).astype(np.float32)
    y = rng.integers(0, mlp.SIZES[-1], mlp.BATCH)
    return weights, x, y


def w3(device: str) -> Workload:
    """784-256-128-10 ReLU MLP, cross-entropy, SGD with momentum, batch 128."""
    import ember
    import torch

    weights, x, y = _w3_data()
    wl = Workload("W3", f"MLP 784-256-128-10, batch {mlp.BATCH}, one SGD step", "ms", 1.2, mlp.STEPS,
                  {"ember": mlp.make_run(ember, weights, x, y, device),
                   "torch": mlp.make_run(torch, weights, x, y, device)})
    ag = _optional("autograd")
    if ag is not None:
        wl.fns["autograd"] = _autograd_mlp(ag, weights, x, y)
    return wl


def _autograd_mlp(ag, weights: list, x: np.ndarray, y: np.ndarray) -> Callable[[], object]:
    """The same MLP step in HIPS autograd (NumPy arrays, SGD with momentum 0.9)."""
    anp = ag.numpy
    from autograd.scipy.special import logsumexp

    def loss(params):
        h = x
        for i in range(0, len(params) - 2, 2):
            h = anp.maximum(h @ params[i].T + params[i + 1], 0.0)
        logits = h @ params[-2].T + params[-1]
        logp = logits - logsumexp(logits, axis=1, keepdims=True)
        return -anp.mean(logp[np.arange(len(y)), y])

    loss_grad = ag.grad(loss)
    params = [w.copy() for w in weights]
    velocity = [np.zeros_like(w) for w in params]

    def run():
        for _ in range(mlp.STEPS):
            grads = loss_grad(params)
            for i, g in enumerate(grads):
                velocity[i] = 0.9 * velocity[i] + g
                params[i] -= 0.01 * velocity[i]

    return run


# ---------------------------------------------------------------------------- W4 CNN


def _w4_data() -> tuple:
    """W4's initial weights (torch's initialisation, seed 0), images and labels."""
    import torch

    torch.manual_seed(0)
    weights = [p.detach().numpy().copy() for p in cnn.build(torch).parameters()]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((cnn.BATCH, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, cnn.BATCH)
    return weights, x, y


def w4(device: str) -> Workload:
    """conv-relu-pool ×2, linear, cross-entropy, SGD; batch 64 of 1×28×28."""
    import ember
    import torch

    weights, x, y = _w4_data()
    return Workload("W4", f"CNN batch {cnn.BATCH}, one SGD step", "ms", 1.5, cnn.STEPS,
                    {"ember": cnn.make_run(ember, weights, x, y, device),
                     "torch": cnn.make_run(torch, weights, x, y, device)})


# ---------------------------------------------------------------------------- W5 Hessian


def _w5_problem(device: str):
    """f(x) = sum(tanh(A @ x)²), A 300×300 float64, for both libraries, and the point x."""
    import ember
    import torch

    rng = np.random.default_rng(0)
    a = rng.standard_normal((hessian.N, hessian.N)) / np.sqrt(hessian.N)
    x = rng.standard_normal(hessian.N)
    e_f, t_f = hessian.make_f(ember, a, device), hessian.make_f(torch, a, device)
    return a, x, e_f, t_f, ember.tensor(x, device=device), torch.tensor(x, device=device)


def w5(device: str) -> Workload:
    """Full Hessian of f(x) = sum(tanh(A @ x)²), A 300×300 float64."""
    import ember
    import torch

    a, x, e_f, t_f, e_x, t_x = _w5_problem(device)
    wl = Workload("W5", "Hessian 300x300 (vs torch.func.hessian)", "ms", 1.5, 1,
                  {"ember": lambda: ember.func.hessian(e_f)(e_x),
                   "torch": lambda: torch.func.hessian(t_f)(t_x)})
    ag = _optional("autograd")
    if ag is not None:
        h = ag.hessian(lambda v: ag.numpy.sum(ag.numpy.tanh(a @ v) ** 2))
        wl.fns["autograd"] = lambda: h(x)
    return wl


def w5f(device: str) -> Workload:
    """The same Hessian as forward over reverse, ``jacfwd(jacrev(f))``: 300 forward sweeps of
    dual numbers through the gradient (torch.func batches them with vmap)."""
    import ember
    import torch

    _, _, e_f, t_f, e_x, t_x = _w5_problem(device)
    return Workload("W5F", "Hessian 300x300 by jacfwd(jacrev(f)) (vs torch.func's)", "ms", 1.5, 1,
                    {"ember": lambda: ember.func.jacfwd(ember.func.jacrev(e_f))(e_x),
                     "torch": lambda: torch.func.jacfwd(torch.func.jacrev(t_f))(t_x)})


# ---------------------------------------------------------------------------- W6 per-op overhead


def w6(device: str) -> Workload:
    """``(a*b+c).sum().backward()`` on 10-element tensors."""
    import ember
    import torch

    calls = overhead.ITERATIONS
    wl = Workload("W6", "per-op overhead (a*b+c).sum().backward()", "us", 1.0, calls,
                  {"ember": overhead.make_loop(ember, device), "torch": overhead.make_loop(torch, device)})
    ag = _optional("autograd")
    if ag is not None:
        grad = ag.grad(lambda abc: ag.numpy.sum(abc[0] * abc[1] + abc[2]))
        abc = np.random.default_rng(0).standard_normal((3, 10)).astype(np.float32)
        wl.fns["autograd"] = lambda: [grad(abc) for _ in range(calls)]
    if _optional("micrograd") is not None:
        from micrograd.engine import Value

        rng = np.random.default_rng(0)
        a, b, c = ([Value(float(v)) for v in rng.standard_normal(10)] for _ in range(3))

        def micro():
            for _ in range(calls):
                total = sum((ai * bi + ci for ai, bi, ci in zip(a, b, c)), Value(0.0))
                total.backward()

        wl.fns["micrograd"] = micro
    return wl


# ---------------------------------------------------------------------------- W7 LSTM, W8 Transformer


def w7(device: str) -> Workload:
    """2-layer LSTM (input 64, hidden 256), sequence 64, batch 32, a linear read-out, Adam."""
    return Workload("W7", "LSTM 2x256, seq 64, batch 32, one Adam step", "ms", 1.3, sequence.STEPS,
                    sequence.lstm_runs(device))


def w8(device: str) -> Workload:
    """4-layer pre-norm causal Transformer encoder (d 128, 4 heads, ff 512, GELU), AdamW."""
    return Workload("W8", "Transformer encoder 4x128, seq 64, batch 16, one AdamW step", "ms", 1.3,
                    sequence.STEPS, sequence.encoder_runs(device))


# ---------------------------------------------------------------------------- W9 per-sample gradients


def w9(device: str) -> Workload:
    """Per-sample gradients of W3's MLP for a batch of 256: ``vmap(grad)`` vs torch.func's."""
    import ember
    import torch

    rng = np.random.default_rng(0)
    weights = mlp.initial_weights(rng)
    x = rng.standard_normal((per_sample.BATCH, mlp.SIZES[0])).astype(np.float32)
    y = rng.integers(0, mlp.SIZES[-1], per_sample.BATCH)
    return Workload("W9", f"per-sample gradients, W3's MLP, batch {per_sample.BATCH} (vmap(grad))",
                    "ms", 1.5, 1, {"ember": per_sample.make_run(ember, weights, x, y, device),
                                   "torch": per_sample.make_run(torch, weights, x, y, device)})


# ---------------------------------------------------------------------------- compiled rows
# ember.compile'd Ember against torch eager: the same work as W1, W3, W4 and W6.


def w1c(device: str) -> Workload:
    """W1 with the formula ``ember.compile``d (the leaves made and backward run each call)."""
    import ember
    import torch

    return Workload("W1C", "scalar partials, ember.compile (vs torch eager)", "us", 0.5, W1_CALLS,
                    {"ember": _w1_loop(ember, device, ember.compile(_w1_z)),
                     "torch": _w1_loop(torch, device, _w1_z)})


def w3c(device: str) -> Workload:
    """W3's MLP step with the model ``ember.compile``d (vs torch eager)."""
    import ember
    import torch

    weights, x, y = _w3_data()
    return Workload("W3C", "MLP step, ember.compile (vs torch eager)", "ms", 0.8, mlp.STEPS,
                    {"ember": mlp.make_run(ember, weights, x, y, device, compiled=True),
                     "torch": mlp.make_run(torch, weights, x, y, device)})


def w4c(device: str) -> Workload:
    """W4's CNN step with the model ``ember.compile``d (vs torch eager)."""
    import ember
    import torch

    weights, x, y = _w4_data()
    return Workload("W4C", "CNN step, ember.compile (vs torch eager)", "ms", 0.8, cnn.STEPS,
                    {"ember": cnn.make_run(ember, weights, x, y, device, compiled=True),
                     "torch": cnn.make_run(torch, weights, x, y, device)})


def w6c(device: str) -> Workload:
    """W6's tiny graph ``ember.compile``d (vs torch eager)."""
    import ember
    import torch

    return Workload("W6C", "per-op overhead, ember.compile (vs torch eager)", "us", 0.5,
                    overhead.ITERATIONS, {"ember": overhead.make_loop(ember, device, compiled=True),
                                          "torch": overhead.make_loop(torch, device)})


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W5F": w5f, "W6": w6, "W7": w7, "W8": w8,
             "W9": w9, "W1C": w1c, "W3C": w3c, "W4C": w4c, "W6C": w6c}


# ---------------------------------------------------------------------------- machine and table


def machine() -> str:
    """CPU model, cores, BLAS and library versions: what the numbers depend on."""
    import torch

    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas_name = f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:
        blas_name = "unknown"
    return (f"{cpu}; {os.cpu_count()} cores; NumPy {np.__version__} with {blas_name}; "
            f"torch {torch.__version__}; "
            f"Python {platform.python_version()}")


def _fmt(seconds: float | None, wl: Workload) -> str:
    if seconds is None:
        return "—"
    scale = 1e6 if wl.unit == "us" else 1e3
    return f"{seconds / wl.per * scale:,.1f} {wl.unit}"


def run(keys: list[str], device: str, repeat: int, warmup: int) -> list[tuple]:
    """Measure each workload; return rows (workload, medians by library)."""
    rows = []
    for key in keys:
        wl = WORKLOADS[key](device)
        medians = {lib: statistics.median(ts) for lib, ts in measure(wl.fns, repeat, warmup).items()}
        rows.append((wl, medians))
        print(_row(wl, medians), flush=True)
    return rows


def _row(wl: Workload, medians: dict) -> str:
    ratio = medians["ember"] / medians["torch"]
    verdict = "ok" if ratio <= wl.target else "MISSES"
    cells = [_fmt(medians.get(lib), wl) for lib in LIBS]
    return (f"| {wl.key} {wl.title} | " + " | ".join(cells) +
            f" | {ratio:.2f} | ≤ {wl.target} {verdict} |")


HEADER = ("| workload | ember | torch | HIPS autograd | micrograd | ember/torch | target |\n"
          "|---|---|---|---|---|---|---|")


def write_results(rows: list[tuple], device: str, repeat: int, memory_report: str, path: Path) -> None:
    """bench/results.md: the table, memory, the machine, and how it was measured (atomically)."""
    lines = [
        "# Ember benchmark results",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on: {machine()}; device {device}.",
        f"Median of {repeat} round-robin runs per library after warm-up, all in one process "
        "(`python bench/run.py`). Times are per call (W1, W6) or per step (W2 per 100 steps).",
        "",
        HEADER,
        *(_row(wl, medians) for wl, medians in rows),
        "",
        memory_report,
        "",
    ]
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines))
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> list[tuple]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats: prove it runs (CI)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for torch and for NumPy's BLAS alike (default 1: two thread "
                             "pools in one process on few cores spin against each other)")
    parser.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated workloads")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    args = parser.parse_args(argv)
    import ember

    if args.device == "cuda":
        import torch

        if not ember.cuda.is_available():
            parser.exit(2, "bench/run.py: --device cuda needs CuPy and a GPU (pip install 'ember[gpu]')\n")
        if not torch.cuda.is_available():
            parser.exit(2, "bench/run.py: --device cuda needs a CUDA build of torch 2.13.0 (the "
                           "test dependency is the CPU wheel; see pytorch.org/get-started)\n")
        wait_for_devices(ember.cuda.synchronize, torch.cuda.synchronize)
    threads = limit_threads(args.threads)
    repeat, warmup = (1, 1) if args.quick else (7, 2)
    keys = [k.strip().upper() for k in args.only.split(",") if k.strip()]
    unknown = [k for k in keys if k not in WORKLOADS]
    if unknown:
        parser.exit(2, f"bench/run.py: unknown workload(s) {unknown}; choose from {list(WORKLOADS)}\n")
    print(f"# {machine()}; {threads}; device {args.device}\n{HEADER}", flush=True)
    rows = run(keys, args.device, repeat, warmup)
    steps = 100 if args.quick else 1000
    memory_report = memory.report(memory.measure(steps), steps)
    print(memory_report)
    if not args.quick:
        write_results(rows, f"{args.device}; {threads}", repeat, memory_report, args.out)
        print(f"# wrote {args.out}")
    return rows


if __name__ == "__main__":
    main()
