"""The command line fails like a command line: ``pixinfo CMD: error: ...``, exit status 2, no traceback.

Table-driven: each row is an argument list a user might type. Counts are checked by the
argument types (``positive_int``, ``nonnegative_int``, ``seed_int``, ``finite_float``,
``probability``), the rest where the command starts, before any work: output folders, specs,
training options, model files.
"""

import json

import pytest

from pixinfo.cli import main
from tests.raises import assert_cli_error, run_cli

SCORE = ["score", "--dataset", "digits", "--no-progress", "--n-boot", "10", "--n-boot-value", "0"]

BAD_ARGUMENTS = [
    # negative counts once used as slices (all but 5 images, all but one)
    (["--max-images", "-5"], "argument --max-images: expected an integer >= 1, got -5"),
    (["--max-images", "0"], "argument --max-images: expected an integer >= 1, got 0"),
    (["--max-images", "ten"], "argument --max-images: expected an integer, got 'ten'"),
    (["--max-maps", "-1"], "argument --max-maps: expected an integer >= 1"),
    (["--n-boot", "-1"], "argument --n-boot: expected an integer >= 0"),
    (["--max-value-images", "0"], "argument --max-value-images"),
    (["--batch-size", "0"], "argument --batch-size"),
    (["--seed", "-1"], "argument --seed: expected an integer >= 0"),
    (["--seed", "1.5"], "argument --seed: expected an integer, got '1.5'"),
    # specs and kernels
    (["--transform", "block:size=4,shuffle_within=off"], "shuffle_within must be a boolean"),
    (["--transform", "vortex:seed=0,bijective=no_thanks"], "bijective must be a boolean"),
    (["--transform", "permutation:seed=0,seed=1"], "given twice"),
    (["--kernel", "gaussian:width=2"], "bad parameters for kernel spec"),
    (["--kernel", "power:scale=nan"], "scale must be finite"),
    (["--device", "tpu"], "device must be"),
    (["--dataset", "mnist", "--root", "/nonexistent/pixinfo"], "not found"),
]


@pytest.mark.parametrize(("extra", "match"), BAD_ARGUMENTS)
def test_score_rejects_bad_arguments(tmp_path, extra, match):
    assert_cli_error([*SCORE, "--out", str(tmp_path), *extra], match)
    assert not list(tmp_path.iterdir())


TRAIN = ["train", "--dataset", "digits", "--model", "mlp", "--epochs", "1", "--no-progress"]

BAD_TRAIN = [
    (["--max-train", "-1"], "argument --max-train: expected an integer >= 0, got -1"),  # once: all but one
    (["--max-train", "0"], "max_train must be None or an integer >= 1, got 0"),
    (["--weight-decay", "-1"], "weight_decay must be a finite number >= 0, got -1"),  # once: it trained
    (["--model-options", '{"hidden": [0]}'], r"hidden\[0\] must be an integer >= 1, got 0"),  # a constant net
    (["--model-options", '{"hidden": "wide"}'], "hidden must be a list of positive integers"),
    (["--model-options", "[1]"], "expected a JSON object"),
    (["--lr", "nan"], "argument --lr: expected a finite number, got nan"),
    (["--lr", "0"], "lr must be a finite number > 0"),
    (["--epochs", "-2"], "argument --epochs: expected an integer >= 0"),
    (["--seed", "-1"], "argument --seed: expected an integer >= 0"),
    (["--transform", "block:size=4,flip=maybe"], "flip must be a boolean"),
]


