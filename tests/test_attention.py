"""Scaled dot-product attention, MultiheadAttention and the Transformer modules against torch:
values, gradients of inputs and every parameter, second derivatives (against torch's MATH
kernel, the one with a double backward), masks, dropout, and torch's errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch.nn.attention import SDPBackend as TBackend
from torch.nn.attention import sdpa_kernel as t_sdpa_kernel

import ember
import ember.nn as nn
import ember.nn.functional as F
from nn_compare import check_fn
from seq_compare import compare_module, tolerance

DTYPES = ["float32", "float64"]


def _math(call):
    """torch's call on its MATH kernel (its fused CPU kernel has no second derivative)."""
    def run(*args):
        with t_sdpa_kernel(TBackend.MATH):
            return call(*args)
    return run


def _sdpa(lib, **kwargs):
    def call(q, k, v):
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, **kwargs)
    return call


def _mask_kwargs(kwargs: dict, lib) -> dict:
    return {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


SDPA_CASES = [
    ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), {}),
    ((2, 3, 4, 8), (2, 3, 4, 8), (2, 3, 4, 8), dict(is_causal=True)),
    ((3, 5, 8), (3, 2, 8), (3, 2, 8), dict(is_causal=True)),  # causal with fewer keys
    ((4, 8), (5, 8), (5, 6), dict(scale=0.3)),  # unbatched
    ((1, 1, 1, 2), (1, 1, 1, 2), (1, 1, 1, 3), {}),  # length 1, batch 1
    ((2, 3, 4, 8), (2, 1, 5, 8), (2, 1, 5, 6), {}),  # keys broadcast over heads
    ((2, 6, 4, 8), (2, 2, 5, 8), (2, 2, 5, 6), dict(enable_gqa=True)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("q, k, v, kwargs", SDPA_CASES)
def test_sdpa_matches_torch(q, k, v, kwargs, dtype):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(dtype) for s in (q, k, v)]
    check_fn(_sdpa(ember, **kwargs), _math(_sdpa(torch, **kwargs)), arrays, dtype,
             order=2 if dtype == "float64" else 1, tol=tolerance(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["bool", "float", "bool-dead-row", "float-broadcast"])
def test_sdpa_masks_match_torch(kind, dtype):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(dtype) for s in ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6))]
    if kind.startswith("bool"):
        mask = rng.random((4, 5)) > 0.3
        mask[:, 0] = True
        if kind == "bool-dead-row":
            mask[1] = False  # a query that sees no key: zeros, and finite gradients
    elif kind == "float":
        mask = rng.standard_normal((2, 3, 4, 5)).astype(dtype)
    else:
        mask = rng.standard_normal((1, 5)).astype(dtype)

    def run(lib):
        def call(q, k, v):
            return lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=lib.tensor(mask))
        return call

    check_fn(run(ember), _math(run(torch)), arrays, dtype, order=2 if dtype == "float64" else 1,
             tol=tolerance(dtype))


def test_sdpa_dropout_is_seeded_and_unbiased():
    q = ember.randn(2, 6, 6)
    v = ember.eye(6).expand(2, 6, 6)
    ember.manual_seed(3)
    a = F.scaled_dot_product_attention(q, q, v, dropout_p=0.4)
    ember.manual_seed(3)
    b = F.scaled_dot_product_attention(q, q, v, dropout_p=0.4)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    plain = F.scaled_dot_product_attention(q, q, v).numpy()
    dropped = a.numpy()
    kept = dropped != 0
    np.testing.assert_allclose(dropped[kept], plain[kept] / 0.6, rtol=1e-5)
    big = ember.zeros(1, 300, 2)
    mean = F.scaled_dot_product_attention(big, big, ember.ones(1, 300, 1), dropout_p=0.3).mean()
    assert abs(float(mean) - 1.0) < 0.02  # each weight is 1/300, kept with 1/(1-p) scaling


@pytest.mark.parametrize("call, torch_too", [
    (lambda lib, q: _sdpa(lib, attn_mask=lib.ones(4, 5, dtype=lib.int64))(q, q[:, :, :5], q[:, :, :5]), True),
    (lambda lib, q: _sdpa(lib, attn_mask=lib.ones(4, 4, dtype=lib.bool))(q, q[:, :, :5], q[:, :, :5]), True),
    (lambda lib, q: _sdpa(lib, attn_mask=lib.ones(4, 5, dtype=lib.bool), is_causal=True)(q, q, q), True),
    (lambda lib, q: _sdpa(lib)(q, q.double(), q), True),
    (lambda lib, q: _sdpa(lib)(q[0, 0, 0], q[0, 0], q[0, 0]), True),
    (lambda lib, q: _sdpa(lib, enable_gqa=True)(q, q[:, :2], q[:, :2]), True),
    (lambda lib, q: _sdpa(lib, attn_mask=lib.zeros(4, 5, dtype=lib.float64))(q, q, q), True),
])
def test_sdpa_errors_as_torch(call, torch_too):
    with pytest.raises(Exception) as t_err:
        call(torch, torch.zeros(2, 3, 5, 8))
    with pytest.raises(type(t_err.value)):
        call(ember, ember.zeros(2, 3, 5, 8))


