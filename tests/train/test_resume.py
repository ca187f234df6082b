"""Interrupt-safe runs: checkpoints every epoch, bit-identical resume, records never reused when incomplete."""

import json

import pytest

from pixinfo.errors import CorruptFileError
from pixinfo.train import TrainConfig, checkpoint_path, find_record, model_path, train

# every source of randomness a resumed run must restore: shuffling, crops, flips, RICAP (NumPy),
# fresh per-image keys (the transform's own generator), and the weight average
CONFIG = TrainConfig(dataset="digits", model="cnn", epochs=3, batch_size=64, crop_pad=1, flip=True, ricap_beta=0.3,
                     transform="per-image-permutation", per_image_keys="fresh", ema_decay=0.9, seed=3)  # fmt: skip


class Stop(Exception):
    pass


def _stop_after(epochs):
    def on_epoch(row):
        if row["epoch"] == epochs:
            raise Stop

    return on_epoch


def test_interrupted_then_resumed_run_is_bit_identical(digits, tmp_path):
    whole = train(CONFIG, results_dir=tmp_path / "whole", progress=False, data=digits)
    assert not checkpoint_path(CONFIG).exists()  # a finished run leaves no checkpoint behind

    with pytest.raises(Stop):
        train(CONFIG, results_dir=tmp_path / "parts", progress=False, data=digits, on_epoch=_stop_after(1))
    assert checkpoint_path(CONFIG).is_file()
    assert find_record(CONFIG, tmp_path / "parts") is None  # no record for an unfinished run
    resumed = train(CONFIG, results_dir=tmp_path / "parts", resume=True, progress=False, data=digits)

    assert resumed.record["results"]["weights_sha256"] == whole.record["results"]["weights_sha256"]
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in whole.history]
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in resumed.history] == strip
    assert not checkpoint_path(CONFIG).exists()


def test_without_resume_an_old_checkpoint_is_ignored(digits, tmp_path):
    config = TrainConfig(**{**CONFIG.to_dict(), "epochs": 2})
    with pytest.raises(Stop):
        train(config, results_dir=tmp_path, progress=False, data=digits, on_epoch=_stop_after(1))
    fresh = train(config, results_dir=tmp_path, progress=False, data=digits)
    assert [r["epoch"] for r in fresh.history] == [1, 2]


def test_tampered_checkpoint_is_a_typed_error(digits, tmp_path):
    config = TrainConfig(**{**CONFIG.to_dict(), "epochs": 2})
    with pytest.raises(Stop):
        train(config, results_dir=tmp_path, progress=False, data=digits, on_epoch=_stop_after(1))
    path = checkpoint_path(config)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CorruptFileError, match=str(path.name)):
        train(config, results_dir=tmp_path, resume=True, progress=False, data=digits)


@pytest.mark.parametrize("damage", ["delete", "truncate", "replace"])
def test_record_whose_model_is_missing_or_damaged_is_not_reused(digits, tmp_path, damage):
    config = TrainConfig(dataset="digits", model="mlp", epochs=1, batch_size=64)
    first = train(config, results_dir=tmp_path, save_model=True, progress=False, data=digits)
    assert find_record(config, tmp_path, need_model=True) is not None
    saved = model_path(config)
    if damage == "delete":
        saved.unlink()
    elif damage == "truncate":
        saved.write_bytes(saved.read_bytes()[:200])
    else:
        saved.write_bytes(b"not a model")
    assert find_record(config, tmp_path, need_model=True) is None
    assert find_record(config, tmp_path) is not None  # the accuracy record itself is complete
    again = train(config, results_dir=tmp_path, reuse=True, save_model=True, progress=False, data=digits)
    assert again.record["created"] >= first.record["created"] and again.model is not None
    assert json.loads(again.path.read_text())["model_sha256"] == again.record["model_sha256"]


def test_records_and_models_are_written_whole(digits, tmp_path):
    config = TrainConfig(dataset="digits", model="mlp", epochs=1, batch_size=64)
    train(config, results_dir=tmp_path, save_model=True, progress=False, data=digits)
    leftovers = [p.name for p in [*tmp_path.iterdir(), *model_path(config).parent.iterdir()] if p.suffix == ".tmp"]
    assert leftovers == []
