"""Keyed image transforms: pure functions plus thin ``nn.Module`` wrappers.

Every transform works on ``(B, C, H, W)`` batches (uint8 or float in [0, 1],
any device; output with the input's dtype and device), draws its key from a
seed or ``torch.Generator``, saves it ([`Transform.save_key`][pixinfo.transforms.base.Transform.save_key],
[`load_transform`][pixinfo.transforms.base.load_transform]), exposes its gather map when it is a rearrangement
([`Transform.gather_map`][pixinfo.transforms.base.Transform.gather_map]) and has ``inverse()`` where one exists.
The protocol every transform follows (key, key replay, gather map, inverse) is documented on
[`Transform`][pixinfo.transforms.base.Transform]; per-image keys on
[`PerImageTransform`][pixinfo.transforms.keying.PerImageTransform].
"""

from pixinfo.transforms.base import (
    FunctionTransform,
    NotInvertibleError,
    Transform,
    as_transform,
    load_transform,
)
from pixinfo.transforms.aes import AES, PerImageAES, aes_images
from pixinfo.transforms.blocks import BlockScramble, block_scramble_map, merge_blocks, split_blocks
from pixinfo.transforms.compose import Compose
from pixinfo.transforms.degrade import Blur, GaussianNoise, Pixelate, Posterize, box_blur, gaussian_noise, pixelate, posterize
from pixinfo.transforms.functional import (
    check_permutation,
    flip_map,
    gather_pixels,
    invert_gather,
    negate,
    negative,
    random_permutations,
    reduce_contrast,
    rotate_map,
    translate,
)
from pixinfo.transforms.geometry import Contrast, Flip, Rotate, Translate
from pixinfo.transforms.keying import PerImageTransform
from pixinfo.transforms.learnable import (
    Cipher,
    EtC,
    InstaHide,
    InverseCipher,
    LearnableEncryption,
    PerImagePixelBased,
    PixelBased,
    instahide,
    nibble_scramble,
    pixel_based,
    pixel_based_inverse,
)
from pixinfo.transforms.per_image import (
    PerImageBlockScramble,
    PerImagePartialPermutation,
    PerImageRearrangement,
    PerImageSwaps,
    PerImageVortex,
)
from pixinfo.transforms.permutation import (
    FixedPermutation,
    GatherTransform,
    Identity,
    PartialPermutation,
    PerImagePermutation,
    RandomSwaps,
)
from pixinfo.transforms.registry import DEFAULT_TRANSFORMS, build_transform, transform_names
from pixinfo.transforms.value import (
    LevelMap,
    LevelPermutation,
    MonotoneMap,
    Negative,
    PerImageXor,
    PointwiseTransform,
    XorKey,
    xor_levels,
)
from pixinfo.transforms.vortex import (
    AUTHORS_KEYS,
    RandomVortex,
    Vortex,
    VortexKey,
    authors_key,
    generate_vortex_key,
    matlab_round,
    vortex_map,
)

__all__ = [
    "AES",
    "PerImageAES",
    "aes_images",
    "AUTHORS_KEYS",
    "DEFAULT_TRANSFORMS",
    "BlockScramble",
    "Blur",
    "Cipher",
    "Compose",
    "Contrast",
    "EtC",
    "Flip",
    "FixedPermutation",
    "FunctionTransform",
    "GaussianNoise",
    "GatherTransform",
    "Identity",
    "InstaHide",
    "InverseCipher",
    "LearnableEncryption",
    "LevelMap",
    "LevelPermutation",
    "MonotoneMap",
    "Negative",
    "NotInvertibleError",
    "PartialPermutation",
    "PerImageBlockScramble",
    "PerImagePartialPermutation",
    "PerImagePermutation",
    "PerImagePixelBased",
    "PerImageRearrangement",
    "PerImageSwaps",
    "PerImageTransform",
    "PerImageVortex",
    "PerImageXor",
    "PixelBased",
    "Pixelate",
    "PointwiseTransform",
    "Posterize",
    "RandomSwaps",
    "RandomVortex",
    "Rotate",
    "Transform",
    "Translate",
    "Vortex",
    "VortexKey",
    "XorKey",
    "as_transform",
    "authors_key",
    "block_scramble_map",
    "box_blur",
    "build_transform",
    "check_permutation",
    "flip_map",
    "gather_pixels",
    "gaussian_noise",
    "generate_vortex_key",
    "instahide",
    "invert_gather",
    "load_transform",
    "matlab_round",
    "merge_blocks",
    "negate",
    "negative",
    "nibble_scramble",
    "pixel_based",
    "pixel_based_inverse",
    "pixelate",
    "posterize",
    "random_permutations",
    "reduce_contrast",
    "rotate_map",
    "split_blocks",
    "transform_names",
    "translate",
    "vortex_map",
    "xor_levels",
]
