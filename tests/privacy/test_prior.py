"""Attacks with a public prior (threat model "prior"): ciphertexts of the digits' training split,
public plain images from their test split (disjoint), scored on other test images."""

import numpy as np
import pytest
import torch

from pixinfo.errors import ParameterError, ShapeError, UnsupportedSchemeError, ValueRangeError
from pixinfo.privacy import RecoveredKey, ThreatModel, attack, gather_key, recovery_measures
from pixinfo.transforms import Identity, LevelMap, XorKey
from pixinfo.privacy.prior import (LinearFill, attack_block_cipher_prior, attack_rearrangement_prior,
                                   attack_values_prior, fill_model)
from pixinfo.transforms import build_transform


def _prior_attack(digits, spec, n=1437):
    t = build_transform(spec, shape=digits.image_shape, dataset="digits")
    public, held = digits.test.images[:240], digits.test.images[240:]
    key = attack(t, t(digits.train.images[:n]), public=public)
    return key, recovery_measures(key=key, transform=t, original=held, prior=public)


@pytest.mark.parametrize("spec", ["permutation:seed=0", "swaps:k=20,seed=1", "block:size=2,shuffle_within=true,rotate=true"])
def test_rearrangements_are_recovered(digits, spec):
    """Without a symmetry to choose: the sources come back in place (measured 0.88-1.0 on 8x8 digits)."""
    key, m = _prior_attack(digits, spec)
    assert key.found and key.info["threat"] == "prior"
    assert m["exact_sources"] >= 0.8 and m["exact"] == m["exact_prior"] and m["ssim_prior"] > 0.8


@pytest.mark.parametrize(("spec", "threshold"), [("xor:bits=8", 0.9), ("pixel-based", 0.95), ("xor:bits=1", 0.9)])
def test_value_keys_are_recovered(digits, spec, threshold):
    key, m = _prior_attack(digits, spec)
    assert key.found and isinstance(key.decryption, XorKey) and m["exact"] >= threshold


def test_level_maps_decrypt_close_to_the_originals(digits):
    for spec in ("level-permutation", "monotone"):
        key, m = _prior_attack(digits, spec)
        assert isinstance(key.decryption, LevelMap) and m["ssim_prior"] > 0.8, (spec, m)


@pytest.mark.parametrize("spec", ["per-image-permutation", "xor-per-image:bits=8", "instahide", "pixel-based-per-image"])
def test_keyless_schemes_recover_nothing(digits, spec):
    """A fresh key per image leaves no shared statistics: nothing found, decryption is the identity."""
    key, m = _prior_attack(digits, spec)
    assert not key.found and isinstance(key.inverse(), Identity) and m["ssim_prior"] < 0.3
    x = digits.test.images[:4]
    assert torch.equal(key.decrypt(x), x)


def test_blind_attacks_say_so(digits):
    t = build_transform("permutation:seed=0", shape=digits.image_shape)
    assert attack(t, t(digits.train.images[:300])).info["threat"] == "blind"


def test_copies_are_merged_and_lost_sources_filled(digits):
    """A non-bijective key (two positions copy one source): the copies share an estimated source and
    the lost source is predicted from the public images, not left as another pixel's value."""
    index = torch.arange(64)
    index[27], index[36] = 28, 28  # sources 27 and 36 are lost, 28 is copied thrice
    gather = build_transform("permutation:seed=3", shape=digits.image_shape).gather_map(digits.image_shape)
    gather = index[gather]  # then a keyed permutation of the positions
    cipher = digits.train.images.flatten(2)[..., gather].reshape(-1, 1, 8, 8)
    key = attack_rearrangement_prior(cipher, public=digits.test.images)
    # the digits' always-blank positions are copies of one another too: they are filled alike
    assert key.fill is not None and {27, 36} <= set(key.fill.lost.tolist()) and key.info["filled"] == len(key.fill.lost)
    copies = np.flatnonzero((gather == 28).numpy())
    assert len(copies) == 3 and (key.sources[copies] == 28).all()
    plain = digits.test.images[:50]
    decrypted = key.decrypt(plain.flatten(2)[..., gather].reshape(-1, 1, 8, 8)).flatten(2).double()
    error = (decrypted[..., [27, 36]] - plain.flatten(2)[..., [27, 36]].double()).abs().mean()
    spread = (plain.flatten(2)[..., [27, 36]].double() - plain.flatten(2)[..., [27, 36]].double().mean(0)).abs().mean()
    assert error < spread  # better than the mean image


