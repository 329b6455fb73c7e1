"""CuPy's stand-in keeps CuPy's rules (so the CUDA runs on it mean something), and Ember's array
code only asks CuPy for names CuPy has."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import cupy_double as cd

SRC = Path(__file__).resolve().parent.parent / "src" / "ember"


def test_host_arrays_and_device_arrays_do_not_mix():
    d = cd.ndarray(np.arange(3.0))
    with pytest.raises(TypeError, match="Unsupported type"):
        d + np.ones(3)
    with pytest.raises(TypeError, match="Unsupported type"):
        np.ones(3) * d
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(d)
    with pytest.raises(TypeError, match="numpy.concatenate was called on a CUDA array"):
        np.concatenate([d, d])
    assert type(d * 2.0) is cd.ndarray and (d * 2.0).get().tolist() == [0.0, 2.0, 4.0]


def test_reductions_and_scalar_indexing_stay_on_the_device():
    d = cd.ndarray(np.arange(6.0).reshape(2, 3))
    assert type(d.sum()) is cd.ndarray and d.sum().shape == ()
    assert type(d[1, 2]) is cd.ndarray
    with pytest.raises(TypeError):
        [0, 1, 2][d[0, 1]]  # no __index__: CuPy refuses implicit reads for indexing


def test_reads_are_counted_and_can_be_forbidden():
    d = cd.ndarray(np.arange(3.0))
    cd.TRAFFIC.reset()
    float(d[0]), d.tolist(), bool(d[1] > 0)
    assert cd.TRAFFIC.reads == 3
    with cd.forbid_host_traffic(), pytest.raises(cd.HostTraffic, match="device-to-host read"):
        d[0].item()
    with cd.forbid_host_traffic(), pytest.raises(cd.HostTraffic, match="host-to-device copy"):
        d[np.array([0, 1])]
    with cd.forbid_host_traffic(uploads=False):
        d[np.array([0, 1])]


def test_names_cupy_lacks_are_refused():
    assert "sliding_window_view" in cd.NAMES["cupy.lib.stride_tricks"]
    with pytest.raises(AttributeError, match="module 'cupy' has no attribute 'setbufsize'"):
        cd._attribute("setbufsize")
    with pytest.raises(AttributeError, match="has no attribute 'setflags'"):
        cd.ndarray(np.ones(2)).setflags(write=False)


def _attribute_chains() -> set[str]:
    """Every ``xp.name`` (and ``xp.name.attr``) Ember's source asks an array module for."""
    found = set()
    for path in SRC.rglob("*.py"):
        found |= set(re.findall(r"\bxp\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)",
                                path.read_text()))
    return found


def test_every_array_module_name_ember_uses_exists_in_cupy():
    sections = {"lib.stride_tricks": "cupy.lib.stride_tricks", "random": "cupy.random",
                "linalg": "cupy.linalg"}
    missing = []
    for chain in sorted(_attribute_chains()):
        head, _, rest = chain.partition(".")
        section = next((p for p in sections if chain.startswith(p + ".")), None)
        if head not in cd.NAMES["cupy"]:
            missing.append(chain)
        elif section is not None:
            if chain[len(section) + 1:].split(".")[0] not in cd.NAMES[sections[section]]:
                missing.append(chain)
        elif rest and isinstance(getattr(np, head, None), np.ufunc) and rest not in cd.NAMES["cupy.ufunc"]:
            missing.append(chain)
    assert _attribute_chains(), "found no xp.<name> uses: the scan is broken"
    assert not missing, f"CuPy {cd.NAMES['version']} lacks: {missing}"


def test_out_of_range_indices_wrap_around_as_in_cupy():
    d = cd.ndarray(np.arange(4.0))
    assert d[np.array([1, 5, -6])].get().tolist() == [1.0, 1.0, 2.0]
    m = cd.ndarray(np.zeros((2, 3)))
    cd._attribute("add").at(m, (Ellipsis, cd.ndarray(np.array([4]))), 1.0)
    assert m.get().tolist() == [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]
