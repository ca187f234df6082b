"""Keyed image transforms: pure functions plus thin ``nn.Module`` wrappers."""

from pixinfo.transforms.base import NotInvertibleError, Transform
from pixinfo.transforms.functional import (
    check_permutation,
    gather_pixels,
    invert_gather,
    negative,
    random_permutations,
)
from pixinfo.transforms.permutation import FixedPermutation, Identity, PerImagePermutation
from pixinfo.transforms.registry import DEFAULT_TRANSFORMS, build_transform, transform_names
from pixinfo.transforms.value import Negative, PointwiseTransform

__all__ = [
    "DEFAULT_TRANSFORMS",
    "FixedPermutation",
    "Identity",
    "Negative",
    "NotInvertibleError",
    "PerImagePermutation",
    "PointwiseTransform",
    "Transform",
    "build_transform",
    "check_permutation",
    "gather_pixels",
    "invert_gather",
    "negative",
    "random_permutations",
    "transform_names",
]
