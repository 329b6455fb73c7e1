"""Peak memory of 1 000 MLP training steps (W3), Ember vs torch, each in a fresh process.

Peak RSS is per process, so each library runs alone in a child process: it reports its RSS after
the imports, after a warm-up of 100 steps, and its peak over all steps. The ratio compares peaks;
"flat" means the RSS after the last step is within 5 % of the RSS after warm-up.

    python bench/memory.py [--steps N]
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WARMUP = 100


def _status_mb(field: str) -> float:
    """A memory field of /proc/self/status (VmRSS now, VmHWM the peak) in MB.

    VmHWM, unlike getrusage's ru_maxrss, starts afresh at exec: a child started by a parent that
    had imported torch does not inherit the parent's peak.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _rss_mb() -> float:
    return _status_mb("VmRSS")


def child(lib_name: str, steps: int) -> dict:
    """Run in the child: ``steps`` W3 steps of ``lib_name``; return its memory readings in MB."""
    import numpy as np

    sys.path.insert(0, HERE)
    import mlp

    lib = __import__(lib_name)
    if lib_name == "torch":
        lib.set_num_threads(1)
    after_import = _rss_mb()
    rng = np.random.default_rng(0)
    weights = mlp.initial_weights(rng)
    x = rng.standard_normal((mlp.BATCH, mlp.SIZES[0])).astype(np.float32)
    y = rng.integers(0, mlp.SIZES[-1], mlp.BATCH)
    run = mlp.make_run(lib, weights, x, y)  # one call = mlp.STEPS steps
    calls = max(1, steps // mlp.STEPS)
    warm_calls = max(1, WARMUP // mlp.STEPS)
    for _ in range(warm_calls):
        run()
    warm = _rss_mb()
    for _ in range(calls - warm_calls):
        run()
    peak = _status_mb("VmHWM")
    return {"import": after_import, "warm": warm, "end": _rss_mb(), "peak": peak}


def measure(steps: int = 1000) -> dict:
    """Each library's readings, from its own child process."""
    out = {}
    for name in ("ember", "torch"):
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        proc = subprocess.run([sys.executable, __file__, "--child", name, "--steps", str(steps)],
                              capture_output=True, text=True, check=True, env=env)
        out[name] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def report(readings: dict, steps: int) -> str:
    """A Markdown table of the readings and the ratio of the peaks."""
    lines = [f"Memory over {steps} W3 steps (MB, each library alone in a fresh process):", "",
             "| library | after import | after warm-up | after last step | peak | flat |",
             "|---|---|---|---|---|---|"]
    for name, r in readings.items():
        flat = "yes" if abs(r["end"] - r["warm"]) <= 0.05 * r["warm"] else "no"
        lines.append(f"| {name} | {r['import']:.0f} | {r['warm']:.0f} | {r['end']:.0f} | "
                     f"{r['peak']:.0f} | {flat} |")
    ratio = readings["ember"]["peak"] / readings["torch"]["peak"]
    lines += ["", f"Peak RSS ratio ember/torch: {ratio:.2f} (target ≤ 1.5)."]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    steps = int(argv[argv.index("--steps") + 1]) if "--steps" in argv else 1000
    if "--child" in argv:
        print(json.dumps(child(argv[argv.index("--child") + 1], steps)))
        return
    print(report(measure(steps), steps))


if __name__ == "__main__":
    main(sys.argv[1:])
