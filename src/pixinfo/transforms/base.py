"""Transform base class: a thin ``nn.Module`` around a pure function, with a saveable key."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from pixinfo._checks import check_image_batch, is_integer, is_real

_CLASSES: dict[str, type[Transform]] = {}  # class name -> class (rebuilds saved keys)
_SPECS: dict[str, type[Transform]] = {}  # spec name -> class (builds transforms from specs)
_SPEC_VALUES = (bool, int, float, str)


from pixinfo.errors import NotInvertibleError  # noqa: E402  (re-exported: its home is pixinfo.errors)


class Transform(nn.Module):
    """Base of pixinfo's keyed transforms, and the protocol every caller relies on.

    Subclasses implement ``apply`` on a checked ``(B, C, H, W)`` batch
    (uint8 or float in [0, 1]; output on the same device with the same dtype)
    and [`init_kwargs`][pixinfo.transforms.base.Transform.init_kwargs], the constructor arguments (tensors allowed) that
    rebuild the transform with the same key; [`save_key`][pixinfo.transforms.base.Transform.save_key] writes them as
    JSON and [`load_transform`][pixinfo.transforms.base.load_transform] reads them back.

    A class joins the spec registry by declaring its spec name,
    ``class Mirror(GatherTransform, spec="mirror")``; [`from_spec`][pixinfo.transforms.base.Transform.from_spec] then builds it from
    ``mirror:key=value,...``, and its spec options, their defaults and its help line come from
    its constructor's signature and docstring (see [`spec_options`][pixinfo.transforms.base.Transform.spec_options]).

    The protocol (every member has a default here, so callers never probe with ``getattr``):

    * **key**: ``shared_key`` True means one key serves every image and ``apply`` is a
      deterministic function of its input; False means every image gets a fresh key, drawn from
      the transform's seeded generator (see [`PerImageTransform`][pixinfo.transforms.keying.PerImageTransform]);
    * **key replay**: [`replay`][pixinfo.transforms.base.Transform.replay] returns a transform that gives
      every image the key this one gave it (the transform itself for a shared key), and
      [`sample_gather_maps`][pixinfo.transforms.base.Transform.sample_gather_maps] draws per-image maps as ``apply`` draws them;
    * **gather map**: [`gather_map`][pixinfo.transforms.base.Transform.gather_map] says where every output pixel's
      value comes from (None: no shared map); ``rearrangement`` True says that ``apply`` only
      moves pixels, so ``apply(x)`` is ``x`` gathered by that map;
    * **inverse**: [`inverse`][pixinfo.transforms.base.Transform.inverse] returns the exact inverse or raises
      [`NotInvertibleError`][pixinfo.errors.NotInvertibleError]; ``has_inverse`` says which without raising;
    * **grid**: ``grid`` is the ``(H, W)`` a key was drawn for, or None when the key fits any size.

    Attributes
    ----------
    name : str
        Spec name (``pixinfo score --transform NAME:...``).
    shared_key : bool
        True when one key serves every image (a map a network can learn);
        False when each image gets a fresh key.
    rearrangement : bool
        True when ``apply`` only moves pixels (all channels alike) along ``gather_map``.
    grid : (int, int) or None
        The image grid the key was drawn for; None when images of any size fit.
    """

    name: ClassVar[str] = "transform"
    shared_key: ClassVar[bool] = True
    rearrangement: ClassVar[bool] = False
    grid: tuple[int, int] | None = None
    spec_summary: ClassVar[str | None] = None  # help line; default: the docstring's first line

    def __init_subclass__(cls, *, spec: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _CLASSES[cls.__name__] = cls
        if spec is not None:
            taken = _SPECS.get(spec)
            if taken is not None and (taken.__module__, taken.__qualname__) != (cls.__module__, cls.__qualname__):
                raise TypeError(f"spec name {spec!r} is taken by {taken.__module__}.{taken.__qualname__}")
            cls.name = spec
            _SPECS[spec] = cls

    # -- specs -----------------------------------------------------------------------
    @classmethod
    def spec_options(cls) -> dict[str, Any]:
        """The spec's options and their defaults: the constructor's keyword-only parameters
        whose default is a plain value (bool, int, float or str). Keys given as tensors, and
        generators, are not spec options."""
        params = inspect.signature(cls.__init__).parameters.values()
        return {p.name: p.default for p in params
                if p.kind is p.KEYWORD_ONLY and isinstance(p.default, _SPEC_VALUES)}  # fmt: skip

    @classmethod
    def spec_help(cls) -> str:
        """One line: the first line of the class docstring and the spec options with defaults."""
        summary = cls.spec_summary or (inspect.getdoc(cls) or cls.__name__).splitlines()[0].rstrip(".").replace("``", "")
        options = ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in cls.spec_options().items())
        return f"{summary} [{options}]" if options else summary

    @classmethod
    def from_spec(cls, shape: tuple[int, ...], *args: Any, dataset: str | None = None, **options: Any) -> Transform:
        """Build from a spec's parameters: ``options`` are [`spec_options`][pixinfo.transforms.base.Transform.spec_options] (booleans as
        ``true/false/1/0/yes/no``); ``shape`` goes to constructors that take one. ``dataset``
        is for transforms whose key depends on it (``vortex:authors``)."""
        from pixinfo._checks import bind_call

        options = cls.check_spec_options(args, options)
        takes_shape = "shape" in inspect.signature(cls.__init__).parameters
        return bind_call(cls, *([shape] if takes_shape else []), **options, what=f"transform {cls.name!r}")

    @classmethod
    def check_spec_options(cls, args: tuple, options: dict[str, Any]) -> dict[str, Any]:
        """``options`` checked against [`spec_options`][pixinfo.transforms.base.Transform.spec_options] (no positional ones, no unknown
        names) with booleans parsed; a [`ParameterError`][pixinfo.errors.ParameterError] names the rest."""
        from pixinfo._checks import parse_bool
        from pixinfo.errors import ParameterError

        known = cls.spec_options()
        unknown = sorted(set(options) - set(known))
        if args or unknown:
            extra = ", ".join([*map(repr, args), *unknown])
            raise ParameterError(f"bad parameters for transform {cls.name!r}: unexpected {extra} "
                                 f"(parameters: {', '.join(known) or 'none'}; {cls.spec_help()})")  # fmt: skip
        return {k: parse_bool(v, f"{cls.name}:{k}") if isinstance(known[k], bool) else v for k, v in options.items()}

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

    # -- the protocol ----------------------------------------------------------------
    def gather_map(self, shape: tuple[int, ...]) -> torch.Tensor | None:
        """The shared gather map ``(H*W,)`` for images of ``shape``: output pixel ``p`` takes the
        value at input pixel ``map[p]`` (changed, for a value transform, by the value key). None
        when there is no shared map (a fresh key per image, or not a gather)."""
        return None

    def sample_gather_maps(self, n_maps: int, shape: tuple[int, ...], *, generator: torch.Generator) -> torch.Tensor | None:
        """``(n_maps, H*W)`` per-image gather maps drawn from ``generator`` as ``apply`` draws them,
        for a rearrangement with a fresh key per image; None for every other transform."""
        return None

    def replay(self) -> Transform:
        """A transform that gives every image the key this one gave it, applied to the same
        batches in the same order: the transform itself when the key is shared (``apply`` is
        deterministic). Per-image transforms return a twin with the key stream restarted.

        Raises
        ------
        NotImplementedError
            A per-image transform that does not say how its keys are drawn again.
        """
        if self.shared_key:
            return self
        raise NotImplementedError(f"{self.spec} draws a key per image and does not say how to draw it again: "
                                  "subclass pixinfo.transforms.PerImageTransform or override replay()")  # fmt: skip

    def inverse(self) -> Transform:
        """The exact inverse (on the values the transform keeps: 8-bit levels for value keys).

        Raises
        ------
        NotInvertibleError
            The transform has none (a fresh key per image, a map that merges pixels or levels).
        """
        raise NotInvertibleError(f"{self.spec} has no exact inverse")

    @property
    def has_inverse(self) -> bool:
        """Whether [`inverse`][pixinfo.transforms.base.Transform.inverse] returns one (instead of raising)."""
        try:
            self.inverse()
        except NotInvertibleError:
            return False
        return True

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
    """Rebuild a transform from [`Transform.save_key`][pixinfo.transforms.base.Transform.save_key]'s JSON (a path or the dict).

    Raises
    ------
    FileNotFoundError
        No key file at the path.
    CorruptFileError
        The file is truncated or not JSON, or holds no transform key pixinfo can rebuild
        (unknown class, missing or inconsistent parameters); the message names the path and,
        where one can be named, the field (missing, of the wrong type, or a stored tensor of the
        wrong shape).
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
    kwargs = _decode_fields(cls, d["kwargs"], where)
    try:
        transform = cls(**kwargs)
    except CorruptFileError:
        raise
    except (PixinfoError, KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        misfit = _misfit_field(cls, kwargs)
        field = f"field {misfit[0]!r} {misfit[1]}; " if misfit else ""
        raise CorruptFileError(f"{where}: the key does not rebuild a {cls.__name__}: {field}{first[:300]}") from None
    missing = [k for k in transform.init_kwargs() if k not in d["kwargs"]]
    if missing:  # a saved key holds every field; one regenerated from a default is not the key that was saved
        raise CorruptFileError(f"{where}: the key does not rebuild a {cls.__name__}: field {missing[0]!r} is missing "
                               f"(missing: {missing}; a tampered or damaged key file)")  # fmt: skip
    return transform


_FIELD_KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "tensor": (lambda v: isinstance(v, torch.Tensor), "a stored tensor ({'__tensor__': [...], 'dtype': ...})"),
    "int": (lambda v: is_integer(v), "an integer"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "float": (lambda v: is_real(v), "a number"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "shape": (lambda v: isinstance(v, list) and all(is_integer(s) for s in v), "a list of integers"),
    "transforms": (lambda v: isinstance(v, list) and all(isinstance(t, Transform) for t in v),
                   "a list of stored transforms"),
    "dict": (lambda v: isinstance(v, dict), "a JSON object"),
}  # fmt: skip


def _field_kind(annotation: object) -> tuple[str | None, bool]:
    """(what a key field annotated ``annotation`` must hold, whether None is allowed); None: not checked."""
    text = str(annotation)
    optional = text.endswith("| None")
    base = text.removesuffix("| None").strip()
    if base.startswith("Sequence[Transform"):
        return "transforms", optional
    if base.startswith("tuple[int"):
        return "shape", optional
    if base == "torch.Tensor":
        return "tensor", optional
    if base == "VortexKey | dict":
        return "dict", optional
    return (base if base in ("int", "bool", "float", "str") else None), optional


def _decode_fields(cls: type[Transform], fields: dict[str, Any], where: str) -> dict[str, Any]:
    """The key's fields decoded, each checked against the type ``cls`` declares for it; an error names the field."""
    from pixinfo.errors import CorruptFileError

    params = inspect.signature(cls.__init__).parameters
    out = {}
    for name, raw in fields.items():
        try:
            value = _decode(raw)
        except (CorruptFileError, KeyError, TypeError, ValueError, RuntimeError, OverflowError) as err:
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise CorruptFileError(f"{where}: the key does not rebuild a {cls.__name__}: field {name!r} cannot be "
                                   f"read: {first[:300]}") from None  # fmt: skip
        kind, optional = _field_kind(params[name].annotation) if name in params else (None, True)
        if kind is not None and not (value is None and optional) and not _FIELD_KINDS[kind][0](value):
            got = f"{type(raw).__name__} {raw!r:.60}"
            raise CorruptFileError(f"{where}: the key does not rebuild a {cls.__name__}: field {name!r} must be "
                                   f"{_FIELD_KINDS[kind][1]}{' or null' if optional else ''}, got {got}")  # fmt: skip
        out[name] = value
    return out


def _misfit_field(cls: type[Transform], kwargs: dict[str, Any]) -> tuple[str, str] | None:
    """The field a key that does not rebuild lacks, or the first stored tensor whose shape or dtype
    differs from the one the key's other fields give (rebuilt without the stored tensors), with
    what is wrong; None if none can be named."""
    try:
        reference = cls(**{k: v for k, v in kwargs.items() if not isinstance(v, torch.Tensor)}).init_kwargs()
    except Exception:  # the other fields do not rebuild either: nothing to compare with
        return None
    missing = [k for k in reference if k not in kwargs]
    if missing:
        return missing[0], f"is missing (missing: {missing})"
    for name, value in kwargs.items():
        want = reference.get(name)
        if isinstance(value, torch.Tensor) and isinstance(want, torch.Tensor) and (
                value.shape != want.shape or value.dtype != want.dtype):  # fmt: skip
            return name, (f"must be a tensor of shape {tuple(want.shape)} and dtype {want.dtype} for this key, "
                          f"got shape {tuple(value.shape)} and dtype {value.dtype}")  # fmt: skip
    return None


def spec_classes() -> dict[str, type[Transform]]:
    """Spec name -> transform class, for every class that declared one (import order)."""
    return dict(_SPECS)


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

    The callable is not saved with [`save_key`][pixinfo.transforms.base.Transform.save_key]; the key records its name only.
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
