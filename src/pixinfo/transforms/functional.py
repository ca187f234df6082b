"""Pure functions on image batches ``(B, C, H, W)`` (uint8 or float in [0, 1])."""

from __future__ import annotations

import torch

from pixinfo._checks import check_gather_index, check_grid_shape, check_image_batch, check_int, check_same_device, describe
from pixinfo.errors import ParameterError, ShapeError


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
    """``1 - x`` for float images, ``255 - x`` for uint8 (checked; ``negate`` is the unchecked core)."""
    return negate(check_image_batch(images))


def negate(images: torch.Tensor) -> torch.Tensor:
    """``negative`` without the input check (for batches already checked, in hot loops)."""
    return 255 - images if images.dtype == torch.uint8 else 1.0 - images


def flip_map(shape: tuple[int, ...], *, axis: str = "horizontal") -> torch.Tensor:
    """The gather map ``(H*W,)`` of a mirror image: ``"horizontal"`` (left-right), ``"vertical"``
    (top-bottom) or ``"both"`` (a half turn).

    Examples
    --------
    >>> flip_map((2, 3)).tolist()
    [2, 1, 0, 5, 4, 3]
    """
    dims = {"horizontal": (1,), "vertical": (0,), "both": (0, 1)}
    if axis not in dims:
        raise ParameterError(f"axis must be one of {sorted(dims)}, got {axis!r}")
    h, w = check_grid_shape(shape)
    return torch.arange(h * w).view(h, w).flip(dims[axis]).reshape(-1)


def rotate_map(shape: tuple[int, ...], *, quarter_turns: int = 1) -> torch.Tensor:
    """The gather map ``(H*W,)`` of a rotation by ``quarter_turns`` × 90° counter-clockwise
    (``torch.rot90``); odd turns need a square grid.

    Examples
    --------
    >>> rotate_map((2, 2)).tolist()
    [1, 3, 0, 2]
    """
    k = check_int(quarter_turns, "quarter_turns", low=0, high=3)
    h, w = check_grid_shape(shape)
    if k % 2 and h != w:
        raise ShapeError(f"a rotation by {90 * k}° maps a {h}x{w} grid onto another shape: it needs a square grid")
    return torch.rot90(torch.arange(h * w).view(h, w), k, (0, 1)).reshape(-1)


def translate(images: torch.Tensor, *, dx: int = 2, dy: int = 2) -> torch.Tensor:
    """Shift right by ``dx`` and down by ``dy`` pixels (negative: left / up), filling with zeros."""
    images = check_image_batch(images)
    h, w = images.shape[-2:]
    if abs(dx) >= w or abs(dy) >= h:
        raise ShapeError(f"a shift by ({dx}, {dy}) pixels does not fit images of {h}x{w}")
    out = torch.zeros_like(images)
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[..., yd, xd] = images[..., ys, xs]
    return out


def reduce_contrast(images: torch.Tensor, *, factor: float = 0.5) -> torch.Tensor:
    """Scale each image's deviations from its own mean by ``factor``, clipped to the value range
    (uint8 results rounded); ``factor`` ≤ 1 lowers the contrast."""
    images = check_image_batch(images)
    x = images.float() / 255 if images.dtype == torch.uint8 else images
    mean = x.mean(dim=(-3, -2, -1), keepdim=True)
    out = (mean + factor * (x - mean)).clamp(0.0, 1.0)
    return torch.round(out * 255).to(torch.uint8) if images.dtype == torch.uint8 else out


def random_permutations(
    n_maps: int, n: int, *, generator: torch.Generator | None = None, device=None
) -> torch.Tensor:
    """``(n_maps, n)`` independent uniform random permutations, drawn on the CPU generator."""
    keys = torch.rand(n_maps, n, generator=generator)
    return keys.argsort(dim=1).to(device)
