"""Pixel rearrangements with a fixed key: identity, permutations, partial permutations, swaps,
row–column scrambling, and a fresh permutation per image (no shared key)."""

from __future__ import annotations

from typing import Any

import torch

from pixinfo._checks import check_bool, check_finite, check_gather_index, check_grid_shape, check_int
from pixinfo.errors import ParameterError, ShapeError
from pixinfo.transforms.base import Transform
from pixinfo.transforms.functional import (
    check_permutation,
    gather_pixels,
    invert_gather,
    random_permutations,
)
from pixinfo.transforms.keying import SEED, PerImageTransform, key_seed, make_generator

MAX_SWAPS = 10**6  # more swaps than this mix any grid fully; a larger k is a typo, not a key


class Identity(Transform, spec="identity"):
    """Images unchanged (the reference every score is compared with)."""

    rearrangement = True

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        return images

    def gather_map(self, shape: tuple[int, ...]) -> torch.Tensor:
        h, w = check_grid_shape(shape)
        return torch.arange(h * w)

    def inverse(self) -> Identity:
        return Identity()


class GatherTransform(Transform):
    """A fixed keyed rearrangement held as one gather map (all channels moved alike).

    Subclasses draw the map; this class applies it, exposes it and inverts it
    when it is a permutation (``bijective``; otherwise ``inverse()`` raises).
    """

    name = "gather"
    rearrangement = True

    def __init__(self, shape: tuple[int, ...], index: torch.Tensor, *, bijective: bool = True) -> None:
        super().__init__()
        self.grid = check_grid_shape(shape)
        n = self.grid[0] * self.grid[1]
        if index.shape != (n,):
            raise ShapeError(f"a gather map for a {self.grid} grid must have shape ({n},), got {tuple(index.shape)}")
        self.bijective = check_bool(bijective, "bijective")
        self.register_buffer("index", check_permutation(index) if bijective else check_gather_index(index, n))

    def _check_grid(self, shape: tuple[int, ...]) -> None:
        if tuple(shape) != self.grid:
            raise ShapeError(f"{self.spec} was keyed for {self.grid} images, got {tuple(shape)}")

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        self._check_grid(tuple(images.shape[-2:]))
        return gather_pixels(images, self.index.to(images.device))

    def gather_map(self, shape: tuple[int, ...]) -> torch.Tensor:
        self._check_grid(check_grid_shape(shape))
        return self.index

    def inverse(self) -> Transform:
        if not self.bijective:
            return super().inverse()
        return InverseGather(self)


class InverseGather(GatherTransform):
    """The exact inverse of a bijective gather transform, keeping what it is the inverse of:
    its spec is ``inverse(<spec of the forward transform>)``, its saved key holds the forward
    transform's key, and its own inverse is that transform again.

    Examples
    --------
    >>> import torch
    >>> t = FixedPermutation((4, 4), seed=3)
    >>> inv = t.inverse()
    >>> inv.spec, inv.inverse() is t
    ('inverse(permutation:seed=3)', True)
    >>> x = torch.rand(2, 1, 4, 4)
    >>> torch.equal(inv(t(x)), x)
    True
    """

    name = "inverse"

    def __init__(self, of: GatherTransform) -> None:
        if not isinstance(of, GatherTransform) or not of.bijective:
            raise TypeError(f"of must be a bijective gather transform, got {of!r}")
        super().__init__(of.grid, invert_gather(of.index))
        self.of = of

    @property
    def spec(self) -> str:
        return f"inverse({self.of.spec})"

    def inverse(self) -> Transform:
        return self.of

    def init_kwargs(self) -> dict[str, Any]:
        return {"of": self.of}


class FixedPermutation(GatherTransform, spec="permutation"):
    """One keyed pixel permutation shared by every image.

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

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        seed: int | None = SEED,
        generator: torch.Generator | None = None,
        index: torch.Tensor | None = None,
    ) -> None:
        h, w = check_grid_shape(shape)
        named_seed = key_seed(seed, generator, index)
        if index is None:
            index = random_permutations(1, h * w, generator=make_generator(seed, generator))[0]
        super().__init__((h, w), index)
        self.seed = named_seed

    def params(self) -> dict[str, Any]:
        return {"seed": self.seed} if self.seed is not None else {}

    def init_kwargs(self) -> dict[str, Any]:
        return {"shape": list(self.grid), "seed": self.seed, "index": self.index}


class PartialPermutation(GatherTransform, spec="partial-permutation"):
    """Move exactly a ``fraction`` of the pixels (a keyed cycle through them); the rest stay.

    The chosen pixels, in random order p₀, p₁, …, each take the value of the next
    (p_i ← p_{i+1}, the last from p₀), so every chosen pixel moves. ``fraction=1``
    is a permutation without fixed points.
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        fraction: float = 0.5,
        seed: int | None = SEED,
        generator: torch.Generator | None = None,
        index: torch.Tensor | None = None,
    ) -> None:
        h, w = check_grid_shape(shape)
        fraction = check_finite(fraction, "fraction", low=0, high=1)
        n = h * w
        named_seed = key_seed(seed, generator, index)
        if index is None:
            order = random_permutations(1, n, generator=make_generator(seed, generator))[0]
            chosen = order[: int(round(fraction * n))]
            index = torch.arange(n)
            if len(chosen) >= 2:
                index[chosen] = chosen.roll(-1)
        super().__init__((h, w), index)
        self.fraction = float(fraction)
        self.seed = named_seed

    def params(self) -> dict[str, Any]:
        return {"fraction": self.fraction} | ({"seed": self.seed} if self.seed is not None else {})

    def init_kwargs(self) -> dict[str, Any]:
        return {"shape": list(self.grid), "fraction": self.fraction, "seed": self.seed, "index": self.index}


