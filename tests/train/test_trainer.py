import json
import os
import subprocess
import sys

import pytest
import torch

from pixinfo.models import ConfigError, load_model
from pixinfo.train import TrainConfig, collect_records, find_record, train
from pixinfo.train.precision import cpu_has_native_bf16

FAST = dict(dataset="digits", model="cnn", epochs=5, batch_size=64)


@pytest.mark.parametrize("transform, floor", [(None, 0.85), ("permutation:seed=0", 0.6)])
def test_tiny_model_learns_original_and_fixed_permutation(digits, transform, floor):
    run = train(TrainConfig(**FAST, transform=transform), results_dir=None, progress=False, data=digits)
    assert run.final_test_acc > floor  # chance is 0.1
    assert run.best_test_acc >= run.final_test_acc
    assert [r["epoch"] for r in run.history] == [1, 2, 3, 4, 5]


def test_per_image_permutation_leaves_little_to_learn(digits):
    original = train(TrainConfig(**FAST), results_dir=None, progress=False, data=digits)
    scrambled = train(TrainConfig(**FAST, transform="per-image-permutation"), results_dir=None, progress=False,
                      data=digits)  # fmt: skip
    assert scrambled.final_test_acc < original.final_test_acc - 0.3


def test_record_round_trip_and_reuse(digits, tmp_path):
    config = TrainConfig(**FAST, transform="vortex:seed=1,n=3")
    run = train(config, results_dir=tmp_path, save_model=True, progress=False, data=digits)
    on_disk = json.loads(run.path.read_text())
    assert on_disk["config"] == config.to_dict()
    assert on_disk["results"]["history"] == run.history
    assert on_disk["environment"]["git"].keys() >= {"commit", "dirty"}
    assert on_disk["transform_key"] == run.record["transform_key"] and len(on_disk["transform_key"]) == 16
    assert find_record(config, tmp_path)["created"] == on_disk["created"]
    frame = collect_records(tmp_path)
    assert frame.loc[0, "final_test_acc"] == run.final_test_acc
    assert frame.loc[0, "transform"] == "vortex:seed=1,n=3"
    # reuse: no training, same record, the saved model predicts as the trained one did
    again = train(config, results_dir=tmp_path, reuse=True, progress=False, data=digits)
    assert again.record["created"] == on_disk["created"]
    x = torch.rand(5, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(again.model(x), run.model(x), atol=1e-6)
    # a different config is not reused
    assert find_record(TrainConfig(**FAST, transform="vortex:seed=2,n=3"), tmp_path) is None


def test_same_seed_same_weights_other_seed_differs(digits):
    config = TrainConfig(**{**FAST, "epochs": 2}, crop_pad=1, flip=True, ricap_beta=0.3)
    a, b = (train(config, results_dir=None, progress=False, data=digits) for _ in range(2))
    c = train(TrainConfig(**{**config.to_dict(), "seed": 1}), results_dir=None, progress=False, data=digits)
    assert a.record["results"]["weights_sha256"] == b.record["results"]["weights_sha256"]
    assert a.history == [dict(r, seconds=a.history[i]["seconds"]) for i, r in enumerate(b.history)]
    assert a.record["results"]["weights_sha256"] != c.record["results"]["weights_sha256"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"model": "alexnet"}, "unknown model"),
        ({"model": "lenet"}, "at least 12x12"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 5000}, "larger than"),
        ({"model_options": {"nonsense": 1}}, "bad parameters"),
        ({"transform": "vortex:authors"}, "authors' key"),
    ],
)
def test_bad_configs_fail_before_training(digits, tmp_path, change, message):
    with pytest.raises((ConfigError, ValueError), match=message):
        train(TrainConfig(**{**FAST, **change}), results_dir=tmp_path, progress=False, data=digits)
    assert not list(tmp_path.iterdir())


