"""Recurrent layers and cells against torch: outputs, input/state/parameter gradients, second
derivatives, packed sequences, dropout between layers and torch's errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from ember.nn.utils import rnn as ERNN
from seq_compare import compare_module, twins
from torch.nn.utils import rnn as TRNN

DTYPES = ["float32", "float64"]


def _call(mod, x, *state):
    return mod(x, *state) if state else mod(x)


def _state(name: str, shape: tuple, rng, dtype: str, proj: int = 0):
    h_shape = shape[:-1] + (proj or shape[-1],)
    h = rng.standard_normal(h_shape).astype(dtype)
    if name in ("LSTM", "LSTMCell"):
        return [(h, rng.standard_normal(shape).astype(dtype))]
    return [h]


def _with_state(call):
    """Wrap a (module, x, state...) call so an LSTM's (h, c) pair arrives as one tuple."""
    def run(mod, x, *state):
        if len(state) == 2:
            return call(mod, x, tuple(state))
        return call(mod, x, *state)
    return run


def _flat(state_list):
    return [a for s in state_list for a in (s if isinstance(s, tuple) else (s,))]


CONFIGS = [
    ("RNN", dict()),
    ("RNN", dict(nonlinearity="relu", bias=False)),
    ("LSTM", dict(num_layers=2)),
    ("LSTM", dict(bidirectional=True, proj_size=2)),
    ("LSTM", dict(bidirectional=True, batch_first=True, num_layers=2, bias=False)),
    ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("GRU", dict(bias=False)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kwargs", CONFIGS)
@pytest.mark.parametrize("steps, batch", [(4, 3), (1, 1)])
def test_layers_match_torch(name, kwargs, steps, batch, dtype):
    ember.manual_seed(0)
    rng = np.random.default_rng(steps)
    e, t = twins(name, 3, 4, dtype=dtype, **kwargs)
    shape = (batch, steps, 3) if kwargs.get("batch_first") else (steps, batch, 3)
    x = rng.standard_normal(shape).astype(dtype)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    state = _state(name, (layers, batch, 4), rng, dtype, kwargs.get("proj_size", 0))
    call = _with_state(_call)
    compare_module(e, t, call, call, [x] + _flat(state), dtype)
    compare_module(e, t, _call, _call, [x], dtype)  # zero initial state


@pytest.mark.parametrize("name, kwargs", CONFIGS)
def test_unbatched_input(name, kwargs):
    rng = np.random.default_rng(1)
    e, t = twins(name, 3, 4, **kwargs)
    x = rng.standard_normal((5, 3))
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    state = _state(name, (layers, 4), rng, "float64", kwargs.get("proj_size", 0))
    call = _with_state(_call)
    compare_module(e, t, call, call, [x] + _flat(state))


@pytest.mark.parametrize("name, kwargs", [("RNN", {}), ("LSTM", dict(proj_size=2)),
                                          ("LSTM", dict(num_layers=2, bidirectional=True)),
                                          ("GRU", dict(num_layers=2, bidirectional=True))])
def test_second_derivatives_match_torch(name, kwargs):
    rng = np.random.default_rng(2)
    e, t = twins(name, 2, 3, **kwargs)
    x = rng.standard_normal((3, 2, 2))
    compare_module(e, t, _call, _call, [x], order=2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(name, batched, dtype):
    rng = np.random.default_rng(3)
    e, t = twins(name, 3, 4, dtype=dtype)
    shape = (2, 4) if batched else (4,)
    x = rng.standard_normal(shape[:-1] + (3,)).astype(dtype)
    call = _with_state(_call)
    compare_module(e, t, call, call, [x] + _flat(_state(name, shape, rng, dtype)), dtype, order=2)
    compare_module(e, t, _call, _call, [x], dtype)


def test_relu_cell_and_cells_without_bias():
    rng = np.random.default_rng(4)
    for name, kwargs in [("RNNCell", dict(nonlinearity="relu")), ("GRUCell", dict(bias=False))]:
        e, t = twins(name, 3, 4, **kwargs)
        compare_module(e, t, _call, _call, [rng.standard_normal((2, 3))])


# ---------------------------------------------------------------------------- packed sequences


def _pack(lib, x, lengths, enforce_sorted):
    mod = ERNN if lib is ember else TRNN
    return mod.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kwargs", [("LSTM", dict(num_layers=2, bidirectional=True)),
                                          ("GRU", dict(bidirectional=True)),
                                          ("RNN", dict(num_layers=2)),
                                          ("LSTM", dict(proj_size=2))])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_sequences_match_torch(name, kwargs, enforce_sorted, dtype):
    rng = np.random.default_rng(5)
    e, t = twins(name, 3, 4, dtype=dtype, **kwargs)
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    x = rng.standard_normal((5, 4, 3)).astype(dtype)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    state = _state(name, (layers, 4, 4), rng, dtype, kwargs.get("proj_size", 0))

    def run(lib):
        def call(mod, x, *hx):
            hx = (tuple(hx) if len(hx) == 2 else hx[0]) if hx else None
            out, h = mod(_pack(lib, x, lengths, enforce_sorted), hx)
            padded, _ = (ERNN if lib is ember else TRNN).pad_packed_sequence(out)
            return padded, h
        return call

    compare_module(e, t, run(ember), run(torch), [x] + _flat(state), dtype)


def test_packed_second_derivatives():
    rng = np.random.default_rng(6)
    e, t = twins("LSTM", 2, 3, bidirectional=True)
    x = rng.standard_normal((3, 3, 2))

    def run(lib):
        def call(mod, x):
            return mod(_pack(lib, x, [2, 3, 1], False))
        return call

    compare_module(e, t, run(ember), run(torch), [x], order=2)


def test_pad_pack_utilities_match_torch():
    rng = np.random.default_rng(7)
    seqs = [rng.standard_normal((n, 2)) for n in (2, 4, 1)]
    for side in ("right", "left"):
        for batch_first in (False, True):
            got = ERNN.pad_sequence([ember.tensor(s) for s in seqs], batch_first, -1.0, side)
            want = TRNN.pad_sequence([torch.tensor(s) for s in seqs], batch_first, -1.0, side)
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    e_packed = ERNN.pack_sequence([ember.tensor(s) for s in seqs], enforce_sorted=False)
    t_packed = TRNN.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    for field in ("data", "batch_sizes", "sorted_indices", "unsorted_indices"):
        np.testing.assert_array_equal(getattr(e_packed, field).numpy(), getattr(t_packed, field).numpy())
    assert e_packed.batch_sizes.dtype == ember.int64 and e_packed.batch_sizes.device.type == "cpu"
    for got, want in zip(ERNN.unpack_sequence(e_packed), TRNN.unpack_sequence(t_packed)):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    padded, lengths = ERNN.pad_packed_sequence(e_packed, batch_first=True, padding_value=9.0,
                                               total_length=6)
    t_padded, t_lengths = TRNN.pad_packed_sequence(t_packed, batch_first=True, padding_value=9.0,
                                                   total_length=6)
    np.testing.assert_array_equal(padded.numpy(), t_padded.numpy())
    np.testing.assert_array_equal(lengths.numpy(), t_lengths.numpy())
    inv = ERNN.invert_permutation(ember.tensor([2, 0, 1]))
    assert inv.tolist() == TRNN.invert_permutation(torch.tensor([2, 0, 1])).tolist()
    unpadded = ERNN.unpad_sequence(padded, lengths, batch_first=True)
    assert [tuple(u.shape) for u in unpadded] == [(2, 2), (4, 2), (1, 2)]
    assert isinstance(e_packed.double(), ERNN.PackedSequence)


def test_pack_padded_gradients_match_torch():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((4, 3, 2))

    def run(lib):
        mod = ERNN if lib is ember else TRNN

        def call(_, x):
            packed = mod.pack_padded_sequence(x, [2, 4, 3], batch_first=False, enforce_sorted=False)
            return mod.pad_packed_sequence(packed, batch_first=True, padding_value=0.5)[0] * 2
        return call

    compare_module(ember.nn.Identity(), torch.nn.Identity(), run(ember), run(torch), [x], order=2)


# ---------------------------------------------------------------------------- dropout, state, repr


def test_dropout_between_layers_is_seeded_and_unbiased():
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = ember.randn(6, 2, 3)
    ember.manual_seed(1)
    a = lstm(x)[0]
    ember.manual_seed(1)
    b = lstm(x)[0]
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    c = lstm(x)[0]
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())
    lstm.eval()
    np.testing.assert_array_equal(lstm(x)[0].detach().numpy(), lstm(x)[0].detach().numpy())
    masks = ember.nn.modules.rnn._dropout_masks((200, 50, 10), None, 0.3, x)
    stacked = ember.stack(masks).numpy()
    np.testing.assert_allclose(np.unique(stacked), [0.0, 1 / 0.7], rtol=1e-6)
    assert abs(stacked.mean() - 1.0) < 0.02


