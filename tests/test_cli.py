import json
import subprocess
import sys

import pandas as pd

from pixinfo.cli import main, parse_kernel
from pixinfo.info import Kernel


def test_score_writes_table_json_and_csv(tmp_path, capsys):
    code = main(["score", "--dataset", "digits", "--out", str(tmp_path), "--no-progress", "--max-images", "300"])
    assert code == 0
    out = capsys.readouterr().out
    for name in ("identity", "vortex:seed=0,n=10", "block:size=4", "permutation:seed=0",
                 "per-image-permutation:seed=0", "negative", "xor:bits=8", "xor-per-image:bits=8"):
        assert name in out
    assert next(tmp_path.glob("score-digits-*.png")).read_bytes()[:4] == b"\x89PNG"  # the chart of the measures
    (json_path,) = tmp_path.glob("score-digits-*.json")
    record = json.loads(json_path.read_text())
    assert record["config"]["dataset"] == "digits" and record["config"]["n_images"] == 300
    assert record["config"]["seed"] == 0 and record["config"]["kernel"]["family"] == "exponential"
    env = record["environment"]
    assert {"torch", "numpy", "python", "git", "device"} <= set(env) and "commit" in env["git"]
    assert len(record["results"]) == 8
    frame = pd.read_csv(json_path.with_suffix(".csv"))
    assert frame.loc[frame["transform"] == "identity", "structural_retention"].item() == 1.0


def test_custom_transform_and_kernel(tmp_path, capsys):
    code = main([
        "score", "--dataset", "digits", "--transform", "negative", "--kernel", "power:scale=3,cutoff=4",
        "--out", str(tmp_path), "--no-progress", "--split", "test",
    ])  # fmt: skip
    assert code == 0
    record = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert record["config"]["transforms"] == ["negative"] and record["config"]["kernel"]["cutoff"] == 4.0
    assert record["config"]["n_images"] == 360


def test_errors_exit_2_with_message(tmp_path, capsys):
    assert main(["score", "--dataset", "digits", "--transform", "bogus", "--out", str(tmp_path)]) == 2
    assert "unknown transform" in capsys.readouterr().err
    assert main(["score", "--dataset", "mnist", "--root", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "not found" in capsys.readouterr().err


def test_parse_kernel():
    assert parse_kernel("gaussian:scale=1.5,cutoff=3") == Kernel("gaussian", scale=1.5, cutoff=3)


def test_console_entry_point_runs():
    done = subprocess.run([sys.executable, "-m", "pixinfo.cli", "transforms"], capture_output=True, text=True, check=True)
    assert "per-image-permutation" in done.stdout
    done = subprocess.run([sys.executable, "-m", "pixinfo.cli", "datasets"], capture_output=True, text=True, check=True)
    assert "digits" in done.stdout and "ok:" in done.stdout


def test_score_vortex_by_name_on_the_default_dataset(tmp_path, capsys):
    code = main([
        "score", "--transform", "vortex:authors", "--transform", "block:size=4,shuffle_within=true",
        "--max-images", "200", "--n-boot-value", "2", "--out", str(tmp_path), "--no-progress",
    ])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "vortex:authors=mnist,n=10" in out and "block:size=4,shuffle_within=true,seed=0" in out
    frame = pd.read_csv(next(tmp_path.glob("*.csv")))
    assert 0.8 < frame.loc[0, "structural_retention"] < 0.95
    assert frame.loc[1, "value_nmi_low"] <= frame.loc[1, "value_nmi"] <= frame.loc[1, "value_nmi_high"]


def test_gallery_script_smoke(tmp_path):
    script = __import__("pathlib").Path(__file__).resolve().parents[1] / "analyses" / "transform_gallery.py"
    done = subprocess.run(
        [sys.executable, str(script), "--max-images", "60", "--n-boot-value", "0", "--figure-dir", str(tmp_path), "--out-dir", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "transform_gallery.png").stat().st_size > 10_000
    assert (tmp_path / "transform_measures.png").stat().st_size > 10_000
    frame = pd.read_csv(tmp_path / "transform_measures.csv")
    assert set(frame["dataset"]) >= {"mnist-5k"} and frame["structural_retention"].between(0, 1.0000001).all()


def test_train_semantic_fool_pipeline(tmp_path, capsys):
    import json

    from pixinfo.cli import main
    from pixinfo.files import cache_dir

    out = tmp_path / "train"
    assert main(["train", "--dataset", "digits", "--model", "cnn", "--epochs", "4", "--batch-size", "64",
                 "--out", str(out), "--save-model", "--no-progress"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "final test accuracy" in printed
    (record,) = out.glob("*.json")
    model = cache_dir("models") / json.loads(record.read_text())["model_file"]
    assert f"model: {model}" in printed and model.is_file()
    assert main(["train", "--dataset", "digits", "--model", "lenet", "--out", str(out)]) == 2
    assert "at least 12x12" in capsys.readouterr().err

    assert main(["semantic", "--model", str(model), "--dataset", "digits", "--split", "test",
                 "--transform", "negative", "--out", str(tmp_path)]) == 0  # fmt: skip
    table = capsys.readouterr().out
    assert "identity" in table and "negative" in table
    (sem,) = tmp_path.glob("semantic-digits-*.json")
    rows = {r["transform"]: r["accuracy"] for r in json.loads(sem.read_text())["results"]}
    assert rows["negative"] < rows["identity"]

    assert main(["fool", "--model", str(model), "--encoding", "direct", "--target", "0.9", "--population", "30",
                 "--generations", "40", "--out", str(tmp_path), "--no-progress"]) == 0  # fmt: skip
    (fool,) = tmp_path.glob("fool-direct-*.json")
    assert len(json.loads(fool.read_text())["results"]["confidences"]) == 10


def test_train_options_are_generated_from_every_config_field():
    import dataclasses

    from pixinfo.cli import build_parser
    from pixinfo.train import TrainConfig

    (train_parser,) = [a for a in build_parser()._subparsers._group_actions[0].choices.items() if a[0] == "train"]
    dests = {a.dest for a in train_parser[1]._actions}
    assert {f"cfg_{f.name}" for f in dataclasses.fields(TrainConfig)} <= dests
    assert {"recipe", "resume", "reuse", "save_model"} <= dests


def test_train_recipe_and_explicit_options(tmp_path, capsys):
    import json

    from pixinfo.cli import main

    out = tmp_path / "train"
    argv = ["train", "--recipe", "mlp", "--dataset", "digits", "--epochs", "1", "--momentum", "0.5",
            "--augment", "none", "--no-flip", "--test-flip", "--model-options", '{"hidden": [32]}',
            "--out", str(out), "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    (record,) = out.glob("*.json")
    config = json.loads(record.read_text())["config"]
    assert (config["model"], config["batch_size"], config["momentum"], config["augment"]) == ("mlp", 128, 0.5, "none")
    assert config["test_flip"] is True and config["model_options"] == {"hidden": [32]}
    assert main(["train", "--recipe", "mlp", "--model", "cnn", "--dataset", "digits", "--out", str(out)]) == 2
    assert "disagree" in capsys.readouterr().err
