"""The analysis scripts' shared options (analyses/_experiment.py): per-model ``--epochs``,
``--max-train`` and ``--batch-size``, and how a table's introduction describes the training."""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ANALYSES = Path(__file__).resolve().parents[1] / "analyses"


@pytest.fixture(scope="module")
def experiment(analysis):
    return analysis("_experiment")


def _parser(experiment):
    p = argparse.ArgumentParser()
    experiment.add_common_arguments(p, experiment="test", quick_help="")
    return p


@pytest.mark.parametrize(("text", "expected"), [("5", (None, 5)), ("cnn=2", ("cnn", 2)), ("mlp=10000", ("mlp", 10000))])
def test_model_value_parses_a_plain_or_a_per_model_value(experiment, text, expected):
    assert experiment.model_value(text) == expected


@pytest.mark.parametrize(("text", "message"), [("cnnn=2", "unknown model 'cnnn'"), ("cnn=two", "integer N"),
                                               ("0", ">= 1"), ("cnn=-1", ">= 1"), ("", "integer N")])
def test_model_value_refuses_bad_values(experiment, text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        experiment.model_value(text)


@pytest.mark.parametrize(("argv", "cnn", "mlp"), [
    ([], {}, {}),
    (["--epochs", "3"], {"epochs": 3}, {"epochs": 3}),
    (["--epochs", "3", "cnn=2"], {"epochs": 2}, {"epochs": 3}),
    (["--epochs", "mlp=5", "cnn=2", "--max-train", "cnn=10000"], {"epochs": 2, "max_train": 10000}, {"epochs": 5}),
    (["--max-train", "500"], {"max_train": 500}, {"max_train": 500}),
    (["--batch-size", "64", "mlp=32"], {"batch_size": 64}, {"batch_size": 32}),
])  # fmt: skip
def test_recipe_overrides_apply_per_model(experiment, argv, cnn, mlp):
    args = _parser(experiment).parse_args(argv)
    assert experiment.recipe_overrides(args, "cnn") == cnn
    assert experiment.recipe_overrides(args, "mlp") == mlp


def test_a_preset_int_applies_to_every_model(experiment):
    args = argparse.Namespace(epochs=4, max_train=None, batch_size=None)
    assert experiment.recipe_overrides(args, "cnn") == {"epochs": 4}


def test_a_model_given_twice_is_refused(experiment, capsys):
    with pytest.raises(SystemExit):
        _parser(experiment).parse_args(["--epochs", "cnn=2", "cnn=3"])
    assert "cnn given twice" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _parser(experiment).parse_args(["--max-train", "5", "7"])
    assert "a plain N given twice" in capsys.readouterr().err


def test_a_value_for_a_model_not_trained_is_refused(experiment, capsys):
    p = _parser(experiment)
    args = p.parse_args(["--epochs", "3", "mlp=5"])
    experiment.check_model_values(p, args, ["mlp", "cnn"])  # accepted
    with pytest.raises(SystemExit):
        experiment.check_model_values(p, args, ["cnn", "lenet"])
    assert "--epochs: mlp not among the models trained (cnn, lenet)" in capsys.readouterr().err
    args = p.parse_args(["--batch-size", "vit=128"])
    with pytest.raises(SystemExit):
        experiment.check_model_values(p, args, ["cnn"])
    assert "--batch-size: vit not among the models trained (cnn)" in capsys.readouterr().err


@pytest.mark.parametrize(("max_train", "n_train", "note"), [
    ([None, None], [60000, 60000], ""),
    ([1000, 1000], [1000, 1000], " on a seeded subset of 1,000 training images"),
    ([1000, None], [1000, 60000], " on a seeded subset of 1,000 training images (some runs on all)"),
    ([100000, 100000], [60000, 60000], ""),  # at least the dataset's size: all of it
    ([100000, 1000], [60000, 1000], " on a seeded subset of 1,000 training images (some runs on all)"),
    ([1000, 2000], [None, None], " on a seeded subset of 1,000 / 2,000 training images"),  # records without n_train
])  # fmt: skip
def test_training_note_reads_the_images_each_run_trained_on(experiment, max_train, n_train, note):
    runs = pd.DataFrame({"max_train": pd.Series(max_train, dtype=object), "n_train": n_train})
    assert experiment.training_note(runs) == note
    if all(n is None for n in n_train):
        assert experiment.training_note(runs.drop(columns="n_train")) == note


def test_training_by_model_names_each_family_only_when_they_differ(experiment):
    alike = pd.DataFrame({"model": ["cnn", "mlp"], "epochs": [5, 5], "max_train": [None, None], "n_train": [60000] * 2})
    assert experiment.training_by_model(alike) == "epochs [5]"
    differ = alike.assign(epochs=[2, 5], max_train=pd.Series([10000, None], dtype=object), n_train=[10000, 60000])
    assert (experiment.training_by_model(differ)
            == "cnn: epochs [2] on a seeded subset of 10,000 training images; mlp: epochs [5]")


@pytest.mark.parametrize(("models", "batches", "note"), [
    (["vit", "cnn"], [512, 128], ""),  # each its recipe's batch size
    (["vit", "vit"], [128, 128], " in batches of 128"),
    (["vit", "cnn"], [128, 128], " in batches of 128"),
    (["cnn", "mlp"], [64, 128], " in batches of 64 / 128"),
])  # fmt: skip
def test_training_note_names_a_batch_size_other_than_the_recipes(experiment, models, batches, note):
    runs = pd.DataFrame({"model": models, "batch_size": batches, "max_train": [None, None], "n_train": [60000] * 2})
    assert experiment.training_note(runs) == note
    assert experiment.training_note(runs.assign(max_train=[1000, 1000], n_train=[1000, 1000])) == (
        " on a seeded subset of 1,000 training images" + note)


@pytest.mark.parametrize(("devices", "precisions", "note"), [
    (["cpu: a"] * 2, ["fp32", "fp32"], "cpu: a, fp32"),
    (["cpu: a", "cpu: a", "cpu: b"], ["fp32", "fp32", "bf16"], "cpu: a, fp32 (2 runs); cpu: b, bf16 (1 runs)"),
    (["cpu: a", "cpu: a"], ["fp32", "bf16"], "cpu: a, bf16 (1 runs); cpu: a, fp32 (1 runs)"),
    (["cpu: a"], [None], "cpu: a, precision not recorded"),
])  # fmt: skip
def test_devices_note_names_each_device_with_its_precision(experiment, devices, precisions, note):
    runs = pd.DataFrame({"device_name": devices, "precision_used": precisions})
    assert experiment.devices_note(runs) == note
    assert experiment.devices_note(runs.drop(columns="precision_used")).count("precision not recorded") == len(
        set(devices))


def test_per_model_epochs_reach_the_records_and_the_table(tmp_path):
    """End to end: ``--epochs cnn=1 mlp=2 --batch-size mlp=64`` trains each family for its own
    number of epochs, in its own batches."""
    args = [sys.executable, str(ANALYSES / "rvt_accuracy_table.py"), "--quick", "--no-progress", "--models", "cnn",
            "mlp", "--columns", "origin", "--epochs", "cnn=1", "mlp=2", "--batch-size", "mlp=64", "--results", str(tmp_path / "runs"),
            "--out-dir", str(tmp_path / "out"), "--figure-dir", str(tmp_path / "fig")]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    configs = [r["config"] for r in map(json.loads, map(Path.read_text, (tmp_path / "runs").glob("train-*.json")))]
    assert {c["model"]: (c["epochs"], c["batch_size"]) for c in configs} == {"cnn": (1, 128), "mlp": (2, 64)}
    refused = subprocess.run([*args[:-6], "--epochs", "lenet=1", *args[-6:]], capture_output=True, text=True,
                             check=False, timeout=300)  # fmt: skip
    assert refused.returncode == 2 and "lenet not among the models trained" in refused.stderr


@pytest.mark.parametrize("setup", ["cnn", "cnn:", ":digits", "cnn:digits:extra"])
def test_fooling_images_refuses_a_setup_that_is_not_model_colon_dataset(setup):
    done = subprocess.run([sys.executable, str(ANALYSES / "fooling_images.py"), "--quick", "--setups", setup],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 2
    assert f"--setups: each must be MODEL:DATASET, e.g. cnn:fashion-mnist; got {setup!r}" in done.stderr


@pytest.mark.parametrize(("argv", "results", "out", "figures"), [
    ([], "{user}/runs", "{user}", "{user}/figures"),
    (["--from-records"], "{runs}", "{user}", "{user}/figures"),
    (["--in-repo"], "{runs}", "{repo}/analyses/results", "{repo}/paper_figures"),
    (["--from-records", "--results", "mine"], "mine", "{user}", "{user}/figures"),
])  # fmt: skip
def test_analyses_write_to_a_folder_of_the_users_unless_asked(experiment, monkeypatch, argv, results, out, figures):
    monkeypatch.setenv("PIXINFO_RESULTS", "/tmp/elsewhere")
    args = experiment.apply_preset(_parser(experiment).parse_args(argv), {"full": {}, "quick": {}})
    where = {"user": "/tmp/elsewhere/test", "runs": str(experiment.RUNS / "test"), "repo": str(experiment.ROOT)}
    assert (args.results, args.out_dir, args.figure_dir) == tuple(p.format(**where) for p in (results, out, figures))
