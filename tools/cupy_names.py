"""Write ``tests/cupy_names.json``: the names real CuPy offers, for the CuPy test double.

The double (``tests/cupy_double.py``) runs Ember's CUDA code paths on the CPU; it refuses every
name this list lacks, so op code that calls a NumPy-only function fails in CI as it would on a
GPU. Importing CuPy needs no GPU, so this runs anywhere ``pip install cupy-cuda12x`` works:

    python tools/cupy_names.py
"""
from __future__ import annotations

import json
from pathlib import Path

import cupy
import cupyx.scipy.special


def public(obj) -> list[str]:
    return sorted(n for n in dir(obj) if not n.startswith("__") or n in _DUNDERS)


_DUNDERS = {"__array__", "__index__", "__dlpack__", "__cuda_array_interface__"}


def main() -> None:
    names = {
        "version": cupy.__version__,
        "cupy": public(cupy),
        "cupy.ndarray": public(cupy.ndarray),
        "cupy.ufunc": public(cupy.add),
        "cupy.lib.stride_tricks": public(cupy.lib.stride_tricks),
        "cupy.linalg": public(cupy.linalg),
        "cupy.random": public(cupy.random),
        "cupy.random.Generator": public(cupy.random.Generator),
        "cupyx.scipy.special": public(cupyx.scipy.special),
    }
    out = Path(__file__).resolve().parent.parent / "tests" / "cupy_names.json"
    out.write_text(json.dumps(names, indent=0) + "\n")
    print(f"wrote {out} (CuPy {cupy.__version__})")


if __name__ == "__main__":
    main()
