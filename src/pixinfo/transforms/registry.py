"""Build transforms by name: ``build_transform("block:size=4,shuffle_within=true", shape=(1, 28, 28))``.

A spec is ``NAME[:key=value,...]``; specs joined by ``+`` are composed left to right
(``vortex:authors+negative``). The names are those the transform classes declare
(``class FixedPermutation(GatherTransform, spec="permutation")``); each class builds itself
from its spec ([`from_spec`][pixinfo.transforms.base.Transform.from_spec]), with the defaults of its own
signature, and its help line is generated from that signature and its docstring.
"""

from __future__ import annotations

import pixinfo.transforms.aes  # noqa: F401  (each module registers the spec names of its classes)
import pixinfo.transforms.blocks  # noqa: F401
import pixinfo.transforms.degrade  # noqa: F401
import pixinfo.transforms.geometry  # noqa: F401
import pixinfo.transforms.learnable  # noqa: F401
import pixinfo.transforms.per_image  # noqa: F401
import pixinfo.transforms.permutation  # noqa: F401
import pixinfo.transforms.value  # noqa: F401
import pixinfo.transforms.vortex  # noqa: F401
from pixinfo._checks import check_grid_shape
from pixinfo._spec import parse_spec
from pixinfo.errors import ParameterError, ShapeError
from pixinfo.transforms.base import Transform, spec_classes
from pixinfo.transforms.compose import Compose
from pixinfo.transforms.vortex import DATASET_AUTHORS_KEY

# what `pixinfo score` (and `make run`) scores by default: the transforms the papers are about
DEFAULT_TRANSFORMS = ("identity", "vortex:authors", "block:size=4", "permutation", "per-image-permutation",
                      "negative", "xor:bits=8", "xor-per-image:bits=8")  # fmt: skip


def default_transforms(dataset: str | None) -> list[str]:
    """``DEFAULT_TRANSFORMS`` for ``dataset``: a generated vortex key where the authors have none.

    Examples
    --------
    >>> default_transforms("digits")[1], default_transforms("mnist-5k")[1]
    ('vortex:seed=0', 'vortex:authors')
    """
    swap = {"vortex:authors": "vortex:seed=0"} if dataset not in DATASET_AUTHORS_KEY else {}
    return [swap.get(s, s) for s in DEFAULT_TRANSFORMS]


def transform_names() -> dict[str, str]:
    """Registered spec names and their help lines (generated from each class).

    Examples
    --------
    >>> transform_names()["swaps"]
    'k keyed swaps of two distinct random pixels, applied one after another [k=10, seed=0]'
    """
    return {name: cls.spec_help() for name, cls in spec_classes().items()}


ENTRY_POINTS = "pixinfo.transforms"  # the entry-point group of other packages' transform modules


def load_plugins() -> list[str]:
    """Import the modules that installed packages declare in the ``pixinfo.transforms`` entry-point
    group (``[project.entry-points."pixinfo.transforms"] mine = "mypkg.transforms"``): their
    classes register their spec names on import. Returns the names of the entry points loaded."""
    from importlib.metadata import entry_points

    loaded = []
    for point in entry_points(group=ENTRY_POINTS):
        point.load()
        loaded.append(point.name)
    return loaded


def import_transforms(*modules: str) -> None:
    """Import a user's ``modules`` (dotted names, importable from the working directory) so that
    the transform classes they define register their spec names (the CLI's ``--import``)."""
    import importlib
    import sys

    if "" not in sys.path:  # as `python -m` does: a module next to the user's files is found
        sys.path.insert(0, "")
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise ParameterError(f"--import: cannot import {module!r} ({error})") from error


def _build_one(spec: str, shape: tuple[int, ...], dataset: str | None) -> Transform:
    name, args, kwargs = parse_spec(spec)
    classes = spec_classes()
    if name not in classes:  # another package's transform, declared by entry point
        load_plugins()
        classes = spec_classes()
    if name not in classes:
        raise ParameterError(f"unknown transform {name!r}; choose one of {sorted(classes)} "
                             f"(a transform of your own: --import MODULE, or an entry point in {ENTRY_POINTS!r})")  # fmt: skip
    built = classes[name].from_spec(shape, *args, dataset=dataset, **kwargs)
    keyed_for = built.grid  # the grid a key was drawn or stored for
    if keyed_for is not None and tuple(keyed_for) != check_grid_shape(shape):
        h, w = keyed_for
        raise ShapeError(f"{built.spec} is keyed for {h}x{w} images, not {'x'.join(map(str, shape[-2:]))}")
    return built


def build_transform(spec: str, *, shape: tuple[int, ...], dataset: str | None = None) -> Transform:
    """A transform from a spec for images of ``shape`` (``dataset`` resolves ``vortex:authors``).

    Examples
    --------
    >>> build_transform("permutation:seed=3+negative", shape=(1, 8, 8)).spec
    'permutation:seed=3+negative'
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ParameterError(f"a spec must be a non-empty string like 'name:key=value', got {spec!r}")
    parts = [_build_one(p, shape, dataset) for p in spec.split("+")]
    return parts[0] if len(parts) == 1 else Compose(parts)
