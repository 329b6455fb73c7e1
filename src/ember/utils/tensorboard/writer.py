"""``SummaryWriter``: log scalars, histograms, images, figures, text, hparams and the autograd
graph to TensorBoard event files, with tensorboard's own event writer (as torch's writer)."""
from __future__ import annotations

import os
import socket
import time
from datetime import datetime

from . import summary as _summary
from ._graph import graph_def


class FileWriter:
    """One event file in one directory (a TensorBoard run)."""

    def __init__(self, log_dir: str, max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = ""):
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self.event_writer = EventFileWriter(log_dir, max_queue, flush_secs, filename_suffix)

    def get_logdir(self) -> str:
        return self.event_writer.get_logdir()

    def add_summary(self, summary, global_step=None, walltime=None) -> None:
        from tensorboard.compat.proto.event_pb2 import Event

        event = Event(summary=summary, wall_time=time.time() if walltime is None else walltime)
        if global_step is not None:
            event.step = int(global_step)
        self.event_writer.add_event(event)

    def add_session_start(self, step: int) -> None:
        """A ``SessionLog.START`` at ``step``: readers discard earlier-written events at or after it."""
        from tensorboard.compat.proto.event_pb2 import Event, SessionLog

        self.event_writer.add_event(Event(step=step, wall_time=time.time(),
                                          session_log=SessionLog(status=SessionLog.START)))

    def add_graph(self, graph, walltime=None) -> None:
        from tensorboard.compat.proto.event_pb2 import Event

        self.event_writer.add_event(Event(graph_def=graph.SerializeToString(),
                                          wall_time=time.time() if walltime is None else walltime))

    def flush(self) -> None:
        self.event_writer.flush()

    def close(self) -> None:
        self.event_writer.close()


