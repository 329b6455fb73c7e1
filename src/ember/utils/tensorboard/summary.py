"""Summary protocol buffers for TensorBoard, built from Ember tensors, NumPy arrays and numbers.

Every builder returns a ``Summary`` (tensorboard's own proto classes, so TensorBoard reads them
as it reads torch's): scalars as ``simple_value``, histograms as ``HistogramProto``, images as
PNG (encoded here with zlib, no imaging library needed), text and hparams through their plugins.
"""
from __future__ import annotations

import math
import struct
import zlib

import numpy as np


def to_numpy(value) -> np.ndarray:
    """A host NumPy array of a tensor, array, list or number."""
    if hasattr(value, "detach") and hasattr(value, "_data"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def scalar(tag: str, value, new_style: bool = False, double_precision: bool = False):
    """One scalar: a number, a one-element tensor or array (``new_style``: a scalars-plugin tensor)."""
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.compat.proto.tensor_pb2 import TensorProto

    array = to_numpy(value).squeeze()
    if array.ndim != 0:
        raise ValueError(f"add_scalar: '{tag}' expects a single number, got an array of shape {array.shape}")
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=float(array))])
    tensor = (TensorProto(double_val=[float(array)], dtype="DT_DOUBLE") if double_precision
              else TensorProto(float_val=[float(array)], dtype="DT_FLOAT"))
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    return Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=meta)])


def _tensorflow_buckets() -> np.ndarray:
    """TensorFlow's default histogram bucket edges: 1e-12 growing by 10 %, mirrored, and 0."""
    positive = [1e-12]
    while positive[-1] < 1e20:
        positive.append(positive[-1] * 1.1)
    return np.array([-x for x in reversed(positive)] + [0.0] + positive)


def histogram(tag: str, values, bins="tensorflow", max_bins: int | None = None):
    """The distribution of ``values`` (bins: 'tensorflow', a NumPy bin rule, or an int/edges).

    Empty buckets at both ends are dropped but one, so the first bucket with values has a left
    edge; ``max_bins`` merges neighbouring buckets, as torch's writer does.
    """
    from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary

    array = to_numpy(values).astype(np.float64).reshape(-1)
    if array.size == 0:
        raise ValueError(f"add_histogram: '{tag}' has no values")
    edges = _tensorflow_buckets() if isinstance(bins, str) and bins == "tensorflow" else bins
    counts, limits = np.histogram(array, bins=edges)
    if max_bins is not None and len(counts) > max_bins:
        group = len(counts) // max_bins
        counts = np.pad(counts, (0, -len(counts) % group)).reshape(-1, group).sum(axis=1)
        limits = np.concatenate([limits[:-1:group], limits[-1:]])
    nonzero = np.nonzero(counts)[0]
    first, last = (int(nonzero[0]), int(nonzero[-1])) if nonzero.size else (0, len(counts) - 1)
    counts = np.concatenate([[0], counts[first:last + 1]])  # an empty bucket ends at the first edge
    proto = HistogramProto(min=float(array.min()), max=float(array.max()), num=int(array.size),
                           sum=float(array.sum()), sum_squares=float(np.dot(array, array)),
                           bucket_limit=limits[first:last + 2].tolist(),
                           bucket=counts.astype(np.float64).tolist())
    return Summary(value=[Summary.Value(tag=tag, histo=proto)])


def _to_hwc(array: np.ndarray, dataformats: str) -> np.ndarray:
    """An image array in any of torch's layouts as height x width x channels."""
    fmt = dataformats.upper()
    if len(fmt) != array.ndim or sorted(fmt) != sorted(set(fmt)) or not set(fmt) <= set("CHW"):
        raise ValueError(f"add_image: dataformats '{dataformats}' do not match an image of shape "
                         f"{array.shape}")
    if "C" not in fmt:
        array, fmt = array[..., None], fmt + "C"
    array = np.transpose(array, [fmt.index(c) for c in "HWC"])
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    return array


def to_uint8(array: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] (or uint8 already in [0, 255]) as uint8 pixels, truncated as torch's writer."""
    if array.dtype == np.uint8:
        return array
    return np.clip(array * 255, 0, 255).astype(np.uint8)


