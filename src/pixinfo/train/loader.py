"""A device-resident training loader in the style of airbench.

[`DeviceLoader`][pixinfo.train.loader.DeviceLoader] owns the training images (uint8, on the device), the shuffling, the keyed
transform (applied once with its key, or per batch with fresh keys), the augmentation in the
chosen order and the slice of each global batch that this DDP rank trains on. Its random state
is one ``torch.Generator`` on the device plus one NumPy generator (RICAP's host-side scalars),
both part of a checkpoint ([`state_dict`][pixinfo.train.loader.DeviceLoader.state_dict]). The hot loop does no validation and no host
synchronisation: everything is checked once, when the loader is built.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from pixinfo.train.augment import _crop, _flip, _negative, _ricap


@dataclass
class Batch:
    """One training batch: float images in [0, 1], their labels, and the loss targets.

    ``targets``/``weights`` are the labels and ``None``, or with RICAP the four patch labels
    ``(4, B)`` and their area weights ``(4,)``.
    """

    x: torch.Tensor
    y: torch.Tensor
    targets: torch.Tensor
    weights: torch.Tensor | None


class DeviceLoader:
    """Batches of (transformed, augmented) training images, all on one device.

    Parameters
    ----------
    images, labels : Tensor
        uint8 images ``(N, C, H, W)`` and int64 labels ``(N,)``, already on the device.
    transform : Transform or None
        The keyed transform. With ``fresh_keys`` it runs on every batch (new per-image keys);
        otherwise, unless ``augment="before"``, it is applied once here, to the whole set.
    augment : {"after", "before", "none"}
        Crops, flips and RICAP act on the transformed images, on the plain ones before the
        transform, or not at all. Negatives (``negative_p``) follow the same order.
    batch_size, crop_pad, flip, ricap_beta, negative_p
        As in [`TrainConfig`][pixinfo.train.config.TrainConfig].
    seed : int
        Seeds the device generator (shuffling, augmentation, fresh keys) and the NumPy one.
    rank, world : int
        This process's slice ``x[rank::world]`` of every global batch (DDP).

    Examples
    --------
    >>> import torch
    >>> x = torch.randint(0, 256, (10, 1, 4, 4), dtype=torch.uint8)
    >>> loader = DeviceLoader(x, torch.arange(10), batch_size=4, seed=0)
    >>> len(loader), [tuple(b.x.shape) for b in loader]
    (2, [(4, 1, 4, 4), (4, 1, 4, 4)])
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        *,
        batch_size: int,
        seed: int,
        transform=None,
        fresh_keys: bool = False,
        augment: str = "after",
        crop_pad: int = 0,
        flip: bool = False,
        ricap_beta: float | None = None,
        negative_p: float = 0.0,
        rank: int = 0,
        world: int = 1,
        chunk: int = 8192,
    ) -> None:
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {tuple(images.shape)} {images.dtype}")
        if len(labels) != len(images):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        if not 1 <= batch_size <= len(images):
            raise ValueError(f"batch_size must be in [1, {len(images)}] (the number of images), got {batch_size}")
        if batch_size % world:
            raise ValueError(f"batch_size {batch_size} must be divisible by the {world} processes")
        self.device = images.device
        self.batch_size, self.rank, self.world = batch_size, rank, world
        self.augment = augment
        geometric = augment != "none"
        self.crop_pad = crop_pad if geometric else 0
        self.flip = flip and geometric
        self.ricap_beta = ricap_beta if geometric else None
        self.negative_p = negative_p
        self.transform = transform
        self.per_batch = transform is not None and (fresh_keys or augment == "before")
        if transform is not None and not self.per_batch:
            images = apply_in_chunks(transform, images, chunk=chunk)
        self.images, self.labels = images, labels
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.images) // self.batch_size  # the last partial batch is dropped

    @property
    def images_per_epoch(self) -> int:
        return len(self) * self.batch_size

    def __iter__(self) -> Iterator[Batch]:
        order = torch.randperm(len(self.images), generator=self.generator, device=self.device)
        for step in range(len(self)):
            idx = order[step * self.batch_size : (step + 1) * self.batch_size]
            yield self._batch(self.images[idx], self.labels[idx])

    def _augment(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        if self.crop_pad:
            x = _crop(x, self.crop_pad, self.generator)
        if self.flip:
            x = _flip(x, self.generator)
        if self.negative_p:
            x = _negative(x, self.generator, self.negative_p)
        if self.ricap_beta is not None:
            return _ricap(x, y, self.ricap_beta, self.generator, self.rng)
        return x, y, None

    def _batch(self, raw: torch.Tensor, y: torch.Tensor) -> Batch:
        x, targets, weights = raw.float() / 255.0, y, None
        if self.augment == "before":
            x, targets, weights = self._augment(x, y)
        if self.per_batch:
            x = self.transform.apply(x)
        if self.augment != "before":
            x, targets, weights = self._augment(x, y)
        if self.world > 1:
            x, y = x[self.rank :: self.world], y[self.rank :: self.world]
            targets = targets[:, self.rank :: self.world] if weights is not None else y
        return Batch(x, y, targets, weights)

    def state_dict(self) -> dict[str, Any]:
        """The random state (device generator and NumPy generator), for checkpoints."""
        state = {"generator": self.generator.get_state(), "rng": self.rng.bit_generator.state}
        keys = getattr(self.transform, "generator", None)  # per-image transforms draw keys from their own
        if isinstance(keys, torch.Generator):
            state["transform_generator"] = keys.get_state()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self.rng.bit_generator.state = state["rng"]
        if "transform_generator" in state:
            self.transform.generator.set_state(state["transform_generator"])


def apply_in_chunks(transform, images: torch.Tensor, *, chunk: int = 8192) -> torch.Tensor:
    """``transform(images)`` in chunks of ``chunk`` images (bounds peak memory)."""
    if len(images) == 0:
        return images
    return torch.cat([transform(images[i : i + chunk]) for i in range(0, len(images), chunk)])
