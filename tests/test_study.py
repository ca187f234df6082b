"""pixinfo.study and ``pixinfo study``: a tiny study on the embedded digits (an MLP, one epoch),
with a transform class of the user's imported from a module of its own."""

import sys
import textwrap

import pandas as pd
import pytest

import pixinfo
from pixinfo.errors import ParameterError
from pixinfo.study import LOSSES, StudyOptions, canonical_label
from pixinfo.transforms.registry import import_transforms

MODULE = "study_user_transforms"
USER_TRANSFORM = '''
import torch
from pixinfo.transforms import GatherTransform


class StudyMirror(GatherTransform, spec="study-mirror"):
    """Mirror each image left to right."""

    def __init__(self, shape):
        h, w = shape[-2:]
        super().__init__((h, w), torch.arange(h * w).view(h, w).flip(1).reshape(-1))

    def params(self):
        return {}

    def init_kwargs(self):
        return {"shape": list(self.grid)}
'''
SPECS = ["permutation:seed=0", "xor:bits=8", "per-image-permutation", "study-mirror"]
TINY = dict(models=["mlp"], dataset="digits", seeds=[0], epochs=1, n_boot=100, max_images=500)


@pytest.fixture(scope="module")
def user_module(tmp_path_factory):
    folder = tmp_path_factory.mktemp("user")
    (folder / f"{MODULE}.py").write_text(textwrap.dedent(USER_TRANSFORM))
    sys.path.insert(0, str(folder))
    try:
        import_transforms(MODULE)
        yield folder
    finally:
        sys.path.remove(str(folder))


@pytest.fixture(scope="module")
def trained(user_module, tmp_path_factory):
    """The study run once from Python (it trains): its result and its records' folder."""
    runs, out = tmp_path_factory.mktemp("runs"), tmp_path_factory.mktemp("out")
    mirror = sys.modules[MODULE].StudyMirror((1, 8, 8))
    transforms = {"fixed permutation": "permutation:seed=0", "xor 8-bit": "xor:bits=8",
                  "per-image permutation": "per-image-permutation", "mirror": mirror}
    result = pixinfo.study(transforms, results_dir=runs, out=out, min_baseline_acc=0, max_last_gain=100, **TINY)
    return result, runs


def test_study_writes_the_table_figure_and_report_and_joins_every_run(trained):
    result, _ = trained
    assert all(result.paths[k].is_file() for k in ("table", "report", "scatter", "heatmap"))
    assert result.paths["scatter"].read_bytes()[:4] == b"\x89PNG"
    table = pd.read_csv(result.paths["table"])
    assert len(table) == len(SPECS)  # one run per transform, model and seed: none lost in the join
    assert not table[[*LOSSES, "accuracy_loss", "untransformed_acc"]].isna().any().any()
    assert sorted(table["setting"]) == ["fixed permutation", "mirror", "per-image permutation", "xor 8-bit"]
    # runs and measures meet on one label, the canonical spec
    assert set(table["transform_label"]) == {canonical_label(s, shape=(1, 8, 8), dataset="digits") for s in SPECS}
    assert table.set_index("setting").loc["mirror", "structural_loss"] == pytest.approx(0, abs=1e-9)
    assert "# Information loss against accuracy loss" in result.markdown
    assert result.paths["report"].read_text() == result.markdown
    assert set(result.correlations["group"]) == {"all settings / mlp", "all settings / all",
                                                 "shared key only / mlp", "shared key only / all"}
    assert result.warnings == []


def test_a_weak_baseline_warns_with_its_numbers(trained, tmp_path):
    result, runs = trained
    acc = result.data["untransformed_acc"].iloc[0]
    with pytest.warns(UserWarning, match=rf"reaches {acc:.2f}% .* below min_baseline_acc = 100%"):
        weak = pixinfo.study(SPECS, results_dir=runs, out=tmp_path, from_records=True, min_baseline_acc=100,
                             max_last_gain=100, **TINY)
    assert len(weak.warnings) == 1 and "Weak baseline" in weak.markdown


