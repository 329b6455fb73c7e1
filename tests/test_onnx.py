"""ember.onnx.export: each supported model runs in onnxruntime with Ember's numbers, any batch size."""
import io
import math
import os
import sys

import numpy as np
import pytest

import ember
from ember import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples"))
DYNAMIC = {"input": {0: "batch"}, "output": {0: "batch"}}


def _export(model, x, **kw):
    buf = io.BytesIO()
    ember.onnx.export(model, x, buf, dynamic_axes=DYNAMIC, **kw)
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    return proto, ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])


def _check(model, make_input, batches=(3, 7), **kw):
    """Export on a batch of 2, then compare onnxruntime with Ember on other batch sizes."""
    model.eval()
    proto, session = _export(model, make_input(2), **kw)
    graph_input = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert graph_input.dim_param == "batch"
    for batch in batches:
        x = make_input(batch)
        expected = model(x).detach().numpy()
        (got,) = session.run(None, {"input": x.numpy()})
        assert got.shape == expected.shape and got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    return proto


def _images(c, h, w):
    return lambda n: ember.randn(n, c, h, w)


def _ops(proto):
    return {n.op_type for n in proto.graph.node}


def test_mlp_with_norms_activations_and_dropout():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.LayerNorm(16), nn.GELU(), nn.Dropout(0.5),
                          nn.Linear(16, 16), nn.BatchNorm1d(16), nn.Tanh(), nn.Linear(16, 5),
                          nn.Softmax(dim=-1))
    model[5].running_mean.copy_(ember.randn(16))
    model[5].running_var.copy_(ember.rand(16) + 0.5)
    proto = _check(model, lambda n: ember.randn(n, 6))
    assert {"Gemm", "LayerNormalization", "BatchNormalization", "Softmax", "Erf"} <= _ops(proto)
    names = {i.name for i in proto.graph.initializer}
    assert {"0.weight", "0.bias", "5.running_mean", "5.running_var"} <= names  # parameters keep their names


def test_cnn_with_conv_pooling_and_batchnorm():
    ember.manual_seed(1)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2), nn.LeakyReLU(0.2),
        nn.Conv2d(8, 8, 3, padding="same"),
        nn.AvgPool2d(2), nn.Conv2d(8, 6, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 4),
        nn.LogSoftmax(dim=1))
    proto = _check(model, _images(3, 16, 16))
    assert {"Conv", "BatchNormalization", "MaxPool", "AveragePool", "GlobalAveragePool", "Reshape",
            "LogSoftmax", "LeakyRelu", "Gemm"} <= _ops(proto)


def test_conv1d_net_and_more_activations():
    ember.manual_seed(2)
    model = nn.Sequential(nn.Conv1d(4, 6, 3, padding="same", dilation=2), nn.BatchNorm1d(6), nn.ELU(),
                          nn.MaxPool1d(2, stride=2, padding=1), nn.Conv1d(6, 6, 3), nn.ReLU6(),
                          nn.AvgPool1d(2), nn.SiLU(), nn.Hardtanh(-0.5, 0.5), nn.Flatten(), nn.Softplus(),
                          nn.Sigmoid())
    _check(model, lambda n: ember.randn(n, 4, 20))


def test_adaptive_pool_to_a_grid_and_unflatten():
    model = nn.Sequential(nn.Unflatten(1, (2, 8, 8)), nn.Conv2d(2, 3, 3, padding=1),
                          nn.AdaptiveAvgPool2d((2, 4)), nn.Flatten(), nn.Linear(24, 2))
    _check(model, lambda n: ember.randn(n, 128))


def test_embedding_classifier():
    class Bag(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 8)
            self.out = nn.Linear(8, 3)

        def forward(self, tokens):
            return self.out(self.embed(tokens).mean(1))

    ember.manual_seed(3)
    model = Bag().eval()
    _, session = _export(model, ember.randint(0, 20, (2, 5)))
    for n in (1, 6):
        tokens = ember.randint(0, 20, (n, 5))
        (got,) = session.run(None, {"input": tokens.numpy()})
        np.testing.assert_allclose(got, model(tokens).detach().numpy(), rtol=1e-4, atol=1e-5)