def test_wrong_dataset_for_data(digits):
    with pytest.raises(ConfigError, match="config says"):
        train(TrainConfig(**{**FAST, "dataset": "mnist-5k"}), results_dir=None, progress=False, data=digits)


def test_robust_and_negative_training_run(digits):
    run = train(TrainConfig(**FAST, robust_eps=0.1, negative_p=0.5), results_dir=None, progress=False, data=digits)
    assert run.final_test_acc > 0.4


def _run_cli(args, *, env_extra=None, cwd):
    env = dict(os.environ, OMP_NUM_THREADS="1", **(env_extra or {}))
    done = subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_two_gloo_processes_match_one_process(tmp_path):
    # fp32: bf16 autocast (auto on CPUs with native bf16) rounds the two reductions differently
    common = ["train", "--dataset", "digits", "--model", "cnn", "--epochs", "2", "--batch-size", "64",
              "--precision", "fp32", "--save-model", "--no-progress"]  # fmt: skip
    _run_cli([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "pixinfo",
              *common, "--out", str(tmp_path / "ddp")], cwd=tmp_path,
             env_extra={"PIXINFO_CACHE": str(tmp_path / "ddp")})  # fmt: skip
    _run_cli([sys.executable, "-m", "pixinfo", *common, "--out", str(tmp_path / "one")], cwd=tmp_path,
             env_extra={"PIXINFO_CACHE": str(tmp_path / "one")})  # fmt: skip
    (ddp,) = (tmp_path / "ddp").glob("*.json")
    (one,) = (tmp_path / "one").glob("*.json")
    ddp, one = json.loads(ddp.read_text()), json.loads(one.read_text())
    assert ddp["results"]["world_size"] == 2
    digests = ddp["results"]["weights_sha256"]
    assert len(digests) == 2 and digests[0] == digests[1]  # both ranks hold identical weights
    assert ddp["results"]["final_test_acc"] == one["results"]["final_test_acc"]
    a = load_model(next((tmp_path / "ddp" / "models").glob("*.pt"))).state_dict()
    b = load_model(next((tmp_path / "one" / "models").glob("*.pt"))).state_dict()
    for name in a:
        torch.testing.assert_close(a[name], b[name], atol=1e-5, rtol=1e-4)


def test_training_runs_on_the_given_device(digits, device):
    config = TrainConfig(**FAST, device=str(device), crop_pad=1, ricap_beta=0.3)
    run = train(config, results_dir=None, progress=False, data=digits)
    assert next(run.model.parameters()).device.type == device.type
    native = device.type == "cuda" or cpu_has_native_bf16()
    assert run.record["results"]["precision"] == ("bf16" if native else "fp32")
    assert run.final_test_acc > 0.3


def test_test_time_flips_report_the_unflipped_accuracy_beside_them(digits):
    """The history shows what the mirror images add: the un-flipped accuracy of the same logits."""
    from pixinfo.train import evaluate

    run = train(TrainConfig(dataset="digits", model="mlp", epochs=2, device="cpu", test_flip=True),
                results_dir=None, progress=False, data=digits)  # fmt: skip
    rows = run.record["results"]["history"]
    assert all(0 < r["test_acc_no_flip"] <= 1 for r in rows)
    assert run.record["results"]["final_test_acc_no_flip"] == rows[-1]["test_acc_no_flip"]
    net, x, y = run.model.cpu(), digits.test.images, digits.test.labels
    flipped, unflipped = evaluate(net, x, y, test_flip=True), evaluate(net, x, y)
    assert flipped.accuracy_plain == unflipped.accuracy and unflipped.accuracy_plain is None
    assert flipped.accuracy != flipped.accuracy_plain  # mirrored digits change the predictions
    plain = train(TrainConfig(dataset="digits", model="mlp", epochs=1, device="cpu"), results_dir=None,
                  progress=False, data=digits)  # fmt: skip
    assert "test_acc_no_flip" not in plain.record["results"]["history"][0]
    assert "final_test_acc_no_flip" not in plain.record["results"]
