"""Build transforms by name: ``build_transform("block:size=4,shuffle_within=true", shape=(1, 28, 28))``.

A spec is ``NAME[:key=value,...]``; specs joined by ``+`` are composed left to
right (``vortex:authors+negative``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from pixinfo._checks import bind_call, check_grid_shape, parse_bool
from pixinfo._spec import parse_spec
from pixinfo.errors import ParameterError, ShapeError
from pixinfo.transforms.base import Transform
from pixinfo.transforms.blocks import BlockScramble
from pixinfo.transforms.compose import Compose
from pixinfo.transforms.permutation import (
    FixedPermutation,
    Identity,
    PartialPermutation,
    PerImagePermutation,
    RandomSwaps,
)
from pixinfo.transforms.value import LevelPermutation, MonotoneMap, Negative, PerImageXor, XorKey
from pixinfo.transforms.vortex import AUTHORS_KEYS, RandomVortex

# which authors' key `vortex:authors` means on each dataset
DATASET_AUTHORS_KEY = {"mnist": "mnist", "mnist-5k": "mnist", "fashion-mnist": "fashion-mnist", "cifar10": "cifar10"}


def _vortex(shape, *args, dataset=None, authors=None, seed=None, n=None, strength=1.0, bijective=False,
            scale=800.0, divisor=1000.0):  # fmt: skip
    if args == ("authors",) and authors is None:
        if dataset not in DATASET_AUTHORS_KEY:
            raise ParameterError(
                f"`vortex:authors` picks the authors' key of the dataset, and there is none for {dataset!r}; "
                f"use vortex:authors=NAME with NAME in {sorted(AUTHORS_KEYS)} on images of that size, or vortex:seed=N"
            )
        authors = DATASET_AUTHORS_KEY[dataset]
    elif args:
        raise ParameterError(f"vortex: unexpected positional parameters {args}")
    if authors is not None:
        if seed is not None:
            raise ParameterError("vortex: give authors=... or seed=..., not both")
        return RandomVortex.from_authors(authors, n_vortices=n, strength=strength, bijective=bijective)
    if seed is None:
        raise ParameterError("vortex: a generated key needs seed=N (or use vortex:authors)")
    return RandomVortex.generate(shape, 10 if n is None else n, seed=seed, scale=scale, divisor=divisor,
                                 strength=strength, bijective=bijective)  # fmt: skip


# name -> (factory(shape, *args, dataset=..., **kwargs), one-line help)
_REGISTRY: dict[str, tuple[Callable[..., Transform], str]] = {
    "identity": (lambda shape, dataset=None: Identity(), "images unchanged"),
    "permutation": (
        lambda shape, dataset=None, seed=0: FixedPermutation(shape, seed=seed),
        "one keyed pixel permutation for all images [seed=0]",
    ),
    "per-image-permutation": (
        lambda shape, dataset=None, seed=0: PerImagePermutation(seed=seed),
        "a fresh pixel permutation per image, no shared key [seed=0]",
    ),
    "partial-permutation": (
        lambda shape, dataset=None, fraction=0.5, seed=0: PartialPermutation(shape, fraction=fraction, seed=seed),
        "move exactly this fraction of the pixels [fraction=0.5, seed=0]",
    ),
    "swaps": (
        lambda shape, dataset=None, k=10, seed=0: RandomSwaps(shape, k=k, seed=seed),
        "k random swaps of two pixels [k=10, seed=0]",
    ),
    "block": (
        lambda shape, dataset=None, size=4, shuffle_blocks=True, shuffle_within=False, rotate=False, flip=False, seed=0: (
            BlockScramble(shape, size=size, shuffle_blocks=shuffle_blocks, shuffle_within=shuffle_within,
                          rotate=rotate, flip=flip, seed=seed)
        ),  # fmt: skip
        "block scrambling [size=4, shuffle_blocks=true, shuffle_within=false, rotate=false, flip=false, seed=0]",
    ),
    "vortex": (
        _vortex,
        "Random Vortex Transformation: vortex:authors (the dataset's key), vortex:authors=NAME, or "
        "vortex:seed=N [n, strength=1, bijective=false, scale=800, divisor=1000]",
    ),
    "negative": (lambda shape, dataset=None: Negative(), "1 - x"),
    "xor": (
        lambda shape, dataset=None, bits=8, seed=0: XorKey(shape, bits=bits, seed=seed),
        "XOR with one fixed key the size of the image [bits=8 (or 1), seed=0]",
    ),
    "xor-per-image": (
        lambda shape, dataset=None, bits=8, seed=0: PerImageXor(bits=bits, seed=seed),
        "XOR with a fresh key per image: a one-time pad [bits=8 (or 1), seed=0]",
    ),
    "monotone": (
        lambda shape, dataset=None, seed=0: MonotoneMap(seed=seed),
        "a fixed random increasing value map [seed=0]",
    ),
    "level-permutation": (
        lambda shape, dataset=None, seed=0: LevelPermutation(seed=seed),
        "a fixed random permutation of the 256 grey levels [seed=0]",
    ),
}
# what `pixinfo score` (and `make run`) scores by default: the transforms the papers are about
DEFAULT_TRANSFORMS = ("identity", "vortex:authors", "block:size=4", "permutation", "per-image-permutation",
                      "negative", "xor:bits=8", "xor-per-image:bits=8")  # fmt: skip


def default_transforms(dataset: str | None) -> list[str]:
    """:data:`DEFAULT_TRANSFORMS` for ``dataset``: a generated vortex key where the authors have none.

    Examples
    --------
    >>> default_transforms("digits")[1], default_transforms("mnist-5k")[1]
    ('vortex:seed=0', 'vortex:authors')
    """
    swap = {"vortex:authors": "vortex:seed=0"} if dataset not in DATASET_AUTHORS_KEY else {}
    return [swap.get(s, s) for s in DEFAULT_TRANSFORMS]


def transform_names() -> dict[str, str]:
    """Registered names and their help lines."""
    return {name: helptext for name, (_, helptext) in _REGISTRY.items()}


def _flags(factory: Callable[..., Transform], name: str, kwargs: dict) -> dict:
    """Spec values of the factory's boolean parameters parsed as flags (``true/false/1/0/yes/no``)."""
    params = inspect.signature(factory).parameters
    out = dict(kwargs)
    for key, value in kwargs.items():
        if key in params and isinstance(params[key].default, bool):
            out[key] = parse_bool(value, f"{name}:{key}")
    return out


