"""Batched data augmentation on the batch's own device (crop with padding, flips, RICAP, negatives).

Every function takes float images ``(B, C, H, W)`` and an explicit
``torch.Generator`` on the images' device, so a seeded run is reproducible and
nothing leaves the device.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from pixinfo._checks import check_image_batch
from pixinfo.transforms.functional import negate


def _check_generator(images: torch.Tensor, generator: torch.Generator) -> None:
    if generator.device.type != images.device.type:
        raise ValueError(
            f"the generator is on {generator.device} but the images are on {images.device}; "
            "create it with torch.Generator(device=images.device)"
        )


def random_crop(images: torch.Tensor, *, pad: int, generator: torch.Generator) -> torch.Tensor:
    """Zero-pad by ``pad`` pixels and crop back to H×W at a random offset per image.

    Examples
    --------
    >>> import torch
    >>> x = torch.rand(4, 1, 8, 8)
    >>> random_crop(x, pad=0, generator=torch.Generator()).equal(x)
    True
    """
    images = check_image_batch(images)
    if pad < 0:
        raise ValueError(f"pad must be >= 0, got {pad}")
    _check_generator(images, generator)
    return _crop(images, pad, generator)


def _crop(images: torch.Tensor, pad: int, generator: torch.Generator) -> torch.Tensor:
    """``random_crop`` without the checks (the trainer's hot loop checks once, up front)."""
    if pad == 0:
        return images
    b, c, h, w = images.shape
    padded = F.pad(images, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (b, 1), generator=generator, device=images.device)
    dx = torch.randint(0, 2 * pad + 1, (b, 1), generator=generator, device=images.device)
    rows = (dy + torch.arange(h, device=images.device)).view(b, 1, h, 1).expand(b, c, h, w + 2 * pad)
    cropped = padded.gather(2, rows)
    cols = (dx + torch.arange(w, device=images.device)).view(b, 1, 1, w).expand(b, c, h, w)
    return cropped.gather(3, cols)


def random_flip(images: torch.Tensor, *, generator: torch.Generator, p: float = 0.5) -> torch.Tensor:
    """Mirror each image left-right with probability ``p``."""
    images = check_image_batch(images)
    _check_generator(images, generator)
    return _flip(images, generator, p)


def _flip(images: torch.Tensor, generator: torch.Generator, p: float = 0.5) -> torch.Tensor:
    flip = torch.rand(images.shape[0], generator=generator, device=images.device) < p
    return torch.where(flip.view(-1, 1, 1, 1), images.flip(-1), images)


def random_negative(images: torch.Tensor, *, generator: torch.Generator, p: float = 0.5) -> torch.Tensor:
    """Replace each float image by its negative 1 − x with probability ``p``."""
    images = check_image_batch(images)
    _check_generator(images, generator)
    return _negative(images, generator, p)


def _negative(images: torch.Tensor, generator: torch.Generator, p: float) -> torch.Tensor:
    neg = torch.rand(images.shape[0], generator=generator, device=images.device) < p
    return torch.where(neg.view(-1, 1, 1, 1), negate(images), images)


def ricap(
    images: torch.Tensor, labels: torch.Tensor, *, beta: float, generator: torch.Generator, rng
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """RICAP (Takahashi et al.), as in the Random Vortex authors' training code.

    The image is split at a Beta(β, β) point into four rectangles, each filled
    with a random crop of a differently shuffled batch.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the split point and crop offsets (host-side scalars).

    Returns
    -------
    mixed : Tensor ``(B, C, H, W)``
    targets : Tensor ``(4, B)`` labels of the four patches
    weights : Tensor ``(4,)`` area fractions, summing to 1
    """
    images = check_image_batch(images)
    _check_generator(images, generator)
    return _ricap(images, labels, beta, generator, rng)


def _ricap(images, labels, beta, generator, rng):
    b, _, h, w = images.shape
    pw = int(round(w * rng.beta(beta, beta)))
    ph = int(round(h * rng.beta(beta, beta)))
    widths, heights = [pw, w - pw, pw, w - pw], [ph, ph, h - ph, h - ph]
    patches, targets, weights = [], [], []
    for k in range(4):
        order = torch.randperm(b, generator=generator, device=images.device)
        x0 = int(rng.integers(0, w - widths[k] + 1))
        y0 = int(rng.integers(0, h - heights[k] + 1))
        patches.append(images[order][:, :, y0 : y0 + heights[k], x0 : x0 + widths[k]])
        targets.append(labels[order])
        weights.append(widths[k] * heights[k] / (w * h))
    top = torch.cat([patches[0], patches[1]], 3)
    bottom = torch.cat([patches[2], patches[3]], 3)
    mixed = torch.cat([top, bottom], 2)
    return mixed, torch.stack(targets), torch.tensor(weights, device=images.device, dtype=images.dtype)
