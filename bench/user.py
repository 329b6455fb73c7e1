"""Speed as a user sees it: each library alone, in its own fresh process, at its default threads.

``bench/run.py`` gives both libraries one thread in one process, which is fair to the code but
not what a user runs. Here every measurement is a fresh ``python`` process that imports only one
library (Ember or torch), leaves its thread settings alone, builds one workload, runs it once
untimed and once timed, and reports its time and its peak RSS (``resource.getrusage``). The
parent alternates the libraries' processes (ember first on odd rounds, torch first on even ones)
and reports medians.

    python bench/user.py [--repeat 5] [--quick] [--only W3,GELU] [--out bench/results.md]

``--quick`` (CI smoke) runs one round on tiny sizes and writes nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cnn  # noqa: E402
import linreg  # noqa: E402
import mlp  # noqa: E402
import sequence  # noqa: E402
from common import training_run  # noqa: E402

LIBS = ("ember", "torch")
GELU_SIZES = dict(batch=512, sizes=(1024, 2048, 2048, 10), steps=3)

ROWS = {  # key: (title, unit of the time reported)
    "W2": ("linear regression N=1e6, 100 GD steps", "per 100 steps"),
    "W3": ("MLP 784-256-128-10, batch 128, SGD", "per step"),
    "W4": ("CNN batch 64, SGD", "per step"),
    "GELU": ("wide GELU MLP 512x1024-2048-2048-10, Adam", "per step"),
    "W7": ("LSTM 2x256, seq 64, batch 32, Adam", "per step"),
    "W8": ("Transformer encoder 4x128, seq 64, batch 16, AdamW", "per step"),
}


def _shrink() -> None:
    """Tiny sizes for ``--quick``: prove every row runs, in seconds."""
    linreg.N, linreg.STEPS = 1000, 2
    mlp.BATCH, mlp.STEPS = 4, 1
    cnn.BATCH, cnn.STEPS = 2, 1
    GELU_SIZES.update(batch=4, sizes=(16, 32, 32, 10), steps=1)
    sequence.LSTM_SIZES.update(input=8, hidden=16, seq=4, batch=2)
    sequence.ENCODER_SIZES.update(d_model=16, heads=2, ff=32, layers=1, seq=4, batch=2, vocab=16)
    sequence.STEPS = 1


def _classify(lib, rng, x_shape: tuple, classes: int):
    """A float32 batch of ``x_shape`` and integer labels below ``classes``, as ``lib`` tensors."""
    x = rng.standard_normal(x_shape).astype(np.float32)
    return lib.from_numpy(x), lib.from_numpy(rng.integers(0, classes, x_shape[0]))


def _own_state(lib, model) -> dict:
    """The model's own initial state as arrays (this process imports only ``lib``)."""
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def build(key: str, lib):
    """Row ``key``'s unit of work in ``lib`` alone, and the number of steps it runs."""
    rng = np.random.default_rng(0)
    lib.manual_seed(0)
    if key == "W2":
        x = rng.uniform(-1, 1, linreg.N).astype(np.float32)
        y = (3 * x + 2 + 0.1 * rng.standard_normal(linreg.N)).astype(np.float32)
        return linreg.make_run(lib, x, y), 1
    if key == "W3":
        x = rng.standard_normal((mlp.BATCH, mlp.SIZES[0])).astype(np.float32)
        y = rng.integers(0, mlp.SIZES[-1], mlp.BATCH)
        return mlp.make_run(lib, mlp.initial_weights(rng), x, y), mlp.STEPS
    if key == "W4":
        weights = [p.detach().numpy().copy() for p in cnn.build(lib).parameters()]
        x = rng.standard_normal((cnn.BATCH, 1, 28, 28)).astype(np.float32)
        return cnn.make_run(lib, weights, x, rng.integers(0, 10, cnn.BATCH)), cnn.STEPS
    if key == "GELU":
        nn, s = lib.nn, GELU_SIZES["sizes"]
        model = nn.Sequential(nn.Linear(s[0], s[1]), nn.GELU(), nn.Linear(s[1], s[2]), nn.GELU(),
                              nn.Linear(s[2], s[3]))
        x, y = _classify(lib, rng, (GELU_SIZES["batch"], s[0]), s[3])
        opt = lib.optim.Adam(model.parameters(), lr=1e-3)
        steps = GELU_SIZES["steps"]
        return training_run(model, opt, nn.functional.cross_entropy, x, y, steps), steps
    if key == "W7":
        s = sequence.LSTM_SIZES
        model = sequence.build_lstm(lib)
        x = rng.standard_normal((s["seq"], s["batch"], s["input"])).astype(np.float32)
        y = rng.integers(0, s["classes"], s["seq"] * s["batch"])
        return sequence._run(lib, model, _own_state(lib, model), lambda p: lib.optim.Adam(p, lr=1e-3),
                             x, y, "cpu"), sequence.STEPS
    if key == "W8":
        s = sequence.ENCODER_SIZES
        model = sequence.build_encoder(lib)
        tokens = rng.integers(0, s["vocab"], (s["batch"], s["seq"] + 1))
        return sequence._run(lib, model, _own_state(lib, model), lambda p: lib.optim.AdamW(p, lr=1e-3),
                             tokens[:, :-1].copy(), tokens[:, 1:].reshape(-1).copy(), "cpu"), sequence.STEPS
    raise ValueError(f"bench/user.py: unknown row {key!r}; choose from {list(ROWS)}")