def make_grid(images: np.ndarray, ncols: int = 8) -> np.ndarray:
    """N x C x H x W images tiled into one C x H' x W' picture, ``ncols`` across (as torch's)."""
    n, c, h, w = images.shape
    ncols = min(n, ncols)
    nrows = math.ceil(n / ncols)
    canvas = np.zeros((c, h * nrows, w * ncols), dtype=images.dtype)
    for i in range(n):
        r, k = divmod(i, ncols)
        canvas[:, r * h:(r + 1) * h, k * w:(k + 1) * w] = images[i]
    return canvas


def encode_png(pixels: np.ndarray) -> bytes:
    """PNG bytes of an H x W x C uint8 array (C = 1, 3 or 4)."""
    h, w, c = pixels.shape
    color = {1: 0, 3: 2, 4: 6}[c]
    rows = np.concatenate([np.zeros((h, 1), np.uint8), pixels.reshape(h, w * c)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes()))
            + chunk(b"IEND", b""))


def image(tag: str, value, dataformats: str = "CHW"):
    """One picture as PNG: floats in [0, 1] or uint8, in the given layout."""
    from tensorboard.compat.proto.summary_pb2 import Summary

    pixels = to_uint8(_to_hwc(to_numpy(value), dataformats))
    h, w, c = pixels.shape
    img = Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=encode_png(pixels))
    return Summary(value=[Summary.Value(tag=tag, image=img)])


def figure_pixels(figure) -> np.ndarray:
    """A Matplotlib figure rendered to an H x W x 4 uint8 array (through its Agg canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def text(tag: str, text_string: str):
    """Markdown text for TensorBoard's text tab."""
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
    from tensorboard.plugins.text.metadata import create_summary_metadata

    tensor = TensorProto(dtype="DT_STRING", string_val=[text_string.encode("utf-8")],
                         tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
    meta = create_summary_metadata(display_name=None, description=None)
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=meta, tensor=tensor)])


def hparams(hparam_dict: dict, metric_dict: dict, hparam_domain_discrete: dict | None = None):
    """The three summaries of TensorBoard's HParams plugin: experiment, session start, session end."""
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
    from tensorboard.plugins.hparams.metadata import (EXPERIMENT_TAG, SESSION_END_INFO_TAG,
                                                      SESSION_START_INFO_TAG, create_summary_metadata)

    if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
        raise TypeError("add_hparams: hparam_dict and metric_dict must be dicts")
    start = plugin_data_pb2.SessionStartInfo()
    infos = []
    for name, value in hparam_dict.items():
        if hasattr(value, "_data"):
            value = to_numpy(value).item()
        info = api_pb2.HParamInfo(name=name)
        if isinstance(value, bool):
            start.hparams[name].bool_value = value
            info.type = api_pb2.DATA_TYPE_BOOL
        elif isinstance(value, (int, float)):
            start.hparams[name].number_value = value
            info.type = api_pb2.DATA_TYPE_FLOAT64
        elif isinstance(value, str) or value is None:
            start.hparams[name].string_value = "" if value is None else value
            info.type = api_pb2.DATA_TYPE_STRING
        else:
            raise ValueError(f"add_hparams: value of '{name}' must be a bool, number, string or tensor, "
                             f"got {type(value).__name__}")
        for choice in (hparam_domain_discrete or {}).get(name, ()):
            info.domain_discrete.values.add().CopyFrom(_proto_value(choice))
        infos.append(info)
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=k)) for k in metric_dict]
    parts = [
        (EXPERIMENT_TAG, plugin_data_pb2.HParamsPluginData(
            version=0, experiment=api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics))),
        (SESSION_START_INFO_TAG, plugin_data_pb2.HParamsPluginData(version=0, session_start_info=start)),
        (SESSION_END_INFO_TAG, plugin_data_pb2.HParamsPluginData(
            version=0, session_end_info=plugin_data_pb2.SessionEndInfo(status=api_pb2.STATUS_SUCCESS))),
    ]
    return [Summary(value=[Summary.Value(tag=tag, metadata=create_summary_metadata(data))])
            for tag, data in parts]


