"""``pixinfo assess``: one report (Markdown, self-contained HTML, JSON) on a transform's measures,
predicted and measured accuracy, key recovery under each threat model, gallery, provenance and verdict."""

import importlib.util
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pixinfo
from pixinfo.assess import DEFAULT_SIZES, NO_ATTACK, THREATS, assess
from pixinfo.cli import main
from pixinfo.errors import ParameterError

SECTIONS = {"measures", "prediction", "training", "key_recovery", "gallery", "verdict", "provenance"}
FILES = ("report.md", "report.html", "report.json")
SMALL = ["--n-score", "400", "--n-ciphertexts", "600", "--n-held-out", "60", "--no-progress"]
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_site.py"

USER_MODULE = '''
import torch
from pixinfo.transforms import GatherTransform


class ColumnRoll(GatherTransform, spec="user-column-roll"):
    """Every column rolled down by ``shift`` pixels."""

    def __init__(self, shape, *, shift: int = 3):
        h, w = shape[-2:]
        super().__init__(shape, torch.arange(h * w).reshape(h, w).roll(shift, dims=0).reshape(-1))
        self.shift = shift

    def params(self):
        return {"shift": self.shift}

    def init_kwargs(self):
        return {"shape": list(self.grid), "shift": self.shift}
'''


def _check_report(out: Path, transform: str) -> dict:
    for name in FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    report = json.loads((out / "report.json").read_text())
    assert SECTIONS <= set(report) and report["transform"].startswith(transform)
    assert [r["threat"] for r in report["key_recovery"]["threats"]] == list(THREATS)
    for threat in ("blind", "prior", "known-plaintext"):
        assert threat in report["verdict"]
    assert "Learnable?" in report["verdict"] and "Recoverable?" in report["verdict"]
    assert report["provenance"]["environment"]["git"]["commit"] and report["provenance"]["seed"] == 0
    markdown = (out / "report.md").read_text()
    for heading in ("Verdict", "Information measures", "Accuracy", "Key recovery", "Gallery", "Provenance"):
        assert f"## {heading}" in markdown
    return report


@pytest.fixture(scope="module")
def vortex_report(tmp_path_factory):
    """vortex:seed=0 on digits, with the quick training runs (2 epochs)."""
    out = tmp_path_factory.mktemp("assess") / "vortex"
    code = main(["assess", "--transform", "vortex:seed=0", "--dataset", "digits", "--out", str(out), "--train",
                 "--epochs", "2", *SMALL])  # fmt: skip
    assert code == 0
    return out


def test_vortex_report_has_every_section(vortex_report):
    report = _check_report(vortex_report, "vortex:seed=0")
    measures = report["measures"]
    assert measures["n_images"] == 400 and measures["assessed"]["structural_retention"] > 0.9
    # the paper's transforms beside it; the generated vortex key is the assessed one, so not repeated
    assert [r["transform"] for r in measures["references"]] == ["block:size=4,seed=0", "permutation:seed=0", "identity"]
    assert not report["prediction"]["available"] and "digits" in report["prediction"]["note"]
    training = report["training"]
    assert training["model"] == "cnn" and 0 < training["transformed"]["accuracy"] <= 1
    assert 0 < training["original"]["accuracy"] <= 1 and "quick cnn run" in report["verdict"]
    for row in report["key_recovery"]["threats"]:
        assert row["supported"] and 0 <= row["exact"] <= 1 and -1 <= row["ssim"] <= 1
        assert row["accuracy"] is not None and row["held_out"] <= 60 and row["n_ciphertexts"] <= 600
    assert report["gallery"]["rows"][:2] == ["plain", "transformed"] and len(report["gallery"]["rows"]) == 5


def test_html_is_self_contained(vortex_report):
    html = (vortex_report / "report.html").read_text()
    sources = re.findall(r'<img src="([^"]*)"', html)
    assert len(sources) == 2 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r'(href|src)="(?!data:)', html)