def test_dropout_warning_and_state_dict_keys_as_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(2, 3, dropout=0.2)
    for kwargs in [dict(num_layers=2, bidirectional=True, proj_size=2), dict(bias=False)]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            e, t = nn.LSTM(3, 4, **kwargs), torch.nn.LSTM(3, 4, **kwargs)
        assert list(e.state_dict()) == list(t.state_dict())
        assert {k: tuple(v.shape) for k, v in e.state_dict().items()} == \
            {k: tuple(v.shape) for k, v in t.state_dict().items()}
        assert repr(e) == repr(t)
    assert repr(nn.RNN(2, 3, 2, nonlinearity="relu", batch_first=True, dropout=0.1)) == \
        repr(torch.nn.RNN(2, 3, 2, nonlinearity="relu", batch_first=True, dropout=0.1))
    assert repr(nn.GRUCell(2, 3, bias=False)) == repr(torch.nn.GRUCell(2, 3, bias=False))
    assert repr(nn.RNNCell(2, 3, nonlinearity="relu")) == repr(torch.nn.RNNCell(2, 3, nonlinearity="relu"))
    lstm = nn.LSTM(3, 4)
    lstm.flatten_parameters()
    assert len(lstm.all_weights[0]) == 4


def test_initialisation_bound_as_torch():
    ember.manual_seed(0)
    lstm = nn.LSTM(10, 25, num_layers=2)
    for p in lstm.parameters():
        values = p.detach().numpy()
        assert np.abs(values).max() <= 1 / 5 and np.abs(values).max() > 0.19


