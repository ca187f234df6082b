"""Pointwise value transforms (pixels stay where they are)."""

from __future__ import annotations

import torch

from pixinfo._checks import check_grid_shape
from pixinfo.transforms.base import Transform
from pixinfo.transforms.functional import negative


class PointwiseTransform(Transform):
    """A value map applied pixel by pixel: its gather map is the identity."""

    def gather_map(self, shape: tuple[int, ...]) -> torch.Tensor:
        h, w = check_grid_shape(shape)
        return torch.arange(h * w)


class Negative(PointwiseTransform):
    """The negative image ``1 - x`` (``255 - x`` for uint8); its own inverse."""

    name = "negative"

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        return negative(images)

    def inverse(self) -> Negative:
        return Negative()
