"""Section 2: image layouts (28, 28, 3) → (3, 28, 28) → (B, C, H, W), and 2×2 pooling to (3, 14, 14)."""
from __future__ import annotations

import ember

from .. import plots
from ..runner import Context


def _load_picture():
    import numpy
    from PIL import Image
    from sklearn.datasets import load_sample_image

    photo = load_sample_image("china.jpg")                      # a photograph shipped with scikit-learn
    small = Image.fromarray(photo).resize((28, 28), Image.Resampling.LANCZOS)
    img = ember.from_numpy(numpy.asarray(small)).float() / 255  # (H, W, C): channel last, in [0, 1]
    return photo.shape, img


def _layouts(img):
    x = img.permute(2, 0, 1)                    # (C, H, W): channel first, as ember.nn expects
    batch = x.unsqueeze(0)                      # (B, C, H, W) with a batch of B = 1
    pooled = ember.nn.functional.max_pool2d(batch, kernel_size=2)  # the max of each 2×2 window
    out = pooled[0]                             # back to (C, H, W)
    corner = x[:, 0:2, 0:2].amax(dim=(1, 2))    # top-left 2×2 window of each channel, by hand
    return x, batch, pooled, out, corner


def run(ctx: Context) -> dict:
    """Move a real picture between the lecture's layouts and pool it, with a PNG of both sizes."""
    w = ctx.writer
    w.say("The notes: a (28, 28, 3) image is channel last; ember.nn (like torch.nn) wants channel "
          "first, (3, 28, 28), and batches (B, C, H, W); a 2×2 pooling halves height and width. "
          "Here on a real photograph, resized to 28×28.")
    photo_shape, img = ctx.run(_load_picture)
    x, batch, pooled, out, corner = ctx.run(_layouts, img)
    steps = [
        ("the photograph (NumPy)", "load_sample_image(\"china.jpg\")", str(photo_shape)),
        ("resized, channel last", "img", str(tuple(img.shape))),
        ("channel first", "img.permute(2, 0, 1)", str(tuple(x.shape))),
        ("a batch", "x.unsqueeze(0)", str(tuple(batch.shape))),
        ("2×2 max pooling", "max_pool2d(batch, kernel_size=2)", str(tuple(pooled.shape))),
        ("one pooled image", "pooled[0]", str(tuple(out.shape))),
    ]
    w.table(["step", "made by", "shape"], steps)
    w.values([("out.shape", out.shape), ("out[:, 0, 0]", out[:, 0, 0]), ("corner", corner)])
    matches = out[:, 0, 0].tolist() == corner.tolist()
    ctx.check(tuple(out.shape) == (3, 14, 14) and matches,
            "(3, 28, 28) → 2×2 pooling → (3, 14, 14), and each pooled pixel is the max of its window.")
    path = plots.image_rows(ctx.png("layouts"), [
        ("before pooling", img.numpy()),
        ("after 2×2 max pooling", out.permute(1, 2, 0).numpy()),
    ])
    w.picture(path, "the picture and its channels, before and after 2×2 max pooling")
    return {"channel_last": tuple(img.shape), "channel_first": tuple(x.shape),
            "batch": tuple(batch.shape), "pooled": tuple(out.shape),
            "window_max_matches": matches}
