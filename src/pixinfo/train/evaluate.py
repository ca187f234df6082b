"""Test accuracy and loss of a model on a device-resident uint8 test set."""

from __future__ import annotations

import contextlib
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from pixinfo.models import evaluating


class Evaluation(NamedTuple):
    """What [`evaluate`][pixinfo.train.evaluate.evaluate] measured: ``accuracy`` and mean cross-entropy ``loss`` of the logits it
    reports (averaged with the mirror image's under test-time flips), and ``accuracy_plain``, the
    accuracy of the un-flipped images alone (from the same forward pass; None without flips)."""

    accuracy: float
    loss: float
    accuracy_plain: float | None = None


@torch.no_grad()
def evaluate(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    batch_size: int = 2048,
    autocast=None,
    channels_last: bool = False,
    test_flip: bool = False,
    rank: int = 0,
    world: int = 1,
) -> Evaluation:
    """Accuracy and mean cross-entropy of ``model`` on uint8 ``images`` and their ``labels``.

    With ``test_flip`` the logits of each image and its mirror image are averaged, and the
    accuracy of the un-flipped images alone is reported beside it. Under DDP
    (``world > 1``) each rank evaluates its contiguous share and the sums are all-reduced.

    Examples
    --------
    >>> import torch
    >>> from pixinfo.models import build_model
    >>> net = build_model("mlp", image_shape=(1, 4, 4), num_classes=3)
    >>> x, y = torch.randint(0, 256, (10, 1, 4, 4), dtype=torch.uint8), torch.randint(0, 3, (10,))
    >>> acc, loss, plain = evaluate(net, x, y, batch_size=4)
    >>> 0.0 <= acc <= 1.0 and loss > 0, plain
    (True, None)
    >>> evaluate(net, x, y, test_flip=True).accuracy_plain is not None
    True
    """
    n = len(images)
    lo, hi = rank * n // world, (rank + 1) * n // world
    device = images.device
    totals = torch.zeros(3, device=device, dtype=torch.float64)  # correct, loss sum, correct un-flipped
    with evaluating(model), (autocast or contextlib.nullcontext()):
        for s in range(lo, hi, batch_size):
            x = images[s : min(s + batch_size, hi)].float() / 255.0
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            y = labels[s : min(s + batch_size, hi)]
            out = model(x).float()
            if test_flip:
                totals[2] += (out.argmax(1) == y).sum()
                out = 0.5 * (out + model(x.flip(-1)).float())
            totals[0] += (out.argmax(1) == y).sum()
            totals[1] += F.cross_entropy(out, y, reduction="sum")
    if world > 1:
        import torch.distributed as dist

        dist.all_reduce(totals)
    return Evaluation(float(totals[0]) / n, float(totals[1]) / n, float(totals[2]) / n if test_flip else None)
