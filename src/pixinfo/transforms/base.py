"""Transform base class: a thin ``nn.Module`` around a pure function."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from pixinfo._checks import check_image_batch


class NotInvertibleError(ValueError):
    """The transform has no exact inverse."""


class Transform(nn.Module):
    """Base of pixinfo's keyed transforms.

    Subclasses implement :meth:`apply` on a checked ``(B, C, H, W)`` batch
    (uint8 or float in [0, 1]; output on the same device with the same dtype).

    Class attributes
    ----------------
    name : str
        Registry name (``pixinfo score --transform NAME:...``).
    shared_key : bool
        True when one key serves every image (a map a network can learn);
        False when each image gets a fresh key.
    """

    name: str = "transform"
    shared_key: bool = True

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.apply(check_image_batch(images))

    def apply(self, images: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        """Parameters that, with the name, rebuild this transform."""
        return {}

    @property
    def spec(self) -> str:
        items = ",".join(f"{k}={v}" for k, v in self.params().items())
        return f"{self.name}:{items}" if items else self.name

    def gather_map(self, shape: tuple[int, ...]) -> torch.Tensor | None:
        """The shared gather map ``(H*W,)`` for images of ``shape``, or None if not a rearrangement."""
        return None

    def inverse(self) -> Transform:
        raise NotInvertibleError(f"{self.spec} has no exact inverse")

    def extra_repr(self) -> str:
        return self.spec
