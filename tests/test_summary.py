"""ember.summary against torchinfo: the same model built in torch and in Ember gives the same rows,
counts, multiply-adds and memory totals (torchinfo is a test dependency)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

torchinfo = pytest.importorskip("torchinfo", reason="needs torchinfo: pip install torchinfo (dev extra)")

ALL_COLUMNS = ("input_size", "output_size", "num_params", "params_percent", "kernel_size", "mult_adds",
               "trainable")


class Blocks:
    """A model with nesting, a ModuleList that is never called itself, a frozen layer and a shared one."""

    def __init__(self, nn) -> None:
        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
                self.blocks = nn.ModuleList([nn.Conv2d(4, 4, 1) for _ in range(2)])
                self.head = nn.Sequential(nn.Flatten(), nn.Linear(4 * 6 * 6, 5))
                self.head[1].weight.requires_grad_(False)
                self.act = nn.Tanh()

            def forward(self, x):
                x = self.stem(x)
                for block in self.blocks:
                    x = self.act(block(x))   # one activation module, called twice
                return self.head(x)

        self.model = Model()


# (builder of the model from an nn namespace, the inputs' shapes, or a maker of the inputs)
CASES = {
    "linear": (lambda nn: nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2)), (3, 8)),
    "bilinear": (lambda nn: nn.Bilinear(3, 4, 2), [(5, 3), (5, 4)]),
    "conv1d": (lambda nn: nn.Sequential(nn.Conv1d(2, 3, 3, stride=2), nn.MaxPool1d(2)), (2, 2, 11)),
    "conv2d": (lambda nn: nn.Sequential(nn.Conv2d(3, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6),
                                        nn.MaxPool2d(2), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1)),
               (2, 3, 8, 8)),
    "conv3d": (lambda nn: nn.Sequential(nn.Conv3d(1, 2, 2), nn.BatchNorm3d(2)), (1, 1, 4, 4, 4)),
    "transposed": (lambda nn: nn.Sequential(nn.ConvTranspose2d(2, 3, 3, stride=2), nn.Identity()),
                   (2, 2, 5, 5)),
    "transposed1d": (lambda nn: nn.ConvTranspose1d(3, 2, 2), (2, 3, 7)),
    "norms": (lambda nn: nn.Sequential(nn.LayerNorm(6), nn.GroupNorm(2, 4), nn.RMSNorm(6), nn.BatchNorm1d(4)),
              (3, 4, 6)),
    "activations": (lambda nn: nn.Sequential(nn.PReLU(), nn.GELU(), nn.Softmax(dim=1), nn.Dropout(0.5),
                                             nn.Dropout2d(), nn.LeakyReLU()), (2, 3, 4, 4)),
    "shapes": (lambda nn: nn.Sequential(nn.ZeroPad2d(1), nn.PixelShuffle(2), nn.Upsample(scale_factor=2),
                                        nn.Flatten(), nn.Unflatten(1, (2, -1))), (1, 4, 3, 3)),
    "embedding": (lambda nn: nn.Sequential(nn.Embedding(10, 3), nn.Linear(3, 2)),
                  lambda lib: [lib.tensor([[1, 2, 3], [4, 5, 9]])]),
    "blocks": (lambda nn: Blocks(nn).model, (2, 3, 6, 6)),
}


def _pair(name):
    build, inputs = CASES[name]
    torch.manual_seed(0)
    return build(torch.nn), build(ember.nn), inputs


def _summaries(name, depth=3, columns=ALL_COLUMNS):
    t_model, e_model, inputs = _pair(name)
    if callable(inputs):
        t = torchinfo.summary(t_model, input_data=inputs(torch), depth=depth, col_names=columns, verbose=0)
        e = ember.summary(e_model, input_data=inputs(ember), depth=depth, col_names=columns)
    else:
        t = torchinfo.summary(t_model, input_size=inputs, depth=depth, col_names=columns, verbose=0)
        e = ember.summary(e_model, input_size=inputs, depth=depth, col_names=columns)
    return t, e


@pytest.mark.parametrize("name", sorted(CASES))
def test_rows_and_totals_equal_torchinfo(name):
    t, e = _summaries(name)
    expected = [(r.class_name, r.depth, r.depth_index, r.input_size, r.output_size, r.num_params,
                 r.trainable_params, r.macs, r.is_recursive, r.output_bytes) for r in t.summary_list]
    got = [(r.kind, r.depth, r.index, r.input_size, r.output_size, r.params, r.trainable_params, r.macs,
            r.recursive, r.output_bytes) for r in e.layers]
    assert got == expected
    totals = ("total_params", "trainable_params", "total_mult_adds", "total_output_bytes",
              "total_param_bytes")
    assert [getattr(e, k) for k in totals] == [getattr(t, k) for k in totals]


@pytest.mark.parametrize("name, depth", [("blocks", 1), ("blocks", 2), ("conv2d", 0), ("linear", 3)])
def test_the_table_matches_torchinfo_cell_for_cell(name, depth):
    t, e = _summaries(name, depth)
    starts = ("├", "│", "└", e.layers[0].kind)
    rows = lambda s: [line.split() for line in str(s).splitlines() if line.startswith(starts)]
    assert rows(e) == rows(t)
    footers = ("Total params", "Trainable", "Non-trainable", "Params size", "Forward/backward")
    footer = lambda s: [line for line in str(s).splitlines() if line.startswith(footers)]
    assert footer(e) == footer(t)


def test_without_an_input_it_lists_the_parameters():
    t_model, e_model, _ = _pair("blocks")
    t, e = torchinfo.summary(t_model, verbose=0), ember.summary(e_model)
    assert [(r.kind, r.depth, r.params) for r in e.layers] == \
        [(r.class_name, r.depth, r.num_params) for r in t.summary_list]
    assert (e.total_params, e.trainable_params) == (t.total_params, t.trainable_params)
    assert "Total mult-adds" not in str(e) and "Input size" not in str(e)


def test_input_memory_is_the_inputs_bytes_and_the_model_is_left_as_it_was():
    model = ember.nn.Sequential(ember.nn.Linear(8, 4), ember.nn.Dropout(0.5))
    model.train()
    e = ember.summary(model, input_size=(16, 8))
    assert e.input_bytes == 16 * 8 * 4
    assert model.training and all(m.training for m in model.modules())
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())
    assert e.total_bytes == e.input_bytes + e.total_output_bytes + e.total_param_bytes


def test_notebook_display_and_bad_columns():
    e = ember.summary(ember.nn.Linear(3, 2), input_size=(1, 3))
    page = e._repr_html_()
    assert "<table>" in page and "Total params: 8" in page and "[1, 2]" in page
    with pytest.raises(ValueError, match="unknown column 'params'"):
        ember.summary(ember.nn.Linear(3, 2), input_size=(1, 3), col_names=("params",))


def test_mult_adds_in_torchinfo_units():
    from ember.viz.summary import _mult_adds

    assert [_mult_adds(n) for n in (0, 2114, 3_000_000, 3_500_000_000, 2 * 10**12)] == [
        "Total mult-adds (M): 0", "Total mult-adds (M): 0.00", "Total mult-adds (M): 3",
        "Total mult-adds (G): 3.50", "Total mult-adds (T): 2"]


def test_integer_inputs_from_input_size_and_dtypes():
    t_model, e_model, _ = _pair("embedding")
    t = torchinfo.summary(t_model, input_size=(2, 3), dtypes=[torch.long], verbose=0)
    e = ember.summary(e_model, input_size=(2, 3), dtypes=[ember.long])
    assert [r.output_size for r in e.layers] == [r.output_size for r in t.summary_list]
    assert e.total_mult_adds == t.total_mult_adds and e.input_bytes == 2 * 3 * 8


def test_numbers_from_a_real_forward_pass():
    """The output shapes are the model's: a row for a layer called on a batch of 5 says 5."""
    model = ember.nn.Sequential(ember.nn.Linear(4, 3))
    x = ember.tensor(np.ones((5, 4), dtype=np.float32))
    e = ember.summary(model, input_data=x)
    assert e.layers[1].output_size == [5, 3] and e.layers[1].macs == 5 * (12 + 3)
