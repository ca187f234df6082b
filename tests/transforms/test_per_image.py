"""The per-image twins of the keyed rearrangements: every image gets the key its shared-key twin
would draw from the same generator, options are checked when the transform is built, and the
scoring maps are the maps ``apply`` uses."""

import pytest
import torch

from pixinfo.errors import ParameterError, ShapeError
from pixinfo.scoring import score
from pixinfo.transforms import (
    BlockScramble,
    PartialPermutation,
    PerImageBlockScramble,
    PerImagePartialPermutation,
    PerImageSwaps,
    PerImageVortex,
    RandomSwaps,
    RandomVortex,
    build_transform,
)

SHAPE = (1, 12, 12)
TWINS = [  # (per-image transform, its shared-key twin drawn from a generator)
    (lambda: PerImageBlockScramble(SHAPE, size=3, shuffle_within=True, rotate=True, seed=5),
     lambda g: BlockScramble(SHAPE, size=3, shuffle_within=True, rotate=True, generator=g)),
    (lambda: PerImageSwaps(SHAPE, k=9, seed=5), lambda g: RandomSwaps(SHAPE, k=9, generator=g)),
    (lambda: PerImagePartialPermutation(SHAPE, fraction=0.4, seed=5),
     lambda g: PartialPermutation(SHAPE, fraction=0.4, generator=g)),
    (lambda: PerImageVortex(SHAPE, n=2, strength=2.0, seed=5),
     lambda g: RandomVortex.generate(SHAPE, 2, generator=g, strength=2.0)),
]


def _images(n: int = 5) -> torch.Tensor:
    return torch.randint(0, 256, (n, *SHAPE), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("pair", TWINS, ids=["block", "swaps", "partial", "vortex"])
def test_each_image_gets_the_key_its_twin_draws(pair):
    make, twin = pair
    x = _images()
    y = make()(x)
    g = torch.Generator().manual_seed(5)
    expected = torch.stack([twin(g)(x[i : i + 1])[0] for i in range(len(x))])
    assert torch.equal(y, expected)
    assert not all(torch.equal(y[0], y[i]) for i in range(1, len(x)))  # not one key for all


def test_same_image_twice_gets_two_keys_and_a_permutation_moves_no_value():
    x = _images(1).repeat(2, 1, 1, 1)
    y = PerImageBlockScramble(SHAPE, size=3, seed=0)(x)
    assert not torch.equal(y[0], y[1])
    assert torch.equal(y[0].flatten().sort().values, x[0].flatten().sort().values)


def test_spec_round_trip_and_defaults_left_out():
    t = build_transform("block-per-image:size=3,rotate=true,seed=2", shape=SHAPE)
    assert t.spec == "block-per-image:size=3,rotate=true,seed=2"
    assert build_transform(t.spec, shape=SHAPE).spec == t.spec
    assert build_transform("swaps-per-image", shape=SHAPE).spec == "swaps-per-image:seed=0"


@pytest.mark.parametrize("spec, error", [
    ("block-per-image:size=5", ShapeError),
    ("swaps-per-image:k=-1", ParameterError),
    ("partial-permutation-per-image:fraction=2", ParameterError),
    ("vortex-per-image:n=-1", ParameterError),
    ("vortex-per-image:strength=nan", ParameterError),
])  # fmt: skip
def test_bad_options_raise_when_built(spec, error):
    with pytest.raises(error):
        build_transform(spec, shape=SHAPE)


def test_images_of_another_grid_are_refused():
    t = PerImageSwaps(SHAPE, k=3, seed=0)
    with pytest.raises(ShapeError, match="12, 12"):
        t(torch.zeros(2, 1, 10, 10))


def test_scoring_sees_the_per_image_keys():
    x = _images(64).float() / 255
    shared, fresh = (score(build_transform(s, shape=SHAPE), x) for s in ("block:size=3,seed=0", "block-per-image:size=3"))
    assert shared.shared_key and not fresh.shared_key
    # one block key keeps the same structure whichever key is drawn; the per-image maps average over keys
    assert fresh.structural_retention.value == pytest.approx(shared.structural_retention.value, abs=0.15)
    assert fresh.structural_retention.method != "exact"  # estimated over the sampled per-image maps
