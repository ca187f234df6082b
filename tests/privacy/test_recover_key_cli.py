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
    record = json.loads((tmp_path / f"attack-digits-permutation_seed0-{threat}.json").read_text())
    assert record["threat"] == label and record["info"]["threat"] == threat and "git" in record["environment"]
    assert (tmp_path / f"attack-digits-permutation_seed0-{threat}.png").stat().st_size > 5_000
    assert "threat model: " + threat in capsys.readouterr().out
    if threat != "blind":  # the attacker who holds images recovers the permutation
        assert record["measures"]["exact"] > 0.75


def test_recover_key_refuses_a_bad_threat(tmp_path):
    with pytest.raises(SystemExit):
        main(["recover-key", "--transform", "negative", "--dataset", "digits", "--threat", "omniscient", "--out", str(tmp_path)])