def test_sdpa_kernel_is_accepted():
    from ember.nn.attention import SDPBackend, sdpa_kernel

    q = ember.randn(2, 3, 4)
    want = F.scaled_dot_product_attention(q, q, q).numpy()
    for choice in (SDPBackend.FLASH_ATTENTION, [SDPBackend.MATH, SDPBackend.EFFICIENT_ATTENTION]):
        with sdpa_kernel(choice):
            np.testing.assert_array_equal(F.scaled_dot_product_attention(q, q, q).numpy(), want)
    assert [b.name for b in SDPBackend] == list(TBackend.__members__)
    with pytest.raises(TypeError, match="SDPBackend"):
        with sdpa_kernel("math"):
            pass


# ---------------------------------------------------------------------------- MultiheadAttention


def _mha_call(lib, **kwargs):
    def call(mod, q, k, v):
        return mod(q, k, v, **_mask_kwargs(kwargs, lib))
    return call


MHA_CASES = [
    (dict(), dict()),
    (dict(batch_first=True), dict(need_weights=False)),
    (dict(add_bias_kv=True, add_zero_attn=True), dict(average_attn_weights=False)),
    (dict(kdim=3, vdim=5), dict()),
    (dict(bias=False), dict(need_weights=False)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("build, kwargs", MHA_CASES)
def test_multihead_attention_matches_torch(build, kwargs, dtype):
    rng = np.random.default_rng(4)
    e, t = nn.MultiheadAttention(8, 2, **build), torch.nn.MultiheadAttention(8, 2, **build)
    if dtype == "float64":
        e, t = e.double(), t.double()
    q = rng.standard_normal((4, 3, 8)).astype(dtype)
    k = rng.standard_normal((5, 3, build.get("kdim", 8))).astype(dtype)
    v = rng.standard_normal((5, 3, build.get("vdim", 8))).astype(dtype)
    if build.get("batch_first"):
        q, k, v = (a.transpose(1, 0, 2).copy() for a in (q, k, v))
    order = 2 if dtype == "float64" else 1
    compare_module(e, t, _mha_call(ember, **kwargs), _math(_mha_call(torch, **kwargs)), [q, k, v],
                   dtype, order=order)


@pytest.mark.parametrize("masks", [
    dict(key_padding_mask="bool", attn_mask="bool"),
    dict(key_padding_mask="float", attn_mask="float3d"),
    dict(attn_mask="causal", is_causal=True),
    dict(attn_mask="causal", is_causal=True, need_weights=False),
    dict(key_padding_mask="bool", need_weights=False),
])
def test_multihead_attention_masks_match_torch(masks):
    rng = np.random.default_rng(5)
    made = {}
    for name, kind in masks.items():
        if kind == "bool":
            shape = (3, 4) if name == "key_padding_mask" else (4, 4)
            m = rng.random(shape) < 0.3
            m[:, 0] = False
            made[name] = m
        elif kind == "float":
            made[name] = rng.standard_normal((3, 4))
        elif kind == "float3d":
            made[name] = rng.standard_normal((6, 4, 4))
        elif kind == "causal":
            made[name] = np.triu(np.full((4, 4), -np.inf), 1)
        else:
            made[name] = kind
    e, t = nn.MultiheadAttention(8, 2).double(), torch.nn.MultiheadAttention(8, 2).double()
    x = rng.standard_normal((4, 3, 8))

    def run(lib):
        def call(mod, x):
            return mod(x, x, x, **_mask_kwargs(made, lib))
        return call

    compare_module(e, t, run(ember), _math(run(torch)), [x], order=2)


def test_multihead_attention_unbatched_and_state_dict_as_torch():
    rng = np.random.default_rng(6)
    e, t = nn.MultiheadAttention(6, 3, add_bias_kv=True).double(), \
        torch.nn.MultiheadAttention(6, 3, add_bias_kv=True).double()
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(e) == repr(t)
    x = rng.standard_normal((4, 6))
    kpm = np.array([False, True, False, False])
    compare_module(e, t, lambda m, x: m(x, x, x, key_padding_mask=ember.tensor(kpm)),
                   lambda m, x: m(x, x, x, key_padding_mask=torch.tensor(kpm)), [x])
    sep_e = nn.MultiheadAttention(4, 2, kdim=3, vdim=2)
    sep_t = torch.nn.MultiheadAttention(4, 2, kdim=3, vdim=2)
    assert [n for n, _ in sep_e.named_parameters()] == [n for n, _ in sep_t.named_parameters()]


def test_multihead_attention_dropout_in_training_only():
    mha = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = ember.randn(5, 2, 8)
    ember.manual_seed(0)
    a, _ = mha(x, x, x)
    ember.manual_seed(0)
    b, _ = mha(x, x, x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    mha.eval()
    c, _ = mha(x, x, x)
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())
    np.testing.assert_array_equal(c.detach().numpy(), mha(x, x, x)[0].detach().numpy())


MHA_ERRORS = [
    lambda lib, m: m(lib.zeros(4, 3, 8), lib.zeros(5, 3), lib.zeros(5, 3, 8)),
    lambda lib, m: m(lib.zeros(4, 3, 8), lib.zeros(5, 3, 8), lib.zeros(5, 3, 8),
                     key_padding_mask=lib.zeros(3, 4, dtype=lib.bool)),
    lambda lib, m: m(lib.zeros(4, 3, 8), lib.zeros(5, 3, 8), lib.zeros(5, 3, 8),
                     attn_mask=lib.zeros(4, 4, dtype=lib.bool)),
    lambda lib, m: m(lib.zeros(4, 3, 8), lib.zeros(5, 3, 8), lib.zeros(5, 3, 8),
                     attn_mask=lib.zeros(4, 5, dtype=lib.int64)),
    lambda lib, m: m(lib.zeros(4, 3, 8), lib.zeros(5, 3, 8), lib.zeros(5, 3, 8),
                     attn_mask=lib.zeros(2, 4, 5)),
    lambda lib, m: m(lib.zeros(4, 3, 6), lib.zeros(5, 3, 6), lib.zeros(5, 3, 6)),
    lambda lib, m: m(lib.zeros(4, 3, 8), lib.zeros(5, 3, 8), lib.zeros(5, 3, 8), is_causal=True),
    lambda lib, m: m(lib.zeros(3, 8), lib.zeros(5, 3, 8), lib.zeros(5, 3, 8)),
    lambda lib, m: m(lib.zeros(2, 4, 3, 8), lib.zeros(5, 3, 8), lib.zeros(5, 3, 8)),
]


@pytest.mark.parametrize("call", MHA_ERRORS)
def test_multihead_attention_errors_as_torch(call):
    with pytest.raises(Exception) as t_err:
        call(torch, torch.nn.MultiheadAttention(8, 2))
    with pytest.raises(type(t_err.value)) as e_err:
        call(ember, nn.MultiheadAttention(8, 2))
    assert str(e_err.value) == str(t_err.value).replace("torch.Size", "ember.Size")


@pytest.mark.parametrize("make", [lambda lib: lib.nn.MultiheadAttention(7, 2),
                                  lambda lib: lib.nn.MultiheadAttention(0, 2)])
def test_multihead_attention_constructor_errors(make):
    with pytest.raises(Exception) as t_err:
        make(torch)
    with pytest.raises(type(t_err.value), match=str(t_err.value)):
        make(ember)


# ---------------------------------------------------------------------------- Transformers


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


LAYER_CASES = [
    dict(),
    dict(norm_first=True, activation="gelu", batch_first=True),
    dict(bias=False, layer_norm_eps=1e-3),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", LAYER_CASES)
def test_encoder_layer_matches_torch(kwargs, dtype):
    rng = np.random.default_rng(7)
    e = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kwargs)
    t = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kwargs)
    if dtype == "float64":
        e, t = e.double(), t.double()
    x = rng.standard_normal((3, 5, 8)).astype(dtype)
    causal = np.triu(np.full((5, 5), -np.inf), 1).astype(dtype)

    def run(lib):
        def call(mod, x):
            return mod(x, src_mask=lib.tensor(causal), is_causal=True)
        return call

    compare_module(e, t, run(ember), _math(run(torch)), [x], dtype,
                   order=2 if dtype == "float64" else 1)


@pytest.mark.parametrize("kwargs", LAYER_CASES)
def test_decoder_layer_matches_torch(kwargs):
    rng = np.random.default_rng(8)
    e = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, **kwargs).double()
    t = torch.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, **kwargs).double()
    tgt, mem = rng.standard_normal((4, 3, 8)), rng.standard_normal((5, 3, 8))
    if kwargs.get("batch_first"):
        tgt, mem = tgt.transpose(1, 0, 2).copy(), mem.transpose(1, 0, 2).copy()
    kpm = np.array([[False] * 5, [False, False, False, True, True], [False] * 4 + [True]])

    def run(lib):
        def call(mod, tgt, mem):
            mask = lib.nn.Transformer.generate_square_subsequent_mask(4, dtype=lib.float64)
            return mod(tgt, mem, tgt_mask=mask, tgt_is_causal=True,
                       memory_key_padding_mask=lib.tensor(kpm))
        return call

    compare_module(e, t, run(ember), _math(run(torch)), [tgt, mem], order=2)


