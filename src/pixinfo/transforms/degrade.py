"""Lossy degradations: the blurring, pixelation, posterisation and noise people apply to hide or
compress images, none of them keyed.

* ``posterize``: grey levels merged into ``levels`` evenly spaced ones (a many-to-one value map);
* ``blur``: each pixel replaced by the mean of its ``size`` × ``size`` neighbourhood;
* ``pixelate``: each ``size`` × ``size`` block replaced by its mean (a mosaic);
* ``noise``: additive Gaussian noise, a fresh draw for every image;
* ``jpeg``: JPEG compression at ``quality`` (1–100), decoded back to pixels;
* ``occlude``: a centred square, ``fraction`` of the shorter side, set to black, as a region is masked out;
* ``sharpen``: an unsharp mask, each pixel pushed away from its 3 × 3 neighbourhood's mean.

Each is a pure function ([`posterize`][pixinfo.transforms.degrade.posterize],
[`box_blur`][pixinfo.transforms.degrade.box_blur], [`pixelate`][pixinfo.transforms.degrade.pixelate],
[`gaussian_noise`][pixinfo.transforms.degrade.gaussian_noise], [`jpeg`][pixinfo.transforms.degrade.jpeg],
[`occlude`][pixinfo.transforms.degrade.occlude], [`sharpen`][pixinfo.transforms.degrade.sharpen]) plus a thin module. All keep the
shape ``(B, C, H, W)``, the dtype and the device of their input: float images are computed in their
own dtype, uint8 images in float32 and rounded back to 8-bit levels. None has an inverse.

Examples
--------
>>> import torch
>>> from pixinfo.transforms import build_transform
>>> x = torch.tensor([[[[0, 100], [200, 255]]]], dtype=torch.uint8)
>>> build_transform("posterize:levels=2", shape=(1, 2, 2))(x).flatten().tolist()
[0, 0, 255, 255]
>>> build_transform("pixelate:size=2", shape=(1, 2, 2))(x).flatten().tolist()
[139, 139, 139, 139]
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

import torch
import torch.nn.functional as F
from PIL import Image

from pixinfo._checks import check_finite, check_grid_shape, check_image_batch, check_int
from pixinfo.data import to_float, to_uint8
from pixinfo.errors import ParameterError, ShapeError
from pixinfo.transforms.base import Transform
from pixinfo.transforms.keying import SEED, PerImageTransform
from pixinfo.transforms.value import PointwiseTransform, _like, _restore

MAX_SIZE = 4096  # pixels; anything larger is a typo


def _odd_size(size: object) -> int:
    size = check_int(size, "size", low=1, high=MAX_SIZE)
    if size % 2 == 0:
        raise ParameterError(f"size must be an odd integer (the neighbourhood is centred on the pixel), got {size}")
    return size


def _block_size(size: object, grid: tuple[int, int]) -> int:
    size = check_int(size, "size", low=1, high=MAX_SIZE)
    if grid[0] % size or grid[1] % size:
        raise ShapeError(f"pixelate needs a height and width divisible by size={size}, got {tuple(grid)}")
    return size


def _check_built_for(t: Transform, images: torch.Tensor) -> None:
    """Refuse images of another height and width than those ``t`` was built for (``t.grid``)."""
    if tuple(images.shape[-2:]) != t.grid:
        raise ShapeError(f"{t.spec} was built for {t.grid} images, got {tuple(images.shape[-2:])}")


def posterize(images: torch.Tensor, *, levels: int) -> torch.Tensor:
    """Merge the 256 grey levels into ``levels`` evenly spaced ones, 0 and 255 among them: level
    ``v`` goes to ``round(q * 255 / (levels - 1))`` with ``q = floor(v * levels / 256)``.
    Float input is quantised to ``round(255 x)`` first, as every value map of pixinfo does."""
    levels = check_int(levels, "levels", low=2, high=256)
    v = to_uint8(check_image_batch(images, "images")).to(torch.int32)
    q = torch.div(v * levels, 256, rounding_mode="floor")
    out = torch.div(q * 510 + (levels - 1), 2 * (levels - 1), rounding_mode="floor")  # round(q*255/(levels-1))
    return _like(out.to(torch.uint8), images)


def box_blur(images: torch.Tensor, *, size: int) -> torch.Tensor:
    """The mean of each pixel's ``size`` × ``size`` neighbourhood (``size`` odd; the neighbours
    outside the image are left out of the mean)."""
    size = _odd_size(size)
    x = check_image_batch(images, "images")
    return _restore(_box_mean(to_float(x), size), x)


def _box_mean(values: torch.Tensor, size: int) -> torch.Tensor:
    """Each value's mean over its ``size`` × ``size`` neighbourhood (``size`` odd), the
    neighbours outside the image left out of the mean."""
    return F.avg_pool2d(values, size, stride=1, padding=size // 2, count_include_pad=False)


def pixelate(images: torch.Tensor, *, size: int) -> torch.Tensor:
    """Every ``size`` × ``size`` block replaced by its mean (height and width multiples of ``size``)."""
    x = check_image_batch(images, "images")
    size = _block_size(size, tuple(x.shape[-2:]))
    values = to_float(x)
    blocks = F.avg_pool2d(values, size, stride=size)
    return _restore(blocks.repeat_interleave(size, -2).repeat_interleave(size, -1), x)


def gaussian_noise(images: torch.Tensor, *, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """``x + sigma * N(0, 1)`` clipped to [0, 1], the noise drawn from ``generator`` (on the CPU,
    so a seed gives the same noise on every device)."""
    sigma = check_finite(sigma, "sigma", low=0)
    x = check_image_batch(images, "images")
    values = to_float(x)
    noise = torch.randn(values.shape, generator=generator, dtype=torch.float32).to(values.device, values.dtype)
    return _restore(values + sigma * noise, x)


def jpeg(images: torch.Tensor, *, quality: int) -> torch.Tensor:
    """Each image JPEG-compressed at ``quality`` (1–100; Pillow's libjpeg baseline encoder with
    the standard tables scaled by ``quality``, 4:2:0 chroma subsampling for three channels) and
    decoded back. Grey images (one channel) and colour ones (three) only. Float input is quantised
    to ``round(255 x)`` first; the codec runs on the CPU and the result returns to the input's
    device."""
    quality = check_int(quality, "quality", low=1, high=100)
    x = check_image_batch(images, "images")
    if x.shape[1] not in (1, 3):
        raise ShapeError(f"jpeg needs images with 1 or 3 channels, got {x.shape[1]}")
    if len(x) == 0:
        return x.clone()
    v = to_uint8(x).cpu().permute(0, 2, 3, 1).numpy()
    out = np.empty_like(v)
    for i, image in enumerate(v):
        buffer = io.BytesIO()
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(buffer, format="JPEG", quality=quality)
        out[i] = np.asarray(Image.open(buffer)).reshape(image.shape)
    return _like(torch.from_numpy(out).permute(0, 3, 1, 2).to(x.device), x)


def occlude(images: torch.Tensor, *, size: int) -> torch.Tensor:
    """A centred ``size`` × ``size`` square of every image set to 0 (black); the rest is kept.
    The square starts at row ``(H - size) // 2`` and column ``(W - size) // 2``."""
    x = check_image_batch(images, "images")
    h, w = x.shape[-2:]
    size = check_int(size, "size", low=0, high=MAX_SIZE)
    if size > min(h, w):
        raise ShapeError(f"occlude needs a square of size <= the image's sides, got size={size} for {(h, w)} images")
    out = x.clone()
    top, left = (h - size) // 2, (w - size) // 2
    out[..., top:top + size, left:left + size] = 0
    return out


