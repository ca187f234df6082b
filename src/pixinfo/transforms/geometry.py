"""Meaning-preserving transforms of the semantic evaluation: mirror images and rotations
(rearrangements, so their structural retention is 1 by construction), translations and
contrast changes. Each is a pure function in ``pixinfo.transforms.functional`` plus the
thin module here. ``tilt`` rotates by any angle (interpolated, so not a rearrangement);
its pure function is [`tilt`][pixinfo.transforms.geometry.tilt]. ``elastic`` warps every image by
one keyed smooth displacement field ([`elastic`][pixinfo.transforms.geometry.elastic],
[`elastic_field`][pixinfo.transforms.geometry.elastic_field]).

Examples
--------
>>> import torch
>>> from pixinfo.transforms import build_transform
>>> t = build_transform("rotate:quarter_turns=1", shape=(1, 4, 4))
>>> x = torch.rand(2, 1, 4, 4)
>>> torch.equal(t(x), torch.rot90(x, 1, (-2, -1))), torch.equal(t.inverse()(t(x)), x)
(True, True)
"""

from __future__ import annotations

from typing import Any

import math

import numpy as np
import torch
import torch.nn.functional as F

from pixinfo._checks import check_finite, check_grid_shape, check_image_batch, check_int
from pixinfo.errors import ShapeError
from pixinfo.data import to_float
from pixinfo.transforms.base import Transform
from pixinfo.transforms.functional import flip_map, reduce_contrast, rotate_map, translate
from pixinfo.transforms.keying import SEED, key_seed, make_generator
from pixinfo.transforms.permutation import GatherTransform
from pixinfo.transforms.value import PointwiseTransform, _restore

MAX_SHIFT = 4096  # pixels; anything larger is a typo


def tilt(images: torch.Tensor, *, degrees: float) -> torch.Tensor:
    """Rotate images by ``degrees`` counter-clockwise about their centre, bilinear, the corners
    filled with 0 (``tilt(x, degrees=90)`` of a square image is ``torch.rot90(x, 1, (-2, -1))``
    up to rounding). Float images are computed in their own dtype, uint8 ones in float32 and
    rounded back to 8-bit levels."""
    degrees = check_finite(degrees, "degrees", low=-360, high=360)
    x = check_image_batch(images, "images")
    values = _sampling_values(x)
    h, w = values.shape[-2:]
    a = math.radians(degrees)
    cos, sin = math.cos(a), math.sin(a)
    # output pixel (u, v) in normalised coordinates samples the input at R(-a) (u, v), with the
    # aspect ratio kept (normalised x spans w pixels, y spans h)
    theta = torch.tensor([[cos, -sin * h / w, 0.0], [sin * w / h, cos, 0.0]], dtype=values.dtype, device=values.device)
    grid = F.affine_grid(theta.expand(len(values), 2, 3), list(values.shape), align_corners=False)
    return _restore(F.grid_sample(values, grid, mode="bilinear", padding_mode="zeros", align_corners=False), x)


def _sampling_values(x: torch.Tensor) -> torch.Tensor:
    """The float values ``grid_sample`` interpolates: ``x``'s own float dtype, float32 for uint8
    and for half precision (which ``grid_sample`` computes poorly)."""
    values = to_float(x)
    return values.float() if values.dtype in (torch.float16, torch.bfloat16) else values


def elastic_field(shape: tuple[int, ...], *, alpha: float, sigma: float,
                  generator: torch.Generator | None = None) -> torch.Tensor:  # fmt: skip
    """A smooth random displacement field ``(2, H, W)`` in pixels (rows first, then columns), as
    Simard, Steinkraus and Platt (2003) draw it: uniform noise in [-1, 1] per pixel and direction,
    smoothed by a Gaussian of standard deviation ``sigma`` pixels (zero beyond the border,
    ``scipy.ndimage.gaussian_filter(mode="constant")``) and scaled by ``alpha``. Float64."""
    from scipy.ndimage import gaussian_filter

    h, w = check_grid_shape(shape)
    alpha = check_finite(alpha, "alpha", low=0)
    sigma = check_finite(sigma, "sigma", low=0)
    noise = torch.rand((2, h, w), generator=generator, dtype=torch.float64).numpy() * 2 - 1
    smooth = [gaussian_filter(n, sigma, mode="constant", cval=0.0) for n in noise]
    return torch.from_numpy(np.stack(smooth) * alpha)


def _check_displacement(displacement: torch.Tensor, grid: tuple[int, int]) -> None:
    """Refuse a displacement field that is not ``(2, H, W)`` for ``grid`` ``(H, W)``."""
    if tuple(displacement.shape) != (2, *grid):
        raise ShapeError(f"displacement must be (2, {grid[0]}, {grid[1]}) for {tuple(grid)} images, "
                         f"got {tuple(displacement.shape)}")  # fmt: skip


def elastic(images: torch.Tensor, *, displacement: torch.Tensor) -> torch.Tensor:
    """Warp every image by ``displacement`` ``(2, H, W)`` (pixels): output pixel ``(i, j)`` is the
    input sampled bilinearly at ``(i + displacement[0, i, j], j + displacement[1, i, j])``, 0
    beyond the border. Float images are computed in their own dtype (half precision in float32),
    uint8 ones in float32 and rounded back to 8-bit levels."""
    x = check_image_batch(images, "images")
    h, w = x.shape[-2:]
    _check_displacement(displacement, (h, w))
    values = _sampling_values(x)
    d = displacement.to(values.device, values.dtype)
    rows = torch.arange(h, dtype=values.dtype, device=values.device)[:, None] + d[0]
    columns = torch.arange(w, dtype=values.dtype, device=values.device)[None, :] + d[1]
    # grid_sample's normalised coordinates with align_corners=True: -1 and 1 are the first and last pixel centres
    grid = torch.stack([2 * columns / max(w - 1, 1) - 1, 2 * rows / max(h - 1, 1) - 1], dim=-1)
    out = F.grid_sample(values, grid.expand(len(values), h, w, 2), mode="bilinear", padding_mode="zeros",
                        align_corners=True)  # fmt: skip
    return _restore(out, x)


