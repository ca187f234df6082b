"""Pixel rearrangements: identity, a fixed keyed permutation, a fresh one per image."""

from __future__ import annotations

from typing import Any

import torch

from pixinfo._checks import check_grid_shape
from pixinfo.errors import ShapeError
from pixinfo.transforms.base import Transform
from pixinfo.transforms.functional import (
    check_permutation,
    gather_pixels,
    invert_gather,
    random_permutations,
)


def _generator(seed: int | None, generator: torch.Generator | None) -> torch.Generator:
    if generator is not None:
        return generator
    if seed is None:
        raise ValueError("give a seed or a torch.Generator: pixinfo never draws keys unseeded")
    return torch.Generator().manual_seed(int(seed))


class Identity(Transform):
    """Leaves images unchanged (the reference every score is compared with)."""

    name = "identity"

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        return images

    def gather_map(self, shape: tuple[int, ...]) -> torch.Tensor:
        h, w = check_grid_shape(shape)
        return torch.arange(h * w)

    def inverse(self) -> Identity:
        return Identity()


class FixedPermutation(Transform):
    """One keyed pixel permutation shared by every image (all channels alike).

    Parameters
    ----------
    shape : (H, W) or (C, H, W)
        Image grid the key is drawn for.
    seed : int, optional
        Seed of the key (or pass ``generator``).
    generator : torch.Generator, optional
    index : torch.Tensor, optional
        An explicit gather map ``(H*W,)`` instead of a random key.

    Examples
    --------
    >>> import torch
    >>> t = FixedPermutation((4, 4), seed=0)
    >>> x = torch.rand(2, 3, 4, 4)
    >>> torch.equal(t.inverse()(t(x)), x)
    True
    """

    name = "permutation"

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        index: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.grid = check_grid_shape(shape)
        self.seed = seed
        n = self.grid[0] * self.grid[1]
        if index is None:
            index = random_permutations(1, n, generator=_generator(seed, generator))[0]
        self.register_buffer("index", check_permutation(index))

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        if tuple(images.shape[-2:]) != self.grid:
            raise ShapeError(f"{self.spec} was keyed for {self.grid} images, got {tuple(images.shape[-2:])}")
        return gather_pixels(images, self.index.to(images.device))

    def params(self) -> dict[str, Any]:
        return {"seed": self.seed} if self.seed is not None else {}

    def gather_map(self, shape: tuple[int, ...]) -> torch.Tensor:
        if check_grid_shape(shape) != self.grid:
            raise ShapeError(f"{self.spec} was keyed for {self.grid} images, got {tuple(shape)}")
        return self.index

    def inverse(self) -> FixedPermutation:
        return FixedPermutation(self.grid, index=invert_gather(self.index))


class PerImagePermutation(Transform):
    """A fresh uniform pixel permutation for every image: no shared key.

    This is the "random" baseline of the Random Vortex paper. Successive calls
    continue the module's seeded generator, so a run is reproducible from
    ``seed`` while every image still gets its own key.
    """

    name = "per-image-permutation"
    shared_key = False

    def __init__(self, *, seed: int | None = 0, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.seed = seed
        self.generator = _generator(seed, generator)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        b, _, h, w = images.shape
        maps = random_permutations(b, h * w, generator=self.generator, device=images.device)
        return gather_pixels(images, maps)

    def params(self) -> dict[str, Any]:
        return {"seed": self.seed} if self.seed is not None else {}

    def sample_gather_maps(
        self, n_maps: int, shape: tuple[int, ...], *, generator: torch.Generator
    ) -> torch.Tensor:
        """``(n_maps, H*W)`` maps drawn as :meth:`apply` draws them (for scoring)."""
        h, w = check_grid_shape(shape)
        return random_permutations(n_maps, h * w, generator=generator)
