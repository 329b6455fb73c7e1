"""Section 3: devices, and the bridge from a tensor to NumPy: ``x.cpu().detach().numpy()``."""
from __future__ import annotations

import ember

from ..runner import Context


def _pick_device():
    device = "cuda" if ember.cuda.is_available() else "cpu"
    return device


def _to_numpy(device):
    ember.manual_seed(0)
    x = ember.randn(2, 3, device=device, requires_grad=True)
    y = (x * 2).sum()                     # x takes part in a graph
    array = x.cpu().detach().numpy()      # to host memory, out of the graph, then the NumPy array
    back = ember.from_numpy(array)        # NumPy → tensor, sharing the same memory
    return x, y, array, back


def _refused(x):
    try:
        x.numpy()                         # skipping .detach() on a tensor that needs grad
    except RuntimeError as error:
        return str(error)


def run(ctx: Context) -> dict:
    """Pick the device as the lecture does, and take a tensor that needs grad over to NumPy."""
    w = ctx.writer
    w.say("The notes: device = cuda (a GPU) when there is one; a tensor goes to NumPy with "
          "cpu().detach().numpy(). Each step has a reason: NumPy lives in host memory (.cpu()), "
          "and NumPy cannot record gradients (.detach()).")
    device = ctx.run(_pick_device)
    where = "a CUDA GPU through CuPy" if device == "cuda" else "the CPU through NumPy (no CUDA GPU found)"
    w.say(f"Device used: {device} — {where}.")
    x, y, array, back = ctx.run(_to_numpy, device)
    w.values([("x", x), ("array", repr(array)), ("type(array)", type(array).__name__),
              ("back", back)])
    message = ctx.run(_refused, x)
    w.values([("error", message)])
    return {"device": device, "numpy_shape": array.shape, "refusal": message}