def _proto_value(value):
    from google.protobuf import struct_pb2

    v = struct_pb2.Value()
    if isinstance(value, bool):
        v.bool_value = value
    elif isinstance(value, (int, float)):
        v.number_value = value
    else:
        v.string_value = str(value)
    return v


def pr_curve(tag: str, labels, predictions, num_thresholds: int = 127, weights=None):
    """Precision and recall at ``num_thresholds`` evenly spaced thresholds (the PR-curve plugin).

    Each prediction in [0, 1] falls in a threshold bucket; counting the positive and negative
    labels per bucket from the top down gives true and false positives at every threshold.
    """
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.plugins.pr_curve.metadata import create_summary_metadata
    from tensorboard.util.tensor_util import make_tensor_proto

    if num_thresholds < 2:
        raise ValueError(f"add_pr_curve: num_thresholds must be at least 2, got {num_thresholds}")
    positive = to_numpy(labels).astype(np.float64).reshape(-1)
    scores = to_numpy(predictions).reshape(-1)  # bucketed in its own precision, as torch's writer
    if positive.shape != scores.shape:
        raise ValueError(f"add_pr_curve: {positive.size} labels for {scores.size} predictions")
    weight = 1.0 if weights is None else to_numpy(weights).astype(np.float64).reshape(-1)
    bucket = np.floor(np.clip(scores, 0, 1) * (num_thresholds - 1)).astype(np.int64)
    per_bucket_tp = np.bincount(bucket, weights=positive * weight, minlength=num_thresholds)
    per_bucket_fp = np.bincount(bucket, weights=(1 - positive) * weight, minlength=num_thresholds)
    tp = np.cumsum(per_bucket_tp[::-1])[::-1]  # predicted positive at threshold k: buckets >= k
    fp = np.cumsum(per_bucket_fp[::-1])[::-1]
    tn, fn = fp[0] - fp, tp[0] - tp
    precision = tp / np.maximum(1e-7, tp + fp)
    recall = tp / np.maximum(1e-7, tp + fn)
    data = np.stack([tp, fp, tn, fn, precision, recall]).astype(np.float32)
    meta = create_summary_metadata(display_name=tag, description="", num_thresholds=num_thresholds)
    return Summary(value=[Summary.Value(tag=tag, metadata=meta, tensor=make_tensor_proto(data))])


def write_embedding(directory: str, mat, metadata=None, label_img=None, metadata_header=None) -> None:
    """The projector's files for one embedding: tensors.tsv, metadata.tsv and sprite.png."""
    vectors = to_numpy(mat)
    if vectors.ndim != 2:
        raise ValueError(f"add_embedding: mat must be 2-D (points x features), got shape {vectors.shape}")
    with open(f"{directory}/tensors.tsv", "w") as f:
        for row in vectors:
            f.write("\t".join(repr(float(v)) for v in row) + "\n")
    if metadata is not None:
        if len(metadata) != len(vectors):
            raise ValueError(f"add_embedding: {len(metadata)} metadata rows for {len(vectors)} points")
        rows = [str(m) for m in metadata] if not metadata_header else \
            ["\t".join(str(c) for c in row) for row in [metadata_header, *metadata]]
        with open(f"{directory}/metadata.tsv", "w") as f:
            f.write("\n".join(rows) + "\n")
    if label_img is not None:
        images = to_numpy(label_img)
        if len(images) != len(vectors):
            raise ValueError(f"add_embedding: {len(images)} images for {len(vectors)} points")
        grid = make_grid(images, ncols=math.ceil(math.sqrt(len(images))))
        # the projector wants a square sprite: pad the grid's rows
        square = np.zeros((grid.shape[0], grid.shape[2], grid.shape[2]), grid.dtype)
        square[:, :grid.shape[1]] = grid
        pixels = to_uint8(_to_hwc(square, "CHW"))
        with open(f"{directory}/sprite.png", "wb") as f:
            f.write(encode_png(pixels))
