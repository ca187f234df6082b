"""Posterize, blur, pixelate and noise: each against a direct computation, and their refusals."""

import pytest
import torch

from pixinfo.errors import ParameterError, ShapeError
from pixinfo.transforms import (
    Blur,
    GaussianNoise,
    NotInvertibleError,
    Pixelate,
    Posterize,
    box_blur,
    build_transform,
    gaussian_noise,
    pixelate,
    posterize,
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


@pytest.mark.parametrize("spec", ["posterize:levels=4", "blur:size=3", "pixelate:size=4", "noise:sigma=0.2"])
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