@pytest.mark.parametrize(("extra", "match"), BAD_TRAIN)
def test_train_rejects_bad_options_before_training(tmp_path, extra, match):
    assert_cli_error([*TRAIN, "--out", str(tmp_path), *extra], match)
    assert not list(tmp_path.glob("*.json"))


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    """Untrained pixinfo models for 8x8 digits and for 28x28 images, saved as `train --save-model` does."""
    from pixinfo.models import build_model, save_model

    folder = tmp_path_factory.mktemp("models")
    digits = save_model(build_model("mlp", image_shape=(1, 8, 8), num_classes=10, hidden=[16]), folder / "d.pt")
    mnist = save_model(build_model("mlp", image_shape=(1, 28, 28), num_classes=10, hidden=[16]), folder / "m.pt")
    truncated = folder / "truncated.pt"
    truncated.write_bytes(digits.read_bytes()[: digits.stat().st_size // 2])
    text = folder / "notes.pt"
    text.write_text("these are not weights\n" * 20)
    return {"digits": digits, "mnist": mnist, "truncated": truncated, "text": text, "folder": folder}


@pytest.mark.parametrize(
    ("which", "match"),
    [
        ("truncated", "is not a readable model file"),
        ("text", "is not a readable model file"),
        ("folder", "^pixinfo semantic: error: no model file at"),
        ("mnist", r"takes images of shape \(1, 28, 28\).*dataset 'digits' has images of shape \(1, 8, 8\)"),
    ],
)
def test_semantic_with_an_unusable_model_file(tmp_path, saved_models, which, match):
    argv = ["semantic", "--model", str(saved_models[which]), "--dataset", "digits", "--split", "test",
            "--out", str(tmp_path)]  # fmt: skip
    err = assert_cli_error(argv, match)
    assert err.startswith(f"pixinfo semantic: error: {'the model ' if which == 'mnist' else ''}"), err
    assert "mat1 and mat2" not in err


@pytest.mark.parametrize("which", ["truncated", "text"])
def test_fool_with_an_unreadable_model_file(tmp_path, saved_models, which):
    argv = ["fool", "--model", str(saved_models[which]), "--generations", "1", "--out", str(tmp_path), "--no-progress"]
    assert_cli_error(argv, "is not a readable model file")


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["semantic", "--max-images", "-1"], "argument --max-images: expected an integer >= 1, got -1"),
        (["semantic", "--seed", "x"], "argument --seed"),
        (["fool", "--target", "1.5"], "argument --target: expected a finite number > 0 and <= 1"),
        (["fool", "--target", "0"], "argument --target"),
        (["fool", "--population", "0"], "argument --population: expected an integer >= 1"),
        (["fool", "--generations", "-1"], "argument --generations: expected an integer >= 0"),
    ],
)
def test_semantic_and_fool_reject_bad_counts(tmp_path, saved_models, argv, match):
    assert_cli_error([*argv, "--model", str(saved_models["digits"]), "--out", str(tmp_path)], match)


def test_semantic_with_a_model_for_the_dataset_works(tmp_path, saved_models):
    code, out, err = run_cli(["semantic", "--model", str(saved_models["digits"]), "--dataset", "digits",
                              "--split", "test", "--max-images", "20", "--transform", "negative",
                              "--out", str(tmp_path)])  # fmt: skip
    assert code == 0, err
    assert "negative" in out and len(list(tmp_path.glob("semantic-digits-*.csv"))) == 1


@pytest.mark.parametrize("command", ["score", "train", "semantic", "fool"])
def test_an_unwritable_out_folder_fails_before_any_work(tmp_path, saved_models, command):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    extra = {"score": SCORE[1:], "train": TRAIN[1:], "semantic": ["--model", str(saved_models["digits"])],
             "fool": ["--model", str(saved_models["digits"]), "--no-progress"]}[command]  # fmt: skip
    for out in (blocker, blocker / "results"):
        code, stdout, err = run_cli([command, *extra, "--out", str(out)])
        assert code == 2 and f"--out {out}" in err, err
        assert "scoring" not in err and "accuracy" not in stdout


def _train_digits(out, *extra):
    return run_cli([*TRAIN, "--out", str(out), "--save-model", *extra])


def test_reuse_never_trusts_a_truncated_model(tmp_path):
    """``--reuse --save-model`` once took a record whose model had been truncated, then crashed in torch."""
    from pixinfo.files import cache_dir, sha256_file

    code, _, err = _train_digits(tmp_path)
    assert code == 0, err
    (record_file,) = tmp_path.glob("*.json")
    record = json.loads(record_file.read_text())
    (model,) = cache_dir("models").glob("*.pt")
    model.write_bytes(model.read_bytes()[:1000])  # truncated
    code, out, err = _train_digits(tmp_path, "--reuse")
    assert code == 0, err
    assert "final test accuracy" in out and sha256_file(model) == json.loads(record_file.read_text())["model_sha256"]
    assert json.loads(record_file.read_text())["created"] >= record["created"]


def test_reuse_without_save_model_ignores_a_changed_model(tmp_path):
    """The record is reused, but a truncated model next to it is neither loaded nor a crash."""
    from pixinfo.files import cache_dir

    assert _train_digits(tmp_path)[0] == 0
    (model,) = cache_dir("models").glob("*.pt")
    model.write_bytes(model.read_bytes()[:1000])
    code, out, err = run_cli([*TRAIN, "--out", str(tmp_path), "--reuse"])
    assert code == 0, err
    assert "final test accuracy" in out


def test_debug_shows_the_traceback(tmp_path):
    from pixinfo.errors import PixinfoError

    with pytest.raises(PixinfoError, match="unknown transform"):
        main(["--debug", *SCORE, "--transform", "bogus", "--out", str(tmp_path)])


def test_an_unexpected_error_is_reported_without_a_traceback(tmp_path, monkeypatch):
    import pixinfo.cli

    def broken(args):
        raise RuntimeError("something deep inside")

    parser = pixinfo.cli.build_parser()
    monkeypatch.setattr(pixinfo.cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["transforms"].set_defaults(func=broken)
    code, _, err = run_cli(["transforms"])
    assert code == 2 and "pixinfo transforms: error: internal error (RuntimeError: something deep inside)" in err
    assert "--debug" in err and "Traceback" not in err
