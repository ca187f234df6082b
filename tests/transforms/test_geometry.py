"""Meaning-preserving transforms: flips and rotations are rearrangements (R = 1), translations
and contrast keep the dtype policy."""

import pytest
import torch

from pixinfo.errors import ShapeError
from pixinfo.info import structural_retention
from pixinfo.transforms import Contrast, Flip, Rotate, Translate, build_transform, load_transform

X = torch.rand(3, 2, 6, 6)


@pytest.mark.parametrize("spec,expected", [
    ("flip:axis=horizontal", lambda x: x.flip(-1)),
    ("flip:axis=vertical", lambda x: x.flip(-2)),
    ("flip:axis=both", lambda x: x.flip(-1, -2)),
    ("rotate:quarter_turns=1", lambda x: torch.rot90(x, 1, (-2, -1))),
    ("rotate:quarter_turns=2", lambda x: torch.rot90(x, 2, (-2, -1))),
    ("rotate:quarter_turns=3", lambda x: torch.rot90(x, 3, (-2, -1))),
])  # fmt: skip
def test_isometries_are_gathers_with_full_retention(spec, expected):
    t = build_transform(spec, shape=(2, 6, 6))
    assert torch.equal(t(X), expected(X)) and torch.equal(t.inverse()(t(X)), X)
    assert float(structural_retention(t.gather_map((6, 6)), shape=(6, 6))) == pytest.approx(1.0, abs=1e-12)
    assert load_transform(t.key_dict()).spec == t.spec


def test_translate_and_contrast_keep_dtype_and_range():
    u8 = (X * 255).round().to(torch.uint8)
    shifted = Translate(dx=2, dy=-1)(X)
    assert torch.equal(shifted[..., :5, 2:], X[..., 1:, :4]) and shifted[..., :, :2].abs().sum() == 0
    assert Translate()(u8).dtype == torch.uint8
    low = Contrast(factor=0.5)
    f, u = low(X), low(u8)
    assert f.dtype == X.dtype and u.dtype == torch.uint8 and 0 <= float(f.min()) and float(f.max()) <= 1
    assert (u.float() - (low(u8.float() / 255) * 255)).abs().max() <= 0.5 + 1e-4  # same map, rounded
    assert float(f.std()) < float(X.std())


def test_bad_geometry_raises():
    with pytest.raises(ShapeError, match="square grid"):
        Rotate((4, 6), quarter_turns=1)
    with pytest.raises(ValueError, match="axis must be one of"):
        Flip((4, 4), axis="diagonal")
    with pytest.raises(ShapeError, match="does not fit"):
        Translate(dx=6)(X)
    with pytest.raises(ValueError, match="factor"):
        Contrast(factor=-1)
