"""The learnable image encryptions: learnable (Tanaka), etc, pixel-based (+ per image), instahide."""

import math

import numpy as np
import pytest
import torch

from pixinfo.errors import DTypeError, ParameterError, ShapeError
from pixinfo.scoring import score
from pixinfo.transforms import (
    EtC,
    InstaHide,
    InverseCipher,
    LearnableEncryption,
    NotInvertibleError,
    PerImagePixelBased,
    PixelBased,
    build_transform,
    gather_pixels,
    load_transform,
    pixel_based,
    split_blocks,
)
from pixinfo.transforms.learnable import instahide_coefficients
from tests.raises import assert_raised_by_pixinfo

# name -> (factory of shape, exact inverse?, shared key?)
NEW = {
    "learnable": (lambda shape, **kw: LearnableEncryption(shape, size=4, **kw), True, True),
    "etc": (lambda shape, **kw: EtC(shape, size=4, **kw), True, True),
    "pixel-based": (lambda shape, **kw: PixelBased(shape, **kw), True, True),
    "pixel-based-per-image": (lambda shape, **kw: PerImagePixelBased(**kw), False, False),
    "instahide": (lambda shape, **kw: InstaHide(k=4, **kw), False, False),
}


def batch(shape, dtype=torch.uint8, device="cpu", n=4, seed=0):
    x = torch.randint(0, 256, (n, *shape), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))
    return (x if dtype == torch.uint8 else x.to(dtype) / 255).to(device)


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_dtype_device_shape_kept_and_inverse_exact(name, channels, dtype, device):
    make, invertible, _ = NEW[name]
    shape = (channels, 8, 12)
    t = make(shape, seed=1).to(device)
    x = batch(shape, dtype, device)
    y = t(x)
    assert y.shape == x.shape and y.dtype == x.dtype and y.device == x.device
    assert not torch.equal(y, x)
    if dtype != torch.uint8:
        assert float(y.min()) >= 0 and float(y.max()) <= 1
    if not invertible:
        with pytest.raises(NotInvertibleError):
            t.inverse()
        return
    inv = t.inverse().to(device)
    assert isinstance(inv, InverseCipher) and inv.inverse() is t and inv.spec == f"inverse({t.spec})"
    back = inv(y)
    if dtype == torch.uint8:
        assert torch.equal(back, x)
    else:
        torch.testing.assert_close(back, x, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", NEW)
def test_same_seed_same_output_other_seed_other_output(name):
    make, _, shared = NEW[name]
    shape = (3, 8, 8)
    x = batch(shape)
    assert torch.equal(make(shape, seed=3)(x), make(shape, seed=3)(x))
    assert not torch.equal(make(shape, seed=3)(x), make(shape, seed=4)(x))
    assert make(shape, seed=3).shared_key is shared
    g = make(shape, generator=torch.Generator().manual_seed(3))
    assert "seed" not in g.spec  # a key drawn from a generator names no seed
    if not shared:  # fresh keys every call, replayable from the seed
        t = make(shape, seed=3)
        assert not torch.equal(t(x), t(x))


@pytest.mark.parametrize("name", NEW)
def test_keys_save_and_load(name, tmp_path):
    make, invertible, shared = NEW[name]
    shape = (3, 8, 8)
    t = make(shape, seed=5)
    back = load_transform(t.save_key(tmp_path / "key.json"))
    assert type(back) is type(t) and back.spec == t.spec
    x = batch(shape)
    assert torch.equal(back(x), t(x) if shared else make(shape, seed=5)(x))
    if invertible:
        inv = load_transform(t.inverse().save_key(tmp_path / "inverse.json"))
        assert isinstance(inv, InverseCipher) and torch.equal(inv(t(x)), x)


@pytest.mark.parametrize("name", NEW)
def test_built_from_a_spec(name):
    t = build_transform(f"{name}:seed=1" + (",size=2" if name in ("learnable", "etc") else ""), shape=(1, 8, 8))
    assert t.name == name and build_transform(t.spec, shape=(1, 8, 8)).spec == t.spec
    x = batch((1, 8, 8))
    if t.shared_key:
        assert torch.equal(build_transform(t.spec, shape=(1, 8, 8))(x), t(x))


# -- learnable ------------------------------------------------------------------------------------
def reference_scramble(x: np.ndarray, block: int, order: np.ndarray) -> np.ndarray:
    """``BlockScramble.doScramble`` of github.com/mastnk/ICCE-TW2018 (key = ``order``), on (N, H, W, C) uint8."""
    n, h, w, c = x.shape
    rev = order > order.size / 2
    x = x.reshape(n, h // block, block, w // block, block, c).transpose(0, 1, 3, 2, 4, 5)
    x = x.reshape(n, h // block, w // block, block * block * c)
    d = block * block * c
    x = np.concatenate((x & 0xF, x >> 4), axis=3)
    x[..., rev] = (15 - x[..., rev].astype(np.int32)).astype(np.uint8)
    x = x[..., order]
    x[..., rev] = (15 - x[..., rev].astype(np.int32)).astype(np.uint8)
    x = (x[..., d:] << 4) + x[..., :d]
    x = x.reshape(n, h // block, w // block, block, block, c).transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(n, h, w, c)


@pytest.mark.parametrize("channels", [1, 3])
def test_learnable_matches_the_reference_code(channels):
    t = LearnableEncryption((channels, 8, 12), size=4, seed=7)
    x = batch((channels, 8, 12))
    expected = reference_scramble(x.permute(0, 2, 3, 1).numpy().copy(), 4, t.key.numpy())
    assert torch.equal(t(x), torch.from_numpy(expected).permute(0, 3, 1, 2))


def test_learnable_key_is_shared_by_all_blocks_and_mixes_halves_across_pixels():
    t = LearnableEncryption((1, 8, 8), size=4, seed=2)
    one = batch((1, 4, 4), n=1)
    tiled = one.repeat(1, 1, 2, 2)  # four identical blocks
    blocks = split_blocks(t(tiled), 4)[0]
    assert all(torch.equal(blocks[0], b) for b in blocks[1:])  # one within-block key for every block
    other = tiled.clone()
    other[0, 0, 4:, 4:] = batch((1, 4, 4), n=1, seed=9)[0, 0]  # the last block changes, the others do not
    changed = (split_blocks(t(other), 4)[0] != blocks).any(1)
    assert changed.tolist() == [False, False, False, True]
    single = tiled.clone()
    single[0, 0, 0, 0] ^= 0xFF  # one pixel of block 0 changes both its halves
    moved = t(single) != t(tiled)  # its two halves land in at most two pixels of the same block
    assert 1 <= int(moved.sum()) <= 2 and int(moved[..., :4, :4].sum()) == int(moved.sum())
    halves = torch.cat([split_blocks(tiled, 4)[0, 0] & 15, split_blocks(tiled, 4)[0, 0] >> 4])
    out = torch.cat([blocks[0] & 15, blocks[0] >> 4])
    flips = t.key > 16
    undone = torch.where(flips, 15 - out, out)[torch.argsort(t.key)]
    assert torch.equal(torch.where(flips, 15 - undone, undone), halves)  # a keyed flip + shuffle of 32 halves


# -- etc ------------------------------------------------------------------------------------------
def test_etc_negates_whole_blocks_and_shuffles_channels_per_block():
    t = EtC((3, 16, 16), size=4, seed=0)
    x = batch((3, 16, 16), n=2)
    y, moved = t(x), t.scramble(x)  # moved: only the block permutation, rotations and flips
    yb, mb = split_blocks(y, 4).reshape(2, 16, 16, 3), split_blocks(moved, 4).reshape(2, 16, 16, 3)
    for j in range(16):
        perm = t.channel_perms[j]
        plain = mb[:, j][..., perm]
        expected = 255 - plain if t.negatives[j] else plain
        assert torch.equal(yb[:, j], expected), j
    assert 0 < int(t.negatives.sum()) < 16
    assert len({tuple(p) for p in t.channel_perms.tolist()}) > 1  # keyed per block
    grey = EtC((1, 16, 16), size=4, seed=0)
    xg = batch((1, 16, 16))
    negated = grey(xg) == 255 - grey.scramble(xg)
    per_block = split_blocks(negated, 4)  # (4 images, 16 blocks, 16 values)
    assert bool((per_block.all(-1) == grey.negatives).all())  # every value of a negated block, none elsewhere
    assert bool((per_block.any(-1) == grey.negatives).all())


def test_etc_gather_map_is_the_block_scramble():
    t = EtC((1, 8, 8), size=2, seed=1)
    assert torch.equal(t.gather_map((8, 8)), t.scramble.index)
    assert torch.equal(t.gather_map((8, 8))[t.inverse().gather_map((8, 8))], torch.arange(64))  # composed: identity
    x = batch((1, 8, 8))
    negated = t.mask.expand_as(x)
    y = t(x)
    assert torch.equal(torch.where(negated, 255 - y, y), gather_pixels(x, t.gather_map((8, 8))))


# -- pixel-based ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fraction", [0.0, 0.25, 0.5, 1.0])
def test_pixel_based_negates_exactly_the_fraction(fraction):
    t = PixelBased((1, 10, 10), fraction=fraction, seed=0)
    x = batch((1, 10, 10))
    negated = t(x) == 255 - x  # x != 255 - x for every integer level
    assert int(negated[0].sum()) == round(fraction * 100)
    assert bool((negated == t.mask).all())  # the same positions in every image: one key


def test_pixel_based_shuffles_the_channels_of_each_pixel():
    t = PixelBased((3, 6, 6), fraction=0.0, seed=0)
    x = batch((3, 6, 6))
    y = t(x)
    assert torch.equal(y.sort(1).values, x.sort(1).values) and not torch.equal(y, x)
    assert len({tuple(p) for p in t.channels.reshape(3, -1).T.tolist()}) > 1  # keyed per pixel
    assert torch.equal(y, pixel_based(x, mask=torch.zeros(1, 6, 6, dtype=torch.bool), channels=t.channels))


def test_per_image_keys_differ_between_images():
    x = batch((1, 8, 8), n=1).expand(3, -1, -1, -1)
    y = PerImagePixelBased(seed=0)(x)
    assert not torch.equal(y[0], y[1]) and bool(((y == x) | (y == 255 - x)).all())
    assert bool(((y == 255 - x).reshape(3, -1).sum(1) == 32).all())


# -- instahide ------------------------------------------------------------------------------------
def test_instahide_mixes_with_capped_coefficients_and_flips_signs():
    lams = instahide_coefficients(500, 4, upper=0.65, generator=torch.Generator().manual_seed(0))
    assert bool(torch.allclose(lams.sum(1), torch.ones(500, dtype=torch.float64))) and float(lams.max()) <= 0.65
    assert float(lams.max()) > 0.6 and float(lams.min()) >= 0
    x = torch.rand(1, 1, 8, 8, dtype=torch.float64).expand(5, -1, -1, -1)
    y = InstaHide(k=3, seed=0)(x)  # a mixture of copies of one image is the image: only the signs remain
    plus, minus = (y - x).abs() < 1e-12, (y - (1 - x)).abs() < 1e-12
    assert bool((plus | minus).all()) and 0.3 < float(minus.double().mean()) < 0.7
    mixed = InstaHide(k=2, seed=0)(torch.stack([torch.zeros(1, 8, 8), torch.ones(1, 8, 8)] * 4))
    assert bool(((mixed - 0.5).abs() <= 0.5).all()) and len(mixed.unique()) > 2  # images of the batch mixed


# -- bad inputs -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make,error,match",
    [
        (lambda: LearnableEncryption((1, 28, 28), size=5), ShapeError, "block size 5 must divide"),
        (lambda: EtC((3, 28, 28), size=3), ShapeError, "block size 3 must divide"),
        (lambda: LearnableEncryption((1, 8, 8), size=0), ParameterError, "size must be an integer >= 1"),
        (lambda: InstaHide(k=1), ParameterError, "k must be an integer >= 2"),
        (lambda: InstaHide(k=2.0), ParameterError, "k must be an integer"),
        (lambda: InstaHide(k=4, upper=0.25), ParameterError, "upper must be a finite number > 0.25"),
        (lambda: PixelBased((1, 8, 8), fraction=1.5), ParameterError, "fraction must be a finite number >= 0"),
        (lambda: PixelBased((1, 8, 8), fraction=-0.1), ParameterError, "fraction"),
        (lambda: PerImagePixelBased(fraction=2), ParameterError, "fraction"),
        (lambda: LearnableEncryption((1, 8, 8), seed="1"), ParameterError, "seed must be an integer"),
        (lambda: EtC((1, 8, 8), seed=1.5), ParameterError, "seed must be an integer"),
        (lambda: PixelBased((1, 8, 8), seed=-1), ParameterError, "seed must be an integer"),
        (lambda: PerImagePixelBased(seed="a"), ParameterError, "seed must be an integer"),
        (lambda: InstaHide(seed=None), ParameterError, "give a seed"),
        (lambda: LearnableEncryption((1, 8, 8), size=2, key=torch.arange(10)), ShapeError, r"key must have shape \(8,\)"),
        (lambda: PixelBased((1, 2, 2), mask=torch.zeros(1, 2, 2, dtype=torch.bool)), ParameterError, "give both"),
        (lambda: PixelBased((1, 2, 2), mask=torch.full((1, 2, 2), 2), channels=torch.zeros(1, 2, 2, dtype=torch.long)),
         DTypeError, "mask must be a bool"),
        (lambda: EtC((1, 4, 4), size=2, negatives=torch.zeros(4)), ParameterError, "give all"),
    ],
)
def test_bad_parameters_raise_typed_errors(make, error, match):
    with pytest.raises(error, match=match) as caught:
        make()
    assert_raised_by_pixinfo(caught.value)


@pytest.mark.parametrize(
    "spec,error",
    [("learnable:size=5", ShapeError), ("etc:size=6", ShapeError), ("instahide:k=1", ParameterError),
     ("pixel-based:fraction=1.5", ParameterError), ("pixel-based-per-image:fraction=nan", ParameterError),
     ("learnable:seed=abc", ParameterError), ("etc:seed=1.5", ParameterError), ("instahide:upper=2", ParameterError),
     ("learnable:k=2", ParameterError)],
)  # fmt: skip
def test_bad_specs_raise_typed_errors(spec, error):
    with pytest.raises(error) as caught:
        build_transform(spec, shape=(1, 28, 28))
    assert_raised_by_pixinfo(caught.value)


def test_images_of_another_shape_are_refused():
    x = batch((3, 8, 8))
    for t in (LearnableEncryption((1, 8, 8)), EtC((1, 8, 8)), PixelBased((1, 8, 8)), PixelBased((3, 4, 4))):
        with pytest.raises(ShapeError, match="keyed for"):
            t(x)
    with pytest.raises(ShapeError, match="block size 4 must divide"):
        LearnableEncryption((3, 8, 8))(batch((3, 6, 6)))


# -- scoring --------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", ["learnable:size=2", "etc:size=4", "pixel-based", "pixel-based-per-image", "instahide"])
def test_score_runs_on_digits(spec, digits):
    images = digits.train.images[:48]
    t = build_transform(spec, shape=tuple(images.shape[1:]))
    s = score(t, images, n_boot=20, n_boot_value=0, max_value_images=48)
    assert s.transform == t.spec and s.shared_key is t.shared_key and s.n_images == 48
    assert math.isfinite(s.content_retention.value) and math.isfinite(s.content_transformed)
    if spec in ("etc:size=4", "pixel-based", "pixel-based-per-image"):  # a declared position map: R exact
        assert s.map_source == "exposed" and 0 < s.structural_retention.value <= 1
    if spec == "pixel-based":
        assert s.structural_retention.value == 1.0  # no pixel moves
    if spec == "instahide":
        assert s.map_source == "none: no shared key" and math.isnan(s.structural_retention.value)
