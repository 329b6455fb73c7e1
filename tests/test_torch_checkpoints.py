"""PyTorch checkpoints: files made by real torch.save load in Ember, Ember's load in real torch,
and hostile files are refused without running anything."""
import io
import os
import pickle
import struct
import warnings
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import torch_format

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().float().numpy() if t.dtype in (torch.bfloat16,) or "float8" in str(t.dtype) \
        else t.detach().numpy()


def _same_values(e, t):
    assert isinstance(e, ember.Tensor), type(e)
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(e.detach().numpy(), _np(t).astype(e.detach().numpy().dtype))


def _load_quietly(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ember.load(path, **kw)


# ------------------------------------------------------------------ files made by torch.save


@pytest.mark.parametrize("legacy", [False, True])
def test_state_dict_and_optimizer_state_from_torch(tmp_path, legacy):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.randn(5, 3)).sum().backward()
    opt.step()
    ckpt = {"epoch": 7, "arch": "mlp", "model": model.state_dict(), "optim": opt.state_dict(),
            "best": 0.25, "history": [1.5, 0.5], "betas": (0.9, 0.999), "note": None}
    path = tmp_path / "ckpt.pt"
    torch.save(ckpt, path, _use_new_zipfile_serialization=not legacy)
    back = ember.load(path)
    assert back["epoch"] == 7 and back["arch"] == "mlp" and back["best"] == 0.25
    assert back["history"] == [1.5, 0.5] and back["betas"] == (0.9, 0.999) and back["note"] is None
    assert type(back["model"]) is OrderedDict and list(back["model"]) == list(ckpt["model"])
    for k, v in ckpt["model"].items():
        _same_values(back["model"][k], v)
    assert back["model"]["1.num_batches_tracked"].dtype == ember.int64
    state = back["optim"]["state"]
    assert set(state) == set(ckpt["optim"]["state"])
    for i, s in ckpt["optim"]["state"].items():
        for name, v in s.items():
            _same_values(state[i][name], v)
    assert back["optim"]["param_groups"][0]["params"] == ckpt["optim"]["param_groups"][0]["params"]
    # The state dict drives an Ember model to the same outputs.
    emodel = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4), ember.nn.Linear(4, 2))
    emodel.load_state_dict(back["model"])
    emodel.eval()
    model.eval()
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    np.testing.assert_allclose(emodel(ember.tensor(x)).detach().numpy(),
                               model(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


ALL_DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8",
              "uint8", "bool", "uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2",
              "float8_e4m3fnuz", "float8_e5m2fnuz"]


@pytest.mark.parametrize("legacy", [False, True])
def test_every_dtype_from_torch(tmp_path, legacy):
    pytest.importorskip("ml_dtypes")
    values = torch.tensor([[0.0, 1.0, 2.5], [3.0, -1.0, 0.5]])
    sd = {}
    for name in ALL_DTYPES:
        dt = getattr(torch, name)
        if legacy and (name.startswith(("uint16", "uint32", "uint64", "float8"))):
            continue  # the legacy format has storage classes only for the classic dtypes
        v = values.abs() if name.startswith("uint") else values
        sd[name] = v.to(dt)
    path = tmp_path / "dtypes.pt"
    torch.save(sd, path, _use_new_zipfile_serialization=not legacy)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        back = ember.load(path)
    for name, t in sd.items():
        e = back[name]
        ref = t.float().numpy() if e.dtype.is_floating_point else t.numpy()
        got = e.float().numpy() if e.dtype.is_floating_point else e.numpy()  # bf16 has no .numpy()
        np.testing.assert_array_equal(got, ref.astype(got.dtype))
        native = name in ("float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool")
        if native:
            assert e.dtype == getattr(ember, name if name != "bool" else "bool")
    widened = {str(w.message).split(" holds ")[1].split(" ")[0] for w in caught}
    assert "bfloat16" in widened or hasattr(ember, "bfloat16")


def test_views_and_shared_storages_stay_shared(tmp_path):
    base = torch.arange(12.0).reshape(3, 4)
    sd = {"base": base, "t": base.t(), "row": base[1], "cols": base[:, 1:3], "same": base,
          "strided": base[::2, ::3], "expanded_src": torch.arange(3.0)}
    path = tmp_path / "views.pt"
    torch.save(sd, path)
    back = ember.load(path)
    for k, v in sd.items():
        _same_values(back[k], v)
    assert back["base"] is back["same"]
    back["base"][1, 2] = 100.0
    assert back["t"][2, 1].item() == 100.0
    assert back["row"][2].item() == 100.0
    assert back["cols"][1, 1].item() == 100.0
    assert back["t"].stride() == (1, 4)


def test_parameters_requires_grad_and_map_location(tmp_path):
    p = torch.nn.Parameter(torch.ones(2, 3))
    path = tmp_path / "p.pt"
    torch.save({"p": p, "g": torch.zeros(2, requires_grad=True), "size": torch.Size([2, 3]),
                "dev": torch.device("cpu"), "dtype": torch.float64}, path)
    back = ember.load(path, map_location="cpu")
    assert isinstance(back["p"], ember.nn.Parameter) and back["p"].requires_grad
    assert back["g"].requires_grad and not isinstance(back["g"], ember.nn.Parameter)
    assert back["size"] == ember.Size([2, 3]) and isinstance(back["size"], ember.Size)
    assert back["dev"] == ember.device("cpu") and back["dtype"] is ember.float64
    assert ember.load(path, map_location={"cpu": "cpu"})["p"].device == ember.device("cpu")
    seen = []
    back = ember.load(path, map_location=lambda storage, loc: seen.append(loc) or storage)
    assert seen and set(seen) == {"cpu"} and back["p"].device.type == "cpu"


def test_cuda_checkpoint_without_cuda_says_map_location(tmp_path, monkeypatch):
    data = _rezip(torch_format.dumps({"w": ember.ones(2)}),
                  lambda name, d: d.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0"))
    path = tmp_path / "cuda.pt"
    path.write_bytes(data)
    monkeypatch.setattr(ember.backend, "cuda_available", lambda: False)
    with pytest.raises(RuntimeError, match="map_location='cpu'"):
        ember.load(path)
    assert ember.load(path, map_location="cpu")["w"].device.type == "cpu"


# ------------------------------------------------------------------ files Ember writes


def test_ember_writes_what_torch_loads_weights_only(tmp_path):
    x = ember.arange(10.0).reshape(2, 5)
    model = ember.nn.Linear(3, 2)
    obj = {"model": model.state_dict(), "x": x, "view": x[:, 1:3], "t": x.t(), "alias": x,
           "ints": ember.arange(4), "mask": ember.tensor([True, False]),
           "half": ember.ones(2, dtype=ember.float16),
           "scalar": ember.tensor(3.5), "empty": ember.zeros(0, 3), "epoch": 3, "name": "run",
           "nested": [{"lr": 0.1, "betas": (0.9, 0.999)}, None, True], "size": ember.Size([2, 3]),
           "dtype": ember.int32, "device": ember.device("cpu"), "big": 2 ** 40, "neg": -5,
           "param": model.weight, "bytes": b"\x00\xff", "set": {1, 2}}
    path = tmp_path / "out.pt"
    ember.save(obj, path)
    back = torch.load(path, weights_only=True)
    for k in ("x", "view", "t", "ints", "mask", "half", "scalar", "empty"):
        np.testing.assert_array_equal(back[k].numpy(), obj[k].numpy())
        assert back[k].stride() == obj[k].stride(), k
    assert back["x"] is back["alias"]
    assert back["x"].untyped_storage().data_ptr() == back["view"].untyped_storage().data_ptr()
    assert list(back["model"]) == ["weight", "bias"] and type(back["model"]) is OrderedDict
    assert isinstance(back["param"], torch.nn.Parameter) and back["param"].requires_grad
    assert back["epoch"] == 3 and back["name"] == "run" and back["big"] == 2 ** 40 and back["neg"] == -5
    assert back["nested"] == [{"lr": 0.1, "betas": (0.9, 0.999)}, None, True]
    assert back["size"] == torch.Size([2, 3]) and back["dtype"] is torch.int32
    assert back["device"] == torch.device("cpu") and back["bytes"] == b"\x00\xff" and back["set"] == {1, 2}
    # ... and Ember reads its own file back the same.
    again = ember.load(path)
    np.testing.assert_array_equal(again["view"].numpy(), obj["view"].numpy())
    assert again["x"] is again["alias"]
    # A torch model takes the state dict.
    tmodel = torch.nn.Linear(3, 2)
    tmodel.load_state_dict(back["model"])
    np.testing.assert_array_equal(tmodel.weight.detach().numpy(), model.weight.detach().numpy())


def test_format_by_suffix_or_argument(tmp_path):
    sd = {"w": ember.ones(2)}
    for name in ("a.pt", "a.pth", "a.ckpt", "a.tar", "a.bin"):
        ember.save(sd, tmp_path / name)
        assert zipfile.is_zipfile(tmp_path / name)
    ember.save(sd, tmp_path / "b.safetensors")
    ember.save(sd, tmp_path / "b.weights")
    assert not zipfile.is_zipfile(tmp_path / "b.safetensors")
    assert not zipfile.is_zipfile(tmp_path / "b.weights")
    buf = io.BytesIO()
    ember.save(sd, buf, format="torch")
    buf.seek(0)
    assert torch.load(buf, weights_only=True)["w"].tolist() == [1.0, 1.0]
    buf.seek(0)
    assert ember.load(buf)["w"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="format must be"):
        ember.save(sd, buf, format="pickle")


def test_whole_module_needs_weights_only_false(tmp_path):
    model = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.ReLU(), ember.nn.Linear(4, 1))
    path = tmp_path / "model.pt"
    ember.save(model, path)
    refused = "(?s)Weights only load failed.*Unsupported global: GLOBAL ember"
    with pytest.raises(pickle.UnpicklingError, match=refused):
        ember.load(path)
    with pytest.warns(UserWarning, match="arbitrary code"):
        back = ember.load(path, weights_only=False)
    x = ember.randn(2, 3)
    np.testing.assert_array_equal(back(x).detach().numpy(), model(x).detach().numpy())
    with pytest.raises(TypeError, match="format='torch'"):
        ember.save(model, tmp_path / "model.safetensors")


def test_pickle_module_means_whole_objects_as_torch(tmp_path):
    path = tmp_path / "model.pt"
    ember.save(ember.nn.Linear(2, 2), path)
    with pytest.raises(RuntimeError, match="Can not safely load weights when explicit pickle_module"):
        ember.load(path, pickle_module=pickle, weights_only=True)
    with pytest.warns(UserWarning, match="arbitrary code"):
        assert isinstance(ember.load(path, pickle_module=pickle), ember.nn.Linear)


def test_torch_state_dict_with_weights_only_false_still_reads(tmp_path):
    path = tmp_path / "sd.pt"
    torch.save({"w": torch.arange(3.0)}, path)
    with pytest.warns(UserWarning, match="arbitrary code"):
        assert ember.load(path, weights_only=False)["w"].tolist() == [0.0, 1.0, 2.0]


# ------------------------------------------------------------------ hostile files


class _Payload:
    """Unpickling this runs a shell command (the classic pickle exploit)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _hostile_files(tmp_path, marker):
    """name -> bytes of files that would create ``marker`` if anything in them ran."""
    files = {}
    for legacy in (False, True):
        buf = io.BytesIO()
        torch.save({"w": torch.ones(2), "evil": _Payload(marker)}, buf,
                   _use_new_zipfile_serialization=not legacy)
        files[f"reduce-{'legacy' if legacy else 'zip'}"] = buf.getvalue()
    for proto in (0, 2, 4, 5):
        files[f"reduce-proto{proto}"] = _zip_with_pickle(pickle.dumps(_Payload(marker), protocol=proto))
    # A global outside the list, even one that looks harmless.
    files["builtins-eval"] = _zip_with_pickle(
        b"\x80\x02cbuiltins\neval\nX" + _u32(f"__import__('os').system('touch {marker}')") + b"\x85R.")
    files["subprocess"] = _zip_with_pickle(b"\x80\x02csubprocess\nPopen\n.")
    # INST / OBJ opcodes import and call too.
    files["inst"] = _zip_with_pickle(f"(S'touch {marker}'\nios\nsystem\n.".encode())
    files["obj"] = _zip_with_pickle(f"(cos\nsystem\nS'touch {marker}'\no.".encode())
    # Calling an allowed name on the wrong thing, and BUILD on something other than OrderedDict.
    files["build-list"] = _zip_with_pickle(b"\x80\x02]}X\x01\x00\x00\x00aK\x01sb.")
    files["reduce-non-global"] = _zip_with_pickle(b"\x80\x02X\x01\x00\x00\x00a)R.")
    return files


def _u32(text):
    raw = text.encode()
    return struct.pack("<I", len(raw)) + raw


def _rezip(data, edit):
    """The zip archive ``data`` with each record passed through ``edit(name, bytes)``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, edit(name, src.read(name)))
    return out.getvalue()


