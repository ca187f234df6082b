"""Meaning-preserving transforms: flips and rotations are rearrangements (R = 1), translations
and contrast keep the dtype policy; a tilt by any angle against a direct bilinear computation."""

import math

import pytest
import torch

from pixinfo.errors import ParameterError, ShapeError
from pixinfo.info import structural_retention
from pixinfo.transforms import (Contrast, Elastic, Flip, Rotate, Tilt, Translate, build_transform, elastic, elastic_field,
                                load_transform, tilt)

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


def bilinear_rotation(x: torch.Tensor, degrees: float) -> torch.Tensor:
    """Output pixel (i, j) samples the input at its offset from the centre turned by ``degrees``
    (rows pointing down), bilinear, zero outside: the loop a textbook writes."""
    h, w = x.shape[-2:]
    a = math.radians(degrees)
    out = torch.zeros_like(x)
    for i in range(h):
        for j in range(w):
            dx, dy = j - (w - 1) / 2, i - (h - 1) / 2
            sx = math.cos(a) * dx - math.sin(a) * dy + (w - 1) / 2
            sy = math.sin(a) * dx + math.cos(a) * dy + (h - 1) / 2
            out[..., i, j] = bilinear_at(x, sy, sx)
    return out


def bilinear_at(x: torch.Tensor, sy: float, sx: float) -> torch.Tensor:
    """``x`` at the (row, column) point (sy, sx): the four pixels around it, each weighted by its
    nearness in both directions, those outside the image counted as 0."""
    h, w = x.shape[-2:]
    x0, y0 = math.floor(sx), math.floor(sy)
    value = torch.zeros_like(x[..., 0, 0])
    for yy, xx, weight in ((y0, x0, (1 - sx + x0) * (1 - sy + y0)), (y0, x0 + 1, (sx - x0) * (1 - sy + y0)),
                           (y0 + 1, x0, (1 - sx + x0) * (sy - y0)), (y0 + 1, x0 + 1, (sx - x0) * (sy - y0))):
        if 0 <= yy < h and 0 <= xx < w:
            value += weight * x[..., yy, xx]
    return value


@pytest.mark.parametrize("degrees", [0.0, 15.0, -40.0, 90.0, 180.0])
def test_tilt_is_the_bilinear_rotation_about_the_centre(degrees):
    x = torch.rand(2, 3, 5, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(tilt(x, degrees=degrees), bilinear_rotation(x, degrees).clamp(0, 1))
    square = torch.rand(1, 1, 6, 6, dtype=torch.float64)
    torch.testing.assert_close(tilt(square, degrees=90), torch.rot90(square, 1, (-2, -1)))  # as rotate turns


def test_tilt_keeps_dtype_rounds_uint8_and_refuses_bad_angles():
    u8 = (X * 255).round().to(torch.uint8)
    t = build_transform("tilt:degrees=30", shape=(2, 6, 6))
    assert isinstance(t, Tilt) and t(u8).dtype == torch.uint8 and t(X).dtype == X.dtype
    assert torch.equal(t(u8), torch.round(tilt(u8.float() / 255, degrees=30) * 255).to(torch.uint8))
    assert load_transform(t.key_dict()).spec == t.spec
    for bad in (float("nan"), 400):
        with pytest.raises(ParameterError, match="degrees"):
            Tilt(degrees=bad)


def test_elastic_samples_each_pixel_at_its_displaced_point():
    x = torch.rand(2, 3, 5, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    d = (torch.rand(2, 5, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(5)) - 0.5) * 3
    expected = torch.empty_like(x)
    for i in range(5):
        for j in range(7):
            expected[..., i, j] = bilinear_at(x, i + float(d[0, i, j]), j + float(d[1, i, j]))
    torch.testing.assert_close(elastic(x, displacement=d), expected.clamp(0, 1))
    torch.testing.assert_close(elastic(x, displacement=torch.zeros(2, 5, 7)), x)
    shift = torch.stack([torch.full((5, 7), -1.0), torch.full((5, 7), 2.0)])  # from one row up, two columns right
    moved = torch.zeros_like(x)
    moved[..., 1:, :5] = x[..., :4, 2:]
    torch.testing.assert_close(elastic(x, displacement=shift), moved)
    with pytest.raises(ShapeError, match="displacement must be"):
        elastic(x, displacement=torch.zeros(2, 7, 5))


def test_elastic_field_is_smoothed_scaled_noise_and_the_module_replays_its_key():
    from scipy.ndimage import gaussian_filter

    noise = torch.rand((2, 9, 8), generator=torch.Generator().manual_seed(2), dtype=torch.float64).numpy() * 2 - 1
    field = elastic_field((9, 8), alpha=5.0, sigma=1.5, generator=torch.Generator().manual_seed(2))
    for k in range(2):
        torch.testing.assert_close(field[k], torch.from_numpy(5.0 * gaussian_filter(noise[k], 1.5, mode="constant")))
    raw = elastic_field((9, 8), alpha=2.0, sigma=0.0, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(raw, torch.from_numpy(2.0 * noise))  # no smoothing: the noise itself, scaled
    smooth = elastic_field((30, 30), alpha=1.0, sigma=3.0, generator=torch.Generator().manual_seed(0))
    step = float((smooth[:, 1:] - smooth[:, :-1]).abs().mean())
    assert step < 0.3 * float(smooth.abs().mean())  # neighbours move nearly alike
    t = build_transform("elastic:alpha=34,sigma=4,seed=3", shape=(1, 9, 8))
    u8 = (torch.rand(2, 1, 9, 8, generator=torch.Generator().manual_seed(1)) * 255).round().to(torch.uint8)
    assert isinstance(t, Elastic) and t(u8).dtype == torch.uint8
    assert torch.equal(t(u8), torch.round(elastic(u8.float() / 255, displacement=t.displacement) * 255).to(torch.uint8))
    assert torch.equal(load_transform(t.key_dict())(u8), t(u8)) and load_transform(t.key_dict()).spec == t.spec
    assert not torch.equal(Elastic((9, 8), seed=4)(u8), Elastic((9, 8), seed=3)(u8))
    for bad in ({"alpha": -1.0}, {"sigma": float("nan")}):
        with pytest.raises(ParameterError, match=next(iter(bad))):
            Elastic((9, 8), **bad)
