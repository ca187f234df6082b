"""Transform base class: a thin ``nn.Module`` around a pure function, with a saveable key."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from pixinfo._checks import check_image_batch

_CLASSES: dict[str, type[Transform]] = {}


from pixinfo.errors import NotInvertibleError  # noqa: E402  (re-exported: its home is pixinfo.errors)


class Transform(nn.Module):
    """Base of pixinfo's keyed transforms.

    Subclasses implement :meth:`apply` on a checked ``(B, C, H, W)`` batch
    (uint8 or float in [0, 1]; output on the same device with the same dtype)
    and :meth:`init_kwargs`, the constructor arguments (tensors allowed) that
    rebuild the transform with the same key; :meth:`save_key` writes them as
    JSON and :func:`load_transform` reads them back.

    Class attributes
    ----------------
    name : str
        Registry name (``pixinfo score --transform NAME:...``).
    shared_key : bool
        True when one key serves every image (a map a network can learn);
        False when each image gets a fresh key.
    """

    name: ClassVar[str] = "transform"
    shared_key: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _CLASSES[cls.__name__] = cls

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.apply(check_image_batch(images))

    def apply(self, images: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        """Parameters of the spec string (``name:key=value,...``)."""
        return {}

    def init_kwargs(self) -> dict[str, Any]:
        """Constructor keyword arguments that rebuild this transform, key included."""
        return {}

    @property
    def spec(self) -> str:
        items = ",".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in self.params().items())
        return f"{self.name}:{items}" if items else self.name

    def gather_map(self, shape: tuple[int, ...]) -> torch.Tensor | None:
        """The shared gather map ``(H*W,)`` for images of ``shape``, or None if not a rearrangement."""
        return None

    def inverse(self) -> Transform:
        raise NotInvertibleError(f"{self.spec} has no exact inverse")

    def extra_repr(self) -> str:
        return self.spec

    # -- keys ------------------------------------------------------------------------
    def key_dict(self) -> dict[str, Any]:
        """A JSON-ready description: class, spec and constructor arguments."""
        return {"class": type(self).__name__, "spec": self.spec, "kwargs": _encode(self.init_kwargs())}

    def save_key(self, path: str | Path) -> Path:
        """Write the key as JSON to ``path``, whole (temporary file + ``os.replace``)."""
        from pixinfo.files import write_text_atomic

        return write_text_atomic(path, json.dumps(self.key_dict()) + "\n")


def load_transform(source: str | Path | dict[str, Any]) -> Transform:
    """Rebuild a transform from :meth:`Transform.save_key`'s JSON (a path or the dict).

    Raises
    ------
    FileNotFoundError
        No key file at the path.
    CorruptFileError
        The file is truncated or not JSON, or holds no transform key pixinfo can rebuild
        (unknown class, missing or inconsistent parameters); the message names the path.
    """
    from pixinfo.errors import CorruptFileError, PixinfoError
    from pixinfo.files import read_json

    where = "the key dict" if isinstance(source, dict) else str(source)
    d = source if isinstance(source, dict) else read_json(source, kind="transform key file")
    if not isinstance(d, dict) or not isinstance(d.get("kwargs"), dict):
        raise CorruptFileError(f"{where} is not a pixinfo transform key (a JSON object with 'class' and 'kwargs')")
    cls = _CLASSES.get(d.get("class", ""))
    if cls is None:
        raise CorruptFileError(f"unknown transform class {d.get('class')!r} in {where}; known: {sorted(_CLASSES)}")
    try:
        return cls(**_decode(d["kwargs"]))
    except CorruptFileError:
        raise
    except (PixinfoError, KeyError, TypeError, ValueError, AttributeError, RuntimeError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CorruptFileError(f"{where}: the key does not rebuild a {cls.__name__}: {first[:300]}") from None


def _encode(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return {"__tensor__": value.cpu().tolist(), "dtype": str(value.dtype).removeprefix("torch.")}
    if isinstance(value, Transform):
        return {"__transform__": value.key_dict()}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "__tensor__" in value:
            dtype = getattr(torch, str(value.get("dtype")), None)
            if not isinstance(dtype, torch.dtype):
                raise ValueError(f"a stored tensor has no valid dtype: {value.get('dtype')!r}")
            return torch.tensor(value["__tensor__"], dtype=dtype)
        if "__transform__" in value:
            return load_transform(value["__transform__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class FunctionTransform(Transform):
    """Wraps a user's callable (no declared map: scoring probes it).

    The callable is not saved with :meth:`save_key`; the key records its name only.
    """

    name = "function"

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor], *, label: str | None = None) -> None:
        super().__init__()
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.label = label or getattr(fn, "__name__", type(fn).__name__)

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        return self.fn(images)

    @property
    def spec(self) -> str:
        return self.label

    def key_dict(self) -> dict[str, Any]:
        raise ValueError(f"a user function ({self.label}) has no key pixinfo can save; save its parameters yourself")


def as_transform(t: Callable[[torch.Tensor], torch.Tensor] | Transform) -> Transform:
    return t if isinstance(t, Transform) else FunctionTransform(t)
