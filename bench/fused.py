"""numexpr vs numba vs plain NumPy (and torch) on the elementwise chains Ember spends its time in.

Two chains, float32: exact GELU forward and backward on 512x2048 (the wide GELU MLP's hidden
activations), and one Adam update of 4M parameters. Each (library, threads) pair runs in its own
fresh process, which reports its import time, its first call (numba compiles there), and the
median of later calls.

    PYTHONPATH=<where numexpr and numba are> python bench/fused.py [--repeat 7]

numexpr has no ``erf``: its GELU takes ``scipy.special.erf`` (one thread) and fuses the rest.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time

import numpy as np

GELU_SHAPE = (512, 2048)
ADAM_SIZE = 4_000_000
B1, B2, LR, EPS, STEP = 0.9, 0.999, 1e-3, 1e-8, 10
RSQRT2, RSQRT2PI = 1 / math.sqrt(2), 1 / math.sqrt(2 * math.pi)


def numpy_chains(threads: int):
    """Ember's present way: one NumPy (and SciPy) call per elementwise op, one core."""
    from scipy.special import erf

    def gelu(x, g):
        cdf = 0.5 * (1 + erf(x * RSQRT2))
        y = x * cdf
        dx = g * (cdf + x * np.exp(-0.5 * x * x) * RSQRT2PI)
        return y, dx

    def adam(p, g, m, v):
        m *= B1
        m += (1 - B1) * g
        v *= B2
        v += (1 - B2) * g * g
        p -= LR / (1 - B1**STEP) * m / (np.sqrt(v / (1 - B2**STEP)) + EPS)

    return gelu, adam


def numexpr_chains(threads: int):
    """numexpr: each chain a few ``evaluate`` calls, multi-threaded, ``out=`` in place."""
    import numexpr as ne
    from scipy.special import erf

    ne.set_num_threads(threads)
    k = {name: np.float32(value) for name, value in dict(
        b1=B1, b2=B2, c1=1 - B1, c2=1 - B2, step_lr=LR / (1 - B1**STEP), bc2=1 - B2**STEP, eps=EPS,
        r2pi=RSQRT2PI).items()}

    def gelu(x, g):
        e = erf(x * np.float32(RSQRT2))
        y = ne.evaluate("0.5 * x * (1 + e)", local_dict=dict(k, x=x, e=e))
        dx = ne.evaluate("g * (0.5 * (1 + e) + x * exp(-0.5 * x * x) * r2pi)",
                         local_dict=dict(k, x=x, e=e, g=g))
        return y, dx

    def adam(p, g, m, v):
        ne.evaluate("b1 * m + c1 * g", local_dict=dict(k, m=m, g=g), out=m)
        ne.evaluate("b2 * v + c2 * g * g", local_dict=dict(k, v=v, g=g), out=v)
        ne.evaluate("p - step_lr * m / (sqrt(v / bc2) + eps)", local_dict=dict(k, p=p, m=m, v=v), out=p)

    return gelu, adam


def numba_chains(threads: int):
    """numba: each chain one parallel loop (``prange``), compiled on the first call."""
    import numba

    numba.set_num_threads(threads)

    @numba.njit(parallel=True, fastmath=False)
    def gelu_kernel(x, g, y, dx):
        for i in numba.prange(x.size):
            xi = x[i]
            cdf = 0.5 * (1.0 + math.erf(xi * RSQRT2))
            y[i] = xi * cdf
            dx[i] = g[i] * (cdf + xi * math.exp(-0.5 * xi * xi) * RSQRT2PI)

    @numba.njit(parallel=True, fastmath=False)
    def adam(p, g, m, v):
        step_lr, bc2 = LR / (1 - B1**STEP), 1 - B2**STEP
        for i in numba.prange(p.size):
            m[i] = B1 * m[i] + (1 - B1) * g[i]
            v[i] = B2 * v[i] + (1 - B2) * g[i] * g[i]
            p[i] -= step_lr * m[i] / (math.sqrt(v[i] / bc2) + EPS)

    def gelu(x, g):
        y, dx = np.empty(x.size, x.dtype), np.empty(x.size, x.dtype)
        gelu_kernel(x.reshape(-1), g.reshape(-1), y, dx)
        return y.reshape(x.shape), dx.reshape(x.shape)

    return gelu, adam


def torch_chains(threads: int):
    """torch, for reference: its eager GELU forward/backward kernels and its foreach Adam."""
    import torch

    torch.set_num_threads(threads)

    def gelu(x, g):
        xt = torch.from_numpy(x).requires_grad_()
        y = torch.nn.functional.gelu(xt)
        (dx,) = torch.autograd.grad(y, xt, torch.from_numpy(g))
        return y, dx

    def adam(p, g, m, v):
        pt, gt, mt, vt = (torch.from_numpy(a) for a in (p, g, m, v))
        mt.lerp_(gt, 1 - B1)
        vt.mul_(B2).addcmul_(gt, gt, value=1 - B2)
        pt.addcdiv_(mt, (vt / (1 - B2**STEP)).sqrt_().add_(EPS), value=-LR / (1 - B1**STEP))

    return gelu, adam


CHAINS = {"numpy": numpy_chains, "numexpr": numexpr_chains, "numba": numba_chains, "torch": torch_chains}


def child(lib: str, threads: int, repeat: int) -> None:
    """In a fresh process: import, first call, then the median of ``repeat`` calls of each chain."""
    start = time.perf_counter()
    gelu, adam = CHAINS[lib](threads)
    out = dict(import_s=time.perf_counter() - start)
    rng = np.random.default_rng(0)
    x, g = (rng.standard_normal(GELU_SHAPE, dtype=np.float32) for _ in range(2))
    p, pg = (rng.standard_normal(ADAM_SIZE, dtype=np.float32) for _ in range(2))
    m, v = np.zeros_like(p), np.ones_like(p)
    for name, fn, args in (("gelu", gelu, (x, g)), ("adam", adam, (p, pg, m, v))):
        start = time.perf_counter()
        fn(*args)
        out[f"{name}_first_s"] = time.perf_counter() - start
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn(*args)
            times.append(time.perf_counter() - start)
        out[f"{name}_ms"] = statistics.median(times) * 1e3
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.repeat)
        return
    print("| library | threads | import | GELU fwd+bwd first call | GELU fwd+bwd | Adam first call "
          "| Adam 4M |")
    print("|---|---|---|---|---|---|---|")
    for lib in CHAINS:
        for threads in (1, 2):
            done = subprocess.run([sys.executable, __file__, "--child", lib, str(threads), "--repeat",
                                   str(args.repeat)], capture_output=True, text=True, check=True)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"| {lib} | {threads} | {r['import_s'] * 1e3:.0f} ms | {r['gelu_first_s'] * 1e3:.0f} ms | "
                  f"{r['gelu_ms']:.1f} ms | {r['adam_first_s'] * 1e3:.0f} ms | {r['adam_ms']:.1f} ms |",
                  flush=True)


if __name__ == "__main__":
    main()
