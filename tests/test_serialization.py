"""ember.save / ember.load: safetensors files, round trips, atomic writes, clear errors."""
import copy
import io
import json
import os
import pickle

import numpy as np
import pytest

import ember
from ember import optim, serialization


def _assert_same(a, b):
    if isinstance(a, ember.Tensor):
        assert isinstance(b, ember.Tensor)
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert type(b) is dict and list(a.keys()) == list(b.keys())
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b and type(a) is type(b)


def _sample():
    return {
        "fc1.weight": ember.randn(4, 3, requires_grad=True),
        "fc1.bias": ember.zeros(4, dtype=ember.float64),
        "ints": ember.arange(5),
        "mask": ember.tensor([True, False]),
        "half": ember.ones(2, 2, dtype=ember.float16),
        "bytes": ember.tensor([1, 255], dtype=ember.uint8),
        "scalar": ember.tensor(3.5),
        "empty": ember.zeros(0, 3),
        "view": ember.arange(6.0).reshape(2, 3).t(),
        0: {"step": ember.tensor(2.0)},
        (1, "a"): [1, 2.5, float("nan"), float("-inf"), None, True, "text", (0.9, 0.999)],
        "array": np.arange(4, dtype=np.int32),
        "device": ember.device("cpu"),
    }


def test_round_trip_nested(tmp_path):
    obj = _sample()
    path = tmp_path / "obj.safetensors"
    ember.save(obj, path)
    back = ember.load(path)
    _assert_same(obj, back)
    _assert_same(ember.load(str(path), map_location="cpu"), obj)


def test_single_tensor_and_file_objects(tmp_path):
    t = ember.randn(3, 2)
    ember.save(t, tmp_path / "t.st")
    _assert_same(t, ember.load(tmp_path / "t.st"))
    buf = io.BytesIO()
    ember.save({"a": t}, buf)
    buf.seek(0)
    _assert_same({"a": t}, ember.load(buf))


def test_file_is_plain_safetensors_with_state_dict_keys(tmp_path):
    from safetensors.numpy import load_file

    sd = {"layer.weight": ember.ones(2, 2), "layer.bias": ember.zeros(2)}
    ember.save(sd, tmp_path / "m.safetensors")
    raw = load_file(str(tmp_path / "m.safetensors"))
    assert set(raw) == {"layer.weight", "layer.bias"}
    np.testing.assert_array_equal(raw["layer.weight"], np.ones((2, 2), np.float32))


def test_foreign_safetensors_file_loads_as_flat_dict(tmp_path):
    from safetensors.numpy import save_file

    save_file({"w": np.arange(3, dtype=np.float32)}, str(tmp_path / "f.safetensors"))
    got = ember.load(tmp_path / "f.safetensors")
    assert list(got) == ["w"] and got["w"].tolist() == [0.0, 1.0, 2.0]