def _zip_with_pickle(pkl, records=()):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/version", "3\n")
        for name, data in records:
            z.writestr(f"archive/{name}", data)
    return buf.getvalue()


def test_hostile_pickles_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    for name, data in _hostile_files(tmp_path, marker).items():
        path = tmp_path / f"{name}.pt"
        path.write_bytes(data)
        with pytest.raises(pickle.UnpicklingError, match="Weights only load failed") as info:
            ember.load(path)
        assert not marker.exists(), name
        if name.startswith(("reduce-proto", "reduce-zip", "reduce-legacy", "builtins", "subprocess")):
            assert "Unsupported global: GLOBAL" in str(info.value), name
        with pytest.raises(pickle.UnpicklingError):
            ember.load(io.BytesIO(data), weights_only=None)  # None means the default, as torch's
        assert not marker.exists(), name
    # The same file does run code when the user opts out of the protection (the test of the test).
    path = tmp_path / "reduce-proto2.pt"
    with pytest.warns(UserWarning, match="arbitrary code"):
        ember.load(path, weights_only=False)
    assert marker.exists()


def test_truncated_zip_is_a_clear_error(tmp_path):
    buf = io.BytesIO()
    torch.save({"w": torch.ones(100)}, buf)
    data = buf.getvalue()
    for cut in (len(data) // 2, len(data) - 10, 30):
        path = tmp_path / "cut.pt"
        path.write_bytes(data[:cut])
        with pytest.raises(RuntimeError, match="damaged|truncated"):
            ember.load(path)


def test_lying_storage_sizes_are_refused(tmp_path):
    # A storage record shorter than its reference claims.
    buf = io.BytesIO()
    torch.save({"w": torch.ones(4)}, buf)
    short = _rezip(buf.getvalue(), lambda name, d: d[:8] if name.endswith("data/0") else d)
    (tmp_path / "short.pt").write_bytes(short)
    with pytest.raises(pickle.UnpicklingError, match="declares 16 bytes but holds 8"):
        ember.load(tmp_path / "short.pt")
    # A tensor whose size reaches past its storage (would read foreign memory).
    big = _rezip(buf.getvalue(), lambda name, d: d.replace(b"K\x04\x85", b"K\x40\x85")
                 if name.endswith("data.pkl") else d)  # size (4,) -> (64,)
    (tmp_path / "big.pt").write_bytes(big)
    with pytest.raises(pickle.UnpicklingError, match="storage is too small"):
        ember.load(tmp_path / "big.pt")
    # A legacy file whose storage bytes run out.
    buf = io.BytesIO()
    torch.save({"w": torch.ones(4)}, buf, _use_new_zipfile_serialization=False)
    (tmp_path / "legacy.pt").write_bytes(buf.getvalue()[:-4])
    with pytest.raises(pickle.UnpicklingError, match="declares 16 bytes"):
        ember.load(tmp_path / "legacy.pt")


def test_zip_without_checkpoint_is_a_clear_error(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "hello")
    (tmp_path / "x.pt").write_bytes(buf.getvalue())
    with pytest.raises(RuntimeError, match="not a PyTorch checkpoint"):
        ember.load(tmp_path / "x.pt")


@pytest.mark.cuda
@pytest.mark.skipif(not ember.backend.cuda_available(), reason="CUDA needs CuPy and a GPU")
def test_cuda_tensors_round_trip_through_torch_format(tmp_path):
    weight = ember.randn(2, 3, device="cuda")
    path = tmp_path / "cuda.pt"
    ember.save({"w": weight, "view": weight[:, 1:]}, path)
    assert torch.load(path, map_location="cpu", weights_only=True)["w"].tolist() == weight.cpu().tolist()
    on_gpu = ember.load(path)
    assert on_gpu["w"].device == ember.device("cuda:0") and on_gpu["view"].device.type == "cuda"
    mapped = ember.load(path, map_location={"cuda:0": "cpu"})
    assert mapped["view"].device.type == "cpu" and mapped["view"].tolist() == weight[:, 1:].cpu().tolist()


class _Settings:
    """A user class in a checkpoint (a config object, as training scripts save)."""

    def __init__(self, lr=0.0, name=""):
        self.lr = lr
        self.name = name


def test_safe_globals_allow_trusted_classes(tmp_path):
    import argparse

    path = tmp_path / "cfg.pt"
    torch.save({"w": torch.ones(2), "args": argparse.Namespace(lr=0.1, epochs=3),
                "settings": _Settings(0.5, "run")}, path)
    with pytest.raises(pickle.UnpicklingError,
                       match=r"Unsupported global: GLOBAL argparse.Namespace.*add_safe_globals"):
        ember.load(path)
    with ember.serialization.safe_globals([argparse.Namespace, _Settings]):
        assert set(ember.serialization.get_safe_globals()) >= {argparse.Namespace, _Settings}
        back = ember.load(path)
    assert back["args"] == argparse.Namespace(lr=0.1, epochs=3)
    assert isinstance(back["settings"], _Settings) and back["settings"].lr == 0.5
    assert back["settings"].name == "run" and back["w"].tolist() == [1.0, 1.0]
    with pytest.raises(pickle.UnpicklingError):  # the block is over: refused again
        ember.load(path)
    ember.serialization.add_safe_globals([(argparse.Namespace, "argparse.Namespace"), _Settings])
    try:
        assert ember.load(path)["args"].epochs == 3
    finally:
        ember.serialization.clear_safe_globals()
    assert ember.serialization.get_safe_globals() == []


@pytest.mark.parametrize("legacy", [False, True])
def test_damaged_files_fail_cleanly(legacy):
    """Random byte edits of a real checkpoint: each loads or fails with a load error, nothing else."""
    import random

    buf = io.BytesIO()
    torch.save({"w": torch.arange(6.0).reshape(2, 3).t(), "epoch": 3, "names": ["a", "b"],
                "size": torch.Size([2])}, buf, _use_new_zipfile_serialization=not legacy)
    data = buf.getvalue()
    if not legacy:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            pkl = next(n for n in z.namelist() if n.endswith("data.pkl"))
    rng = random.Random(0)

    def damage(raw):
        raw = bytearray(raw)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(raw))
            kind = rng.random()
            if kind < 0.5:
                raw[i] = rng.randrange(256)
            elif kind < 0.75:
                del raw[i]
            else:
                raw.insert(i, rng.randrange(256))
        return bytes(raw)

    for _ in range(300):
        damaged = damage(data) if legacy else _rezip(data, lambda n, d: damage(d) if n == pkl else d)
        try:
            ember.load(io.BytesIO(damaged))
        except (pickle.UnpicklingError, RuntimeError, ValueError):
            pass


def test_forged_huge_legacy_storage_is_refused_before_allocating(tmp_path):
    buf = io.BytesIO()
    torch.save({"w": torch.ones(4)}, buf, _use_new_zipfile_serialization=False)
    data = buf.getvalue()
    # the storage reference's element count: BININT1 4 before the closing TUPLE of the persistent id
    forged = data.replace(b"K\x04Ntq", b"J\x00\x00\x00\x40Ntq", 1)  # 4 -> 2**30 floats (4 GiB)
    assert forged != data
    with pytest.raises(pickle.UnpicklingError, match="more than the whole file"):
        ember.load(io.BytesIO(forged))
