"""ember.utils.tensorboard.SummaryWriter: every kind of entry, read back with TensorBoard's own reader."""
import io
import os

import numpy as np
import pytest

import ember

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.plugins.hparams import plugin_data_pb2  # noqa: E402

from ember.utils.tensorboard import SummaryWriter  # noqa: E402


def _read(path):
    everything = {"images": 0, "histograms": 0, "tensors": 0, "scalars": 0}
    acc = EventAccumulator(str(path), size_guidance=everything)
    acc.Reload()
    return acc


def _pixels(encoded):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(encoded)))


def test_scalars_histograms_text(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(4):
            w.add_scalar("loss", ember.tensor(1.0 / (step + 1)), step)
        w.add_scalar("lr", 0.5, 10, walltime=123.0)
        values = np.random.default_rng(0).standard_normal(500)
        w.add_histogram("weights", ember.tensor(values), 3)
        w.add_histogram("coarse", values, 3, bins=5)
        w.add_text("notes", "a **markdown** note", 1)
        with pytest.raises(ValueError, match="single number"):
            w.add_scalar("bad", ember.ones(3))
    acc = _read(tmp_path)
    loss = acc.Scalars("loss")
    assert [e.step for e in loss] == [0, 1, 2, 3]
    np.testing.assert_allclose([e.value for e in loss], [1, 1 / 2, 1 / 3, 1 / 4], rtol=1e-6)
    lr = acc.Scalars("lr")[0]
    assert lr.step == 10 and lr.wall_time == 123.0 and lr.value == 0.5
    h = acc.Histograms("weights")[0].histogram_value
    assert h.num == 500 and h.min == pytest.approx(values.min()) and h.max == pytest.approx(values.max())
    assert h.sum == pytest.approx(values.sum()) and h.sum_squares == pytest.approx((values ** 2).sum())
    assert sum(h.bucket) == 500 and list(h.bucket_limit) == sorted(h.bucket_limit)
    coarse = acc.Histograms("coarse")[0].histogram_value
    counts, edges = np.histogram(values, bins=5)
    assert list(coarse.bucket) == [0] + counts.tolist() and list(coarse.bucket_limit) == pytest.approx(edges)
    text = acc.Tensors("notes/text_summary")[0]
    assert text.step == 1 and text.tensor_proto.string_val == [b"a **markdown** note"]


def test_scalars_group_in_runs_and_hparams(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalars("loss", {"train": 1.0 - step / 10, "val": 2.0 - step / 10}, step)
        w.add_hparams({"lr": 0.01, "batch": 32, "opt": "adam", "nesterov": False}, {"hparam/accuracy": 0.93},
                      hparam_domain_discrete={"opt": ["adam", "sgd"]}, run_name="trial")
    assert sorted(os.listdir(tmp_path / "loss_train")) and sorted(os.listdir(tmp_path / "loss_val"))
    val = _read(tmp_path / "loss_val").Scalars("loss")
    assert [round(e.value, 6) for e in val] == [2.0, 1.9, 1.8]
    run = _read(tmp_path / "trial")
    assert run.Scalars("hparam/accuracy")[0].value == pytest.approx(0.93)
    content = run.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    hp = start.session_start_info.hparams
    assert hp["lr"].number_value == 0.01 and hp["batch"].number_value == 32
    assert hp["opt"].string_value == "adam" and hp["nesterov"].bool_value is False
    exp = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
    assert [m.name.tag for m in exp.metric_infos] == ["hparam/accuracy"]
    opt = next(i for i in exp.hparam_infos if i.name == "opt")
    assert [v.string_value for v in opt.domain_discrete.values] == ["adam", "sgd"]


def test_images_and_figures(tmp_path):
    pytest.importorskip("PIL")
    rng = np.random.default_rng(1)
    chw = rng.random((3, 6, 9)).astype(np.float32)
    with SummaryWriter(tmp_path) as w:
        w.add_image("chw", ember.tensor(chw), 0)
        w.add_image("hwc", (chw.transpose(1, 2, 0) * 255).astype(np.uint8), 0, dataformats="HWC")
        w.add_image("gray", chw[0], 0, dataformats="HW")
        w.add_images("batch", ember.tensor(rng.random((10, 1, 4, 5)).astype(np.float32)), 0)
        with pytest.raises(ValueError, match="dataformats"):
            w.add_image("bad", chw, 0, dataformats="NCHW")
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(2, 1.5), dpi=50)
        plt.plot([0, 1], [1, 0])
        w.add_figure("curve", fig, 2)
        assert not plt.fignum_exists(fig.number)  # closed, as torch's writer does
    acc = _read(tmp_path)
    img = acc.Images("chw")[0]
    assert (img.height, img.width) == (6, 9)
    expected = (chw.transpose(1, 2, 0) * 255).astype(np.uint8)
    np.testing.assert_array_equal(_pixels(img.encoded_image_string), expected)
    np.testing.assert_array_equal(_pixels(acc.Images("hwc")[0].encoded_image_string),
                                  (chw.transpose(1, 2, 0) * 255).astype(np.uint8))
    gray = _pixels(acc.Images("gray")[0].encoded_image_string)
    assert gray.shape == (6, 9, 3) and (gray[..., 0] == gray[..., 2]).all()
    grid = acc.Images("batch")[0]
    assert (grid.height, grid.width) == (2 * 4, 8 * 5)  # 10 images, 8 across, 2 rows
    figure = acc.Images("curve")[0]
    assert figure.step == 2 and (figure.width, figure.height) == (100, 75)
    assert _pixels(figure.encoded_image_string).shape == (75, 100, 4)


def test_graph_is_the_autograd_graph(tmp_path):
    model = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.ReLU(), ember.nn.Linear(3, 2))
    with SummaryWriter(tmp_path) as w:
        w.add_graph(model, ember.randn(5, 4))
    graph = _read(tmp_path).Graph()
    nodes = {n.name: n for n in graph.node}
    assert {"input/0", "output/0", "0/weight", "0/bias", "2/weight", "2/bias"} <= set(nodes)
    ops = sorted(n.op for n in graph.node if n.op not in ("IO Node", "Parameter"))
    assert ops == ["AddmmBackward0", "AddmmBackward0", "ReluBackward0"]  # torch's node names
    for n in graph.node:
        for i in n.input:
            assert i in nodes  # every edge points at a node of the graph
    first = next(n for n in graph.node if n.op == "AddmmBackward0" and "input/0" in n.input)
    assert set(first.input) == {"input/0", "0/weight", "0/bias"}


