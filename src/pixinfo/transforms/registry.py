"""Build transforms by name: ``build_transform("permutation:seed=3", shape=(1, 28, 28))``."""

from __future__ import annotations

from collections.abc import Callable

from pixinfo._spec import parse_spec
from pixinfo.transforms.base import Transform
from pixinfo.transforms.permutation import FixedPermutation, Identity, PerImagePermutation
from pixinfo.transforms.value import Negative

# name -> (factory(shape, *args, **kwargs), one-line help)
_REGISTRY: dict[str, tuple[Callable[..., Transform], str]] = {
    "identity": (lambda shape: Identity(), "images unchanged"),
    "permutation": (
        lambda shape, seed=0: FixedPermutation(shape, seed=seed),
        "one keyed pixel permutation for all images [seed=0]",
    ),
    "per-image-permutation": (
        lambda shape, seed=0: PerImagePermutation(seed=seed),
        "a fresh pixel permutation per image, no shared key [seed=0]",
    ),
    "negative": (lambda shape: Negative(), "1 - x"),
}
DEFAULT_TRANSFORMS = ("identity", "permutation", "per-image-permutation", "negative")


def transform_names() -> dict[str, str]:
    """Registered names and their help lines."""
    return {name: helptext for name, (_, helptext) in _REGISTRY.items()}


def build_transform(spec: str, *, shape: tuple[int, ...]) -> Transform:
    """A transform from a ``name:key=value,...`` spec for images of ``shape``."""
    name, args, kwargs = parse_spec(spec)
    if name not in _REGISTRY:
        raise ValueError(f"unknown transform {name!r}; choose one of {sorted(_REGISTRY)}")
    factory, helptext = _REGISTRY[name]
    try:
        return factory(shape, *args, **kwargs)
    except TypeError as err:
        raise ValueError(f"bad parameters for transform {name!r} ({helptext}): {err}") from err