def test_the_command_line_runs_the_study_from_the_records(trained, user_module, tmp_path, monkeypatch):
    from pixinfo.cli import main

    _, runs = trained
    monkeypatch.chdir(user_module)  # --import finds the module beside the user's files
    code = main(["study", "--transform", *SPECS, "--import", MODULE, "--model", "mlp", "--seeds", "0",
                 "--epochs", "1", "--dataset", "digits", "--max-images", "500", "--n-boot", "100",
                 "--min-baseline-acc", "0", "--max-last-gain", "100", "--results", str(runs), "--from-records",
                 "--out", str(tmp_path / "cli")])  # fmt: skip
    assert code == 0
    for name in ("study.csv", "report.md", "scatter.png"):
        assert (tmp_path / "cli" / name).is_file()
    assert len(pd.read_csv(tmp_path / "cli" / "study.csv")) == len(SPECS)


def test_options_dataclass_runs_the_same_study(trained, tmp_path):
    _, runs = trained
    options = StudyOptions(transform=tuple(SPECS), imports=(MODULE,), model=("mlp",), seeds=(0,), epochs=1,
                           max_images=500, n_boot=100, min_baseline_acc=0, max_last_gain=100, results=str(runs),
                           dataset="digits", from_records=True, out=str(tmp_path))  # fmt: skip
    assert len(options.run().data) == len(SPECS)


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(models=["nope"]), "models must be"),
    (dict(seeds=[]), "seeds must be"),
    (dict(executor="threads"), "executor must be"),
    (dict(min_baseline_acc=120), "min_baseline_acc must be"),
    (dict(epochs={"cnn": 2}), "epochs names models not studied"),
])  # fmt: skip
def test_bad_options_are_refused_before_anything_trains(kwargs, match, tmp_path):
    options = {**TINY, **kwargs}
    with pytest.raises(ParameterError, match=match):
        pixinfo.study(["negative", "permutation:seed=0"], results_dir=tmp_path / "runs", out=tmp_path / "out",
                      **options)  # fmt: skip
    assert not (tmp_path / "runs").exists()


def test_one_transform_given_twice_is_refused(tmp_path):
    with pytest.raises(ParameterError, match="same transform"):
        pixinfo.study(["permutation", "permutation:seed=0"], results_dir=tmp_path, out=tmp_path, **TINY)


def test_a_users_copy_of_a_dataset_trains_from_root_in_worker_processes(tmp_path, monkeypatch):
    """``root``: the study reads the user's files, and so do the worker processes, which load the
    dataset again from each run's config (the folder is no part of a run's identity)."""
    from pixinfo.errors import DatasetNotFoundError
    from pixinfo.runs import read_record
    from tests.data.writers import write_mnist_like

    monkeypatch.setenv("PIXINFO_DATA_DIR", str(tmp_path / "nothing here"))  # workers inherit it
    write_mnist_like(tmp_path / "mnist", n_train=200, n_test=20)
    runs = tmp_path / "runs"
    result = pixinfo.study(["permutation:seed=0", "negative", "xor:bits=8"], models=["mlp"], dataset="mnist", seeds=[0], epochs=1, n_boot=50,
                           max_images=40, results_dir=runs, out=tmp_path / "out", root=tmp_path / "mnist",
                           executor="process", min_baseline_acc=0, max_last_gain=100)  # fmt: skip
    assert set(result.data["n_train"]) == {200} and set(result.data["n_test"]) == {20}
    records = [read_record(p) for p in sorted(runs.glob("train-*.json"))]
    assert len(records) == 4 and all(r["config"]["dataset_options"] == {"root": str(tmp_path / "mnist")}
                                     for r in records)  # fmt: skip
    with pytest.raises(DatasetNotFoundError, match="pass root=FOLDER"):  # without root: not where the loader looks
        pixinfo.study(["permutation:seed=0"], models=["mlp"], dataset="mnist", seeds=[0], epochs=1,
                      results_dir=tmp_path / "runs2", out=tmp_path / "out2", root=None)  # fmt: skip
