"""Pure functions on image batches ``(B, C, H, W)`` (uint8 or float in [0, 1])."""

from __future__ import annotations

import torch

from pixinfo._checks import check_gather_index, check_image_batch, check_same_device, describe
from pixinfo.errors import ShapeError


def gather_pixels(images: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Rearrange pixels: output position ``o`` takes the value at ``index[o]``.

    All channels move alike. ``index`` is ``(H*W,)`` (one map for the batch)
    or ``(B, H*W)`` (one map per image). One gather, no Python loop.

    Examples
    --------
    >>> import torch
    >>> x = torch.arange(4.0).reshape(1, 1, 2, 2) / 3
    >>> gather_pixels(x, torch.tensor([3, 2, 1, 0])).flatten().tolist() == x.flatten().flip(0).tolist()
    True
    """
    images = check_image_batch(images)
    if images.ndim != 4:
        raise ShapeError(f"images must be (B, C, H, W), got {describe(images)}")
    b, c, h, w = images.shape
    index = check_gather_index(index, h * w)
    check_same_device(images=images, index=index)
    flat = images.reshape(b, c, h * w)
    if index.ndim == 1:
        out = flat[:, :, index]
    elif index.shape == (b, h * w):
        out = torch.gather(flat, 2, index[:, None, :].expand(b, c, h * w))
    else:
        raise ShapeError(f"index must be ({h * w},) or ({b}, {h * w}), got {describe(index)}")
    return out.reshape(b, c, h, w)


def check_permutation(index: torch.Tensor) -> torch.Tensor:
    """Check that a gather map ``(..., N)`` is a bijection (every source used once)."""
    n = index.shape[-1] if isinstance(index, torch.Tensor) and index.ndim else 0
    index = check_gather_index(index, n)
    if not torch.equal(index.sort(dim=-1).values, torch.arange(n, device=index.device).expand_as(index)):
        raise ValueError("the gather map is not a permutation (some source is used twice)")
    return index


def invert_gather(index: torch.Tensor) -> torch.Tensor:
    """Inverse of a bijective gather map ``(..., N)``; raises if it is not a permutation."""
    index = check_permutation(index)
    inv = torch.empty_like(index)
    return inv.scatter_(-1, index, torch.arange(index.shape[-1], device=index.device).expand_as(index).contiguous())


def negative(images: torch.Tensor) -> torch.Tensor:
    """``1 - x`` for float images, ``255 - x`` for uint8."""
    images = check_image_batch(images)
    return 255 - images if images.dtype == torch.uint8 else 1.0 - images


def random_permutations(
    n_maps: int, n: int, *, generator: torch.Generator | None = None, device=None
) -> torch.Tensor:
    """``(n_maps, n)`` independent uniform random permutations, drawn on the CPU generator."""
    keys = torch.rand(n_maps, n, generator=generator)
    return keys.argsort(dim=1).to(device)
