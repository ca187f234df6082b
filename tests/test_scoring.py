import math

import pytest
import torch

from pixinfo import score
from pixinfo.data import load_dataset
from pixinfo.info import Kernel
from pixinfo.scoring import score_table, to_frame
from pixinfo.transforms import DEFAULT_TRANSFORMS, build_transform


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def default_scores(digits):
    transforms = [build_transform(s, shape=digits.image_shape) for s in DEFAULT_TRANSFORMS]
    return {s.transform.split(":")[0]: s for s in score_table(transforms, digits, kernel=Kernel("exponential", scale=1.5))}


def test_identity_keeps_everything(default_scores):
    s = default_scores["identity"]
    assert s.structural_retention == pytest.approx(1.0)
    assert s.content_retention == pytest.approx(1.0)
    assert s.value_nmi == pytest.approx(1.0) and s.value_spearman == pytest.approx(1.0)
    assert s.n_images == 1797 and s.shared_key


def test_permutations_lose_structure_but_only_the_fixed_one_keeps_a_key(default_scores):
    fixed, fresh = default_scores["permutation"], default_scores["per-image-permutation"]
    assert fixed.structural_retention < 0.8 and fresh.structural_retention < 0.8
    assert abs(fixed.content_transformed) < 0.2 * default_scores["identity"].content_original
    assert fixed.shared_key and not fresh.shared_key
    assert fixed.value_nmi == pytest.approx(1.0)  # aligned by the shared key: values intact
    assert fresh.value_nmi < 0.1  # no key to align by
    assert fresh.structural_maps == 64 and fresh.map_source == "sampled per-image maps"


def test_negative_keeps_structure_and_reverses_ranks(default_scores):
    s = default_scores["negative"]
    assert s.structural_retention == pytest.approx(1.0)
    assert s.content_retention == pytest.approx(1.0, abs=1e-5)
    assert s.value_nmi == pytest.approx(1.0) and s.value_spearman == pytest.approx(-1.0)


def test_user_callable_is_probed_without_declaring_a_map(digits):
    def roll3(x):
        return torch.roll(x, 3, dims=-1)

    s = score(roll3, digits)
    assert s.transform == "roll3" and s.map_source == "probed" and s.shared_key
    assert 0 < s.structural_retention < 1
    assert s.value_nmi == pytest.approx(1.0)


def test_keyless_black_box_has_no_structural_score(digits):
    def noise(x):
        return torch.rand_like(x)

    s = score(noise, digits.test)
    assert not s.shared_key and math.isnan(s.structural_retention) and s.map_source.startswith("none")
    assert abs(s.value_nmi) < 0.05


def test_frame_and_dict(default_scores):
    frame = to_frame(list(default_scores.values()))
    assert list(frame["transform"])[0] == "identity" and len(frame) == 4
    assert set(default_scores["negative"].to_dict()) == set(frame.columns)


def test_shape_changing_transform_rejected(digits):
    with pytest.raises(ValueError):
        score(lambda x: x[..., :-1], digits.test)
