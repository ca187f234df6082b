"""Boundary checks shared by every public function (one place, typed errors)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from pixinfo.errors import DeviceError, DTypeError, ShapeError, ValueRangeError


def describe(x: object) -> str:
    """Short description of a tensor (or of a non-tensor's type) for error messages."""
    if not isinstance(x, torch.Tensor):
        return type(x).__name__
    return f"shape {tuple(x.shape)}, dtype {x.dtype}, device {x.device}"


def check_tensor(x: object, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise DTypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    return x


def check_image_batch(
    x: object,
    name: str = "images",
    *,
    min_dims: int = 4,
    float_only: bool = False,
) -> torch.Tensor:
    """Check an image batch ``(*, C, H, W)`` and its value range.

    uint8 tensors are accepted (values 0..255) unless ``float_only``; floating
    tensors must hold finite values in [0, 1].
    """
    x = check_tensor(x, name)
    if x.ndim < min_dims:
        want = "(B, C, H, W)" if min_dims == 4 else "(*, C, H, W)"
        raise ShapeError(f"{name} must have shape {want}, got {describe(x)}")
    if x.dtype == torch.uint8 and not float_only:
        return x
    if not x.is_floating_point():
        kinds = "a floating dtype" if float_only else "uint8 or a floating dtype"
        hint = " (convert with pixinfo.data.to_float)" if x.dtype == torch.uint8 else ""
        raise DTypeError(f"{name} must have {kinds}, got {x.dtype}{hint}")
    if x.numel():
        lo, hi = torch.aminmax(x.detach())
        if not (bool(torch.isfinite(lo)) and bool(torch.isfinite(hi))) or lo < 0 or hi > 1:
            raise ValueRangeError(
                f"{name} must hold values in [0, 1], got min {float(lo):.4g}, max {float(hi):.4g}"
            )
    return x


def check_same_device(**tensors: torch.Tensor) -> torch.device:
    devices = {name: t.device for name, t in tensors.items()}
    if len(set(devices.values())) > 1:
        listing = ", ".join(f"{n} on {d}" for n, d in devices.items())
        raise DeviceError(f"tensors must be on one device, got {listing}")
    return next(iter(devices.values()))


def check_grid_shape(shape: object, name: str = "shape") -> tuple[int, int]:
    """Accept ``(H, W)`` or ``(C, H, W)``; return ``(H, W)``."""
    if not isinstance(shape, Sequence) or len(shape) not in (2, 3):
        raise ShapeError(f"{name} must be (H, W) or (C, H, W), got {shape!r}")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape):
        raise ShapeError(f"{name} must hold positive ints, got {shape!r}")
    return int(shape[-2]), int(shape[-1])


def check_gather_index(index: object, n: int, name: str = "index") -> torch.Tensor:
    """Check a gather map ``(..., n)`` with integer entries in ``[0, n)``."""
    index = check_tensor(index, name)
    if index.dtype not in (torch.int64, torch.int32):
        raise DTypeError(f"{name} must be an integer (int64) tensor, got {index.dtype}")
    if index.ndim < 1 or index.shape[-1] != n:
        raise ShapeError(f"{name} must have shape (..., {n}) (= H*W), got {describe(index)}")
    if index.numel():
        lo, hi = torch.aminmax(index)
        if lo < 0 or hi >= n:
            raise ValueRangeError(
                f"{name} entries must lie in [0, {n}), got min {int(lo)}, max {int(hi)}"
            )
    return index.long()
