import math

import pytest
import torch

from pixinfo import score
from pixinfo.data import load_dataset
from pixinfo.info import Kernel
from pixinfo.scoring import score_table, to_frame
from pixinfo.transforms import build_transform

SPECS = ("identity", "permutation", "per-image-permutation", "negative")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def default_scores(digits):
    transforms = [build_transform(s, shape=digits.image_shape) for s in SPECS]
    return {s.transform.split(":")[0]: s for s in score_table(transforms, digits, kernel=Kernel("exponential", scale=1.5))}


def test_identity_keeps_everything(default_scores):
    s = default_scores["identity"]
    assert s.structural_retention.value == pytest.approx(1.0)
    assert s.content_retention.value == pytest.approx(1.0)
    assert s.value_nmi.value == pytest.approx(1.0) and s.value_spearman.value == pytest.approx(1.0)
    assert s.n_images == 1797 and s.shared_key


def test_permutations_lose_structure_but_only_the_fixed_one_keeps_a_key(default_scores):
    fixed, fresh = default_scores["permutation"], default_scores["per-image-permutation"]
    assert fixed.structural_retention.value < 0.8 and fresh.structural_retention.value < 0.8
    assert abs(fixed.content_transformed) < 0.2 * default_scores["identity"].content_original
    assert fixed.shared_key and not fresh.shared_key
    assert fixed.content_loss == pytest.approx(1 - fixed.content_retention.value) and fixed.content_loss > 0.8
    assert fixed.value_nmi.value == pytest.approx(1.0)  # aligned by the shared key: values intact
    assert fresh.value_nmi.value < 0.1  # no key to align by
    assert fresh.structural_maps == 64 and fresh.map_source == "sampled per-image maps"


def test_negative_keeps_structure_and_reverses_ranks(default_scores):
    s = default_scores["negative"]
    assert s.structural_retention.value == pytest.approx(1.0)
    assert s.content_retention.value == pytest.approx(1.0, abs=1e-5)
    assert s.value_nmi.value == pytest.approx(1.0) and s.value_spearman.value == pytest.approx(-1.0)


def test_user_callable_is_probed_without_declaring_a_map(digits):
    def roll3(x):
        return torch.roll(x, 3, dims=-1)

    s = score(roll3, digits)
    assert s.transform == "roll3" and s.map_source == "probed" and s.shared_key
    assert 0 < s.structural_retention.value < 1
    assert s.value_nmi.value == pytest.approx(1.0)


def test_keyless_black_box_has_no_structural_score(digits):
    def noise(x):
        return torch.rand_like(x)

    s = score(noise, digits.test)
    assert not s.shared_key and math.isnan(s.structural_retention.value) and s.map_source.startswith("none")
    assert abs(s.value_nmi.value) < 0.05


def test_frame_and_dict(default_scores):
    frame = to_frame(list(default_scores.values()))
    assert list(frame["transform"])[0] == "identity" and len(frame) == 4
    d = default_scores["negative"].to_dict()
    assert set(d) == set(frame.columns)
    assert {"structural_retention_low", "value_nmi_high"} <= set(d)


def test_intervals_cover_the_estimates(default_scores):
    fresh = default_scores["per-image-permutation"]
    r = fresh.structural_retention
    assert r.low < r.value < r.high and r.method.startswith("percentile bootstrap")  # sampled maps
    fixed = default_scores["permutation"].structural_retention
    assert (fixed.low, fixed.high, fixed.method) == (fixed.value, fixed.value, "exact")
    for s in default_scores.values():
        assert s.content_retention.contains(s.content_retention.value)
        assert s.value_spearman.contains(s.value_spearman.value)
    assert fresh.content_retention.high > fresh.content_retention.low


def test_each_interval_has_its_own_random_stream(digits):
    """Changing the value-retention resamples must not move the content or structure intervals."""
    from pixinfo.transforms import PerImagePermutation

    a = score(PerImagePermutation(seed=0), digits.test, n_boot=200, n_boot_value=0, seed=1)
    b = score(PerImagePermutation(seed=0), digits.test, n_boot=200, n_boot_value=5, seed=1)
    assert a.content_retention == b.content_retention and a.structural_retention == b.structural_retention
    assert b.value_nmi.method.endswith(", 5 resamples") and a.value_nmi.method == "no interval"
    assert b.value_nmi.contains(b.value_nmi.value)  # resampling bias does not push the interval off the estimate


def test_bootstrap_is_seeded(digits):
    from pixinfo.transforms import PerImagePermutation

    a = score(PerImagePermutation(seed=0), digits.test, n_boot=200, n_boot_value=3, seed=1)
    b = score(PerImagePermutation(seed=0), digits.test, n_boot=200, n_boot_value=3, seed=1)
    assert a == b


FASHION = pytest.mark.skipif(
    not __import__("pathlib").Path("/usr/share/datasets/fashion-mnist").is_dir(),
    reason="Debian package dataset-fashion-mnist not installed",
)


@pytest.mark.parametrize("dataset", ["mnist-5k", pytest.param("fashion-mnist", marks=FASHION)])
def test_structural_ranking_with_the_authors_key(dataset):
    """identity > vortex > block scrambling > fixed permutation >= per-image permutation."""
    ds = load_dataset(dataset)
    specs = ["identity", "vortex:authors", "block:size=4", "permutation", "per-image-permutation"]
    transforms = [build_transform(s, shape=ds.image_shape, dataset=ds.name) for s in specs]
    scores = score_table(transforms, ds.test.images[:500], n_boot=200, n_boot_value=0, max_maps=256)
    r = [s.structural_retention.value for s in scores]
    assert r[0] > r[1] > r[2] > r[3]
    assert r[3] >= scores[4].structural_retention.low  # fixed >= per-image, within sampling error


def test_shape_changing_transform_rejected(digits):
    with pytest.raises(ValueError):
        score(lambda x: x[..., :-1], digits.test)


def test_score_accepts_spec_strings(digits):
    """As on the command line: a spec is built for the images' shape (and the dataset's name)."""
    by_spec = score("permutation:seed=3", digits, n_boot=5, n_boot_value=0)
    by_object = score(build_transform("permutation:seed=3", shape=digits.image_shape), digits, n_boot=5, n_boot_value=0)
    assert by_spec.structural_retention == by_object.structural_retention and by_spec.transform == by_object.transform


def test_every_registered_measure_is_a_score_field_with_its_loss(default_scores):
    from dataclasses import fields

    from pixinfo.info import MEASURES, measure
    from pixinfo.scoring import ESTIMATES, Score

    names = {f.name for f in fields(Score)}
    assert ESTIMATES == tuple(m.name for m in MEASURES) and set(ESTIMATES) <= names
    s = default_scores["negative"]
    losses = s.losses()
    assert list(losses) == [m.loss for m in MEASURES] and losses["content_loss"] == s.content_loss
    assert losses["value_order_loss"] == pytest.approx(0.0)  # a reversal keeps the order: no loss
    assert measure("value_loss").name == "value_nmi"


def test_a_printed_score_is_a_table_of_every_measure():
    from pixinfo.info import MEASURES
    from pixinfo.scoring import score

    images = torch.randint(0, 256, (12, 1, 8, 8), dtype=torch.uint8)
    sc = score("permutation:seed=0", images, n_boot=10)
    header, row, note = str(sc).splitlines()
    assert all(m.label in header for m in MEASURES)
    assert row.split()[0] == "permutation:seed=0" and f"{sc.structural_retention.value:.3f}" in row
    assert note.startswith("(12 images;")
