"""Distance kernels f(d) for the neighbour-information measures."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import torch

from pixinfo._checks import is_real

FAMILIES = ("exponential", "power", "gaussian")


def _exponential(d: torch.Tensor, scale: float) -> torch.Tensor:
    return torch.exp(-d / scale)


def _power(d: torch.Tensor, scale: float) -> torch.Tensor:
    return (1.0 + d) ** (-scale)


def _gaussian(d: torch.Tensor, scale: float) -> torch.Tensor:
    return torch.exp(-(d * d) / (2.0 * scale * scale))


_FORMULAS: dict[str, Callable[[torch.Tensor, float], torch.Tensor]] = {
    "exponential": _exponential,
    "power": _power,
    "gaussian": _gaussian,
}


class Kernel:
    """A positive, strictly decreasing distance weight f(d), optionally cut off.

    Parameters
    ----------
    family : {"exponential", "power", "gaussian"}
        ``exp(-d/scale)``, ``(1 + d)**(-scale)`` or ``exp(-d**2 / (2 scale**2))``.
    scale : float
        Length scale λ (exponential), exponent β (power) or σ (gaussian); > 0.
    cutoff : float, optional
        Radius in pixels beyond which f is 0 (at least 1, the nearest-neighbour
        distance). ``None`` keeps every pair of pixels.

    Notes
    -----
    Weights are evaluated in float64 and cast to the working dtype, so a
    Gaussian underflows to exactly 0 beyond about 37σ (float64) or 13σ
    (float32); such pairs then carry no weight, as with a cutoff.

    Examples
    --------
    >>> import torch
    >>> k = Kernel("exponential", scale=2.0)
    >>> k(torch.tensor([1.0, 2.0]))
    tensor([0.6065, 0.3679])
    >>> Kernel("power", scale=2.0, cutoff=3).offset_table(2, 2)
    tensor([[0.0000, 0.2500],
            [0.2500, 0.1716]], dtype=torch.float64)
    """

    def __init__(self, family: str, *, scale: float, cutoff: float | None = None) -> None:
        if family not in _FORMULAS:
            raise ValueError(f"kernel family must be one of {FAMILIES}, got {family!r}")
        if not is_real(scale):
            raise ValueError(f"scale must be a positive number, got {scale!r}")
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be finite and > 0, got {scale!r}")
        self._init(family, float(scale), cutoff, _FORMULAS[family])

    def _init(self, family: str, scale: float | None, cutoff: Any, fn: Callable) -> None:
        if cutoff is not None:
            if not is_real(cutoff):
                raise ValueError(f"cutoff must be a number >= 1 or None, got {cutoff!r}")
            if not (math.isfinite(cutoff) and cutoff >= 1):
                raise ValueError(
                    f"cutoff must be finite and >= 1 (the nearest-neighbour distance), got {cutoff!r}"
                )
            cutoff = float(cutoff)
        self.family = family
        self.scale = scale
        self.cutoff = cutoff
        self._fn = fn

    @classmethod
    def from_function(
        cls,
        fn: Callable[[torch.Tensor], torch.Tensor],
        *,
        name: str = "custom",
        cutoff: float | None = None,
    ) -> Kernel:
        """Wrap any positive, non-increasing ``fn(d)`` (for experiments and tests).

        The swap theorem needs a *strictly* decreasing f; a constant ``fn`` is
        accepted so that one can see R = 1 for every swap without strictness.
        ``fn`` is checked on distances 0.5 .. 100 and must be positive, finite
        and non-increasing there.
        """
        d = torch.linspace(0.5, 100.0, 400, dtype=torch.float64)
        v = fn(d)
        if not isinstance(v, torch.Tensor) or v.shape != d.shape:
            raise ValueError("fn must map a float tensor of distances to a tensor of the same shape")
        if not bool(torch.isfinite(v).all()) or bool((v <= 0).any()):
            raise ValueError("fn must be finite and > 0 on distances 0.5 .. 100")
        if bool((v[1:] > v[:-1]).any()):
            raise ValueError("fn must be non-increasing in the distance")
        k = cls.__new__(cls)
        k._init(name, None, cutoff, lambda dd, _scale: fn(dd))
        return k

    # -- evaluation ---------------------------------------------------------------
    def __call__(self, d: torch.Tensor) -> torch.Tensor:
        """f(d) for a tensor of distances (0 beyond the cutoff)."""
        v = self._fn(d, self.scale)
        if self.cutoff is not None:
            v = torch.where(d <= self.cutoff, v, torch.zeros_like(v))  # exact: same test as cutoff_offsets
        return v

    def offset_table(
        self,
        h: int,
        w: int,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> torch.Tensor:
        """``T[|dy|, |dx|] = f(hypot(dy, dx))`` for an h×w grid, with ``T[0, 0] = 0``."""
        dy = torch.arange(h, dtype=torch.float64, device=device)[:, None]
        dx = torch.arange(w, dtype=torch.float64, device=device)[None, :]
        t = self(torch.sqrt(dy * dy + dx * dx))
        t[0, 0] = 0.0
        return t.to(dtype)

    def weight_matrix(
        self,
        h: int,
        w: int,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> torch.Tensor:
        """The dense ``(h*w, h*w)`` matrix ``F[p, q] = f(d(p, q))``, zero diagonal (N² memory)."""
        table = self.offset_table(h, w, device=device, dtype=dtype).reshape(-1)
        pos = torch.arange(h * w, device=device)
        py, px = pos // w, pos % w
        return table[(py[:, None] - py).abs() * w + (px[:, None] - px).abs()]

    def pair_sums(self, h: int, w: int) -> tuple[float, float]:
        """``(Σ_{p≠q} f(d), Σ_{p≠q} f(d)²)`` over ordered pairs of an h×w grid."""
        t = self.offset_table(h, w)
        dy = torch.arange(h, dtype=torch.float64)[:, None]
        dx = torch.arange(w, dtype=torch.float64)[None, :]
        # ordered pairs at offset (±dy, ±dx): (h-dy)(w-dx), times the sign choices
        mult = (h - dy) * (w - dx) * torch.where(dy > 0, 2.0, 1.0) * torch.where(dx > 0, 2.0, 1.0)
        return float((mult * t).sum()), float((mult * t * t).sum())

    # -- bookkeeping --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"family": self.family, "scale": self.scale, "cutoff": self.cutoff}

    def __repr__(self) -> str:
        cut = "" if self.cutoff is None else f", cutoff={self.cutoff:g}"
        scale = "" if self.scale is None else f", scale={self.scale:g}"
        return f"Kernel({self.family!r}{scale}{cut})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Kernel):
            return NotImplemented
        # the same formula object: one of the families (shared), or the very same wrapped function;
        # pixinfo caches tables per kernel (cached_pair_sums), so equal kernels must give equal weights
        return self._fn is other._fn and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.to_dict().items()))


@functools.lru_cache(maxsize=64)
def cached_pair_sums(kernel: Kernel, h: int, w: int) -> tuple[float, float]:
    """[`Kernel.pair_sums`][pixinfo.info.kernels.Kernel.pair_sums], cached per kernel and grid (a busy CPU makes evaluating f costly)."""
    return kernel.pair_sums(h, w)


@functools.lru_cache(maxsize=4)
def cached_weight_matrix(kernel: Kernel, h: int, w: int) -> torch.Tensor:
    """[`Kernel.weight_matrix`][pixinfo.info.kernels.Kernel.weight_matrix] in float64 on the CPU, cached; callers must not modify it."""
    return kernel.weight_matrix(h, w)


DEFAULT_KERNEL = Kernel("exponential", scale=2.0)
"""The kernel pixinfo uses when none is given: exp(-d / 2 px)."""
