"""A transform class in a module pixinfo has never seen goes everywhere a built-in one goes: on the
command line (``--import MODULE``) and from Python once its module is imported (score, train,
study, assess and key recovery), and from an installed package's entry point."""

import importlib
import json
import math
import subprocess
import sys
from types import SimpleNamespace

import pandas as pd
import pytest

from pixinfo.errors import ParameterError
from pixinfo.transforms import base, registry

MODULE = '''
import torch
from pixinfo.transforms import GatherTransform


class Roll(GatherTransform, spec="user-roll"):
    """Every row rolled right by ``shift`` pixels."""

    def __init__(self, shape, *, shift: int = 2):
        h, w = shape[-2:]
        super().__init__(shape, torch.arange(h * w).reshape(h, w).roll(shift, dims=1).reshape(-1))
        self.shift = shift

    def params(self):
        return {"shift": self.shift}

    def init_kwargs(self):
        return {"shape": list(self.grid), "shift": self.shift}
'''
SPEC = "user-roll:shift=3"  # on 8x8 digits: R 0.88 (the wrap-around seam breaks the rest), every value kept


def _cli(tmp_path, *args):
    """``pixinfo ARGS`` in a fresh interpreter, from a folder holding the user's module."""
    (tmp_path / "user_transforms.py").write_text(MODULE)
    return subprocess.run([sys.executable, "-m", "pixinfo", *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip


def _score_written(out):
    (record,) = [json.loads(p.read_text()) for p in out.glob("score-*.json")]
    (row,) = pd.read_csv(next(out.glob("score-*.csv"))).to_dict("records")
    assert record["identity"]["transforms"] == [SPEC] and row["transform"] == SPEC
    assert row["shared_key"] and 0.5 < row["structural_retention"] < 1 and row["value_nmi"] > 0.99


def _attack_written(out):
    (record,) = [json.loads(p.read_text()) for p in out.glob("attack-*.json")]
    assert record["spec"] == SPEC and record["threat"]["kind"] == "prior"
    assert record["measures"]["found"] == 1 and record["measures"]["ssim_prior"] > 0.9


def _run_written(out):
    (record,) = [json.loads(p.read_text()) for p in out.glob("train-*.json")]
    assert record["config"]["transform"] == SPEC and 0.3 < record["results"]["final_test_acc"] <= 1  # chance: 0.1


def _study_written(out):
    data = pd.read_csv(out / "study.csv")
    assert sorted(data["transform_label"]) == ["permutation:seed=0", "user-roll:shift=1", SPEC]
    assert data["accuracy_loss"].between(-100, 100).all() and data["structural_loss"].between(0, 1).all()
    assert SPEC in (out / "report.md").read_text() and (out / "scatter.png").read_bytes()[:4] == b"\x89PNG"
    assert len(list((out / "runs").glob("train-*-user-roll-*.json"))) == 2


def _report_written(out):
    report = json.loads((out / "report.json").read_text())
    assert report["measures"]["assessed"]["transform"] == SPEC
    assert 0.5 < report["measures"]["assessed"]["structural_retention"] < 1
    pairs = report["key_recovery"]["threats"][-1]
    assert pairs["threat"] == "known-plaintext" and pairs["found"] and pairs["exact"] > 0.9
    assert SPEC in (out / "report.md").read_text()


STUDY = ["study", "--transform", "user-roll:shift=1", SPEC, "permutation:seed=0", "--model", "mlp", "--dataset", "digits",
         "--seeds", "0", "--epochs", "1", "--max-images", "200", "--n-boot", "50", "--no-progress"]
ASSESS = ["assess", "--transform", SPEC, "--dataset", "digits", "--n-score", "200", "--n-ciphertexts", "500",
          "--n-held-out", "60", "--no-progress"]


@pytest.mark.parametrize(("command", "check"), [
    (["score", "--transform", SPEC, "--dataset", "digits", "--no-progress", "--max-images", "200"], _score_written),
    (["recover-key", "--transform", SPEC, "--dataset", "digits", "--threat", "prior"], _attack_written),
    (["train", "--transform", SPEC, "--dataset", "digits", "--model", "mlp", "--epochs", "1", "--no-progress"], _run_written),
    (STUDY, _study_written),
    (ASSESS, _report_written),
], ids=["score", "recover-key", "train", "study", "assess"])  # fmt: skip
def test_imported_transform_runs_like_a_built_in(tmp_path, command, check):
    done = _cli(tmp_path, *command, "--import", "user_transforms", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr[-2000:]
    check(tmp_path / "out")


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """The user's module, written to a folder on ``sys.path`` and imported; its spec is forgotten
    (and the module unloaded) afterwards."""
    folder = tmp_path / "user"
    folder.mkdir()
    (folder / "user_transforms_py.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setattr(base, "_SPECS", dict(base._SPECS))
    monkeypatch.setattr(base, "_CLASSES", dict(base._CLASSES))
    assert "user-roll" not in registry.transform_names()
    module = importlib.import_module("user_transforms_py")
    yield module
    sys.modules.pop("user_transforms_py", None)


def test_imported_transform_runs_like_a_built_in_from_python(user_module, tmp_path):
    import pixinfo
    from pixinfo.data import load_dataset
    from pixinfo.privacy.report import run_attack
    from pixinfo.train import TrainConfig, train
    from pixinfo.train.recipes import recipe

    digits = load_dataset("digits")
    roll = registry.build_transform(SPEC, shape=digits.image_shape)
    assert isinstance(roll, user_module.Roll)

    s = pixinfo.score(roll, digits.test.images[:200], n_boot=50, seed=0)
    assert s.transform == SPEC and s.shared_key and 0.5 < s.structural_retention.value < 1 and s.value_nmi.value > 0.99

    config = recipe("mlp", "digits", transform=SPEC, epochs=1, seed=0)  # the study's config of this run
    assert isinstance(config, TrainConfig)
    run = train(config, results_dir=tmp_path / "runs", progress=False)
    assert run.record["config"]["transform"] == SPEC and 0.3 < run.final_test_acc <= 1  # chance: 0.1
    assert [p.name for p in (tmp_path / "runs").glob("train-*.json")] == [run.path.name]
    trained = run.path.read_text()

    result = pixinfo.study({"roll 1": "user-roll:shift=1", "roll 3": roll, "permutation": "permutation:seed=0"},
                           models=["mlp"], dataset="digits", seeds=[0], epochs=1, max_images=200, n_boot=50,
                           results_dir=tmp_path / "runs", out=tmp_path / "study", min_baseline_acc=0)  # fmt: skip
    labels = dict(zip(result.data["setting"], result.data["transform_label"], strict=True))
    assert labels == {"roll 1": "user-roll:shift=1", "roll 3": SPEC, "permutation": "permutation:seed=0"}
    assert run.path.read_text() == trained  # the study reused the run trained above, from its record
    assert result.data.set_index("setting").loc["roll 3", "final_test_acc"] == run.final_test_acc
    assert len(list((tmp_path / "runs").glob("train-*.json"))) == 4  # and trained the originals and the other two
    assert result.data["structural_loss"].between(0, 1).all() and result.paths["scatter"].exists()

    report = pixinfo.assess(SPEC, "digits", out=tmp_path / "assess", n_score=200, n_ciphertexts=500, n_held_out=60,
                            progress=False)  # fmt: skip
    assert report["measures"]["assessed"]["transform"] == SPEC
    assert [t["found"] for t in report["key_recovery"]["threats"]] == [True, True, True]
    assert SPEC in (tmp_path / "assess" / "report.md").read_text()

    measures = run_attack(spec=SPEC, dataset="digits", threat="prior", n_images=500, out=tmp_path / "attack")
    (record,) = [json.loads(p.read_text()) for p in (tmp_path / "attack").glob("attack-*.json")]
    assert record["spec"] == SPEC and record["measures"] == measures
    assert measures["found"] == 1 and measures["ssim_prior"] > 0.9 and not math.isnan(measures["exact"])


def test_unknown_spec_says_how_to_add_one(tmp_path):
    done = _cli(tmp_path, "score", "--transform", "user-roll", "--dataset", "digits", "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "--import MODULE" in done.stderr and not (tmp_path / "out").exists()


def test_bad_import_is_a_typed_error():
    with pytest.raises(ParameterError, match="no_such_module_here"):
        registry.import_transforms("no_such_module_here")


def test_entry_points_are_loaded_for_an_unknown_spec(monkeypatch):
    """An installed package's entry point in the group is imported when a spec is not known yet."""
    loaded = []
    point = SimpleNamespace(name="theirs", load=lambda: loaded.append("theirs"))
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [point] if group == registry.ENTRY_POINTS else [])
    with pytest.raises(ParameterError, match="unknown transform"):
        registry.build_transform("not-registered-anywhere", shape=(1, 8, 8))
    assert loaded == ["theirs"] and registry.load_plugins() == ["theirs"]