def sharpen(images: torch.Tensor, *, amount: float) -> torch.Tensor:
    """Unsharp mask: ``x + amount * (x - box_blur(x, size=3))`` clipped to the value range, so
    edges are steepened and flat regions kept (``amount`` 0 leaves the images unchanged)."""
    amount = check_finite(amount, "amount", low=0)
    x = check_image_batch(images, "images")
    values = to_float(x)
    return _restore(values + amount * (values - _box_mean(values, 3)), x)


class Posterize(PointwiseTransform, spec="posterize"):
    """Grey levels merged into ``levels`` evenly spaced ones (posterisation; no inverse)."""

    def __init__(self, *, levels: int = 4) -> None:
        super().__init__()
        self.levels = check_int(levels, "levels", low=2, high=256)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        return posterize(images, levels=self.levels)

    def params(self) -> dict[str, Any]:
        return {"levels": self.levels}

    def init_kwargs(self) -> dict[str, Any]:
        return self.params()


class Blur(Transform, spec="blur"):
    """Box blur: each pixel the mean of its ``size`` × ``size`` neighbourhood (``size`` odd; no inverse)."""

    def __init__(self, *, size: int = 3) -> None:
        super().__init__()
        self.size = _odd_size(size)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        return box_blur(images, size=self.size)

    def params(self) -> dict[str, Any]:
        return {"size": self.size}

    def init_kwargs(self) -> dict[str, Any]:
        return self.params()


