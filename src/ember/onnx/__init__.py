"""``ember.onnx``: export a model to ONNX (needs the ``onnx`` package), as torch.onnx."""
from .exporter import export
from .graph import UnsupportedOperatorError
from .ops import PRIMITIVES