class RandomSwaps(GatherTransform, spec="swaps"):
    """``k`` keyed swaps of two distinct random pixels, applied one after another."""

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        k: int = 10,
        seed: int | None = SEED,
        generator: torch.Generator | None = None,
        index: torch.Tensor | None = None,
    ) -> None:
        h, w = check_grid_shape(shape)
        k = check_int(k, "k", low=0, high=MAX_SWAPS)
        n = h * w
        named_seed = key_seed(seed, generator, index)
        if index is None:
            if n < 2 and k > 0:
                raise ValueError("a swap needs at least 2 pixels")
            g = make_generator(seed, generator)
            index = torch.arange(n)
            for _ in range(k):
                a, b = torch.randperm(n, generator=g)[:2].tolist()
                index[[a, b]] = index[[b, a]]
        super().__init__((h, w), index)
        self.k = k
        self.seed = named_seed

    def params(self) -> dict[str, Any]:
        return {"k": self.k} | ({"seed": self.seed} if self.seed is not None else {})

    def init_kwargs(self) -> dict[str, Any]:
        return {"shape": list(self.grid), "k": self.k, "seed": self.seed, "index": self.index}


def row_column_map(row_order: torch.Tensor, column_order: torch.Tensor) -> torch.Tensor:
    """The gather map that reorders whole rows and whole columns: output pixel ``(i, j)`` takes
    the input pixel ``(row_order[i], column_order[j])`` (both permutations)."""
    rows, columns = check_permutation(row_order), check_permutation(column_order)
    return (rows[:, None] * len(columns) + columns[None, :]).reshape(-1)


class RowColumnScramble(GatherTransform, spec="rowcol"):
    """Row–column scrambling: one keyed reordering of whole rows and one of whole columns, shared
    by every image (each row keeps its pixels, each column too).

    Parameters
    ----------
    shape : (H, W) or (C, H, W)
        Image grid the key is drawn for.
    rows, columns : bool
        Whether the rows, and the columns, are reordered (at least one).
    seed : int, optional
        Seed of the key (or pass ``generator``): the row order is drawn first, then the column order.
    generator : torch.Generator, optional
    index : torch.Tensor, optional
        An explicit gather map ``(H*W,)`` instead of a random key.

    Examples
    --------
    >>> import torch
    >>> t = RowColumnScramble((3, 4), seed=0)
    >>> x = torch.rand(1, 1, 3, 4)
    >>> torch.equal(t.inverse()(t(x)), x)
    True
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        rows: bool = True,
        columns: bool = True,
        seed: int | None = SEED,
        generator: torch.Generator | None = None,
        index: torch.Tensor | None = None,
    ) -> None:
        h, w = check_grid_shape(shape)
        rows, columns = check_bool(rows, "rows"), check_bool(columns, "columns")
        if not (rows or columns):
            raise ParameterError("rowcol needs rows=true or columns=true (with neither, nothing moves)")
        named_seed = key_seed(seed, generator, index)
        if index is None:
            g = make_generator(seed, generator)
            row_order = random_permutations(1, h, generator=g)[0] if rows else torch.arange(h)
            column_order = random_permutations(1, w, generator=g)[0] if columns else torch.arange(w)
            index = row_column_map(row_order, column_order)
        super().__init__((h, w), index)
        self.rows, self.columns, self.seed = rows, columns, named_seed

    def params(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": self.columns} | ({"seed": self.seed} if self.seed is not None else {})

    def init_kwargs(self) -> dict[str, Any]:
        return {"shape": list(self.grid), "rows": self.rows, "columns": self.columns, "seed": self.seed,
                "index": self.index}


class PerImagePermutation(PerImageTransform, spec="per-image-permutation"):
    """A fresh uniform pixel permutation for every image: no shared key.

    The "random" baseline of the Random Vortex paper. Successive calls continue
    the module's seeded generator, so a run is reproducible from ``seed`` while
    every image still gets its own key.
    """

    rearrangement = True

    def __init__(self, *, seed: int | None = SEED, generator: torch.Generator | None = None) -> None:
        super().__init__(seed=seed, generator=generator)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        b, _, h, w = images.shape
        maps = random_permutations(b, h * w, generator=self.generator, device=images.device)
        return gather_pixels(images, maps)

    def sample_gather_maps(self, n_maps: int, shape: tuple[int, ...], *, generator: torch.Generator) -> torch.Tensor:
        """``(n_maps, H*W)`` maps drawn as ``apply`` draws them (for scoring)."""
        h, w = check_grid_shape(shape)
        return random_permutations(n_maps, h * w, generator=generator)