def test_html_renders_in_chromium_with_every_image_loaded(vortex_report, tmp_path):
    spec = importlib.util.spec_from_file_location("check_site", SCRIPT)
    check_site = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check_site)
    browser = check_site.find_browser()
    if browser is None:
        pytest.skip("no Chromium or Chrome installed (bash scripts/install_chromium.sh installs Debian's chromium)")
    result = check_site.render(vortex_report / "report.html", browser, tmp_path)
    assert result["images"] == 2 and result["broken"] == [] and result["colours"] == 2
    assert "Verdict" in result["text"] and "Recoverable?" in result["text"]


def test_user_transform_from_import(tmp_path):
    """A transform class of the user's module, named by its spec with --import."""
    (tmp_path / "user_transforms.py").write_text(USER_MODULE)
    done = subprocess.run([sys.executable, "-m", "pixinfo", "assess", "--transform", "user-column-roll:shift=2",
                           "--import", "user_transforms", "--dataset", "digits", "--out", str(tmp_path / "out"),
                           *SMALL],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = _check_report(tmp_path / "out", "user-column-roll")
    assert report["training"] is None and "skipped" in report["key_recovery"]["accuracy_note"]
    assert "Recoverable?" in done.stdout


def test_callable_without_a_written_attack_says_so():
    """A plain callable: scored; no ciphertext-only attack is written for it, only the learned inverse of pairs."""
    report = assess(lambda x: 1 - x, "digits", n_score=200, n_ciphertexts=300, n_held_out=30, progress=False)
    blind, prior, pairs = report["key_recovery"]["threats"]
    assert not blind["supported"] and not prior["supported"] and blind["message"] == prior["message"] == NO_ATTACK
    assert pairs["supported"] and pairs["exact"] is None  # no key entries to compare: SSIM only
    assert "No attack is written for this scheme under blind or prior" in report["verdict"]
    assert "files" not in report and report["transform"] == "<lambda>"


def test_prediction_per_model_family(tmp_path):
    """mnist-5k has a predictor: one row per family, with interval and out-of-domain flag."""
    report = pixinfo.assess("block:size=4", "mnist-5k", n_score=300, n_ciphertexts=300, n_public=200, n_held_out=30,
                            progress=False)  # fmt: skip
    prediction = report["prediction"]
    assert prediction["available"] and {r["model"] for r in prediction["families"]} == {"lenet", "mlp"}
    for row in prediction["families"]:
        assert row["accuracy_interval_low"] <= row["accuracy"] <= row["accuracy_interval_high"]
        assert isinstance(row["out_of_domain"], bool)
    assert "the predictor expects lenet" in report["verdict"]


def test_bad_input_is_a_typed_error(tmp_path):
    with pytest.raises(ParameterError, match="n_score"):
        assess("vortex:seed=0", "digits", n_score=0)
    with pytest.raises(ParameterError, match="transform"):
        assess(42, "digits", progress=False)
    with pytest.raises(ParameterError, match="model"):
        assess("identity", "digits", model="no-such-model")
    with pytest.raises(SystemExit) as exit_:
        main(["assess", "--transform", "identity", "--dataset", "digits", "--out", str(tmp_path / "o"),
              "--n-ciphertexts", "-3"])  # fmt: skip
    assert exit_.value.code == 2
    assert main(["assess", "--transform", "no-such-transform", "--dataset", "digits", "--out", str(tmp_path / "o"),
                 "--no-progress"]) == 2  # fmt: skip
    assert not (tmp_path / "o").exists()  # a failed command leaves no empty folder behind


def test_an_unwritable_out_folder_fails_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["assess", "--transform", "identity", "--dataset", "digits", "--out", str(blocker / "r")]) == 2
    err = capsys.readouterr().err
    assert f"--out {blocker / 'r'}" in err and "scoring" not in err


def test_cli_defaults_are_the_functions():
    defaults = {k: p.default for k, p in inspect.signature(assess).parameters.items() if k in DEFAULT_SIZES}
    assert defaults == DEFAULT_SIZES


def test_the_report_names_the_dataset_its_measures_were_taken_on(tmp_path):
    from pixinfo.assess import _measures
    from pixinfo.data import load_dataset
    from pixinfo.transforms import build_transform

    scores = _measures(lambda: build_transform("negative", shape=(1, 8, 8)), load_dataset("digits"), n_score=40,
                       seed=0, log=lambda *a: None)  # fmt: skip
    assert {s.dataset for s in scores} == {"digits"}
