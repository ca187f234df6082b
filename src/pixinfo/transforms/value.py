"""Pointwise value transforms: pixels stay where they are, their values change.

They act on 8-bit grey levels: uint8 input as is, float input in [0, 1] is
quantised to ``round(255 x)`` first (except [`Negative`][pixinfo.transforms.value.Negative] and
[`MonotoneMap`][pixinfo.transforms.value.MonotoneMap], which are defined on [0, 1]), and the output has the
input's dtype and device.
"""

from __future__ import annotations

from typing import Any

import torch

from pixinfo._checks import check_grid_shape, describe, is_integer
from pixinfo.data import to_uint8
from pixinfo.errors import ShapeError, ValueRangeError
from pixinfo.transforms.base import Transform
from pixinfo.transforms.functional import check_permutation, negative
from pixinfo.transforms.keying import SEED, PerImageTransform, key_seed, make_generator


def _like(levels: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    return levels if images.dtype == torch.uint8 else levels.to(images.dtype) / 255


def _restore(values: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Float ``values`` in [0, 1] back in the dtype of ``images`` (uint8: rounded to levels)."""
    values = values.clamp(0, 1)
    return to_uint8(values) if images.dtype == torch.uint8 else values.to(images.dtype)


def xor_levels(images: torch.Tensor, key: torch.Tensor, *, bits: int = 8) -> torch.Tensor:
    """XOR of 8-bit levels with ``key`` (uint8, broadcast), or of 1-bit images.

    With ``bits=1`` the image is thresholded (level >= 128) and XOR-ed with the
    lowest bit of ``key``; the output is 0 or 255 (0.0 or 1.0 for floats).
    """
    v = to_uint8(images)
    key = key.to(v.device)
    if bits == 8:
        return _like(v ^ key, images)
    if bits == 1:
        return _like(((v >= 128).to(torch.uint8) ^ (key & 1)) * 255, images)
    raise ValueError(f"bits must be 8 or 1, got {bits!r}")


class PointwiseTransform(Transform):
    """A value map applied pixel by pixel: its gather map is the identity."""

    def gather_map(self, shape: tuple[int, ...]) -> torch.Tensor:
        h, w = check_grid_shape(shape)
        return torch.arange(h * w)


class Negative(PointwiseTransform, spec="negative"):
    """The negative image ``1 - x`` (``255 - x`` for uint8); its own inverse."""

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        return negative(images)

    def inverse(self) -> Negative:
        return Negative()


def _check_bits(bits: object) -> int:
    if bits not in (1, 8) or isinstance(bits, bool):
        raise ValueError(f"bits must be 8 or 1, got {bits!r}")
    return int(bits)


class XorKey(PointwiseTransform, spec="xor"):
    """XOR with one fixed random key the size of the image (8-bit, or 1-bit after thresholding).

    The 8-bit version is its own inverse (exact on 8-bit levels); the 1-bit
    version thresholds first and so has no inverse.
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        bits: int = 8,
        seed: int | None = SEED,
        generator: torch.Generator | None = None,
        key: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.bits = _check_bits(bits)
        h, w = check_grid_shape(shape)
        c = int(shape[0]) if len(shape) == 3 else 1
        named_seed = key_seed(seed, generator, key)
        if key is None:
            key = torch.randint(0, 256, (c, h, w), generator=make_generator(seed, generator), dtype=torch.uint8)
        if key.dtype != torch.uint8 or key.shape[-2:] != (h, w):
            raise ShapeError(f"key must be uint8 (C, {h}, {w}), got {key.dtype} {tuple(key.shape)}")
        self.register_buffer("key", key)
        self.seed = named_seed

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[-2:] != self.key.shape[-2:] or self.key.shape[0] not in (1, images.shape[-3]):
            raise ShapeError(f"{self.spec} was keyed for {tuple(self.key.shape)} images, got {tuple(images.shape[-3:])}")
        return xor_levels(images, self.key, bits=self.bits)

    def inverse(self) -> Transform:
        return self if self.bits == 8 else super().inverse()

    def params(self) -> dict[str, Any]:
        return {"bits": self.bits} | ({"seed": self.seed} if self.seed is not None else {})

    def init_kwargs(self) -> dict[str, Any]:
        return {"shape": list(self.key.shape), "bits": self.bits, "seed": self.seed, "key": self.key}


class PerImageXor(PointwiseTransform, PerImageTransform, spec="xor-per-image"):
    """XOR with a fresh random key for every image (a one-time pad): no shared key."""

    def __init__(self, *, bits: int = 8, seed: int | None = SEED, generator: torch.Generator | None = None) -> None:
        super().__init__(seed=seed, generator=generator)
        self.bits = _check_bits(bits)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        keys = torch.randint(0, 256, images.shape, generator=self.generator, dtype=torch.uint8)
        return xor_levels(images, keys, bits=self.bits)

    def params(self) -> dict[str, Any]:
        return {"bits": self.bits} | super().params()

    def init_kwargs(self) -> dict[str, Any]:
        return {"bits": self.bits} | super().init_kwargs()


class MonotoneMap(PointwiseTransform, spec="monotone"):
    """A fixed random strictly increasing value map f: [0, 1] → [0, 1], f(0)=0, f(1)=1.

    Piecewise linear through ``knots`` points with random positive increments.
    Float images are mapped exactly and can be inverted (to rounding error);
    uint8 images are mapped and rounded to 8 bits, which may merge levels.
    """

    def __init__(
        self,
        *,
        knots: int = 256,
        seed: int | None = SEED,
        generator: torch.Generator | None = None,
        xs: torch.Tensor | None = None,
        ys: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        given = xs is not None and ys is not None
        if not given:
            if not is_integer(knots) or knots < 2:
                raise ValueError(f"knots must be an int >= 2, got {knots!r}")
            knots = int(knots)
            g = make_generator(seed, generator)
            steps = -torch.log(torch.rand(knots - 1, generator=g, dtype=torch.float64))  # Exp(1): random CDF
            ys = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(steps, 0) / steps.sum()])
            xs = torch.linspace(0, 1, knots, dtype=torch.float64)
        if xs.shape != ys.shape or not bool((xs[1:] > xs[:-1]).all() and (ys[1:] > ys[:-1]).all()):
            raise ValueError("xs and ys must be strictly increasing and of the same length")
        self.register_buffer("xs", xs.double())
        self.register_buffer("ys", ys.double())
        self.seed = key_seed(seed, generator, xs if given else None)
        self.knots = len(xs)

    @staticmethod
    def _interp(x: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        xs, ys = xs.to(x.device), ys.to(x.device)
        i = torch.searchsorted(xs, x.contiguous(), right=True).clamp(1, len(xs) - 1)
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return (y0 + (x - x0) * (y1 - y0) / (x1 - x0)).clamp(0, 1)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        x = images.double() / 255 if images.dtype == torch.uint8 else images.double()
        y = self._interp(x, self.xs, self.ys)
        return torch.round(y * 255).to(torch.uint8) if images.dtype == torch.uint8 else y.to(images.dtype)

    def inverse(self) -> MonotoneMap:
        return MonotoneMap(xs=self.ys, ys=self.xs)

    def params(self) -> dict[str, Any]:
        knots = {"knots": self.knots} if self.knots != 256 else {}
        return knots | ({"seed": self.seed} if self.seed is not None else {})

    def init_kwargs(self) -> dict[str, Any]:
        return {"seed": self.seed, "xs": self.xs, "ys": self.ys}


class LevelMap(PointwiseTransform):
    """A fixed map of the 256 grey levels, ``table[level]`` (any map: levels may merge); the
    inverse exists when the table is a permutation. The decryption a level-key attack estimates.

    Examples
    --------
    >>> import torch
    >>> t = LevelMap(torch.arange(256).flip(0))
    >>> t(torch.tensor([[[[0, 10]]]], dtype=torch.uint8)).tolist(), t.has_inverse
    ([[[[255, 245]]]], True)
    """

    name = "level-map"

    def __init__(self, table: torch.Tensor) -> None:
        super().__init__()
        table = torch.as_tensor(table)
        if table.shape != (256,) or table.is_floating_point() or bool(((table < 0) | (table > 255)).any()):
            raise ValueRangeError(f"table: expected 256 integer levels in [0, 255], got {describe(table)}")
        self.register_buffer("table", table.long())

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        v = to_uint8(images)
        return _like(self.table.to(v.device)[v.long()].to(torch.uint8), images)

    def inverse(self) -> Transform:
        if not bool((torch.bincount(self.table, minlength=256) == 1).all()):
            return super().inverse()
        return LevelMap(torch.argsort(self.table))

    def init_kwargs(self) -> dict[str, Any]:
        return {"table": self.table}


class LevelPermutation(LevelMap, spec="level-permutation"):
    """A fixed random permutation of the 256 grey levels: bijective and non-monotone."""

    def __init__(
        self, *, seed: int | None = SEED, generator: torch.Generator | None = None, table: torch.Tensor | None = None
    ) -> None:
        given = table is not None
        if not given:
            table = torch.randperm(256, generator=make_generator(seed, generator))
        if table.shape != (256,):
            raise ValueError(f"table must be a permutation of 0..255, got shape {tuple(table.shape)}")
        super().__init__(check_permutation(table))
        self.seed = key_seed(seed, generator, table if given else None)

    def inverse(self) -> LevelPermutation:
        return LevelPermutation(table=torch.argsort(self.table))

    def params(self) -> dict[str, Any]:
        return {"seed": self.seed} if self.seed is not None else {}

    def init_kwargs(self) -> dict[str, Any]:
        return {"seed": self.seed, "table": self.table}
