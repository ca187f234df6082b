"""Boundary checks shared by every public function (one place, typed errors).

Scalars (counts, seeds, flags, finite numbers, choices) and tensors (image batches, gather
maps, grid shapes) are checked here where they come in; every failure raises a
[`pixinfo.errors`][pixinfo.errors] type whose message names the parameter, what was expected and what was
given.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from pixinfo.errors import DeviceError, DTypeError, ParameterError, ShapeError, ValueRangeError

SEED_LIMIT = 2**63
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")


def is_integer(value: object) -> bool:
    """``value`` is an integer: a Python ``int`` or a NumPy integer scalar, not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def is_real(value: object) -> bool:
    """``value`` is a real number: a Python ``int``/``float`` or a NumPy integer/floating scalar, not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


_is_int = is_integer


def _bounds(low: float | None, high: float | None, *, low_open: bool = False, high_open: bool = False) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high}")
    return " and ".join(parts)


def check_int(value: object, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an ``int`` in ``[low, high]`` (bools and floats are refused).

    Examples
    --------
    >>> check_int(3, "k", low=0)
    3
    >>> check_int(-5, "max_images", low=1)
    Traceback (most recent call last):
    ...
    pixinfo.errors.ParameterError: max_images must be an integer >= 1, got -5
    """
    within = _bounds(low, high)
    expected = f"an integer {within}".rstrip()
    if not _is_int(value):
        raise ParameterError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ParameterError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def check_positive_int(value: object, name: str) -> int:
    """``value`` as an ``int >= 1``."""
    return check_int(value, name, low=1)


def check_nonnegative_int(value: object, name: str) -> int:
    """``value`` as an ``int >= 0``."""
    return check_int(value, name, low=0)


def check_seed(value: object, name: str = "seed") -> int:
    """A seed: an integer in ``[0, 2**63)``."""
    return check_int(value, name, low=0, high=SEED_LIMIT - 1)


def check_rng(value: object, name: str = "seed") -> np.random.Generator:
    """A NumPy generator: ``value`` itself if it is one, else one seeded by ``value`` (a seed, as
    ``check_seed`` checks it)."""
    if isinstance(value, np.random.Generator):
        return value
    return np.random.default_rng(check_seed(value, name))


def check_finite(
    value: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite ``float`` in the given range (open ends with ``low_open``/``high_open``).

    Examples
    --------
    >>> check_finite(0.5, "p", low=0, high=1)
    0.5
    >>> check_finite(float("nan"), "atol", low=0)
    Traceback (most recent call last):
    ...
    pixinfo.errors.ParameterError: atol must be a finite number >= 0, got nan
    """
    within = _bounds(low, high, low_open=low_open, high_open=high_open)
    expected = f"a finite number {within}".rstrip()
    if not is_real(value):
        raise ParameterError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")
    v = float(value)
    below = low is not None and (v <= low if low_open else v < low)
    above = high is not None and (v >= high if high_open else v > high)
    if not math.isfinite(v) or below or above:
        raise ParameterError(f"{name} must be {expected}, got {value!r}")
    return v


def check_bool(value: object, name: str) -> bool:
    """``value`` if it is a bool (``"off"``, ``1`` or ``None`` are not: no truthiness)."""
    if not isinstance(value, bool) and type(value).__name__ != "bool_":
        raise ParameterError(f"{name} must be a bool (True or False), got {value!r} ({type(value).__name__})")
    return bool(value)


def parse_bool(value: object, name: str) -> bool:
    """A flag written as text: ``true/false/1/0/yes/no`` (any case), or already a bool or 0/1.

    Examples
    --------
    >>> parse_bool("Yes", "flip"), parse_bool(0, "flip")
    (True, False)
    >>> parse_bool("off", "shuffle_within")
    Traceback (most recent call last):
    ...
    pixinfo.errors.ParameterError: shuffle_within must be a boolean (true/false/1/0/yes/no), got 'off'
    """
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ParameterError(f"{name} must be a boolean (true/false/1/0/yes/no), got {value!r}")


def check_choice(value: object, name: str, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices``."""
    if not any(value == c and type(value) is type(c) for c in choices):
        raise ParameterError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


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
    """Check an image batch ``(B, C, H, W)`` (``(*, C, H, W)`` with ``min_dims=3``) and its value range.

    With the default ``min_dims=4`` the batch must have exactly 4 dimensions (a 5-D stack is
    refused, not unpacked wrongly); ``min_dims=3`` accepts any leading dimensions (elementwise
    conversions, per-channel measures). uint8 tensors are accepted (values 0..255) unless
    ``float_only``; floating tensors must hold finite values in [0, 1].
    """
    x = check_tensor(x, name)
    if x.ndim < min_dims or (min_dims == 4 and x.ndim != 4):
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
    if not all(is_integer(s) and s > 0 for s in shape):
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


def bind_call(fn, *args, what: str, **kwargs):
    """``fn(*args, **kwargs)``, with the arguments bound to ``fn``'s signature first.

    An unknown or missing argument is a [`ParameterError`][pixinfo.errors.ParameterError] naming ``what``
    and the accepted parameters; a ``TypeError`` raised *inside* ``fn`` (a real bug) is not
    caught and mislabelled as bad options.

    Examples
    --------
    >>> def f(a, *, b=1):
    ...     return a + b
    >>> bind_call(f, 1, b=2, what="f")
    3
    >>> bind_call(f, 1, c=2, what="the f factory")
    Traceback (most recent call last):
    ...
    pixinfo.errors.ParameterError: bad parameters for the f factory: got an unexpected keyword argument 'c' (parameters: a, b)
    """
    import inspect

    from pixinfo.errors import ParameterError

    signature = inspect.signature(fn)
    try:
        signature.bind(*args, **kwargs)
    except TypeError as err:
        names = ", ".join(p for p in signature.parameters if p not in ("args", "kwargs"))
        raise ParameterError(f"bad parameters for {what}: {err} (parameters: {names})") from None
    return fn(*args, **kwargs)