def test_fill_model_predicts_a_copy():
    """Up to the ridge's shrinkage (a level or two): a fill that ignored the known pixels would miss by ~64."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (200, 3)).astype(float)
    x = np.concatenate([x, x[:, :1]], 1)  # position 3 repeats position 0
    fill = fill_model(x, np.array([0, 1, 2]))
    out = fill.apply(torch.as_tensor(x[:5, None], dtype=torch.uint8))
    assert isinstance(fill, LinearFill) and np.abs(out[:, 0, 3].double().numpy() - x[:5, 0]).max() <= 2


def test_prior_inputs_are_checked(digits):
    x = digits.train.images[:100]
    with pytest.raises(ShapeError, match="public"):
        attack_rearrangement_prior(x, public=torch.zeros(20, 1, 4, 4, dtype=torch.uint8))
    with pytest.raises(ShapeError, match="public"):
        attack_rearrangement_prior(x, public=x[:3])
    with pytest.raises(ShapeError, match="ciphertexts"):
        attack_values_prior(x[:2], public=x, scheme="xor")
    with pytest.raises(ParameterError, match="bins"):
        attack_rearrangement_prior(x, public=x, bins=0)
    with pytest.raises(ValueRangeError, match="scheme"):
        attack_values_prior(x, public=x, scheme="rot13")
    with pytest.raises(UnsupportedSchemeError, match="prior"):
        t = build_transform("permutation+xor:bits=8", shape=(1, 8, 8))
        attack(t, x, public=x)


def test_threat_models_are_checked():
    assert ThreatModel("known-plaintext", pairs=16).label == "known-plaintext (16 pairs)"
    assert ThreatModel.parse(ThreatModel("prior")) == ThreatModel("prior")
    with pytest.raises(ParameterError, match="kind"):
        ThreatModel("omniscient")
    with pytest.raises(ParameterError, match="public_images"):
        ThreatModel("prior", public_images=0)
    with pytest.raises(ParameterError, match="threat"):
        ThreatModel.parse(3)


def test_recovered_key_without_fill_is_a_plain_gather():
    key = RecoveredKey(gather_key(np.array([1, 0, 3, 2]), shape=(2, 2)))
    x = torch.arange(4, dtype=torch.uint8).reshape(1, 1, 2, 2)
    assert key.decrypt(x).flatten().tolist() == [1, 0, 3, 2]


@pytest.mark.parametrize(("spec", "measure", "threshold"), [("etc:size=2", "exact_sources", 0.75), ("learnable:size=4", "exact", 0.9)])
def test_literature_block_ciphers_fall_to_the_prior(digits, spec, measure, threshold):
    """EtC (block-wise negation undone by mirrored distributions, then a rearrangement) and Tanaka's
    4-bit scramble (one assignment of the half-slots): keys recovered, decryptions close."""
    key, m = _prior_attack(digits, spec)
    assert key.found and m[measure] >= threshold and m["ssim_prior"] > 0.8, m


def test_block_cipher_prior_needs_grey_images(digits):
    x = digits.train.images[:50].expand(-1, 3, -1, -1)
    with pytest.raises(ShapeError, match="grey"):
        attack_block_cipher_prior(x, public=x, size=2)


def test_block_attacks_check_the_block_size(digits):
    from pixinfo.privacy import attack_nibbles_prior

    x = digits.train.images[:50]
    for attack_fn in (attack_nibbles_prior, attack_block_cipher_prior):
        with pytest.raises(ShapeError, match="block size 3"):
            attack_fn(x, public=x, size=3)