@pytest.mark.parametrize("kwargs", [dict(), dict(norm_first=True, batch_first=True, activation="gelu")])
def test_transformer_matches_torch(kwargs):
    rng = np.random.default_rng(9)
    e = _quiet(lambda: nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, **kwargs).double())
    t = _quiet(lambda: torch.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, **kwargs).double())
    assert list(e.state_dict()) == list(t.state_dict())
    src, tgt = rng.standard_normal((5, 2, 8)), rng.standard_normal((4, 2, 8))
    if kwargs.get("batch_first"):
        src, tgt = src.transpose(1, 0, 2).copy(), tgt.transpose(1, 0, 2).copy()

    def run(lib):
        def call(mod, src, tgt):
            mask = lib.nn.Transformer.generate_square_subsequent_mask(4, dtype=lib.float64)
            return mod(src, tgt, tgt_mask=mask)
        return call

    compare_module(e, t, run(ember), run(torch), [src, tgt])


def test_encoder_stack_with_a_callable_activation_and_padding():
    rng = np.random.default_rng(10)
    layer_e = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=nn.functional.silu)
    layer_t = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=torch.nn.functional.silu)
    e = _quiet(lambda: nn.TransformerEncoder(layer_e, 2, norm=nn.LayerNorm(8)).double())
    t = _quiet(lambda: torch.nn.TransformerEncoder(layer_t, 2, norm=torch.nn.LayerNorm(8)).double())
    x = rng.standard_normal((5, 3, 8))
    kpm = np.zeros((3, 5), dtype=bool)
    kpm[1, 3:] = True

    def run(lib):
        def call(mod, x):
            mask = lib.nn.Transformer.generate_square_subsequent_mask(5, dtype=lib.float64)
            return mod(x, mask=mask, src_key_padding_mask=lib.tensor(kpm))
        return call

    compare_module(e, t, run(ember), _math(run(torch)), [x], order=2)
    unbatched = rng.standard_normal((5, 8))
    compare_module(e, t, lambda m, x: m(x), lambda m, x: m(x), [unbatched])