class SummaryWriter:
    """Write TensorBoard logs to ``log_dir`` (default ``runs/<date>_<host><comment>``), as torch's.

    Needs the ``tensorboard`` package (``pip install tensorboard`` or ``ember[interop]``).
    """

    def __init__(self, log_dir: str | None = None, comment: str = "", purge_step: int | None = None,
                 max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = "") -> None:
        try:
            import tensorboard  # noqa: F401
        except ImportError:
            raise ImportError("ember.utils.tensorboard needs the tensorboard package: "
                              "pip install tensorboard (or ember[interop])") from None
        if log_dir is None:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = str(log_dir)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer: FileWriter | None = FileWriter(self.log_dir, max_queue, flush_secs, filename_suffix)
        self.all_writers = {self.log_dir: self.file_writer}
        if purge_step is not None:  # a restart: TensorBoard drops the old run's events from this step on
            self.file_writer.add_session_start(purge_step)
        self._projector = None  # the projector's config, rewritten whole as embeddings are added

    def __enter__(self) -> "SummaryWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get_logdir(self) -> str:
        return self.log_dir

    def _get_file_writer(self) -> FileWriter:
        if self.file_writer is None:  # closed: reopen, as torch does
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.log_dir: self.file_writer}
        return self.file_writer

    def _add(self, summary, global_step, walltime) -> None:
        self._get_file_writer().add_summary(summary, global_step, walltime)

    # -------------------------------------------------------------- what can be logged
    def add_scalar(self, tag: str, scalar_value, global_step: int | None = None,
                   walltime: float | None = None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        """One value of a curve (``tag``) at ``global_step``."""
        self._add(_summary.scalar(tag, scalar_value, new_style, double_precision), global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """Several curves in one chart: each key is its own run ``<log_dir>/<main_tag>_<key>``."""
        walltime = time.time() if walltime is None else walltime
        for tag, value in tag_scalar_dict.items():
            path = os.path.join(self._get_file_writer().get_logdir(), f"{main_tag.replace('/', '_')}_{tag}")
            writer = self.all_writers.get(path)
            if writer is None:
                writer = self.all_writers[path] = FileWriter(path, self.max_queue, self.flush_secs,
                                                             self.filename_suffix)
            writer.add_summary(_summary.scalar(main_tag, value), global_step, walltime)

    def add_histogram(self, tag: str, values, global_step: int | None = None, bins="tensorflow",
                      walltime: float | None = None, max_bins: int | None = None) -> None:
        """The distribution of a tensor's values (weights, gradients, activations)."""
        self._add(_summary.histogram(tag, values, bins, max_bins), global_step, walltime)

    def add_image(self, tag: str, img_tensor, global_step: int | None = None, walltime: float | None = None,
                  dataformats: str = "CHW") -> None:
        """A picture: floats in [0, 1] or uint8, laid out as ``dataformats`` (CHW, HWC, HW)."""
        self._add(_summary.image(tag, img_tensor, dataformats), global_step, walltime)

    def add_images(self, tag: str, img_tensor, global_step: int | None = None, walltime: float | None = None,
                   dataformats: str = "NCHW") -> None:
        """A batch of pictures tiled into one grid (8 across)."""
        array = _summary.to_numpy(img_tensor)
        fmt = dataformats.upper()
        if len(fmt) != array.ndim or "N" not in fmt:
            raise ValueError(f"add_images: dataformats '{dataformats}' do not match images of shape "
                             f"{array.shape}")
        if "C" not in fmt:
            array, fmt = array[..., None], fmt + "C"
        array = array.transpose([fmt.index(c) for c in "NCHW"])
        self.add_image(tag, _summary.make_grid(array), global_step, walltime, dataformats="CHW")

    def add_figure(self, tag: str, figure, global_step: int | None = None, close: bool = True,
                   walltime: float | None = None) -> None:
        """A Matplotlib figure (or a list of them, as one grid), rendered to an image."""
        import numpy as np

        figures = figure if isinstance(figure, (list, tuple)) else [figure]
        pixels = [_summary.figure_pixels(f) for f in figures]
        if close:
            import matplotlib.pyplot as plt

            for f in figures:
                plt.close(f)
        if len(pixels) == 1:
            self.add_image(tag, pixels[0], global_step, walltime, dataformats="HWC")
            return
        h = max(p.shape[0] for p in pixels)
        w = max(p.shape[1] for p in pixels)
        batch = np.zeros((len(pixels), 4, h, w), np.uint8)
        for i, p in enumerate(pixels):
            batch[i, :, :p.shape[0], :p.shape[1]] = p.transpose(2, 0, 1)
        self.add_images(tag, batch, global_step, walltime)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """Markdown text, shown in TensorBoard's text tab."""
        self._add(_summary.text(tag, text_string), global_step, walltime)

    def add_hparams(self, hparam_dict: dict, metric_dict: dict, hparam_domain_discrete: dict | None = None,
                    run_name: str | None = None, global_step: int | None = None) -> None:
        """One run's hyperparameters and final metrics for the HParams tab (in a run of its own)."""
        run = os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(log_dir=run) as writer:
            for part in _summary.hparams(hparam_dict, metric_dict, hparam_domain_discrete):
                writer.file_writer.add_summary(part, global_step)
            for key, value in metric_dict.items():
                writer.add_scalar(key, value, global_step)

    def add_pr_curve(self, tag: str, labels, predictions, global_step: int | None = None,
                     num_thresholds: int = 127, weights=None, walltime: float | None = None) -> None:
        """A precision-recall curve of binary ``labels`` against ``predictions`` in [0, 1]."""
        self._add(_summary.pr_curve(tag, labels, predictions, num_thresholds, weights), global_step, walltime)

    def add_embedding(self, mat, metadata=None, label_img=None, global_step: int | None = None,
                      tag: str = "default", metadata_header=None) -> None:
        """Points (rows of ``mat``) for TensorBoard's projector, with labels and thumbnails."""
        from tensorboard.plugins.projector.projector_config_pb2 import EmbeddingInfo, ProjectorConfig
        from google.protobuf import text_format

        step = str(0 if global_step is None else global_step).zfill(5)
        subdir = f"{step}/{tag.replace('/', '_')}"
        root = self._get_file_writer().get_logdir()
        os.makedirs(os.path.join(root, subdir), exist_ok=True)
        _summary.write_embedding(os.path.join(root, subdir), mat, metadata, label_img, metadata_header)
        info = EmbeddingInfo(tensor_name=f"{tag}:{step}", tensor_path=f"{subdir}/tensors.tsv")
        if metadata is not None:
            info.metadata_path = f"{subdir}/metadata.tsv"
        if label_img is not None:
            info.sprite.image_path = f"{subdir}/sprite.png"
            info.sprite.single_image_dim.extend([label_img.shape[3], label_img.shape[2]])
        if self._projector is None:
            self._projector = ProjectorConfig()
        self._projector.embeddings.append(info)
        with open(os.path.join(root, "projector_config.pbtxt"), "w") as f:
            f.write(text_format.MessageToString(self._projector))

    def add_graph(self, model, input_to_model=None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """The autograd graph of ``model(input_to_model)`` (Ember's recorded ops and parameters)."""
        inputs = input_to_model if isinstance(input_to_model, (tuple, list)) else (input_to_model,)
        graph = graph_def(model, tuple(inputs))
        if verbose:
            print(graph)
        self._get_file_writer().add_graph(graph)

    def flush(self) -> None:
        """Write everything queued to disk now."""
        for writer in self.all_writers.values():
            writer.flush()

    def close(self) -> None:
        """Flush and close every event file (a later call reopens, as torch's writer does)."""
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer = None
        self.all_writers = {}