def test_state_dict_from_torch_loads_and_runs_the_same():
    t = torch.nn.GRU(3, 5, num_layers=2, bidirectional=True)
    e = nn.GRU(3, 5, num_layers=2, bidirectional=True)
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(9).standard_normal((4, 2, 3)).astype("float32")
    got, want = e(ember.tensor(x))[0], t(torch.tensor(x))[0]
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------- errors


def _raises_like_torch(e_fn, t_fn):
    with pytest.raises(Exception) as t_err:
        t_fn()
    with pytest.raises(type(t_err.value)) as e_err:
        e_fn()
    return str(t_err.value), str(e_err.value)


LAYER_ERRORS = [
    ("wrong input size", lambda m, lib: m(lib.zeros(5, 2, 7))),
    ("4-D input", lambda m, lib: m(lib.zeros(5, 2, 3, 1))),
    ("hidden shape", lambda m, lib: m(lib.zeros(5, 2, 3), (lib.zeros(2, 3, 4), lib.zeros(2, 2, 4)))),
    ("cell shape", lambda m, lib: m(lib.zeros(5, 2, 3), (lib.zeros(2, 2, 4), lib.zeros(1, 2, 4)))),
    ("2-D state for 3-D input", lambda m, lib: m(lib.zeros(5, 2, 3), (lib.zeros(2, 4), lib.zeros(2, 4)))),
    ("dtype", lambda m, lib: m(lib.zeros(5, 2, 3, dtype=lib.float64))),
    ("empty sequence", lambda m, lib: m(lib.zeros(0, 2, 3))),
]


@pytest.mark.parametrize("what, call", LAYER_ERRORS, ids=[e[0] for e in LAYER_ERRORS])
def test_layer_errors_as_torch(what, call):
    t_msg, e_msg = _raises_like_torch(lambda: call(nn.LSTM(3, 4, 2), ember),
                                      lambda: call(torch.nn.LSTM(3, 4, 2), torch))
    assert e_msg == t_msg.replace("torch.", "ember.")


