"""The study's key factor: every shared-key setting again under other key seeds, keys nested in settings."""

import pytest

from pixinfo.transforms import build_transform


def test_key_seeds_vary_every_keyed_setting_once(analysis):
    iva = analysis("info_vs_accuracy")
    base = iva.settings(28)
    keyed = iva.keyed_settings(base, [0, 1, 2], dataset="fashion-mnist", shape=(1, 28, 28))
    for label, (family, spec) in base.items():
        t = build_transform(spec, shape=(1, 28, 28), dataset="fashion-mnist")
        variants = [lab for lab in keyed if iva.split_key(lab)[0] == label]
        assert keyed[label] == (family, spec)  # key 0 keeps the study's label and spec
        assert len(variants) == (3 if t.shared_key and spec != "negative" else 1) + (label == "vortex strength 1.0")
    maps = {build_transform(keyed[f"swaps 25{iva.KEY_SEPARATOR}{k}"][1], shape=(1, 28, 28)).gather_map((1, 28, 28))
            for k in (1, 2)} | {build_transform(base["swaps 25"][1], shape=(1, 28, 28)).gather_map((1, 28, 28))}
    assert len({tuple(m.tolist()) for m in maps}) == 3  # three different keys
    assert keyed[f"vortex strength 1.0{iva.KEY_SEPARATOR}authors"] == ("vortex", "vortex:authors")
    assert iva.split_key("block 4 · key 2") == ("block 4", "2") and iva.split_key("block 4") == ("block 4", "0")


@pytest.mark.parametrize(("spec", "seed", "expected"), [
    ("vortex:seed=0,n=10,strength=0.25", 2, "vortex:seed=2,n=10,strength=0.25"),
    ("block:size=4,shuffle_within=true", 1, "block:size=4,shuffle_within=true,seed=1"),
    ("monotone", 1, "monotone:seed=1"),
])  # fmt: skip
def test_with_key_seed(spec, seed, expected):
    from pixinfo.study import with_key_seed

    assert with_key_seed(spec, seed) == expected


def test_one_key_seed_changes_nothing(analysis):
    iva = analysis("info_vs_accuracy")
    base = iva.settings(28)
    assert iva.keyed_settings(base, [0], dataset="fashion-mnist", shape=(1, 28, 28)) == base


def test_single_image_jigsaw_records(analysis, digits, tmp_path):
    """Blind, one image at a time: block scrambles with intact blocks get a jigsaw record; others none."""
    import argparse
    import json

    import torch

    from pixinfo.runs import RunStore

    kr = analysis("key_recovery")
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    args = argparse.Namespace(test_images=40)
    specs = {"block 2": ("block", "block:size=2"), "block 2 + within": ("block", "block:size=2,shuffle_within=true"),
             "block 2 · key 1": ("block", "block:size=2,seed=1"), "fixed permutation": ("permutation", "permutation")}  # fmt: skip
    kr.jigsaw_all(digits, specs, model, args, RunStore(tmp_path))
    records = list(tmp_path.glob("*.json"))
    assert len(records) == 1
    rec = json.loads(records[0].read_text())
    assert rec["threat"] == "blind-per-image" and rec["spec"] == "block:size=2" and 0 < rec["ssim_prior"] <= 1


def test_key_spread_separates_keys_from_seeds():
    """Losses that differ only between keys put all within-setting variance on the keys."""
    import pandas as pd

    from pixinfo.study import key_spread
    rows = [{"model": "mlp", "setting": s, "key": k, "seed": seed, "shared_key": True,
             "accuracy_loss": base + (3.0 * int(k) if seed == 0 else 0.0) + 0.1 * seed}
            for s, base in (("a", 0.0), ("b", 10.0)) for k in ("0", "1", "2") for seed in (0, 1, 2)
            if k == "0" or seed == 0]  # fmt: skip
    table, text = key_spread(pd.DataFrame(rows))[1:]
    assert "| mlp     | a         | 3.00 (3)" in table and "0.10 (3)" in table
    assert "mlp: 24.2% of the variance" in text  # within-setting variance 9 of total 186 / 5 = 37.2