def test_optimizer_state_round_trip(tmp_path):
    p = ember.randn(3, requires_grad=True)
    opt = optim.Adam([p], lr=0.01, amsgrad=True)
    for _ in range(2):
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
    ember.save({"optim": opt.state_dict(), "epoch": 2}, tmp_path / "ckpt")
    loaded = ember.load(tmp_path / "ckpt")
    _assert_same(opt.state_dict(), loaded["optim"])
    q = ember.tensor(p.detach().numpy().copy(), requires_grad=True)
    other = optim.Adam([q])
    other.load_state_dict(loaded["optim"])
    assert other.param_groups[0]["betas"] == (0.9, 0.999) and other.param_groups[0]["amsgrad"] is True
    for o, s in ((opt, p), (other, q)):
        o.zero_grad()
        (s * s).sum().backward()
        o.step()
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_atomic_write_keeps_previous_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    ember.save({"v": ember.ones(3)}, path)
    before = path.read_bytes()

    def boom(fd):
        raise OSError("disk on fire")

    monkeypatch.setattr(serialization.os, "fsync", boom)
    with pytest.raises(OSError, match="disk on fire"):
        ember.save({"v": ember.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # no temporary file left behind
    monkeypatch.undo()
    ember.save({"v": ember.zeros(2)}, path)
    assert ember.load(path)["v"].tolist() == [0.0, 0.0]


def test_save_refuses_objects_it_cannot_store(tmp_path):
    with pytest.raises(TypeError, match="cannot store .*object at 'a.b'.*state_dict"):
        ember.save({"a": {"b": object()}}, tmp_path / "x")
    with pytest.raises(TypeError, match="dict keys"):
        ember.save({ember.ones(1): 1}, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_truncated_file_is_a_clear_error(tmp_path):
    path = tmp_path / "t.safetensors"
    ember.save(_sample(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 10])
    with pytest.raises(ValueError, match="t.safetensors is not a valid safetensors file"):
        ember.load(path)
    path.write_bytes(data[:5])
    with pytest.raises(ValueError, match="t.safetensors"):
        ember.load(path)


def test_non_safetensors_file_is_a_clear_error(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match="model.pt is not a valid safetensors file"):
        ember.load(path)


def test_tampered_bytes_are_detected(tmp_path):
    path = tmp_path / "w.safetensors"
    ember.save({"w": ember.zeros(64)}, path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x40
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="w.safetensors was modified or corrupted"):
        ember.load(path)


def _rewrite_header(path, edit):
    """Change the JSON header of a safetensors file (a tamperer's tool)."""
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    edit(header)
    new = json.dumps(header).encode()
    new += b" " * (-len(new) % 8)
    path.write_bytes(len(new).to_bytes(8, "little") + new + data[8 + n:])


def test_tampered_structure_is_detected(tmp_path):
    path = tmp_path / "s.safetensors"
    ember.save({"w": ember.zeros(2), "lr": 0.1}, path)

    def edit(header):
        header["__metadata__"]["ember.structure"] = header["__metadata__"]["ember.structure"].replace(
            "0.1", "100.0")

    _rewrite_header(path, edit)
    with pytest.raises(ValueError, match="modified or corrupted"):
        ember.load(path)


def test_malformed_structure_with_matching_digest_is_a_clear_error(tmp_path):
    path = tmp_path / "m.safetensors"
    ember.save({"w": ember.zeros(2)}, path)

    def edit(header):
        structure = json.dumps({"dict": [[{"str": "w"}, {"pickle": "os.system"}]]})
        header["__metadata__"]["ember.structure"] = structure
        header["__metadata__"]["ember.sha256"] = serialization._digest(
            structure, {"w": np.zeros(2, np.float32)})

    _rewrite_header(path, edit)
    with pytest.raises(ValueError, match="m.safetensors: malformed structure entry"):
        ember.load(path)


def test_pickle_and_deepcopy_use_rebuild_tensor():
    t = ember.randn(2, 3, requires_grad=True)
    for back in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t)):
        assert back.requires_grad and back is not t
        np.testing.assert_array_equal(back.detach().numpy(), t.detach().numpy())
    assert serialization._rebuild_tensor(np.ones(2), False).tolist() == [1.0, 1.0]


def test_map_location_for_missing_cuda(tmp_path):
    if ember.backend.cuda_available():
        pytest.skip("this machine has CUDA")
    path = tmp_path / "g.safetensors"
    ember.save({"w": ember.zeros(2)}, path)

    def edit(header):
        meta = header["__metadata__"]
        structure = meta["ember.structure"].replace('"device":"cpu"', '"device":"cuda:0"')
        meta["ember.structure"] = structure
        meta["ember.sha256"] = serialization._digest(structure, {"w": np.zeros(2, np.float32)})

    _rewrite_header(path, edit)
    with pytest.raises(RuntimeError, match="map_location='cpu'"):
        ember.load(path)
    assert ember.load(path, map_location="cpu")["w"].device == ember.device("cpu")
    assert ember.load(path, map_location={"cuda:0": "cpu"})["w"].tolist() == [0.0, 0.0]