class Flip(GatherTransform, spec="flip"):
    """Mirror images left-right (axis=horizontal), top-bottom (vertical) or both (a half turn)."""

    def __init__(self, shape: tuple[int, ...], *, axis: str = "horizontal") -> None:
        super().__init__(shape, flip_map(shape, axis=axis))
        self.axis = axis

    def inverse(self) -> Flip:
        return self

    def params(self) -> dict[str, Any]:
        return {"axis": self.axis}

    def init_kwargs(self) -> dict[str, Any]:
        return {"shape": list(self.grid), "axis": self.axis}


class Rotate(GatherTransform, spec="rotate"):
    """Rotate images by quarter turns counter-clockwise (1 and 3 need square images)."""

    def __init__(self, shape: tuple[int, ...], *, quarter_turns: int = 2) -> None:
        super().__init__(shape, rotate_map(shape, quarter_turns=quarter_turns))
        self.quarter_turns = int(quarter_turns)

    def inverse(self) -> Rotate:
        return Rotate(self.grid, quarter_turns=(4 - self.quarter_turns) % 4)

    def params(self) -> dict[str, Any]:
        return {"quarter_turns": self.quarter_turns}

    def init_kwargs(self) -> dict[str, Any]:
        return {"shape": list(self.grid), "quarter_turns": self.quarter_turns}


class Translate(Transform, spec="translate"):
    """Shift images right by dx and down by dy pixels, filling with zeros (no inverse)."""

    def __init__(self, *, dx: int = 2, dy: int = 2) -> None:
        super().__init__()
        self.dx = check_int(dx, "dx", low=-MAX_SHIFT, high=MAX_SHIFT)
        self.dy = check_int(dy, "dy", low=-MAX_SHIFT, high=MAX_SHIFT)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        return translate(images, dx=self.dx, dy=self.dy)

    def params(self) -> dict[str, Any]:
        return {"dx": self.dx, "dy": self.dy}

    def init_kwargs(self) -> dict[str, Any]:
        return self.params()


class Tilt(Transform, spec="tilt"):
    """Rotate images by ``degrees`` counter-clockwise about their centre, bilinear, corners black
    (any angle; quarter turns without interpolation are ``rotate``; no inverse: corners are lost)."""

    def __init__(self, *, degrees: float = 15.0) -> None:
        super().__init__()
        self.degrees = check_finite(degrees, "degrees", low=-360, high=360)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        return tilt(images, degrees=self.degrees)

    def params(self) -> dict[str, Any]:
        return {"degrees": self.degrees}

    def init_kwargs(self) -> dict[str, Any]:
        return self.params()


class Elastic(Transform, spec="elastic"):
    """Elastic deformation: every image warped by one keyed smooth displacement field, bilinear (no inverse).

    Parameters
    ----------
    shape : (H, W) or (C, H, W)
        Image grid the field is drawn for.
    alpha : float
        Scale of the displacements (pixels per unit of smoothed noise).
    sigma : float
        Smoothness: the standard deviation, in pixels, of the Gaussian the noise is smoothed by.
    seed : int, optional
        Seed of the field (or pass ``generator``).
    generator : torch.Generator, optional
    displacement : torch.Tensor, optional
        An explicit field ``(2, H, W)`` instead of a random one.
    """

    def __init__(self, shape: tuple[int, ...], *, alpha: float = 8.0, sigma: float = 3.0, seed: int | None = SEED,
                 generator: torch.Generator | None = None, displacement: torch.Tensor | None = None) -> None:  # fmt: skip
        super().__init__()
        self.grid = check_grid_shape(shape)
        self.alpha, self.sigma = check_finite(alpha, "alpha", low=0), check_finite(sigma, "sigma", low=0)
        self.seed = key_seed(seed, generator, displacement)
        if displacement is None:
            displacement = elastic_field(self.grid, alpha=self.alpha, sigma=self.sigma,
                                         generator=make_generator(seed, generator))  # fmt: skip
        _check_displacement(displacement, self.grid)
        self.register_buffer("displacement", displacement.to(torch.float64))

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        return elastic(images, displacement=self.displacement)

    def params(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "sigma": self.sigma} | ({"seed": self.seed} if self.seed is not None else {})

    def init_kwargs(self) -> dict[str, Any]:
        return {"shape": list(self.grid), "alpha": self.alpha, "sigma": self.sigma, "seed": self.seed,
                "displacement": self.displacement}


class Contrast(PointwiseTransform, spec="contrast"):
    """Scale each image's deviations from its own mean by factor, clipped to the value range."""

    def __init__(self, *, factor: float = 0.5) -> None:
        super().__init__()
        self.factor = check_finite(factor, "factor", low=0)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        return reduce_contrast(images, factor=self.factor)

    def params(self) -> dict[str, Any]:
        return {"factor": self.factor}

    def init_kwargs(self) -> dict[str, Any]:
        return self.params()
