"""Dataset containers."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from pixinfo._checks import check_image_batch, describe
from pixinfo.errors import DTypeError, ShapeError

SPLITS = ("train", "test", "all")


@dataclass(frozen=True)
class Split:
    """Images ``(N, C, H, W)`` uint8 and labels ``(N,)`` int64 of one split."""

    images: torch.Tensor
    labels: torch.Tensor

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise DTypeError(f"images must be uint8 (N, C, H, W), got {describe(self.images)}")
        if self.labels.dtype != torch.int64 or self.labels.shape != self.images.shape[:1]:
            raise ShapeError(
                f"labels must be int64 ({self.images.shape[0]},), got {describe(self.labels)}"
            )

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def to(self, device: torch.device | str) -> Split:
        return Split(self.images.to(device), self.labels.to(device))


@dataclass(frozen=True)
class Dataset:
    """A named dataset with train and test splits and class names.

    Examples
    --------
    >>> from pixinfo.data import load_dataset
    >>> ds = load_dataset("digits")
    >>> ds.image_shape, ds.num_classes, len(ds.train) + len(ds.test)
    ((1, 8, 8), 10, 1797)
    """

    name: str
    train: Split
    test: Split
    class_names: tuple[str, ...]
    source: str
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.train.images.shape[1:] != self.test.images.shape[1:]:
            raise ShapeError(
                f"train and test images differ in shape: {tuple(self.train.images.shape[1:])} "
                f"vs {tuple(self.test.images.shape[1:])}"
            )
        for split in (self.train, self.test):
            if len(split) and int(split.labels.max()) >= len(self.class_names):
                raise ShapeError(
                    f"{self.name}: label {int(split.labels.max())} has no class name "
                    f"({len(self.class_names)} classes)"
                )

    @property
    def image_shape(self) -> tuple[int, int, int]:
        c, h, w = self.train.images.shape[1:]
        return int(c), int(h), int(w)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def split(self, which: str) -> Split:
        """``"train"``, ``"test"`` or ``"all"`` (train followed by test)."""
        if which == "train":
            return self.train
        if which == "test":
            return self.test
        if which == "all":
            return Split(
                torch.cat([self.train.images, self.test.images]),
                torch.cat([self.train.labels, self.test.labels]),
            )
        raise ValueError(f"split must be one of {SPLITS}, got {which!r}")


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 images to float32 in [0, 1]; float images are checked and returned.

    Examples
    --------
    >>> import torch
    >>> to_float(torch.tensor([[[[0, 255]]]], dtype=torch.uint8))
    tensor([[[[0., 1.]]]])
    """
    images = check_image_batch(images, min_dims=3)
    if images.dtype == torch.uint8:
        return images.to(torch.float32) / 255.0
    return images


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Float images in [0, 1] to uint8 (rounded); uint8 images are returned."""
    images = check_image_batch(images, min_dims=3)
    if images.dtype == torch.uint8:
        return images
    return torch.round(images * 255.0).to(torch.uint8)
