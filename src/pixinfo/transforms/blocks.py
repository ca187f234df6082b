"""Block scrambling: the learnable-image-encryption family (Tanaka 2018; Chuman et al. 2019)."""

from __future__ import annotations

from typing import Any

import torch

from pixinfo._checks import check_bool, check_grid_shape, check_positive_int
from pixinfo.errors import ShapeError
from pixinfo.transforms.functional import random_permutations
from pixinfo.transforms.keying import SEED, key_seed, make_generator
from pixinfo.transforms.permutation import GatherTransform


def check_block_size(shape: tuple[int, ...], size: object) -> tuple[int, int, int]:
    """``(H, W, size)`` for a grid ``shape`` (``(H, W)`` or ``(C, H, W)``) cut into ``size``×``size``
    blocks: ``size`` must be an int >= 1 ([`ParameterError`][pixinfo.errors.ParameterError]) dividing both
    sides ([`ShapeError`][pixinfo.errors.ShapeError])."""
    h, w = check_grid_shape(shape)
    size = check_positive_int(size, "size")
    if h % size or w % size:
        raise ShapeError(f"block size {size} must divide the image sides, got {h}x{w}")
    return h, w, size


def split_blocks(images: torch.Tensor, size: int) -> torch.Tensor:
    """``(B, C, H, W)`` → ``(B, n_blocks, size*size*C)``: the ``size``×``size`` blocks in raster
    order, each block's values in (row, column, channel) order; ``merge_blocks`` undoes it.

    Examples
    --------
    >>> x = torch.arange(16).reshape(1, 1, 4, 4)
    >>> split_blocks(x, 2)[0, 1].tolist()
    [2, 3, 6, 7]
    >>> torch.equal(merge_blocks(split_blocks(x, 2), (1, 4, 4), 2), x)
    True
    """
    b, c, h, w = images.shape
    blocks = images.reshape(b, c, h // size, size, w // size, size).permute(0, 2, 4, 3, 5, 1)
    return blocks.reshape(b, (h // size) * (w // size), size * size * c)


def merge_blocks(blocks: torch.Tensor, shape: tuple[int, int, int], size: int) -> torch.Tensor:
    """The inverse of ``split_blocks``: ``(B, n_blocks, size*size*C)`` → ``(B, C, H, W)``
    for images of ``shape`` ``(C, H, W)``."""
    c, h, w = shape
    grid = blocks.reshape(blocks.shape[0], h // size, w // size, size, size, c).permute(0, 5, 1, 3, 2, 4)
    return grid.reshape(blocks.shape[0], c, h, w)


def block_scramble_map(
    shape: tuple[int, int],
    size: int,
    *,
    block_perm: torch.Tensor,
    within_perm: torch.Tensor,
    rotations: torch.Tensor,
    flips: torch.Tensor,
) -> torch.Tensor:
    """Gather map of a block scramble.

    Each ``size``×``size`` block has its pixels permuted by ``within_perm`` (one key
    shared by all blocks), is rotated by ``rotations[j]`` quarter turns and mirrored
    left-right where ``flips[j]``; then output block ``j`` takes scrambled block
    ``block_perm[j]``.
    """
    h, w = shape
    src = split_blocks(torch.arange(h * w).reshape(1, 1, h, w), size)[0]
    nb = src.shape[0]
    src = src[:, within_perm].reshape(nb, size, size)
    src = torch.stack([torch.rot90(blk, int(k), dims=(0, 1)) for blk, k in zip(src, rotations.tolist())])
    src = torch.where(flips.bool()[:, None, None], src.flip(-1), src)
    src = src[block_perm]
    return merge_blocks(src.reshape(1, nb, size * size), (1, h, w), size).reshape(h * w)


class BlockScramble(GatherTransform, spec="block"):
    """Keyed block scrambling of ``size``×``size`` blocks (all channels alike).

    Parameters
    ----------
    shape : (H, W) or (C, H, W)
        Both sides must be multiples of ``size``.
    size : int
        Block side; the strength knob (larger blocks keep more local structure).
    shuffle_blocks : bool
        Permute the blocks (keyed).
    shuffle_within : bool
        Permute the pixels inside every block (one key for all blocks).
    rotate, flip : bool
        Rotate each block by a keyed multiple of 90° (square blocks), mirror some.
    seed, generator
        Source of the key.

    Examples
    --------
    >>> import torch
    >>> t = BlockScramble((8, 8), size=4, shuffle_within=True, seed=0)
    >>> x = torch.rand(1, 1, 8, 8)
    >>> torch.equal(t.inverse()(t(x)), x)
    True
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        size: int = 4,
        shuffle_blocks: bool = True,
        shuffle_within: bool = False,
        rotate: bool = False,
        flip: bool = False,
        seed: int | None = SEED,
        generator: torch.Generator | None = None,
        block_perm: torch.Tensor | None = None,
        within_perm: torch.Tensor | None = None,
        rotations: torch.Tensor | None = None,
        flips: torch.Tensor | None = None,
    ) -> None:
        h, w, size = check_block_size(shape, size)
        flags = {"shuffle_blocks": shuffle_blocks, "shuffle_within": shuffle_within, "rotate": rotate, "flip": flip}
        shuffle_blocks, shuffle_within, rotate, flip = (check_bool(v, k) for k, v in flags.items())
        nb = (h // size) * (w // size)
        keys = (block_perm, within_perm, rotations, flips)
        if all(k is None for k in keys):
            g = make_generator(seed, generator)
            identity_blocks, identity_within = torch.arange(nb), torch.arange(size * size)
            block_perm = random_permutations(1, nb, generator=g)[0] if shuffle_blocks else identity_blocks
            within_perm = random_permutations(1, size * size, generator=g)[0] if shuffle_within else identity_within
            rotations = torch.randint(0, 4, (nb,), generator=g) if rotate else torch.zeros(nb, dtype=torch.long)
            flips = torch.randint(0, 2, (nb,), generator=g) if flip else torch.zeros(nb, dtype=torch.long)
        elif any(k is None for k in keys):
            raise ValueError("give all of block_perm, within_perm, rotations and flips, or none")
        index = block_scramble_map(
            (h, w), size, block_perm=block_perm, within_perm=within_perm, rotations=rotations, flips=flips
        )
        super().__init__((h, w), index)
        self.size = size
        self.options = {"shuffle_blocks": shuffle_blocks, "shuffle_within": shuffle_within, "rotate": rotate, "flip": flip}
        self.seed = key_seed(seed, generator, *keys)
        self.block_key = {"block_perm": block_perm, "within_perm": within_perm, "rotations": rotations, "flips": flips}

    def params(self) -> dict[str, Any]:
        defaults = self.spec_options()
        changed = {k: v for k, v in self.options.items() if defaults[k] != v}
        return {"size": self.size} | changed | ({"seed": self.seed} if self.seed is not None else {})

    def init_kwargs(self) -> dict[str, Any]:
        return {"shape": list(self.grid), "size": self.size, **self.options, "seed": self.seed, **self.block_key}
