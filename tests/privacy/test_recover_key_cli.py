"""``pixinfo recover-key`` (alias ``attack``): each threat model from the command line, recorded in the JSON."""

import json

import pytest

from pixinfo.cli import main


@pytest.mark.parametrize(("command", "threat", "extra", "label"), [
    ("recover-key", "prior", ["--public-images", "180"], {"kind": "prior", "public_images": 180, "pairs": None}),
    ("attack", "known-plaintext", ["--pairs", "50"], {"kind": "known-plaintext", "public_images": None, "pairs": 50}),
    ("recover-key", "blind", [], {"kind": "blind", "public_images": None, "pairs": None}),
])  # fmt: skip
def test_recover_key_records_its_threat_model(tmp_path, capsys, command, threat, extra, label):
    code = main([command, "--transform", "permutation:seed=0", "--dataset", "digits", "--threat", threat,
                 "--out", str(tmp_path), *extra])  # fmt: skip
    assert code == 0
    (path,) = tmp_path.glob(f"attack-digits-permutation-seed0-{threat}-*.json")
    record = json.loads(path.read_text())
    assert record["threat"] == label and record["info"]["threat"] == threat and "git" in record["environment"]
    assert record["kind"] == "key-recovery" and path.stem.endswith(record["digest"])
    assert path.with_suffix(".png").stat().st_size > 5_000
    assert "threat model: " + threat in capsys.readouterr().out
    if threat != "blind":  # the attacker who holds images recovers the permutation
        assert record["measures"]["exact"] > 0.75


def test_recover_key_refuses_a_bad_threat(tmp_path):
    with pytest.raises(SystemExit):
        main(["recover-key", "--transform", "negative", "--dataset", "digits", "--threat", "omniscient", "--out", str(tmp_path)])


def test_run_attack_checks_the_threat_models_holdings(tmp_path):
    """A ThreatModel passed in gets the defaults it leaves open; holdings that leave nothing to score,
    or a kind with no recovery run, are refused by name (no silent overlap of pairs and ciphertexts)."""
    from pixinfo.errors import ParameterError
    from pixinfo.privacy import ThreatModel
    from pixinfo.privacy.report import run_attack

    run_attack(spec="permutation:seed=0", dataset="digits", threat=ThreatModel("known-plaintext"), out=tmp_path)
    (path,) = tmp_path.glob("attack-digits-permutation-seed0-known-plaintext-*.json")
    record = json.loads(path.read_text())
    assert record["threat"]["pairs"] == 100 and record["n_images"] == 1437 - 100
    with pytest.raises(ParameterError, match="public_images"):
        run_attack(spec="negative", dataset="digits", threat=ThreatModel("prior", public_images=359), out=tmp_path)
    with pytest.raises(ParameterError, match="pairs"):
        run_attack(spec="negative", dataset="digits", threat=ThreatModel("known-plaintext", pairs=5000), out=tmp_path)
    with pytest.raises(ParameterError, match="threat"):
        run_attack(spec="negative", dataset="digits", threat="chosen-plaintext", out=tmp_path)


def test_colour_pixel_based_pairs_are_not_read_as_an_xor_key():
    """Colour pixel-based encryption also shuffles channels: the pairs attack learns an inverse instead."""
    import torch

    from pixinfo.privacy import attack
    from pixinfo.transforms import build_transform

    x = torch.randint(0, 256, (64, 3, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    t = build_transform("pixel-based:seed=1", shape=(3, 8, 8))
    from pixinfo.privacy import LinearInverse

    assert isinstance(attack(t, t(x), pairs=(x, t(x))).decryption, LinearInverse)


def test_the_seed_is_part_of_the_run_and_checked(tmp_path):
    from pixinfo.data import load_dataset
    from pixinfo.errors import ParameterError
    from pixinfo.privacy import attack
    from pixinfo.transforms import build_transform

    main(["recover-key", "--transform", "permutation:seed=0", "--dataset", "digits", "--seed", "3", "--n-images", "300",
          "--out", str(tmp_path)])  # fmt: skip
    (path,) = tmp_path.glob("attack-digits-permutation-seed0-blind-*.json")
    assert json.loads(path.read_text())["identity"]["seed"] == 3
    t = build_transform("permutation:seed=0", shape=(1, 8, 8))
    with pytest.raises(ParameterError, match="seed"):
        attack(t, t(load_dataset("digits").train.images[:50]), seed=-1)