class SelfAttention(nn.Module):
    """Multi-head self-attention written with Linear, matmul, softmax and reshapes."""

    def __init__(self, dim=8, heads=2):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        n, t, d = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)

        def split(z):
            return z.reshape(n, t, self.heads, d // self.heads).transpose(1, 2)

        q, k, v = split(q), split(k), split(v)
        weights = ember.softmax(q @ k.transpose(-2, -1) / math.sqrt(d // self.heads), dim=-1)
        mixed = (weights @ v).transpose(1, 2).reshape(n, t, d)
        return self.norm(x + self.proj(mixed))


@pytest.mark.parametrize("opset", [13, 17])
def test_attention_block_from_ops(opset):
    ember.manual_seed(4)
    proto = _check(SelfAttention(), lambda n: ember.randn(n, 5, 8), opset_version=opset)
    assert proto.opset_import[0].version == opset
    assert ("LayerNormalization" in _ops(proto)) == (opset >= 17)


def test_the_example_exports_the_demo_classifier(tmp_path):
    import export_onnx

    result = export_onnx.main(str(tmp_path / "classifier.onnx"), epochs=2, verbose=False)
    onnx.checker.check_model(str(tmp_path / "classifier.onnx"))
    assert result["max_difference"] < 1e-4 and 0.2 < result["dog_fraction"] < 0.8


def test_digits_cnn_exports():
    import cnn_digits

    ember.manual_seed(5)
    _check(cnn_digits.make_model(), lambda n: ember.rand(n, 64))


def test_unsupported_op_is_named():
    class Cumulative(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            return ember.cumsum(self.fc(x), 1)

    refused = "the op 'cumsum' called in Cumulative.forward has no ONNX conversion"
    with pytest.raises(ember.onnx.UnsupportedOperatorError, match=refused):
        ember.onnx.export(Cumulative(), ember.randn(2, 3), io.BytesIO())

    class Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Sequential(nn.Linear(3, 3))

        def forward(self, x):
            return nn.functional.conv1d(self.inner(x).unsqueeze(1), ember.ones(1, 1, 2))

    refused = "'im2col' called in Seq.forward.*nn.Conv1d"
    with pytest.raises(ember.onnx.UnsupportedOperatorError, match=refused):
        ember.onnx.export(Seq(), ember.randn(2, 3), io.BytesIO())
    with pytest.raises(ValueError, match="opset_version"):
        ember.onnx.export(nn.Linear(2, 2), ember.randn(1, 2), io.BytesIO(), opset_version=11)


def test_export_to_a_path_with_names_and_several_outputs(tmp_path):
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 2)

        def forward(self, x, y):
            h = self.a(x)
            return h, h * y

    model = Two()
    x, y = ember.randn(3, 4), ember.randn(3, 2)
    path = tmp_path / "two.onnx"
    ember.onnx.export(model, (x, y), str(path), input_names=["x", "y"], output_names=["h", "hy"])
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["x", "y"]
    h, hy = session.run(["h", "hy"], {"x": x.numpy(), "y": y.numpy()})
    eh, ehy = model(x, y)
    np.testing.assert_allclose(h, eh.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(hy, ehy.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert model.training  # export ran in eval mode and put the mode back


def _needs(*names):
    missing = [n for n in names if not hasattr(nn, n)]
    if missing:
        pytest.skip(f"nn.{missing[0]} arrives with the sequence models (issue 18)")


class _LastStates(nn.Module):
    """A recurrent layer's outputs and final hidden state, side by side (batch first)."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        out, state = self.rnn(x)
        h = state[0] if isinstance(state, tuple) else state
        return ember.cat([out.reshape(out.shape[0], -1), h.transpose(0, 1).reshape(h.shape[1], -1)], 1)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("layout", [dict(batch_first=True),
                                    dict(batch_first=True, num_layers=2, bidirectional=True),
                                    dict(batch_first=True, bias=False, nonlinearity="relu")])
def test_recurrent_modules(kind, layout):
    _needs(kind)
    if "nonlinearity" in layout and kind != "RNN":
        layout = {k: v for k, v in layout.items() if k != "nonlinearity"}
    ember.manual_seed(6)
    proto = _check(_LastStates(getattr(nn, kind)(4, 6, **layout)), lambda n: ember.randn(n, 5, 4))
    assert kind in _ops(proto)


def test_lstm_with_initial_states_sequence_first():
    _needs("LSTM")

    class Stateful(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 5, num_layers=2)

        def forward(self, x, h0, c0):
            out, (h, c) = self.lstm(x, (h0, c0))
            return out, h, c

    ember.manual_seed(7)
    model = Stateful().eval()
    names = ["x", "h0", "c0"]
    axes = {"x": {1: "batch"}, "h0": {1: "batch"}, "c0": {1: "batch"}}

    def inputs(n):
        return ember.randn(4, n, 3), ember.randn(2, n, 5), ember.randn(2, n, 5)

    buf = io.BytesIO()
    ember.onnx.export(model, inputs(2), buf, input_names=names, output_names=["out", "h", "c"],
                      dynamic_axes=axes)
    session = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    args = inputs(6)
    got = session.run(None, {n: a.numpy() for n, a in zip(names, args)})
    for g, e in zip(got, model(*args)):
        np.testing.assert_allclose(g, e.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_attention_and_transformer_modules():
    _needs("MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder")

    class Attend(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

        def forward(self, x):
            return self.attn(x, x, x, need_weights=False)[0]

    ember.manual_seed(8)
    tokens = lambda n: ember.randn(n, 5, 8)  # noqa: E731
    _check(Attend(), tokens)
    _check(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), tokens)
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, norm_first=True, activation="gelu")
    with pytest.warns(UserWarning):  # torch's note that nested tensors are off with norm_first
        encoder = nn.TransformerEncoder(layer, 2)
    _check(encoder, tokens)


def test_mixed_dtype_arithmetic_is_cast():
    class Scale(nn.Module):
        def forward(self, x):
            return x * ember.arange(4) + (x > 0).long()

    _check(Scale(), lambda n: ember.randn(n, 4))


@pytest.mark.parametrize("opset", [13, 18])
def test_reductions_and_indexing(opset):
    class Pool(nn.Module):
        def forward(self, x):
            spread = [x.std(1), x.var(1, unbiased=False), x.var(1, keepdim=True)[:, 0]]
            summary = ember.cat([x.amax(1), x.amin(1), x.logsumexp(1), x.mean(1), x.sum(1), *spread], -1)
            picked = x[:, -1, 1:3] * x.abs().prod(1)[:, :2]
            return ember.cat([summary, picked, x.argmax(1).float()], -1)

    ember.manual_seed(9)
    _check(Pool(), lambda n: ember.randn(n, 5, 4), opset_version=opset)


def test_decoder_layers_padding_and_upsampling():
    ember.manual_seed(10)
    model = nn.Sequential(
        nn.ZeroPad2d((1, 2, 0, 3)), nn.Conv2d(4, 4, 3), nn.ReflectionPad2d(1), nn.Mish(),
        nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, output_padding=1, groups=2),
        nn.Upsample(scale_factor=2), nn.ReplicationPad2d(1), nn.ConstantPad2d(1, 0.5),
        nn.Upsample(size=(9, 7), mode="bilinear"),
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
        nn.GroupNorm(2, 4), nn.Hardswish())
    proto = _check(model, _images(4, 6, 6))
    assert {"Pad", "ConvTranspose", "Resize"} <= _ops(proto)
    _check(nn.Sequential(nn.ConvTranspose1d(3, 2, 4, stride=3, dilation=2), nn.RMSNorm(19)),
           lambda n: ember.randn(n, 3, 5))


def test_a_function_exports_and_its_outputs_follow_the_batch():
    def f(x):
        return ember.tanh(x) * 2 + x.sum(-1, keepdim=True)

    buf = io.BytesIO()
    ember.onnx.export(f, ember.randn(2, 3), buf, dynamic_axes={"input": [0]})
    session = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    assert session.get_outputs()[0].shape == ["output_dynamic_axes_1", 3]  # found by the probe run
    x = ember.randn(5, 3)
    np.testing.assert_allclose(session.run(None, {"input": x.numpy()})[0], f(x).numpy(), rtol=1e-4, atol=1e-5)