def child(key: str, lib_name: str, quick: bool) -> None:
    """Run in a fresh process: import one library, one warm-up and one timed unit; print JSON."""
    if quick:
        _shrink()
    start = time.perf_counter()
    lib = __import__(lib_name)
    import_s = time.perf_counter() - start
    fn, steps = build(key, lib)
    fn()
    start = time.perf_counter()
    fn()
    seconds = (time.perf_counter() - start) / steps
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    threads = lib.get_num_threads() if hasattr(lib, "get_num_threads") else None
    print(json.dumps(dict(seconds=seconds, peak_mb=peak_mb, import_s=import_s, threads=threads)))


def spawn(key: str, lib: str, quick: bool) -> dict:
    """One fresh process measuring ``lib`` on row ``key``; its JSON report."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", key, lib]
    argv += ["--quick"] if quick else []
    env = dict(os.environ)
    src = str(HERE.parent / "src")
    env["PYTHONPATH"] = src + os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else src
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench/user.py: {lib} on {key} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_row(key: str, repeat: int, quick: bool) -> dict:
    """Medians of ``repeat`` rounds, the libraries' processes alternating their order."""
    reports: dict[str, list[dict]] = {lib: [] for lib in LIBS}
    for i in range(repeat):
        for lib in (LIBS if i % 2 == 0 else LIBS[::-1]):
            reports[lib].append(spawn(key, lib, quick))
    return {lib: dict(ms=statistics.median(r["seconds"] for r in rs) * 1e3,
                      peak_mb=statistics.median(r["peak_mb"] for r in rs),
                      import_s=statistics.median(r["import_s"] for r in rs), threads=rs[0]["threads"])
            for lib, rs in reports.items()}


HEADER = ("| workload | ember | torch | ember/torch | peak RSS ember | peak RSS torch | memory ratio |\n"
          "|---|---|---|---|---|---|---|")


def row(key: str, m: dict) -> str:
    """One table row: times, the time ratio, peak RSS and its ratio."""
    e, t = m["ember"], m["torch"]
    title, unit = ROWS[key]
    return (f"| {key} {title} ({unit}) | {e['ms']:,.1f} ms | {t['ms']:,.1f} ms | {e['ms'] / t['ms']:.2f} | "
            f"{e['peak_mb']:,.0f} MB | {t['peak_mb']:,.0f} MB | {e['peak_mb'] / t['peak_mb']:.2f} |")


def write_results(lines: list[str], path: Path) -> None:
    """Append (or replace) the user-view section of bench/results.md."""
    marker = "## User view"
    text = path.read_text() if path.exists() else "# Ember benchmark results\n"
    text = text.split(marker)[0].rstrip() + "\n\n" + "\n".join([marker, "", *lines]) + "\n"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="processes per library and row (median)")
    parser.add_argument("--quick", action="store_true", help="one round, tiny sizes: prove it runs (CI)")
    parser.add_argument("--only", default=",".join(ROWS), help="comma-separated rows")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    parser.add_argument("--child", nargs=2, metavar=("ROW", "LIB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child, args.quick)
        return
    keys = [k.strip().upper() for k in args.only.split(",") if k.strip()]
    unknown = [k for k in keys if k not in ROWS]
    if unknown:
        parser.exit(2, f"bench/user.py: unknown row(s) {unknown}; choose from {list(ROWS)}\n")
    repeat = 1 if args.quick else args.repeat
    load = os.getloadavg()[0]
    intro = "QUICK (tiny sizes, one round: the times mean nothing). " if args.quick else ""
    intro += (f"Measured {time.strftime('%Y-%m-%d %H:%M')} with `python bench/user.py --repeat {repeat}`: "
             f"each library alone in a fresh process at its default threads ({os.cpu_count()} cores), "
             f"processes alternating, median of {repeat}; load average {load:.1f} at the start.")
    print(f"# {intro}\n{HEADER}", flush=True)
    lines = [intro, "", HEADER]
    for key in keys:
        lines.append(row(key, measure_row(key, repeat, args.quick)))
        print(lines[-1], flush=True)
    lines.append(f"\nLoad average {os.getloadavg()[0]:.1f} at the end.")
    print(lines[-1].strip())
    if not args.quick:
        write_results(lines, args.out)
        print(f"# wrote {args.out}")


if __name__ == "__main__":
    main()
