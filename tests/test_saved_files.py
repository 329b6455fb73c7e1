"""Saved weights survive crashes; damaged or foreign files give clear errors and never run code."""
from __future__ import annotations

import io
import json
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest

import ember
from ember import nn
from ember import serialization


def _state(seed: float) -> dict:
    return {"weight": ember.full((3, 4), seed), "bias": ember.arange(4.0) + seed, "step": 7}


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], ember.Tensor):
            assert a[k].tolist() == b[k].tolist()
        else:
            assert a[k] == b[k]


def _only_file(tmp_path) -> None:
    """No temporary file is left next to the saved one."""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


# ---------------------------------------------------------------------------- interrupted saves


class _Crash(Exception):
    pass


def _crash(*args, **kwargs):
    raise _Crash("the disk went away")


@pytest.mark.parametrize("where", ["fsync", "replace"])
def test_failed_save_keeps_previous_file(tmp_path, monkeypatch, where):
    path = tmp_path / "model.safetensors"
    ember.save(_state(1.0), path)
    monkeypatch.setattr(serialization.os, where, _crash)
    with pytest.raises(_Crash):
        ember.save(_state(2.0), path)
    monkeypatch.undo()
    _same(ember.load(path), _state(1.0))
    _only_file(tmp_path)


def test_save_interrupted_midway_through_the_bytes(tmp_path, monkeypatch):
    """The write itself stops half way (a full disk, a signal): the old file is untouched."""
    path = tmp_path / "model.safetensors"
    ember.save(_state(1.0), path)
    real_fdopen = os.fdopen

    class HalfWriter(io.RawIOBase):
        def __init__(self, fd, mode="wb"):
            self.inner = real_fdopen(fd, mode)

        def write(self, data):
            self.inner.write(bytes(data[: len(data) // 2]))
            self.inner.flush()
            raise OSError(28, "No space left on device")

        def close(self):
            self.inner.close()
            super().close()

    monkeypatch.setattr(serialization.os, "fdopen", HalfWriter)
    with pytest.raises(OSError, match="No space left"):
        ember.save(_state(2.0), path)
    monkeypatch.undo()
    _same(ember.load(path), _state(1.0))
    _only_file(tmp_path)


def test_keyboard_interrupt_during_save(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    ember.save(_state(1.0), path)

    def interrupt(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        ember.save(_state(2.0), path)
    monkeypatch.undo()
    _same(ember.load(path), _state(1.0))
    _only_file(tmp_path)


def test_save_then_load_round_trip_and_file_objects(tmp_path):
    path = tmp_path / "model.safetensors"
    ember.save(_state(3.0), path)
    _same(ember.load(path), _state(3.0))
    buffer = io.BytesIO()
    ember.save(_state(4.0), buffer)
    buffer.seek(0)
    _same(ember.load(buffer), _state(4.0))


# ---------------------------------------------------------------------------- damaged files


def _saved_bytes() -> bytes:
    buffer = io.BytesIO()
    ember.save(_state(5.0), buffer)
    return buffer.getvalue()


def _load_bytes(tmp_path, data: bytes):
    path = tmp_path / "model.safetensors"
    path.write_bytes(data)
    return ember.load(path)


@pytest.mark.parametrize("keep", [0, 4, 8, 20, -40, -1], ids=["empty", "half-length", "length",
                                                            "in-header", "in-data", "last-byte"])
def test_truncated_file(tmp_path, keep):
    data = _saved_bytes()
    with pytest.raises(ValueError, match=r"ember\.load: .*(not a valid safetensors|modified or corrupted)"):
        _load_bytes(tmp_path, data[:keep] if keep >= 0 else data[:len(data) + keep])


def _header(data: bytes) -> tuple[int, dict]:
    n = struct.unpack("<Q", data[:8])[0]
    return n, json.loads(data[8:8 + n])


def test_flipped_data_byte(tmp_path):
    data = bytearray(_saved_bytes())
    data[-3] ^= 0xFF
    with pytest.raises(ValueError, match="modified or corrupted after it was saved"):
        _load_bytes(tmp_path, bytes(data))


def test_flipped_header_byte(tmp_path):
    data = bytearray(_saved_bytes())
    data[12] ^= 0x55
    with pytest.raises(ValueError, match=r"ember\.load: "):
        _load_bytes(tmp_path, bytes(data))


def _edit_header(data: bytes, edit) -> bytes:
    """The file with its JSON header changed by ``edit`` (padded to the original length)."""
    n, header = _header(data)
    edit(header)
    text = json.dumps(header, separators=(",", ":")).encode()
    assert len(text) <= n
    return data[:8] + text.ljust(n) + data[8 + n:]


@pytest.mark.parametrize("edit", [
    lambda h: h["weight"].update(shape=[4, 3]),  # same size, another shape: bytes still fit
    lambda h: h["weight"].update(dtype="I32"),  # another dtype of the same width
    lambda h: h["__metadata__"].update({"ember.structure": '{"dict":[]}'}),
    lambda h: h["__metadata__"].update({"ember.sha256": "0" * 64}),
], ids=["shape", "dtype", "structure", "digest"])
def test_edited_header(tmp_path, edit):
    with pytest.raises(ValueError, match="modified or corrupted after it was saved"):
        _load_bytes(tmp_path, _edit_header(_saved_bytes(), edit))


def test_header_offsets_out_of_the_file(tmp_path):
    def move(h):
        h["bias"]["data_offsets"] = [0, 99]  # past the end of the data

    with pytest.raises(ValueError, match="not a valid safetensors file"):
        _load_bytes(tmp_path, _edit_header(_saved_bytes(), move))


def test_absurd_header_length(tmp_path):
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        _load_bytes(tmp_path, struct.pack("<Q", 2**62) + b"{}")


# ---------------------------------------------------------------------------- foreign files


class _Marker:
    """Unpickling this creates a file: the proof that loading ran code."""

    path = ""

    def __reduce__(self):
        return (open, (self.path, "w"))


def _evil_pickle(marker) -> bytes:
    _Marker.path = str(marker)
    return pickle.dumps({"weight": _Marker()})


def test_pickle_file_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        _load_bytes(tmp_path, _evil_pickle(marker))
    assert not marker.exists()


def test_torch_style_zip_with_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("archive/data.pkl", _evil_pickle(marker))
        z.writestr("archive/version", "3\n")
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        _load_bytes(tmp_path, buffer.getvalue())
    assert not marker.exists()


def test_random_bytes_are_refused(tmp_path):
    rng = np.random.default_rng(0)
    for size in (1, 7, 8, 64, 4096):
        with pytest.raises(ValueError, match="not a valid safetensors file"):
            _load_bytes(tmp_path, rng.integers(0, 256, size, dtype=np.uint8).tobytes())


def test_text_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        _load_bytes(tmp_path, b"weight,bias\n1,2\n")


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        ember.load("/nonexistent/dir/model.safetensors")


def test_plain_safetensors_from_another_tool(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "model.safetensors"
    save_file({"w": np.arange(6, dtype=np.float32).reshape(2, 3)}, str(path))
    assert ember.load(path)["w"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


# ---------------------------------------------------------------------------- state dicts


def test_load_state_dict_shape_mismatch_names_key_and_shapes():
    import torch

    model = nn.Linear(3, 4)
    bad = {"weight": ember.zeros(5, 3), "bias": ember.zeros(4)}
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(bad)
    msg = str(info.value)
    assert "weight" in msg and "[5, 3]" in msg and "[4, 3]" in msg
    with pytest.raises(RuntimeError, match="size mismatch for weight"):  # torch: the same class
        torch.nn.Linear(3, 4).load_state_dict({"weight": torch.zeros(5, 3), "bias": torch.zeros(4)})


def test_save_and_reload_a_model(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    path = tmp_path / "model.safetensors"
    ember.save(model.state_dict(), path)
    other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    other.load_state_dict(ember.load(path))
    x = ember.randn(5, 3)
    assert model(x).tolist() == other(x).tolist()
