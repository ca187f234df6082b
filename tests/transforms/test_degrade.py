"""Posterize, blur, pixelate, noise, JPEG, occlusion and sharpening: each against a direct computation (JPEG:
against torchvision's binding of libjpeg), and their refusals."""

import warnings

import pytest
import torch

from pixinfo.errors import ParameterError, ShapeError
from pixinfo.transforms import (
    Blur,
    GaussianNoise,
    Jpeg,
    NotInvertibleError,
    Occlude,
    Pixelate,
    Posterize,
    Sharpen,
    box_blur,
    build_transform,
    gaussian_noise,
    jpeg,
    occlude,
    pixelate,
    posterize,
    sharpen,
)


def levels(shape=(3, 1, 12, 12), seed=0):
    return torch.randint(0, 256, shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("n", [2, 3, 4, 8, 256])
def test_posterize_keeps_n_evenly_spaced_levels_in_order(n):
    v = torch.arange(256, dtype=torch.uint8).reshape(1, 1, 16, 16)
    out = posterize(v, levels=n).flatten().tolist()
    expected = [round(255 * (level * n // 256) / (n - 1)) for level in range(256)]
    assert out == expected
    assert len(set(out)) == n and out[0] == 0 and out[-1] == 255
    assert out == sorted(out)  # a monotone many-to-one map


def test_posterize_of_floats_is_that_of_their_levels():
    x = levels()
    torch.testing.assert_close(posterize(x.float() / 255, levels=4), posterize(x, levels=4).float() / 255)


def test_blur_is_the_mean_of_the_neighbours_inside_the_image():
    x = torch.rand(2, 1, 6, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    out = box_blur(x, size=3)
    expected = torch.empty_like(x)
    for i in range(6):
        for j in range(7):
            expected[..., i, j] = x[..., max(i - 1, 0):i + 2, max(j - 1, 0):j + 2].mean(dim=(-2, -1))
    torch.testing.assert_close(out, expected)
    assert torch.equal(box_blur(x, size=1), x)


def test_pixelate_fills_each_block_with_its_mean():
    x = torch.rand(2, 3, 8, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    out = pixelate(x, size=4)
    for i in range(0, 8, 4):
        for j in range(0, 12, 4):
            block = out[..., i:i + 4, j:j + 4]
            mean = x[..., i:i + 4, j:j + 4].mean(dim=(-2, -1), keepdim=True)
            torch.testing.assert_close(block, mean.expand_as(block))
    assert torch.equal(pixelate(x, size=1), x)


def test_uint8_in_uint8_out_rounded_from_the_float32_result():
    x = levels()
    assert torch.equal(box_blur(x, size=3), torch.round(box_blur(x.float() / 255, size=3) * 255).to(torch.uint8))
    assert torch.equal(pixelate(x, size=3), torch.round(pixelate(x.float() / 255, size=3) * 255).to(torch.uint8))


def test_noise_has_the_asked_spread_a_fresh_draw_per_image_and_replays():
    x = torch.full((64, 1, 16, 16), 0.5)
    t = GaussianNoise(sigma=0.1, seed=3)
    out = t(x)
    assert abs(float((out - x).std()) - 0.1) < 0.005 and abs(float((out - x).mean())) < 0.005
    assert not torch.equal(out[0], out[1])  # every image its own noise
    assert torch.equal(t.replay()(x), out) and not torch.equal(t(x), out)
    assert not t.shared_key
    assert torch.equal(gaussian_noise(x, sigma=0.0), x)
    clipped = gaussian_noise(torch.ones(4, 1, 8, 8), sigma=0.5, generator=torch.Generator().manual_seed(0))
    assert float(clipped.max()) == 1.0 and float(clipped.min()) < 1.0


def test_sharpen_pushes_each_pixel_from_its_neighbourhood_mean_and_clips():
    x = torch.rand(2, 2, 6, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    expected = torch.empty_like(x)
    for i in range(6):
        for j in range(7):
            mean = x[..., max(i - 1, 0):i + 2, max(j - 1, 0):j + 2].mean(dim=(-2, -1))
            expected[..., i, j] = (x[..., i, j] + 2.5 * (x[..., i, j] - mean)).clamp(0, 1)
    torch.testing.assert_close(sharpen(x, amount=2.5), expected)
    assert torch.equal(sharpen(x, amount=0), x)
    flat = torch.full((1, 1, 5, 5), 0.4, dtype=torch.float64)
    torch.testing.assert_close(sharpen(flat, amount=4), flat, rtol=0, atol=1e-12)  # no edge, nothing to steepen
    u = levels()
    assert torch.equal(sharpen(u, amount=1), torch.round(sharpen(u.float() / 255, amount=1) * 255).to(torch.uint8))
    assert torch.equal(Sharpen(amount=1.5)(u), sharpen(u, amount=1.5))


def libjpeg(images: torch.Tensor, quality: int) -> torch.Tensor:
    """The same codec through torchvision's own binding of libjpeg (deprecated there, so the
    warning is silenced; skipped once torchvision drops it)."""
    io = pytest.importorskip("torchvision.io")
    if not hasattr(io, "encode_jpeg"):
        pytest.skip("torchvision no longer encodes JPEG")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.stack(io.decode_jpeg(io.encode_jpeg(list(images), quality=quality)))


@pytest.mark.parametrize("channels", [1, 3])
def test_jpeg_is_libjpegs_baseline_at_the_same_quality_and_loses_more_at_lower_quality(channels):
    x = levels((3, channels, 16, 24), seed=4)
    errors = []
    for quality in (10, 50, 95):
        out = jpeg(x, quality=quality)
        assert torch.equal(out, libjpeg(x, quality))
        errors.append(float((out.float() - x.float()).abs().mean()))
    assert errors[0] > errors[1] > errors[2] > 0
    floats = jpeg(x.double() / 255, quality=50)
    assert floats.dtype == torch.float64 and torch.equal(torch.round(floats * 255).to(torch.uint8), jpeg(x, quality=50))
    with pytest.raises(ShapeError, match="1 or 3 channels"):
        jpeg(levels((1, 2, 8, 8)), quality=50)


def test_occlude_blacks_out_the_centred_square_and_keeps_the_rest():
    x = levels((2, 3, 9, 12)) | 1  # no pixel is black before
    out = occlude(x, size=4)
    black = torch.zeros(9, 12, dtype=torch.bool)
    black[2:6, 4:8] = True  # rows (9 - 4) // 2 = 2.., columns (12 - 4) // 2 = 4..
    assert bool((out[..., black] == 0).all()) and torch.equal(out[..., ~black], x[..., ~black])
    assert torch.equal(occlude(x, size=0), x) and bool((occlude(x, size=9)[..., :, 1:10] == 0).all())
    with pytest.raises(ShapeError, match="size <= the image's sides"):
        occlude(x, size=10)
    assert Occlude((1, 9, 12)).size == 4 and torch.equal(Occlude((1, 9, 12))(x), occlude(x, size=4))
    assert Occlude((1, 28, 28), fraction=0.25).size == 7


@pytest.mark.parametrize("spec", ["posterize:levels=4", "blur:size=3", "pixelate:size=4", "noise:sigma=0.2",
                                  "jpeg:quality=30", "occlude:fraction=0.5", "sharpen:amount=2"])
def test_specs_build_round_trip_and_have_no_inverse(spec):
    t = build_transform(spec, shape=(1, 12, 12))
    again = build_transform(t.spec, shape=(1, 12, 12))
    assert type(again) is type(t) and again.spec == t.spec
    with pytest.raises(NotInvertibleError):
        t.inverse()


@pytest.mark.parametrize("make, match", [
    (lambda: Posterize(levels=1), "levels must be an integer >= 2"),
    (lambda: Blur(size=4), "size must be an odd integer"),
    (lambda: Blur(size=0), "size must be an integer >= 1"),
    (lambda: GaussianNoise(sigma=-0.1), "sigma"),
    (lambda: Jpeg(quality=0), "quality must be an integer >= 1"),
    (lambda: Jpeg(quality=101), "quality"),
    (lambda: Occlude((1, 8, 8), fraction=1.5), "fraction"),
    (lambda: Sharpen(amount=-1), "amount"),
    (lambda: Sharpen(amount=float("nan")), "amount"),
])  # fmt: skip
def test_bad_options_are_refused_naming_the_parameter(make, match):
    with pytest.raises(ParameterError, match=match):
        make()


def test_pixelate_refuses_sides_that_its_blocks_do_not_divide():
    with pytest.raises(ShapeError, match="divisible by size=5"):
        Pixelate((1, 12, 12), size=5)
    with pytest.raises(ShapeError, match="divisible by size=5"):
        pixelate(levels(), size=5)
    with pytest.raises(ShapeError, match="built for"):
        Pixelate((1, 12, 12), size=4)(levels((1, 1, 8, 8)))