def test_fit_logs_each_epoch(tmp_path):
    import importlib
    import importlib.util

    from ember.utils.data import DataLoader, TensorDataset

    # fit lives in ember.train, or in ember.lab.train once the learner's tools move there (issue 14)
    fit = importlib.import_module("ember.lab.train" if importlib.util.find_spec("ember.lab")
                                  else "ember.train").fit

    ember.manual_seed(0)
    x = ember.randn(32, 3)
    y = (x.sum(1) > 0).long()
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    model = ember.nn.Linear(3, 2)
    with SummaryWriter(tmp_path) as w:
        optimizer = ember.optim.SGD(model.parameters(), lr=0.1)
        history = fit(model, loader, ember.nn.functional.cross_entropy, optimizer, epochs=3,
                      val_loader=loader, progress=False, writer=w)
    acc = _read(tmp_path)
    assert {"loss/train", "loss/val", "accuracy/train", "accuracy/val"} <= set(acc.Tags()["scalars"])
    logged = acc.Scalars("loss/train")
    assert [e.step for e in logged] == [0, 1, 2]
    np.testing.assert_allclose([e.value for e in logged], history["loss"], rtol=1e-6)


def test_close_then_reopen(tmp_path):
    w = SummaryWriter(tmp_path)
    w.add_scalar("a", 1.0, 0)
    w.close()
    w.add_scalar("a", 2.0, 1)  # reopens a new event file, as torch's writer does
    w.close()
    assert [e.value for e in _read(tmp_path).Scalars("a")] == [1.0, 2.0]
    with SummaryWriter(comment="_x", log_dir=str(tmp_path / "d")) as named:
        assert named.get_logdir() == str(tmp_path / "d")


