"""The analyses' --quick modes (CPU, digits) run end to end and write their tables and figures."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ANALYSES = Path(__file__).resolve().parents[1] / "analyses"


def _run(script: str, tmp_path: Path, *extra: str, out: str = "out") -> None:
    args = [sys.executable, str(ANALYSES / script), "--quick", "--results", str(tmp_path / "runs"),
            "--out-dir", str(tmp_path / out), "--figure-dir", str(tmp_path / "fig"), *extra]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    if out == "out":  # the records alone regenerate the same table, training nothing
        _run(script, tmp_path, *extra, "--from-records", out="again")
        name = {"fooling_images.py": "fooling_images"}.get(script, script[:-3])
        assert (tmp_path / "again" / f"{name}_quick.md").read_text() == (tmp_path / "out" / f"{name}_quick.md").read_text()


def test_rvt_accuracy_table_quick(tmp_path):
    _run("rvt_accuracy_table.py", tmp_path, "--no-progress")
    summary = pd.read_csv(tmp_path / "out" / "rvt_accuracy_table_quick_summary.csv")
    cells = summary.set_index("column")["mean_final"]
    assert cells["origin"] > 40 and cells["random"] < cells["origin"] - 20
    table = (tmp_path / "out" / "rvt_accuracy_table_quick.md").read_text()
    assert re.search(rf"\|\s*digits\s*\|\s*cnn\s*\|\s*{cells['origin']:.2f} \(best", table), table
    assert (tmp_path / "fig" / "rvt_accuracy_table_quick.png").stat().st_size > 5_000


def test_max_train_shrinks_the_training_set_and_the_table_says_so(tmp_path):
    _run("rvt_accuracy_table.py", tmp_path, "--no-progress", "--columns", "origin", "--max-train", "200")
    table = (tmp_path / "out" / "rvt_accuracy_table_quick.md").read_text()
    assert "after the last epoch on a seeded subset of 200 training images," in table, table
    (record,) = [r for r in (tmp_path / "runs").glob("train-*.json")]
    assert '"max_train": 200' in record.read_text() and '"n_train": 200' in record.read_text()


def test_negative_images_quick(tmp_path):
    _run("negative_images.py", tmp_path)
    runs = pd.read_csv(tmp_path / "out" / "negative_images_quick.csv")
    assert set(runs["training"]) >= {"DNN", "robust DNN (ε=0.1)", "negative augmentation", "per-image normalisation"}
    dnn = runs[runs["training"] == "DNN"].iloc[0]
    assert dnn["negative (test)"] < dnn["identity (test)"] - 20
    # each model's evaluation is kept next to its record, so reruns only evaluate new models
    assert len(list((tmp_path / "runs").glob("*.eval-*.json"))) == len(runs)
    assert not list((tmp_path / "runs").glob("*.pt"))  # saved models live in the cache, not with the records
    for name in ("examples", "accuracy", "confusion"):
        assert (tmp_path / "fig" / f"negative_images_{name}_quick.png").stat().st_size > 5_000


def test_fooling_images_quick(tmp_path):
    _run("fooling_images.py", tmp_path)
    evo = pd.read_csv(tmp_path / "out" / "fooling_evolution_quick.csv")
    assert set(evo["encoding"]) == {"direct", "cppn"} and (evo["median_confidence"] > 0.5).any()
    timing = pd.read_csv(tmp_path / "out" / "fooling_timing_quick.csv")
    assert (timing["generations"] == 200).all()
    assert len(pd.read_csv(tmp_path / "out" / "fooling_retraining_quick.csv")) > 0
    assert (tmp_path / "fig" / "fooling_gallery_quick.png").stat().st_size > 5_000


def test_info_vs_accuracy_quick(tmp_path):
    _run("info_vs_accuracy.py", tmp_path, "--no-progress")
    data = pd.read_csv(tmp_path / "out" / "info_vs_accuracy_quick.csv")
    assert data[["dataset", "setting"]].drop_duplicates().shape[0] >= 15
    table = pd.read_csv(tmp_path / "out" / "info_vs_accuracy_correlations_quick.csv")
    assert set(table["x"]) == {"structural_loss", "content_loss", "value_loss"}
    assert table["estimate"].between(-1, 1).all()
    for name in ("scatter", "heatmap"):
        assert (tmp_path / "fig" / f"info_vs_accuracy_{name}_quick.png").stat().st_size > 5_000
    # a sweep in progress (one run's record not written yet): refused, unless --partial leaves it out and says so
    (record,) = (tmp_path / "runs").glob("train-digits-mlp-negative-s0-*.json")
    record.unlink()
    planned = len(data) + 2  # the transformed runs and the two untransformed ones
    _run("info_vs_accuracy.py", tmp_path, "--no-progress", "--from-records", "--partial", out="partial")
    partial = pd.read_csv(tmp_path / "partial" / "info_vs_accuracy_quick.csv")
    assert len(partial) == len(data) - 1 and not ((partial["model"] == "mlp") & (partial["setting"] == "negative")).any()
    text = (tmp_path / "partial" / "info_vs_accuracy_quick.md").read_text()
    assert f"(a sweep in progress: {planned - 1} of {planned} runs finished" in text, text[:600]
    refused = subprocess.run([sys.executable, str(ANALYSES / "info_vs_accuracy.py"), "--quick", "--from-records",
                              "--results", str(tmp_path / "runs"), "--out-dir", str(tmp_path / "refused"),
                              "--figure-dir", str(tmp_path / "fig")],
                             capture_output=True, text=True, check=False, timeout=300)  # fmt: skip
    assert refused.returncode != 0 and f"1 of {planned} runs have no finished record" in refused.stderr


def test_measure_cache_is_keyed_by_every_setting(tmp_path, digits, analysis):
    """Regression: measures were cached by (dataset, spec) only, so changing the number of
    images (or seed, resamples, kernel) silently reused stale measures."""
    measure = analysis("info_vs_accuracy").measure
    specs = {"fixed permutation": ("permutation", "permutation:seed=0"), "negative": ("value", "negative")}
    cache = tmp_path / "measures.csv"
    few = measure(digits, specs, max_images=40, cache=cache, seed=0, n_boot=10)
    many = measure(digits, specs, max_images=400, cache=cache, seed=0, n_boot=10)
    assert (few["n_images"] == 40).all() and (many["n_images"] == 400).all()
    assert len(pd.read_csv(cache)) == 4
    again = measure(digits, specs, max_images=40, cache=cache, seed=0, n_boot=10)  # reused, not recomputed
    assert again["content_retention"].tolist() == few["content_retention"].tolist() and len(pd.read_csv(cache)) == 4


def test_kernel_sensitivity_quick(tmp_path, analysis):
    """A study table's runs (here made up: accuracy loss grows with structural loss) correlated with
    the measures under each kernel; value loss (1 − NMI) ignores the kernel."""
    iva = analysis("info_vs_accuracy")
    specs = iva.settings(8)
    labels = ["vortex strength 1.0", "block 2 + within", "swaps 5", "partial 0.5", "fixed permutation",
              "per-image permutation", "xor 1-bit", "monotone map"]  # fmt: skip
    rows = [dict(dataset="digits", setting=label, family=specs[label][0], spec=specs[label][1], model=model, seed=seed,
                 shared_key=label != "per-image permutation", accuracy_loss=5.0 * i + seed + (model == "mlp"),
                 epochs=4, max_train=float("nan"), device_name="cpu: test", commit="abc")
            for i, label in enumerate(labels) for model in ("cnn", "mlp") for seed in (0, 1)]  # fmt: skip
    pd.DataFrame(rows).to_csv(tmp_path / "study.csv", index=False)
    _run("kernel_sensitivity.py", tmp_path, "--study", str(tmp_path / "study.csv"))
    table = pd.read_csv(tmp_path / "out" / "kernel_sensitivity_quick.csv")
    assert len(table) == 6 * 3 * 2 * 3 and table["estimate"].between(-1, 1).all()  # kernels × measures × scopes × models
    value = table[table["x"] == "value_loss"].groupby(["scope", "model"])["estimate"].nunique()
    assert (value == 1).all()
    text = (tmp_path / "out" / "kernel_sensitivity_quick.md").read_text()
    assert "over the 32 trained runs of study.csv" in text and re.search(r"\| exp\(−d/2\) \(default\)\s+\|", text)
    assert (tmp_path / "fig" / "kernel_sensitivity_quick.png").stat().st_size > 5_000
    for bad in (["--kernels", "exponential:2", "cosine:1"], ["--kernels", "power:2"]):  # unknown; default missing
        done = subprocess.run([sys.executable, str(ANALYSES / "kernel_sensitivity.py"), "--quick", "--study",
                               str(tmp_path / "study.csv"), *bad], capture_output=True, text=True, check=False)
        assert done.returncode == 2 and "--kernels" in done.stderr


def test_precision_check_quick(tmp_path):
    _run("precision_check.py", tmp_path, "--no-progress")
    pairs = pd.read_csv(tmp_path / "out" / "precision_check_quick.csv")
    assert len(pairs) == 2 and set(pairs["setting"]) == {"fixed permutation", "xor 8-bit"}
    assert (pairs["difference"] == pairs["accuracy_loss_bf16"] - pairs["accuracy_loss_fp32"]).all()
    records = [json.loads(p.read_text()) for p in (tmp_path / "runs").glob("train-*.json")]
    assert sorted(r["results"]["precision"] for r in records) == ["bf16"] * 3 + ["fp32"] * 3
    text = (tmp_path / "out" / "precision_check_quick.md").read_text()
    assert "Over the 2 pairs: mean difference" in text and "difference = bf16 − fp32" in text
    done = subprocess.run([sys.executable, str(ANALYSES / "precision_check.py"), "--quick", "--from-records",
                           "--results", str(tmp_path / "runs"), "--settings", "no such setting"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode != 0 and "ParameterError: --settings: ['no such setting']" in done.stderr


def test_key_recovery_quick(tmp_path):
    _run("key_recovery.py", tmp_path)
    runs = pd.read_csv(tmp_path / "out" / "key_recovery_quick.csv")
    keyless = runs[~runs["shared_key"]]
    assert len(keyless) and not keyless["found"].any() and runs[runs["shared_key"]]["found"].all()
    assert (tmp_path / "fig" / "key_recovery_quick.png").stat().st_size > 5_000
    assert len(list((tmp_path / "runs").glob("*.json"))) == len(runs)


def test_key_recovery_pools_the_named_study_tables_once_per_run(tmp_path, analysis, monkeypatch):
    key_recovery = analysis("key_recovery")
    monkeypatch.setattr(key_recovery, "STUDY", tmp_path)
    row = dict(dataset="digits", spec="permutation:seed=0", model="cnn", augment="after")
    a = pd.DataFrame([{**row, "path": "r0.json", "final_test_acc": 0.5, "accuracy_loss": 50.0},
                      {**row, "path": "r1.json", "final_test_acc": 0.9, "accuracy_loss": 0.0},
                      {**row, "path": "r2.json", "augment": "before", "final_test_acc": 0.1, "accuracy_loss": 80.0}])
    a.to_csv(tmp_path / "info_vs_accuracy_a.csv", index=False)
    a.iloc[[0]].to_csv(tmp_path / "info_vs_accuracy_b.csv", index=False)  # r0 again: counts once
    other = a.iloc[[1]].assign(path="r3.json", final_test_acc=0.1, accuracy_loss=0.0)
    other.to_csv(tmp_path / "info_vs_accuracy_other.csv", index=False)  # not named: not pooled
    kept = key_recovery.accuracy_kept(["a", "b"])
    assert kept["accuracy_kept"].tolist() == pytest.approx([(0.5 + 1.0) / 2])  # r2's order is not the recipes'
    with pytest.raises(SystemExit, match="--study missing"):
        key_recovery.accuracy_kept(["a", "missing"])


def test_augmentation_order_quick(tmp_path):
    _run("augmentation_order.py", tmp_path, "--no-progress")
    runs = pd.read_csv(tmp_path / "out" / "augmentation_order_quick.csv")
    assert len(runs) == 11 and set(runs["augment"]) == {"after", "before", "none"}
    acc = runs.set_index(["column", "augment"])["final_test_acc"]
    # an MLP is blind to a fixed pixel order once crops no longer scramble the key
    assert acc["fixed permutation", "before"] > acc["fixed permutation", "after"] + 0.1
    table = (tmp_path / "out" / "augmentation_order_quick.md").read_text()
    assert re.search(r"\|\s*mnist-5k\s*\|\s*mlp\s*\|\s*fixed permutation\s*\|", table), table
    assert (tmp_path / "fig" / "augmentation_order_quick.png").stat().st_size > 5_000
    # a sweep in progress (seed 1 has no runs yet): refused, unless --partial leaves the missing runs out
    _run("augmentation_order.py", tmp_path, "--from-records", "--partial", "--seeds", "0", "1", out="partial")
    assert (tmp_path / "partial" / "augmentation_order_quick.md").read_text() == table
    refused = subprocess.run([sys.executable, str(ANALYSES / "augmentation_order.py"), "--quick", "--from-records",
                              "--seeds", "0", "1", "--results", str(tmp_path / "runs"), "--out-dir",
                              str(tmp_path / "refused"), "--figure-dir", str(tmp_path / "fig")],
                             capture_output=True, text=True, check=False, timeout=300)  # fmt: skip
    assert refused.returncode != 0 and "11 of 22 runs have no finished record" in refused.stderr


@pytest.mark.parametrize(("columns", "orders", "expected"), [
    (["vortex"], ["before"], [(None, "after"), ("vortex:authors", "before")]),
    (["fixed permutation"], ["none"], [(None, "none"), ("permutation:seed=0", "none")]),
    (["vortex", "bijective vortex"], ["after", "none"],
     [(None, "after"), (None, "none"), ("vortex:authors", "after"), ("vortex:authors", "none"),
      ("vortex:authors,bijective=true", "after"), ("vortex:authors,bijective=true", "none")]),
])  # fmt: skip
def test_augmentation_order_runs_only_the_asked_cells_and_the_origin_they_need(analysis, columns, orders, expected):
    make_configs = analysis("augmentation_order").make_configs
    configs = make_configs(["mlp"], "mnist-5k", [0], {"mlp": {}}, device="cpu", columns=columns, orders=orders)
    assert [(c.transform, c.augment) for c in configs] == expected
    everything = make_configs(["mlp"], "mnist-5k", [0], {"mlp": {}}, device="cpu")
    assert len(everything) == 11  # origin after/none + 3 transforms x 3 orders


def test_fooling_gap_quick(tmp_path):
    _run("fooling_gap.py", tmp_path)
    runs = pd.read_csv(tmp_path / "out" / "fooling_gap_quick.csv")
    assert list(dict.fromkeys(runs["variant"])) == ["pixinfo recipe", "Caffe-like"] and len(runs) == 4
    assert (runs["test_acc"] > 0.5).all() and runs["mean_max_softmax"].between(0.1, 1).all()
    for _, r in runs.iterrows():  # a higher confidence is never reached before a lower one
        reached = [r[f"gens_to_{t}"] for t in (0.99, 0.999, 0.9999) if r[f"gens_to_{t}"] == r[f"gens_to_{t}"]]
        assert reached == sorted(reached) and all(0 <= g <= r["generations_run"] for g in reached)
    assert "| Caffe-like" in (tmp_path / "out" / "fooling_gap_quick.md").read_text()


def test_rvt_table_reports_what_test_time_flips_added(analysis):
    flip_note = analysis("rvt_accuracy_table").flip_note
    runs = pd.DataFrame({"dataset": ["fashion-mnist"] * 3, "model": ["resnet18", "resnet18", "cnn"],
                         "column": ["origin", "origin", "origin"], "final_test_acc": [0.94, 0.95, 0.90],
                         "final_test_acc_no_flip": [0.935, 0.94, None]})  # fmt: skip
    note = flip_note(runs)
    assert "fashion-mnist / resnet18 / origin 93.75 (+0.75 from the flips)" in note and "cnn" not in note
    assert flip_note(runs.assign(final_test_acc_no_flip=None)) == ""
    assert flip_note(runs.drop(columns="final_test_acc_no_flip")) == ""


def test_bench_training_cpu_times_both_loops_and_the_forced_precision(tmp_path):
    args = [sys.executable, str(ANALYSES / "bench_training.py"), "--device", "cpu", "--models", "mlp",
            "--steps", '{"mlp": 2}', "--batch-size", "32", "--repeats", "1", "--also-precision", "fp32",
            "--tag", "_test", "--out", str(tmp_path)]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((tmp_path / "bench_training_cpu_test.json").read_text())
    (row,) = record["results"]["rows"]
    assert row["pixinfo_fp32"]["precision"] == "fp32" and row["eager_fp32"]["images_per_second"] > 0
    summary = record["results"]["summary"]["mlp"]
    assert summary["pixinfo_fp32_images_per_second"] == row["pixinfo_fp32"]["images_per_second"]
    assert summary["speedup"] == row["pixinfo"]["images_per_second"] / row["eager_fp32"]["images_per_second"]


def test_the_cipher_settings_build_with_the_keys_they_declare(analysis):
    """AES on 28×28 and 8×8 images: one key for ECB and CBC with a fixed IV, a fresh IV per image for
    the last; none where the images split into no whole blocks."""
    from pixinfo.transforms import build_transform

    cipher = analysis("info_vs_accuracy").cipher_settings
    assert list(cipher(28)) == ["AES ECB", "AES ECB tiles", "AES CBC fixed IV", "AES CBC per-image IV"]
    assert not cipher(6) and not cipher(10)  # no whole 16-byte blocks
    for size in (28, 8):
        for label, (family, spec) in cipher(size).items():
            t = build_transform(spec, shape=(1, size, size))
            assert family == "cipher" and t.shared_key == ("per-image" not in label), label


def test_before_training_reads_saved_predictions_and_marks_misses(analysis, tmp_path):
    script = analysis("before_training")
    saved = tmp_path / "saved.txt"
    saved.write_text(
        "negative on mnist-5k (5,000 images, measured in 1.0 s): predicted accuracy kept\n"
        "model   accuracy kept %   loss (points) untransformed % out of domain\n"
        "lenet 96.8 [92.0, 100.0] 1.0 [-4.0, 6.0]            97.8            no\n"
        "  mlp 85.2 [75.2, 95.2] 10.0 [0.0, 20.0]            95.2            yes (a reason)\n"
        "[low, high]: 90% intervals for one training run\n")  # fmt: skip
    predicted = script.read_predictions(saved)
    assert predicted[["model", "predicted", "low", "high", "flagged"]].values.tolist() == [
        ["lenet", 1.0, -4.0, 6.0, False], ["mlp", 10.0, 0.0, 20.0, True]]  # fmt: skip
    runs = pd.DataFrame({"dataset": "mnist-5k", "spec": "negative", "model": ["lenet", "lenet", "mlp"],
                         "seed": [0, 1, 0], "accuracy_loss": [5.0, 9.0, 30.0]})  # fmt: skip
    rows = script.compare(predicted, runs)
    assert rows["measured"].tolist() == [7.0, 30.0] and rows["runs_inside"].tolist() == [1, 0]
    assert rows["inside"].tolist() == [False, False] and rows["flagged"].tolist() == [False, True]
    text = script.to_markdown(rows, ["saved.txt"])
    assert "| `negative` | 1.0 [−4.0, 6.0] | 7.0 * | 10.0 [0.0, 20.0] | 30.0 * | no / yes |" in text
    assert "mnist-5k LeNet: 0 of 1 inside or flagged, 1 of 2 runs inside" in text
    assert "mnist-5k MLP: 1 of 1 inside or flagged" in text
    with pytest.raises(ValueError, match="no run in the study tables"):
        script.compare(predicted, runs[runs["model"] == "lenet"])
    saved.write_text("nothing here\n")
    with pytest.raises(ValueError, match="no prediction in it"):
        script.read_predictions(saved)