class Pixelate(Transform, spec="pixelate"):
    """Mosaic: each ``size`` × ``size`` block replaced by its mean (the image sides must be multiples
    of ``size``; no inverse)."""

    def __init__(self, shape: tuple[int, ...], *, size: int = 4) -> None:
        super().__init__()
        self.grid = check_grid_shape(shape)
        self.size = _block_size(size, self.grid)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        _check_built_for(self, images)
        return pixelate(images, size=self.size)

    def params(self) -> dict[str, Any]:
        return {"size": self.size}

    def init_kwargs(self) -> dict[str, Any]:
        return {"shape": list(self.grid), "size": self.size}


class GaussianNoise(PointwiseTransform, PerImageTransform, spec="noise"):
    """Additive Gaussian noise of standard deviation ``sigma`` (images in [0, 1]), clipped; a fresh
    draw for every image from the transform's generator (no shared key, no inverse)."""

    def __init__(self, *, sigma: float = 0.1, seed: int | None = SEED, generator: torch.Generator | None = None) -> None:
        super().__init__(seed=seed, generator=generator)
        self.sigma = check_finite(sigma, "sigma", low=0)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        return gaussian_noise(images, sigma=self.sigma, generator=self.generator)

    def params(self) -> dict[str, Any]:
        return {"sigma": self.sigma} | super().params()

    def init_kwargs(self) -> dict[str, Any]:
        return {"sigma": self.sigma} | super().init_kwargs()


class Jpeg(Transform, spec="jpeg"):
    """JPEG compression at ``quality`` (1–100), decoded back to pixels (no key, no inverse)."""

    def __init__(self, *, quality: int = 50) -> None:
        super().__init__()
        self.quality = check_int(quality, "quality", low=1, high=100)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        return jpeg(images, quality=self.quality)

    def params(self) -> dict[str, Any]:
        return {"quality": self.quality}

    def init_kwargs(self) -> dict[str, Any]:
        return self.params()


class Occlude(Transform, spec="occlude"):
    """A centred square of ``fraction`` of the shorter side set to black (no key, no inverse).

    The square's side is ``size``: ``fraction`` of the shorter side of ``shape``, rounded."""

    def __init__(self, shape: tuple[int, ...], *, fraction: float = 0.5) -> None:
        super().__init__()
        self.grid = check_grid_shape(shape)
        self.fraction = check_finite(fraction, "fraction", low=0, high=1)
        self.size = round(self.fraction * min(self.grid))

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        _check_built_for(self, images)
        return occlude(images, size=self.size)

    def params(self) -> dict[str, Any]:
        return {"fraction": self.fraction}

    def init_kwargs(self) -> dict[str, Any]:
        return {"shape": list(self.grid), "fraction": self.fraction}


class Sharpen(Transform, spec="sharpen"):
    """Unsharp mask: each pixel pushed ``amount`` times its difference from its 3 × 3 mean, clipped (no inverse)."""

    def __init__(self, *, amount: float = 1.0) -> None:
        super().__init__()
        self.amount = check_finite(amount, "amount", low=0)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        return sharpen(images, amount=self.amount)

    def params(self) -> dict[str, Any]:
        return {"amount": self.amount}

    def init_kwargs(self) -> dict[str, Any]:
        return self.params()
