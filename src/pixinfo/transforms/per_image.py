"""Keyed rearrangements with a fresh key for every image: the per-image twins of block
scrambling, random swaps, partial permutations and generated vortices.

Every image gets the key its shared-key twin (``block``, ``swaps``, ``partial-permutation``,
``vortex:seed=N``) would draw, drawn from the transform's generator, which every call
continues: a run is reproducible from ``seed``, and
[`replay`][pixinfo.transforms.keying.PerImageTransform.replay] draws the same keys again. The
keys are not kept, so none of them has an inverse. ``per-image-permutation``
([`PerImagePermutation`][pixinfo.transforms.permutation.PerImagePermutation]) is the limit of all
four: a uniform permutation for every image.

Examples
--------
>>> import torch
>>> t = PerImageBlockScramble((8, 8), size=4, seed=0)
>>> x = torch.arange(64, dtype=torch.uint8).reshape(1, 1, 8, 8).repeat(3, 1, 1, 1)
>>> y = t(x)
>>> torch.equal(y[0], y[1]) or torch.equal(y[1], y[2]), sorted(y[0].flatten().tolist()) == list(range(64))
(False, True)
"""

from __future__ import annotations

from typing import Any

import torch

from pixinfo._checks import check_grid_shape
from pixinfo.errors import ShapeError
from pixinfo.transforms.blocks import BlockScramble
from pixinfo.transforms.functional import gather_pixels
from pixinfo.transforms.keying import SEED, PerImageTransform
from pixinfo.transforms.permutation import PartialPermutation, RandomSwaps
from pixinfo.transforms.vortex import RandomVortex


class PerImageRearrangement(PerImageTransform):
    """Base of a keyed rearrangement with a fresh key for every image.

    Subclasses say how one image's shared-key twin is drawn
    ([`draw`][pixinfo.transforms.per_image.PerImageRearrangement.draw]) and pass their spec
    options to ``__init__``, which checks them once by drawing a twin from a throwaway generator
    (the key stream is untouched). The grid is fixed at construction, as the twins' is.
    """

    rearrangement = True

    def __init__(self, shape: tuple[int, ...], *, seed: int | None, generator: torch.Generator | None,
                 **options: Any) -> None:  # fmt: skip
        super().__init__(seed=seed, generator=generator)
        self.grid = check_grid_shape(shape)
        self.options = options
        self.draw(torch.Generator().manual_seed(0))  # a bad option raises here, where it came in

    def draw(self, generator: torch.Generator) -> torch.nn.Module:
        """One image's shared-key twin, its key drawn from ``generator``."""
        raise NotImplementedError

    def sample_gather_maps(self, n_maps: int, shape: tuple[int, ...], *, generator: torch.Generator) -> torch.Tensor:
        """``(n_maps, H*W)`` maps drawn as ``apply`` draws them (for scoring)."""
        shape = check_grid_shape(shape)
        if shape != self.grid:
            raise ShapeError(f"{self.spec} is keyed for {self.grid} images, got {shape}")
        return torch.stack([self.draw(generator).gather_map(shape) for _ in range(n_maps)])

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        maps = self.sample_gather_maps(images.shape[0], tuple(images.shape[-2:]), generator=self.generator)
        return gather_pixels(images, maps.to(images.device))

    def params(self) -> dict[str, Any]:
        defaults = self.spec_options()
        return {k: v for k, v in self.options.items() if defaults.get(k) != v} | super().params()

    def init_kwargs(self) -> dict[str, Any]:
        return {"shape": list(self.grid), **self.options} | super().init_kwargs()


class PerImageBlockScramble(PerImageRearrangement, spec="block-per-image"):
    """Keyed block scrambling with a fresh key for every image: no shared key.

    The options are [`BlockScramble`][pixinfo.transforms.blocks.BlockScramble]'s. Scrambling
    every image with its own key is the setting the learnable-encryption literature compares
    a shared key against.
    """

    def __init__(self, shape: tuple[int, ...], *, size: int = 4, shuffle_blocks: bool = True,
                 shuffle_within: bool = False, rotate: bool = False, flip: bool = False, seed: int | None = SEED,
                 generator: torch.Generator | None = None) -> None:  # fmt: skip
        super().__init__(shape, seed=seed, generator=generator, size=size, shuffle_blocks=shuffle_blocks,
                         shuffle_within=shuffle_within, rotate=rotate, flip=flip)  # fmt: skip

    def draw(self, generator: torch.Generator) -> BlockScramble:
        return BlockScramble(self.grid, **self.options, generator=generator)


class PerImageSwaps(PerImageRearrangement, spec="swaps-per-image"):
    """``k`` random swaps of two pixels with a fresh key for every image: no shared key."""

    def __init__(self, shape: tuple[int, ...], *, k: int = 10, seed: int | None = SEED,
                 generator: torch.Generator | None = None) -> None:  # fmt: skip
        super().__init__(shape, seed=seed, generator=generator, k=k)

    def draw(self, generator: torch.Generator) -> RandomSwaps:
        return RandomSwaps(self.grid, **self.options, generator=generator)


class PerImagePartialPermutation(PerImageRearrangement, spec="partial-permutation-per-image"):
    """A random ``fraction`` of the pixels permuted among themselves, a fresh key for every image."""

    def __init__(self, shape: tuple[int, ...], *, fraction: float = 0.5, seed: int | None = SEED,
                 generator: torch.Generator | None = None) -> None:  # fmt: skip
        super().__init__(shape, seed=seed, generator=generator, fraction=fraction)

    def draw(self, generator: torch.Generator) -> PartialPermutation:
        return PartialPermutation(self.grid, **self.options, generator=generator)


class PerImageVortex(PerImageRearrangement, spec="vortex-per-image"):
    """Random Vortex Transformation with freshly generated vortices for every image: no shared key.

    ``n`` vortices of the given ``strength`` (``bijective``: the paper's collision-free
    variant), drawn as ``vortex:seed=N`` draws them.
    """

    def __init__(self, shape: tuple[int, ...], *, n: int = 10, strength: float = 1.0, bijective: bool = False,
                 seed: int | None = SEED, generator: torch.Generator | None = None) -> None:  # fmt: skip
        super().__init__(shape, seed=seed, generator=generator, n=n, strength=strength, bijective=bijective)

    def draw(self, generator: torch.Generator) -> RandomVortex:
        o = self.options
        return RandomVortex.generate(self.grid, o["n"], generator=generator, strength=o["strength"],
                                     bijective=o["bijective"])  # fmt: skip