@pytest.mark.parametrize("call", [
    lambda lib, c: c(lib.zeros(2, 5)),
    lambda lib, c: c(lib.zeros(2, 3), (lib.zeros(3, 4), lib.zeros(2, 4))),
    lambda lib, c: c(lib.zeros(2, 3), (lib.zeros(2, 5), lib.zeros(2, 4))),
    lambda lib, c: c(lib.zeros(2, 3, 3)),
    lambda lib, c: c(lib.zeros(2, 3), (lib.zeros(2, 2, 4), lib.zeros(2, 4))),
])
def test_cell_errors_as_torch(call):
    t_msg, e_msg = _raises_like_torch(lambda: call(ember, nn.LSTMCell(3, 4)),
                                      lambda: call(torch, torch.nn.LSTMCell(3, 4)))
    assert e_msg == t_msg


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.RNN(3, 4, nonlinearity="sigmoid"),
    lambda lib: lib.nn.GRU(3, 4, proj_size=2),
    lambda lib: lib.nn.LSTM(3, 4, proj_size=4),
    lambda lib: lib.nn.LSTM(3, 4, proj_size=-1),
    lambda lib: lib.nn.LSTM(3, 4, dropout=1.5),
    lambda lib: lib.nn.LSTM(3, 0),
    lambda lib: lib.nn.LSTM(3.0, 4),
    lambda lib: lib.nn.LSTM(3, 4, 0),
])
def test_constructor_errors_as_torch(make):
    t_msg, e_msg = _raises_like_torch(lambda: make(ember), lambda: make(torch))
    assert e_msg == t_msg


@pytest.mark.parametrize("call", [
    lambda lib, R: R.pack_padded_sequence(lib.zeros(4, 3, 2), [2, 3, 1]),
    lambda lib, R: R.pack_padded_sequence(lib.zeros(4, 3, 2), [2, 3]),
    lambda lib, R: R.pack_padded_sequence(lib.zeros(4, 3, 2), [3, 2, 0]),
    lambda lib, R: R.pack_padded_sequence(lib.zeros(4, 3, 2), lib.tensor([[3, 2, 1]])),
    lambda lib, R: R.pad_packed_sequence(R.pack_padded_sequence(lib.zeros(4, 3, 2), [3, 2, 1]),
                                         total_length=2),
    lambda lib, R: R.pad_sequence([]),
    lambda lib, R: R.pad_sequence([lib.zeros(2, 3)], padding_side="up"),
])
def test_packing_errors_as_torch(call):
    t_msg, e_msg = _raises_like_torch(lambda: call(ember, ERNN), lambda: call(torch, TRNN))
    assert e_msg == t_msg


def test_lengths_longer_than_the_input_are_refused():
    with pytest.raises(RuntimeError, match="pack_padded_sequence: a length of 5"):
        ERNN.pack_padded_sequence(ember.zeros(4, 3, 2), [5, 2, 1])


@pytest.mark.cuda
def test_lstm_on_cuda_matches_cpu(device):
    if device != "cuda":
        pytest.skip("CUDA only")
    ember.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    x = ember.randn(5, 2, 3)
    want = lstm(x)[0]
    got = lstm.to("cuda")(x.to("cuda"))[0]
    packed = ERNN.pack_padded_sequence(x.to("cuda"), [5, 3], enforce_sorted=False)
    lstm(packed)[0].data.sum().backward()
    assert got.device.type == "cuda" and lstm.weight_hh_l0.grad.device.type == "cuda"
    np.testing.assert_allclose(got.cpu().detach().numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_lstm_scan_and_gru_pass_finite_difference_checks():
    from ember.autograd import gradcheck, gradgradcheck
    from ember.ops.recurrent import lstm_scan

    rng = np.random.default_rng(11)
    args = [ember.tensor(rng.standard_normal(s) * 0.5, requires_grad=True)
            for s in ((3, 1, 4), (1, 1), (1, 1), (4, 1))]
    assert gradcheck(lstm_scan, args)
    assert gradgradcheck(lstm_scan, args)
    gru = nn.GRU(2, 2, bidirectional=True).double()
    assert gradcheck(lambda x: gru(x)[0], [ember.tensor(rng.standard_normal((3, 1, 2)), requires_grad=True)])
