"""``ember.utils.tensorboard``: ``SummaryWriter`` for TensorBoard, as torch.utils.tensorboard."""
from .writer import FileWriter, SummaryWriter