def test_transformer_reprs_masks_warnings_and_errors_as_torch():
    mask_e = nn.Transformer.generate_square_subsequent_mask(4)
    mask_t = torch.nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(mask_e.numpy(), mask_t.numpy())
    assert mask_e.dtype == ember.float32
    for kwargs in [dict(norm_first=True), dict(), dict(batch_first=True)]:
        with warnings.catch_warnings(record=True) as t_warn:
            warnings.simplefilter("always")
            torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, **kwargs), 2)
        with warnings.catch_warnings(record=True) as e_warn:
            warnings.simplefilter("always")
            enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, **kwargs), 2)
        assert [str(w.message) for w in e_warn] == [str(w.message) for w in t_warn]
    layer_t = torch.nn.TransformerEncoderLayer(8, 2, 16)
    assert repr(nn.TransformerEncoderLayer(8, 2, 16)) == repr(layer_t)
    assert repr(enc) == repr(_quiet(lambda: torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(8, 2, batch_first=True), 2)))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    model = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(ember.zeros(5, 2, 8), ember.zeros(4, 3, 8))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        model(ember.zeros(5, 2, 6), ember.zeros(4, 2, 6))


def test_transformer_dropout_is_seeded():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3)
    x = ember.randn(4, 2, 8)
    ember.manual_seed(5)
    a = layer(x)
    ember.manual_seed(5)
    b = layer(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    layer.eval()
    assert not np.allclose(layer(x).detach().numpy(), a.detach().numpy())


@pytest.mark.cuda
def test_attention_on_cuda_matches_cpu(device):
    if device != "cuda":
        pytest.skip("CUDA only")
    ember.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, norm_first=True)
    x = ember.randn(5, 2, 8)
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    want = layer(x, src_mask=mask, is_causal=True)
    layer.to("cuda")
    got = layer(x.to("cuda"), src_mask=mask.to("cuda"), is_causal=True)
    got.sum().backward()
    assert layer.linear1.weight.grad.device.type == "cuda"
    np.testing.assert_allclose(got.cpu().detach().numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)