def _build_one(spec: str, shape: tuple[int, ...], dataset: str | None) -> Transform:
    name, args, kwargs = parse_spec(spec)
    if name not in _REGISTRY:
        raise ParameterError(f"unknown transform {name!r}; choose one of {sorted(_REGISTRY)}")
    factory, helptext = _REGISTRY[name]
    kwargs = _flags(factory, name, kwargs)
    built = bind_call(factory, shape, *args, dataset=dataset, **kwargs, what=f"transform {name!r} ({helptext})")
    keyed_for = getattr(built, "grid", None)  # the grid a gather-map key was drawn or stored for
    if keyed_for is not None and tuple(keyed_for) != check_grid_shape(shape):
        h, w = keyed_for
        raise ShapeError(f"{built.spec} is keyed for {h}x{w} images, not {'x'.join(map(str, shape[-2:]))}")
    return built


def build_transform(spec: str, *, shape: tuple[int, ...], dataset: str | None = None) -> Transform:
    """A transform from a spec for images of ``shape`` (``dataset`` resolves ``vortex:authors``)."""
    if not isinstance(spec, str) or not spec.strip():
        raise ParameterError(f"a spec must be a non-empty string like 'name:key=value', got {spec!r}")
    parts = [_build_one(p, shape, dataset) for p in spec.split("+")]
    return parts[0] if len(parts) == 1 else Compose(parts)