def test_pr_curve_and_embedding(tmp_path):
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

    labels = np.array([1, 0, 1, 1, 0, 0, 1, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1], dtype=np.float32)
    points = ember.randn(6, 3)
    thumbs = ember.rand(6, 3, 4, 4)
    with SummaryWriter(tmp_path) as w:
        w.add_pr_curve("pr", ember.tensor(labels), ember.tensor(scores), 1, num_thresholds=11)
        w.add_embedding(points, metadata=list("abcdef"), label_img=thumbs, global_step=2, tag="feat/x")
    curve = _read(tmp_path).Tensors("pr")[0]
    data = np.frombuffer(curve.tensor_proto.tensor_content, np.float32).reshape(6, 11)
    tp, fp, tn, fn, precision, recall = data
    for k, threshold in enumerate(np.linspace(0, 1, 11)):
        predicted = np.floor(scores * 10) >= k  # a score counts at the thresholds of its bucket and below
        assert tp[k] == (predicted & (labels == 1)).sum() and fp[k] == (predicted & (labels == 0)).sum()
        assert tn[k] == (~predicted & (labels == 0)).sum() and fn[k] == (~predicted & (labels == 1)).sum()
    np.testing.assert_allclose(precision[0], 0.5) and np.testing.assert_allclose(recall[0], 1.0)
    folder = tmp_path / "00002" / "feat_x"
    rows = [line.split("\t") for line in (folder / "tensors.tsv").read_text().splitlines()]
    np.testing.assert_allclose(np.array(rows, dtype=np.float64), points.numpy(), rtol=1e-6)
    assert (folder / "metadata.tsv").read_text().split() == list("abcdef")
    assert _pixels((folder / "sprite.png").read_bytes()).shape == (12, 12, 3)  # 3 x 3 thumbnails of 4 px
    config = text_format.Parse((tmp_path / "projector_config.pbtxt").read_text(), ProjectorConfig())
    (info,) = config.embeddings
    assert info.tensor_name == "feat/x:00002" and info.tensor_path == "00002/feat_x/tensors.tsv"
    assert info.metadata_path == "00002/feat_x/metadata.tsv" and list(info.sprite.single_image_dim) == [4, 4]


def test_summaries_match_torchs_writer():
    """The protos Ember writes equal those torch.utils.tensorboard builds from the same data."""
    torch_summary = pytest.importorskip("torch.utils.tensorboard.summary")
    from tensorboard.util.tensor_util import make_ndarray

    from ember.utils.tensorboard import summary

    rng = np.random.default_rng(3)
    labels, scores = rng.integers(0, 2, 300), rng.random(300).astype(np.float32)
    ours = summary.pr_curve("pr", ember.tensor(labels), ember.tensor(scores), 40).value[0]
    theirs = torch_summary.pr_curve("pr", labels, scores, num_thresholds=40).value[0]
    np.testing.assert_array_equal(make_ndarray(ours.tensor), make_ndarray(theirs.tensor))
    assert ours.metadata.plugin_data == theirs.metadata.plugin_data
    image = rng.random((3, 5, 7)).astype(np.float32)
    ours = summary.image("i", ember.tensor(image)).value[0].image
    theirs = torch_summary.image("i", image, dataformats="CHW").value[0].image
    np.testing.assert_array_equal(_pixels(ours.encoded_image_string), _pixels(theirs.encoded_image_string))
    assert (ours.height, ours.width, ours.colorspace) == (theirs.height, theirs.width, theirs.colorspace)
    assert summary.scalar("s", ember.tensor(2.5)) == torch_summary.scalar("s", 2.5)
    for double in (False, True):
        assert summary.scalar("s", 2.5, new_style=True, double_precision=double) == \
            torch_summary.scalar("s", 2.5, new_style=True, double_precision=double)
    values = rng.standard_normal(500)
    for bins, max_bins in (("tensorflow", None), (10, 3), ("auto", None)):
        ours = summary.histogram("h", ember.tensor(values), bins, max_bins).value[0].histo
        edges = summary._tensorflow_buckets() if bins == "tensorflow" else bins
        theirs = torch_summary.histogram("h", values, edges, max_bins=max_bins).value[0].histo
        assert list(ours.bucket) == list(theirs.bucket)
        np.testing.assert_allclose(ours.bucket_limit, theirs.bucket_limit)
        assert (ours.min, ours.max, ours.num) == (theirs.min, theirs.max, theirs.num)


def test_purge_step_replaces_a_crashed_runs_tail(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(6):
            w.add_scalar("loss", float(step), step)
    with SummaryWriter(tmp_path, purge_step=3) as w:  # resumed from a checkpoint at step 3
        for step in (3, 4):
            w.add_scalar("loss", 10.0 + step, step)
    logged = [(e.step, e.value) for e in _read(tmp_path).Scalars("loss")]
    assert logged == [(0, 0.0), (1, 1.0), (2, 2.0), (3, 13.0), (4, 14.0)]
