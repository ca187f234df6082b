"""Recover the gather or influence map of a black-box transform by probing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from pixinfo._checks import (
    check_finite,
    check_grid_shape,
    check_nonnegative_int,
    check_positive_int,
    check_seed,
    describe,
)
from pixinfo.errors import DTypeError, ShapeError


@dataclass(frozen=True)
class ProbeResult:
    """What probing found out about a transform.

    Attributes
    ----------
    shared_key : bool
        False when two calls on the same inputs (the second with the batch in
        reverse order) disagree: the transform draws a key per call or per
        image, so no single map describes it and ``index``/``influence`` are None.
    index : torch.Tensor or None
        Gather map ``(H*W,)`` when every output position depends on exactly
        one input position (rearrangements, and pointwise value maps, whose
        map is the identity).
    influence : torch.Tensor or None
        Otherwise the ``(H*W, H*W)`` matrix of absolute responses, each row
        normalised to sum 1 (rows that depend on nothing stay 0).
    linear : bool or None
        Whether ``T(x) = T(0) + A x`` holds on a random test image (an affine
        transform); None when there is no shared key.
    """

    shared_key: bool
    index: torch.Tensor | None
    influence: torch.Tensor | None
    linear: bool | None


def _call(transform: Callable, x: torch.Tensor) -> torch.Tensor:
    y = transform(x)
    if not isinstance(y, torch.Tensor) or y.shape != x.shape:
        got = describe(y)
        raise ShapeError(
            f"probe_map needs a transform that keeps the image shape {tuple(x.shape)}, got {got}"
        )
    return y.to(torch.float64)


def _check_probe(transform: object, shape: tuple[int, ...], dtype: object) -> tuple[int, int, int]:
    """``(C, H, W)`` of the probes, after checking the transform and the probe dtype."""
    if not callable(transform):
        raise DTypeError(f"transform must be callable, got {type(transform).__name__}")
    h, w = check_grid_shape(shape)
    if not isinstance(dtype, torch.dtype) or (dtype != torch.uint8 and not dtype.is_floating_point):
        raise DTypeError(f"dtype must be torch.uint8 or a floating dtype, got {dtype}")
    return (int(shape[0]) if len(shape) == 3 else 1), h, w


def probe_map(
    transform: Callable[[torch.Tensor], torch.Tensor],
    *,
    shape: tuple[int, ...],
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    batch_size: int = 1024,
    atol: float = 1e-6,
    max_dense: int = 4096,
    seed: int = 0,
) -> ProbeResult:
    """Probe ``transform`` with one-hot images to find which inputs feed each output.

    Each probe is an image that is 0 except at one position, where every
    channel is at full scale (1.0, or 255 for uint8). The response of output
    ``o`` to the probe at ``p``, minus the response to the all-zero image and
    averaged in absolute value over channels, is ``A[o, p]``.

    Parameters
    ----------
    transform : callable
        Maps a batch ``(B, C, H, W)`` to a batch of the same shape.
    shape : (C, H, W) or (H, W)
        Probe image shape (one channel when C is not given).
    dtype : torch.dtype
        Probe dtype: a floating dtype or ``torch.uint8``.
    device : torch.device or str, optional
        Where probes are made (the transform's device).
    batch_size : int
        Probes per call.
    atol : float
        Responses at or below this count as no dependence.
    max_dense : int
        Largest ``H*W`` for which a dense influence matrix is built when the
        transform is not a rearrangement.
    seed : int
        Seed of the random test image of the linearity check.

    Examples
    --------
    >>> import torch
    >>> result = probe_map(lambda x: torch.roll(x, 1, dims=-1), shape=(1, 3, 3))
    >>> result.index.tolist()
    [2, 0, 1, 5, 3, 4, 8, 6, 7]
    >>> probe_map(lambda x: torch.rand_like(x), shape=(2, 2)).shared_key
    False
    """
    c, h, w = _check_probe(transform, shape, dtype)
    batch_size, atol = check_positive_int(batch_size, "batch_size"), check_finite(atol, "atol", low=0)
    max_dense, seed = check_nonnegative_int(max_dense, "max_dense"), check_seed(seed)
    n = h * w
    full = 255 if dtype == torch.uint8 else 1.0
    base = _call(transform, torch.zeros(1, c, h, w, dtype=dtype, device=device))
    if not torch.equal(base, _call(transform, torch.zeros(1, c, h, w, dtype=dtype, device=device))):
        return ProbeResult(False, None, None, None)
    base = base.reshape(c, n)

    count = torch.zeros(n, dtype=torch.long, device=base.device)
    source = torch.zeros(n, dtype=torch.long, device=base.device)
    gain = torch.zeros(n, dtype=torch.float64, device=base.device)
    signed_cols: list[torch.Tensor] = []
    for p0 in range(0, n, batch_size):
        pos = torch.arange(p0, min(n, p0 + batch_size), device=device)
        probes = torch.zeros(len(pos), c, n, dtype=dtype, device=device)
        probes[torch.arange(len(pos), device=device), :, pos] = full
        probes = probes.reshape(len(pos), c, h, w)
        out = _call(transform, probes)
        if p0 == 0 and not torch.equal(out, _call(transform, probes.flip(0)).flip(0)):
            return ProbeResult(False, None, None, None)
        resp = ((out.reshape(len(pos), c, n) - base) / full).mean(1)  # (probes, outputs)
        hit = resp.abs() > atol  # |mean over channels|: channels are moved alike
        count += hit.sum(0)
        source = torch.where(hit.any(0), (hit * pos.to(base.device)[:, None]).amax(0), source)
        gain += (resp * hit).sum(0)
        if n <= max_dense:
            signed_cols.append(resp)
    a_signed = torch.cat(signed_cols).T if n <= max_dense else None  # (outputs, inputs)
    index, influence = _map_of(count, source, a_signed, atol=atol, max_dense=max_dense)
    linear = _is_affine(transform, base, a_signed, gain, index, shape=(c, h, w), dtype=dtype, device=device, seed=seed)
    return ProbeResult(True, index, influence, linear)


def _map_of(count, source, a_signed, *, atol: float, max_dense: int):
    """The gather map when every output has exactly one source, else the row-normalised influence."""
    if bool((count == 1).all()):
        return source, None
    if a_signed is None:
        n = len(count)
        raise ValueError(
            f"the transform is not a rearrangement and a dense {n}x{n} influence matrix "
            f"exceeds max_dense={max_dense}; raise max_dense or probe a smaller shape"
        )
    mag = torch.where(a_signed.abs() > atol, a_signed.abs(), 0.0)
    return None, mag / mag.sum(1, keepdim=True).clamp(min=1e-300)


def _is_affine(transform, base, a_signed, gain, index, *, shape, dtype, device, seed) -> bool:
    """Whether ``T(x) = T(0) + full * A (x / full)`` holds on a seeded random image."""
    c, h, w = shape
    full = 255 if dtype == torch.uint8 else 1.0
    g = torch.Generator().manual_seed(seed)
    if dtype == torch.uint8:
        x = torch.randint(0, 256, (1, c, h, w), generator=g, dtype=torch.uint8)
    else:
        x = torch.rand(1, c, h, w, generator=g, dtype=torch.float64).to(dtype)
    x = x.to(device)
    xf = x.reshape(c, h * w).to(torch.float64).to(base.device) / full
    if a_signed is not None:
        predicted = base + full * (xf @ a_signed.T)
    else:
        predicted = base + full * gain * xf[:, index]
    y = _call(transform, x).reshape(c, h * w)
    return bool(torch.allclose(y, predicted, atol=1e-4 * full))
