"""Hostile inputs: each gave a silent wrong answer or an untyped traceback; each now raises a typed
error naming the parameter (or file), what was expected and what was given."""

import numpy as np
import pytest
import torch

from pixinfo.errors import PixinfoError
from tests.raises import assert_cli_error, assert_raised_by_pixinfo

TYPED = (PixinfoError, ValueError, TypeError)


# -- attack: a count of ciphertexts that is not positive ------------------------------------------
@pytest.mark.parametrize("n", ["0", "-5"])
def test_attack_cli_refuses_a_non_positive_n_images(tmp_path, n):
    assert_cli_error(["attack", "--transform", "negative", "--dataset", "digits", "--n-images", n,
                      "--out", str(tmp_path)], f"argument --n-images: expected an integer >= 1, got {n}")  # fmt: skip
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("n", [0, -5, 2.5])
def test_run_attack_refuses_a_non_positive_n_images(tmp_path, n):
    from pixinfo.privacy.report import run_attack

    with pytest.raises(TYPED, match=f"n_images must be an integer >= 1, got {n}") as err:
        run_attack(spec="negative", dataset="digits", n_images=n, out=tmp_path)
    assert_raised_by_pixinfo(err.value)
    assert not list(tmp_path.iterdir())


# -- correlate: intervals that cannot have width, values that are not finite ------------------------
def _frame(n=12, clusters=None, seed=0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    frame = pd.DataFrame({"x": x, "y": x + rng.normal(size=n), "family": "cnn"})
    if clusters is not None:
        frame["setting"] = np.arange(n) % clusters
    return frame


def test_correlate_refuses_a_single_cluster():
    from pixinfo.stats import correlate

    with pytest.raises(PixinfoError, match=r"cluster .*at least 2 clusters.*got 1 cluster") as err:
        correlate(_frame(clusters=1), x="x", y="y", cluster="setting", n_boot=50)
    assert_raised_by_pixinfo(err.value)


def test_correlate_refuses_a_group_with_one_cluster():
    from pixinfo.stats import correlate

    frame = _frame(n=24, clusters=6)
    frame.loc[frame.index[:4], ["family", "setting"]] = ["mlp", 99]  # group 'mlp': one setting
    with pytest.raises(PixinfoError, match=r"got 1 cluster in group 'mlp'"):
        correlate(frame, x="x", y="y", by="family", cluster="setting", n_boot=50)


@pytest.mark.parametrize("n", [1, 2])
def test_correlate_refuses_fewer_than_three_rows(n):
    from pixinfo.stats import correlate

    with pytest.raises(PixinfoError, match=rf"frame must have at least 3 rows .*got {n} row"):
        correlate(_frame(n=n), x="x", y="y", n_boot=50)


@pytest.mark.parametrize("column", ["x", "y"])
@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_correlate_refuses_infinite_values(column, value):
    from pixinfo.stats import correlate

    frame = _frame()
    frame.loc[3, column] = value
    with pytest.raises(PixinfoError, match=rf"column '{column}' must hold finite numbers.*got {value} in row 3"):
        correlate(frame, x="x", y="y", n_boot=50)


@pytest.mark.parametrize("column", ["x", "y"])
def test_fit_loss_model_refuses_infinite_values(column):
    from pixinfo.stats import fit_loss_model

    frame = _frame(n=20)
    frame.loc[5, column] = np.inf
    with pytest.raises(PixinfoError, match=rf"column '{column}' must hold finite numbers.*got inf in row 5"):
        fit_loss_model(frame, y="y", measures=["x"])


# -- attacks and fooling on a model whose output or gradient is not finite ---------------------------
class _NanModel(torch.nn.Module):
    """Logits that are NaN for every input."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(64, 10)

    def forward(self, x):
        return self.lin(x.flatten(1)) * float("nan")


class _NanGradientModel(_NanModel):
    """Finite logits whose gradient is NaN (the unused branch of a where is sqrt of a negative)."""

    def forward(self, x):
        f = x.flatten(1)
        return self.lin(f + torch.where(f > 2, torch.sqrt(f - 5), torch.zeros_like(f)))


def _batch():
    return torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(0)), torch.arange(6)


@pytest.mark.parametrize("name", ["fgsm", "linf-pgd", "l2-pgd", "lbfgs"])
def test_attacks_refuse_a_model_with_nan_logits(name):
    from pixinfo.adversarial.attacks import ATTACKS

    x, y = _batch()
    with pytest.raises(PixinfoError, match=r"the model's output \(logits\) must be finite.*NaN") as err:
        ATTACKS[name]()(_NanModel(), x, y, epsilons=0.1)
    assert_raised_by_pixinfo(err.value)


@pytest.mark.parametrize("name", ["fgsm", "linf-pgd", "l2-pgd", "lbfgs"])
def test_attacks_refuse_a_nan_gradient(name):
    from pixinfo.adversarial.attacks import ATTACKS

    x, y = _batch()
    with pytest.raises(PixinfoError, match=r"gradient of the model's loss .* must be finite.*NaN"):
        ATTACKS[name]()(_NanGradientModel(), x, y, epsilons=0.1)


def test_gradient_ascent_refuses_nan_logits_and_gradients():
    from pixinfo.adversarial.fooling import gradient_ascent

    with pytest.raises(PixinfoError, match=r"the model's output \(logits\) must be finite"):
        gradient_ascent(_NanModel(), shape=(1, 8, 8), steps=2)
    with pytest.raises(PixinfoError, match=r"gradient of the model's .* must be finite"):
        gradient_ascent(_NanGradientModel(), shape=(1, 8, 8), steps=2)


def test_evolve_refuses_nan_logits():
    from pixinfo.adversarial.fooling import DirectEncoding, evolve

    with pytest.raises(PixinfoError, match=r"the model's output \(logits\) must be finite") as err:
        evolve(_NanModel(), encoding=DirectEncoding((1, 8, 8)), population=4, generations=1, progress=False)
    assert_raised_by_pixinfo(err.value)


# -- numpy scalars are numbers ----------------------------------------------------------------------
NUMPY_INTS = [np.int64(8), np.int32(8), np.uint16(8)]
NUMPY_FLOATS = [np.float32(0.25), np.float64(0.25), np.float16(0.25)]


@pytest.mark.parametrize("n", NUMPY_INTS)
def test_checks_accept_numpy_integers(n):
    from pixinfo._checks import check_grid_shape, check_int

    assert check_int(n, "k", low=1) == 8 and type(check_int(n, "k")) is int
    assert check_grid_shape((n, n)) == (8, 8) and check_grid_shape((np.int64(1), n, n)) == (8, 8)
    assert all(type(s) is int for s in check_grid_shape((n, n)))


@pytest.mark.parametrize("x", NUMPY_FLOATS)
def test_checks_accept_numpy_floats(x):
    from pixinfo._checks import check_finite

    assert check_finite(x, "p", low=0, high=1) == 0.25 and type(check_finite(x, "p")) is float


def test_numpy_scalars_are_still_checked():
    from pixinfo._checks import check_grid_shape, check_int
    from pixinfo.errors import ShapeError

    with pytest.raises(PixinfoError, match="k must be an integer >= 1, got np.int64"):
        check_int(np.int64(0), "k", low=1)
    with pytest.raises(ShapeError, match="positive ints"):
        check_grid_shape((np.int64(8), np.int64(0)))
    with pytest.raises(ShapeError, match="positive ints"):
        check_grid_shape((np.float32(8), np.int64(8)))
    with pytest.raises(ShapeError, match="positive ints"):
        check_grid_shape((np.bool_(True), np.int64(8)))


@pytest.mark.parametrize("scale", [np.float32(2.0), np.int64(2), np.float64(2.0)])
def test_kernel_accepts_a_numpy_scale_and_cutoff(scale):
    from pixinfo.info import Kernel

    k = Kernel("exponential", scale=scale, cutoff=np.int64(3))
    assert k.scale == 2.0 and type(k.scale) is float and k.cutoff == 3.0 and type(k.cutoff) is float
    assert torch.equal(k.offset_table(4, 4), Kernel("exponential", scale=2.0, cutoff=3).offset_table(4, 4))
    with pytest.raises(ValueError, match="scale must be finite and > 0"):
        Kernel("exponential", scale=np.float32("nan"))


def test_attack_epsilons_accept_numpy_floats():
    from pixinfo.adversarial.attacks import FGSM
    from pixinfo.models import build_model

    net = build_model("mlp", image_shape=(1, 8, 8), num_classes=10)
    x, y = _batch()
    single = FGSM()(net, x, y, epsilons=np.float32(0.1))
    assert float(single.linf.max()) <= 0.1 + 1e-6
    small, large = FGSM()(net, x, y, epsilons=[np.float32(0.05), np.float64(0.1)])
    assert float(small.linf.max()) <= 0.05 + 1e-6 < float(large.linf.max())
    with pytest.raises(ValueError, match="epsilons must be finite numbers >= 0"):
        FGSM()(net, x, y, epsilons=np.float32(-0.1))


def test_grid_and_count_options_accept_numpy_integers(digits):
    from pixinfo.info import probe_map
    from pixinfo.transforms import FixedPermutation, Flip, MonotoneMap

    shape = (np.int64(1), np.int64(8), np.int64(8))
    assert FixedPermutation(shape, seed=np.int64(0)).spec == FixedPermutation((1, 8, 8), seed=0).spec
    x = digits.test.images[:4]
    assert torch.equal(Flip(shape)(x), Flip((1, 8, 8))(x))
    assert torch.equal(MonotoneMap(knots=np.int64(16))(x), MonotoneMap(knots=16)(x))
    assert probe_map(lambda z: torch.roll(z, 1, dims=-1), shape=(np.int64(3), np.int64(3))) is not None


def test_measure_options_accept_numpy_integers():
    from pixinfo.info import structural_retention
    from pixinfo.info.content import neighbour_information
    from pixinfo.info.value import value_retention

    x = torch.rand(10, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    index = torch.randperm(64, generator=torch.Generator().manual_seed(0))
    assert torch.equal(neighbour_information(x, batch_size=np.int64(4)), neighbour_information(x, batch_size=4))
    assert torch.equal(structural_retention(index, shape=(np.int64(8), np.int64(8)), chunk_elements=np.int64(4096)),
                       structural_retention(index, shape=(8, 8), chunk_elements=4096))  # fmt: skip
    assert torch.equal(value_retention(x, x.flip(-1), levels=np.int64(16), n_shuffles=np.int32(2)),
                       value_retention(x, x.flip(-1), levels=16, n_shuffles=2))  # fmt: skip


# -- known-plaintext attack: fractional pair counts --------------------------------------------------
@pytest.mark.parametrize("ks", [(1, 2.5), (1.0,), [np.float32(3.0)], 4, "12", (True,)])
def test_known_plaintext_refuses_non_integer_ks(digits, ks):
    from pixinfo.privacy import known_plaintext
    from pixinfo.transforms import FixedPermutation

    with pytest.raises(PixinfoError, match=r"ks must be a non-empty sequence of integers in \[1, 50\]") as err:
        known_plaintext(transform=FixedPermutation((8, 8), seed=0), plain=digits.train.images[:50], ks=ks)
    assert_raised_by_pixinfo(err.value)


def test_known_plaintext_accepts_numpy_integer_ks(digits):
    from pixinfo.privacy import known_plaintext
    from pixinfo.transforms import FixedPermutation

    x, t = digits.train.images[:50], FixedPermutation((8, 8), seed=0)
    got = known_plaintext(transform=t, plain=x, ks=np.array([1, 4, 16]))
    assert got == known_plaintext(transform=t, plain=x, ks=(1, 4, 16)) and all(type(k) is int for k in got["k"])


# -- known-plaintext attack: compositions it cannot handle; plaintexts that determine nothing ---------
@pytest.mark.parametrize("spec", ["permutation:seed=0+negative", "xor+permutation:seed=0", "block+monotone",
                                  "level-permutation+xor", "translate", "learnable", "pixel-based", "etc"])  # fmt: skip
def test_known_plaintext_refuses_schemes_it_cannot_handle(digits, spec):
    from pixinfo.errors import UnsupportedSchemeError
    from pixinfo.privacy import known_plaintext
    from pixinfo.transforms import build_transform

    t = build_transform(spec, shape=(1, 8, 8))
    with pytest.raises(UnsupportedSchemeError, match=r"known_plaintext .*transform '.*' ") as err:
        known_plaintext(transform=t, plain=digits.train.images[:64], ks=(1, 4, 64))
    assert_raised_by_pixinfo(err.value)


def test_known_plaintext_on_a_composition_of_rearrangements_improves_with_pairs(digits):
    from pixinfo.privacy import known_plaintext
    from pixinfo.transforms import build_transform

    t = build_transform("permutation:seed=0+block:size=2,seed=1", shape=(1, 8, 8))
    shares = known_plaintext(transform=t, plain=digits.train.images, ks=(1, 4, 64, 1000))["determined"]
    assert shares == sorted(shares) and shares[-1] > 0.9


@pytest.mark.parametrize("spec", ["permutation:seed=0", "block:size=2,seed=1", "level-permutation", "monotone"])
def test_known_plaintext_single_or_constant_plaintexts_determine_nothing(digits, spec):
    from pixinfo.privacy import known_plaintext
    from pixinfo.transforms import build_transform

    t = build_transform(spec, shape=(1, 8, 8))
    constant = torch.full((6, 1, 8, 8), 7, dtype=torch.uint8)
    assert known_plaintext(transform=t, plain=constant, ks=(1, 6)) == {"k": [1, 6], "determined": [0.0, 0.0],
                                                                         "k_needed": None}  # fmt: skip
    if spec.startswith(("permutation", "block")):  # one image: every position's 1-vector is its own value
        single = known_plaintext(transform=t, plain=digits.train.images[:1], ks=(1,))
        assert single == {"k": [1], "determined": [0.0], "k_needed": None}


def test_known_plaintext_xor_is_still_determined_by_one_pair():
    from pixinfo.privacy import known_plaintext
    from pixinfo.transforms import build_transform

    constant = torch.full((3, 1, 8, 8), 7, dtype=torch.uint8)
    got = known_plaintext(transform=build_transform("xor:bits=8", shape=(1, 8, 8)), plain=constant, ks=(1, 3))
    assert got["k_needed"] == 1  # key = encrypted ^ plain, whatever the plain image


# -- executors: a worker count that is not positive ----------------------------------------------------
@pytest.mark.parametrize("workers", [0, -1, 1.5, True, "2", None])
def test_make_executor_refuses_a_bad_worker_count(workers):
    from pixinfo.train.executors import make_executor

    with pytest.raises(PixinfoError, match=f"workers must be an integer >= 1, got {workers!r}") as err:
        make_executor(workers=workers, progress=False)
    assert_raised_by_pixinfo(err.value)


def test_make_executor_accepts_positive_worker_counts():
    from pixinfo.train.executors import InProcess, ProcessPool, make_executor

    assert isinstance(make_executor(workers=1, progress=False), InProcess)
    assert isinstance(make_executor(workers=np.int64(3), progress=False), ProcessPool)
    assert make_executor(workers=np.int64(3), progress=False).workers == 3


# -- records and checkpoints missing a field, of an older format, or torn ------------------------------
def _finished_record(tmp_path):
    import json

    from pixinfo.train import TrainConfig, train

    run = train(TrainConfig(dataset="digits", model="mlp", epochs=1), results_dir=tmp_path, progress=False)
    return run.path, json.loads(run.path.read_text())


@pytest.mark.parametrize(
    ("drop", "field"),
    [(("results",), "results"), (("results", "final_test_acc"), "results.final_test_acc"),
     (("results", "world_size"), "results.world_size"), (("config",), "config"),
     (("environment", "git"), "environment.git"), (("config", "transform"), "config.transform")],
)  # fmt: skip
def test_collect_records_names_the_file_and_the_missing_field(tmp_path, drop, field):
    import json

    from pixinfo.errors import CorruptFileError
    from pixinfo.train import collect_records

    path, record = _finished_record(tmp_path)
    part = record
    for key in drop[:-1]:
        part = part[key]
    del part[drop[-1]]
    path.write_text(json.dumps(record))
    with pytest.raises(CorruptFileError, match=rf"{path.name}.*'{field}'") as err:
        collect_records(tmp_path)
    assert_raised_by_pixinfo(err.value)


def test_collect_records_names_a_field_of_the_wrong_kind(tmp_path):
    import json

    from pixinfo.errors import CorruptFileError
    from pixinfo.train import collect_records

    path, record = _finished_record(tmp_path)
    record["results"] = [0.9]
    path.write_text(json.dumps(record))
    with pytest.raises(CorruptFileError, match=rf"{path.name}.*'results' .*list"):
        collect_records(tmp_path)


def test_a_torn_record_names_the_file(tmp_path):
    from pixinfo.errors import CorruptFileError
    from pixinfo.train import collect_records

    path, _ = _finished_record(tmp_path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CorruptFileError, match=path.name):
        collect_records(tmp_path)


def _interrupted_checkpoint(tmp_path):
    from pixinfo.train import TrainConfig, checkpoint_path, train

    class Stop(Exception):
        pass

    def stop(row):
        raise Stop

    config = TrainConfig(dataset="digits", model="mlp", epochs=2, seed=5)
    with pytest.raises(Stop):
        train(config, results_dir=tmp_path, progress=False, on_epoch=stop)
    return config, checkpoint_path(config)


@pytest.mark.parametrize("field", ["optimizer", "history", "torch_rng", "epoch", "loader"])
def test_a_checkpoint_missing_a_field_names_the_file_and_the_field(tmp_path, field):
    from pixinfo.errors import CorruptFileError
    from pixinfo.files import torch_save_atomic
    from pixinfo.train import train

    config, path = _interrupted_checkpoint(tmp_path)
    blob = torch.load(path, weights_only=True)
    del blob[field]
    torch_save_atomic(blob, path)
    with pytest.raises(CorruptFileError, match=rf"{path.name}.*'{field}'") as err:
        train(config, results_dir=tmp_path, resume=True, progress=False)
    assert_raised_by_pixinfo(err.value)


def test_a_checkpoint_whose_weights_do_not_fit_names_the_file(tmp_path):
    from pixinfo.errors import CorruptFileError
    from pixinfo.files import torch_save_atomic
    from pixinfo.train import train

    config, path = _interrupted_checkpoint(tmp_path)
    blob = torch.load(path, weights_only=True)
    blob["model"] = {k: v[..., :1] for k, v in blob["model"].items()}
    torch_save_atomic(blob, path)
    with pytest.raises(CorruptFileError, match=rf"{path.name}.*'model'"):
        train(config, results_dir=tmp_path, resume=True, progress=False)


def test_a_finished_record_without_results_is_not_reused(tmp_path):
    import json

    from pixinfo.train import TrainConfig, find_record, train

    path, record = _finished_record(tmp_path)
    del record["results"]
    path.write_text(json.dumps(record))
    config = TrainConfig(dataset="digits", model="mlp", epochs=1)
    assert find_record(config, tmp_path) is None
    again = train(config, results_dir=tmp_path, reuse=True, progress=False)
    assert again.final_test_acc > 0.5 and "results" in json.loads(path.read_text())


# -- --out: checked before the work; a failed command leaves no folder behind ---------------------------
def test_attack_checks_its_out_folder_before_the_attack(tmp_path):
    from tests.raises import run_cli

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for out in (blocker, blocker / "results"):
        code, stdout, err = run_cli(["attack", "--transform", "xor:bits=8", "--dataset", "digits", "--n-images", "50",
                                     "--out", str(out)])  # fmt: skip
        assert code == 2 and f"--out {out}" in err, err
        assert "exact" not in stdout


SAVED_MODEL_COMMANDS = ("semantic", "fool")


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    from pixinfo.models import build_model, save_model

    folder = tmp_path_factory.mktemp("model")
    return save_model(build_model("mlp", image_shape=(1, 8, 8), num_classes=10, hidden=[16]), folder / "d.pt")


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["score", "--dataset", "digits", "--no-progress", "--transform", "bogus"], "unknown transform"),
        (["score", "--dataset", "digits", "--no-progress", "--kernel", "power:scale=nan"], "scale must be finite"),
        (["train", "--dataset", "digits", "--model", "mlp", "--epochs", "1", "--no-progress",
          "--model-options", '{"hidden": [0]}'], r"hidden\[0\] must be an integer >= 1"),
        (["attack", "--transform", "bogus", "--dataset", "digits"], "unknown transform"),
        (["semantic", "--dataset", "mnist", "--root", "/nonexistent/pixinfo"], "not found"),
        (["fool", "--device", "tpu"], "device must be"),
    ],
)  # fmt: skip
def test_a_failed_command_leaves_no_new_out_folder(tmp_path, digits_model, argv, match):
    out = tmp_path / "new" / "results"
    extra = ["--model", str(digits_model)] if argv[0] in SAVED_MODEL_COMMANDS else []
    assert_cli_error([*argv, *extra, "--out", str(out)], match)
    assert not (tmp_path / "new").exists(), list(tmp_path.rglob("*"))


def test_a_failed_command_keeps_an_out_folder_that_was_there(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    assert_cli_error(["score", "--dataset", "digits", "--transform", "bogus", "--out", str(out)], "unknown transform")
    assert out.is_dir()


# -- image batches: 4-D only (5-D gave "too many values to unpack" or passed through) -------------------
FIVE_D = torch.rand(2, 1, 1, 8, 8, generator=torch.Generator().manual_seed(0))
TRANSFORM_SPECS = ["identity", "permutation", "per-image-permutation", "block", "negative", "xor", "xor-per-image",
                   "monotone", "level-permutation", "flip", "translate", "contrast", "learnable", "pixel-based",
                   "etc", "instahide", "vortex:seed=0"]  # fmt: skip


def test_score_refuses_a_5d_batch():
    from pixinfo import score
    from pixinfo.errors import ShapeError

    with pytest.raises(ShapeError, match=r"data must have shape \(B, C, H, W\), got shape \(2, 1, 1, 8, 8\)") as err:
        score("negative", FIVE_D, n_boot=2, n_boot_value=0, progress=False)
    assert_raised_by_pixinfo(err.value)


@pytest.mark.parametrize("spec", TRANSFORM_SPECS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.uint8])
def test_transforms_refuse_a_5d_batch(spec, dtype):
    from pixinfo.errors import ShapeError
    from pixinfo.transforms import build_transform

    x = FIVE_D if dtype == torch.float32 else (FIVE_D * 255).to(torch.uint8)
    with pytest.raises(ShapeError, match=r"images must have shape \(B, C, H, W\), got shape \(2, 1, 1, 8, 8\)") as err:
        build_transform(spec, shape=(1, 8, 8))(x)
    assert_raised_by_pixinfo(err.value)


def test_attacks_and_measures_refuse_a_5d_batch():
    from pixinfo.adversarial.attacks import FGSM
    from pixinfo.errors import ShapeError
    from pixinfo.info.value import value_retention
    from pixinfo.models import build_model

    net = build_model("mlp", image_shape=(1, 8, 8), num_classes=10)
    with pytest.raises(ShapeError, match=r"\(B, C, H, W\)"):
        FGSM()(net, FIVE_D, torch.arange(2), epsilons=0.1)
    with pytest.raises(ShapeError, match=r"\(B, C, H, W\)"):
        value_retention(FIVE_D, FIVE_D)


def test_documented_leading_dimensions_still_pass():
    from pixinfo.data import to_float, to_uint8
    from pixinfo.info.content import neighbour_information

    assert to_float(to_uint8(FIVE_D)).shape == FIVE_D.shape
    assert neighbour_information(FIVE_D).shape == (2, 1, 1)


# -- tampered key files: the error names the field ------------------------------------------------------
def _tampered_key(tmp_path, spec, field, value, *, shape=(1, 8, 8)):
    import json

    from pixinfo.transforms import build_transform

    key = build_transform(spec, shape=shape).key_dict()
    if value is _MISSING:
        del key["kwargs"][field]
    else:
        key["kwargs"][field] = value
    path = tmp_path / "key.json"
    path.write_text(json.dumps(key))
    return path


_MISSING = object()
TAMPERED_KEYS = [
    ("permutation", "index", "abc"), ("permutation", "index", [3, 1, 2]), ("permutation", "index", _MISSING),
    ("permutation", "seed", "zero"), ("permutation", "shape", "1x8x8"),
    ("block:size=4,rotate=true,flip=true", "block_perm", {"a": 1}), ("block:size=4,rotate=true,flip=true", "flips", 3),
    ("block:size=4,rotate=true,flip=true", "rotations", _MISSING), ("block:size=4", "shuffle_within", "no"),
    ("block:size=4", "block_perm", {"__tensor__": [[0, 1]], "dtype": "int64"}),
    ("xor", "key", _MISSING), ("xor", "bits", 8.5), ("monotone", "ys", [0.0, 1.0]), ("level-permutation", "table", -3),
    ("level-permutation", "table", _MISSING), ("learnable", "key", _MISSING), ("swaps", "index", "x"),
    ("flip", "axis", ["horizontal"]), ("flip", "axis", _MISSING), ("contrast", "factor", _MISSING),
    ("contrast", "factor", "half"), ("permutation+negative", "transforms", "negative"),
    ("vortex:seed=0", "strength", _MISSING), ("vortex:seed=0", "bijective", "yes"),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "field", "value"), TAMPERED_KEYS)
def test_a_tampered_key_file_names_the_field(tmp_path, spec, field, value):
    from pixinfo.errors import CorruptFileError
    from pixinfo.transforms import load_transform

    path = _tampered_key(tmp_path, spec, field, value)
    with pytest.raises(CorruptFileError, match=rf"{path.name}.*field '{field}'") as err:
        load_transform(path)
    assert_raised_by_pixinfo(err.value)


@pytest.mark.parametrize("spec", ["permutation", "block:size=4,rotate=true,flip=true", "xor", "monotone", "learnable",
                                  "permutation+negative", "vortex:seed=0", "flip", "contrast", "negative"])  # fmt: skip
def test_an_untouched_key_file_still_loads(tmp_path, spec):
    from pixinfo.transforms import build_transform, load_transform

    t = build_transform(spec, shape=(1, 8, 8))
    x = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    assert torch.equal(load_transform(t.save_key(tmp_path / "key.json"))(x), t(x))


# -- key-recovery layout: grids whose N x N matrices would not fit -------------------------------------
@pytest.mark.parametrize("shape", [(4096, 4096), (200, 200), (1, 20000)])
def test_layout_refuses_grids_too_large_for_n_by_n_matrices(shape):
    from pixinfo.errors import WorkTooLargeError
    from pixinfo.privacy.layout import alignment_maps, grid_neighbours

    for fn in (alignment_maps, grid_neighbours):
        with pytest.raises(WorkTooLargeError, match=rf"shape {shape[0]}x{shape[1]} gives {shape[0] * shape[1]:,} "
                                                    r"positions.*GiB.*bound") as err:  # fmt: skip
            fn(shape)
        assert_raised_by_pixinfo(err.value)


def test_alignment_maps_has_its_own_bound():
    """8 maps per position: (8 N, N) entries, so a grid within the N x N bound can still be refused."""
    from pixinfo.errors import WorkTooLargeError
    from pixinfo.privacy.layout import alignment_maps, check_grid_size

    assert check_grid_size(100, 100, name="shape", what="one (N, N) matrix") == 10_000  # within the bound
    with pytest.raises(WorkTooLargeError, match="alignment_maps"):
        alignment_maps((100, 100))
    assert alignment_maps((28, 28)).shape == (8 * 784, 784)


def test_position_stats_refuses_a_grid_too_large():
    from pixinfo.errors import WorkTooLargeError
    from pixinfo.privacy.layout import position_stats

    with pytest.raises(WorkTooLargeError, match=r"images .*shape 256x256 gives 65,536 positions"):
        position_stats(torch.zeros(2, 1, 256, 256, dtype=torch.uint8))


def test_layout_checks_the_grid_shape():
    from pixinfo.errors import ShapeError
    from pixinfo.privacy.layout import alignment_maps, grid_neighbours

    for fn in (alignment_maps, grid_neighbours):
        with pytest.raises(ShapeError, match="shape"):
            fn((8, -8))


# -- recovery measures: exactness is undefined on one image or on constant images ------------------------
def _keys():
    from pixinfo.privacy.measures import RecoveredKey
    from pixinfo.transforms import build_transform

    return {
        "gather": (RecoveredKey("gather", True, 1.0, np.arange(64)), build_transform("permutation:seed=0", shape=(1, 8, 8))),
        "levels": (RecoveredKey("levels", True, 1.0, np.arange(256)), build_transform("level-permutation", shape=(1, 8, 8))),
        "xor": (RecoveredKey("xor", True, 1.0, np.zeros((1, 8, 8), np.uint8), bits=8),
                build_transform("xor", shape=(1, 8, 8))),
    }  # fmt: skip


@pytest.mark.parametrize("kind", ["gather", "levels", "xor"])
def test_recovery_measures_refuse_a_single_image(digits, kind):
    from pixinfo.privacy.measures import key_exactness, recovery_measures

    key, t = _keys()[kind]
    for call in (lambda: recovery_measures(key=key, transform=t, original=digits.test.images[:1]),
                 lambda: key_exactness(key, t, digits.test.images[:1])):  # fmt: skip
        with pytest.raises(PixinfoError, match=r"original must hold at least 2 images.*got 1") as err:
            call()
        assert_raised_by_pixinfo(err.value)


@pytest.mark.parametrize("kind", ["gather", "levels"])
def test_recovery_measures_refuse_constant_images(kind):
    from pixinfo.privacy.measures import key_exactness, recovery_measures

    key, t = _keys()[kind]
    constant = torch.full((5, 1, 8, 8), 9, dtype=torch.uint8)
    for call in (lambda: recovery_measures(key=key, transform=t, original=constant),
                 lambda: key_exactness(key, t, constant)):  # fmt: skip
        with pytest.raises(PixinfoError, match=r"original .*(no position|one grey level).*undefined"):
            call()


def test_recovery_measures_on_two_varying_images_still_work(digits):
    from pixinfo.privacy.measures import recovery_measures

    key, t = _keys()["gather"]
    m = recovery_measures(key=key, transform=t, original=digits.test.images[:2])
    assert 0 <= m["exact"] <= 1 and m["exact"] < 1  # the identity is not the permutation's inverse
