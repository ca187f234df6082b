"""pixinfo.predict: the loss predictor fitted on the study's records, its out-of-domain flag, its
errors and its command line. Measured on MNIST-5k (embedded), so nothing needs a local dataset."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

import pixinfo
from pixinfo.cli import main
from pixinfo.data import load_dataset
from pixinfo.errors import CorruptFileError, ParameterError
from pixinfo.predict import (PREDICTOR_PATH, PROBE_FEATURES, PROBE_READS, STUDY_IMAGES, Features, LossPredictor,
                             PredictorError, ProbeBaseline, Regression, conformal_width, features, fit_regression,
                             held_out_predictions, interval_widths, label_probe, out_of_domain_width, outside_other_families, predict,
                             probe_fingerprint)  # fmt: skip
from tests.raises import assert_raised_by_pixinfo


@pytest.fixture(scope="module")
def predictor():
    return LossPredictor.load()


@pytest.fixture(scope="module")
def records(analysis):
    """The study's per-run rows with their cached label probes, as analyses/predictor.py fits them."""
    return analysis("predictor").training_records()


def study_features(row) -> Features:
    """A study setting's committed measures as Features."""
    return Features(row["spec"], row["dataset"], 5000, bool(row["shared_key"]), row["structural_loss"],
                    row["content_loss"], row["value_loss"], row["value_order_loss"], row["probe_loss"],
                    row["level_probe_loss"], row["conv_probe_loss"], row["augmented_probe_loss"])  # fmt: skip


def tile(x):
    """The image shrunk to half its side and repeated 2 × 2: a kind of transform the study never trained."""
    return torch.nn.functional.avg_pool2d(x, 2).repeat(1, 1, 2, 2)


def test_committed_predictor_is_what_the_records_fit(predictor, records, analysis):
    chosen = predictor.selection
    refit = LossPredictor.fit(records, features=chosen["features"], kind=chosen["kind"], level=0.9,
                              target=chosen.get("target", "points"), selection=chosen)  # fmt: skip
    committed = json.loads(PREDICTOR_PATH.read_text())
    fresh = json.loads(json.dumps(refit.to_dict()))
    assert fresh["selection"] == committed["selection"]
    script = analysis("predictor")
    kept = script.baselines(records["dataset"], cache=script.RUNS / "predict" / "probes.csv")
    assert {d: b.to_dict() for d, b in kept.items()} == committed["baselines"]
    for a, b in zip(fresh["models"], committed["models"], strict=True):
        for x, y in zip(a, b, strict=True):
            assert x["regression"]["kind"] == y["regression"]["kind"] and x["domain"] == y["domain"]
            assert x["regression"]["params"].get("target") == y["regression"]["params"].get("target")
            np.testing.assert_allclose(x["regression"]["params"]["coef"], y["regression"]["params"]["coef"],
                                       rtol=1e-8, atol=1e-9)  # fmt: skip
            assert x["interval"] == pytest.approx(y["interval"], rel=1e-9)


def test_every_study_setting_is_in_domain_and_predicted_near_its_loss(predictor, records):
    for (dataset, family), rows in records.groupby(["dataset", "model"]):
        first = rows.drop_duplicates("setting").set_index("setting")
        inside = []
        for setting, measured in rows.groupby("setting")["accuracy_loss"].mean().items():
            p = predict(study_features(first.loc[setting]), dataset, family, predictor=predictor)
            assert not p.out_of_domain, (family, setting, p.reason)
            inside.append(p.interval[0] <= measured <= p.interval[1])
        assert np.mean(inside) >= 0.9, (dataset, family, np.mean(inside))  # each setting's mean over its seeds


def test_a_measured_study_setting_reproduces_its_features_and_loss(predictor, records):
    row = records[(records["dataset"] == "mnist-5k") & (records["setting"] == "vortex strength 1.0")]
    feats = features("vortex:seed=0,n=10,strength=1.0", "mnist-5k")
    for name in ("structural_loss", "content_loss", "value_loss", "value_order_loss", "probe_loss"):
        assert getattr(feats, name) == pytest.approx(row[name].iloc[0], abs=1e-9), name
    # the level probe fits float32 codes: another BLAS thread count can move one of its 2,000 test images
    assert feats.level_probe_loss == pytest.approx(row["level_probe_loss"].iloc[0], abs=2 / 2000)
    # the conv probe trains in float32: another thread count moves a few of its 2,000 test images
    for name in ("conv_probe_loss", "augmented_probe_loss"):
        assert getattr(feats, name) == pytest.approx(row[name].iloc[0], abs=0.02), name
    p = predict(feats, "mnist-5k", "lenet", predictor=predictor)
    measured = row.loc[row["model"] == "lenet", "accuracy_loss"].mean()
    assert not p.out_of_domain and p.interval[0] <= measured <= p.interval[1]
    assert p.accuracy == pytest.approx(p.untransformed_accuracy - p.loss)
    lenet_runs = records[(records["dataset"] == "mnist-5k") & (records["model"] == "lenet")]
    assert p.fit_on["records"] == len(lenet_runs) and p.fit_on["recipe"]["architecture"] == ["lenet"]
    assert set(p.to_dict()) >= {"loss", "interval_low", "interval_high", "accuracy", "out_of_domain", "reason"}


def test_flag_fires_on_a_kind_never_trained(predictor):
    p = predict(tile, "mnist-5k", "mlp", max_images=1000, predictor=predictor)
    assert p.out_of_domain and "training" in p.reason
    assert any("measured on 1,000 images" in note for note in p.notes)
    family = predictor.family("mnist-5k", "mlp")
    assert family.interval_out_of_domain > family.interval  # calibrated on held-out transform families
    assert (p.interval[1] - p.interval[0]) / 2 == pytest.approx(family.interval_out_of_domain)


def test_a_file_without_the_out_of_domain_width_uses_the_single_one(predictor, tmp_path):
    saved = predictor.to_dict()
    for variants in saved["models"]:
        for model in variants:
            del model["interval_out_of_domain"]
    (tmp_path / "old.json").write_text(json.dumps(saved))
    old = LossPredictor.load(tmp_path / "old.json")
    odd = Features("noise", "fashion-mnist", 5000, False, 0.8, 0.1, 0.05, 0.9, 0.0, 0.0, 0.0, 0.0)  # every probe
    p = predict(odd, "fashion-mnist", "cnn", predictor=old)
    half_width = (p.interval[1] - p.interval[0]) / 2
    assert p.out_of_domain and half_width == pytest.approx(old.family("fashion-mnist", "cnn").interval)


def test_keyless_transforms_unlike_the_keyless_settings_are_out_of_domain(predictor):
    odd = Features("noise", "fashion-mnist", 5000, False, 0.8, 0.1, 0.05, 0.9, 0.0, 0.0)  # structure gone, content kept
    p = predict(odd, "fashion-mnist", "cnn", predictor=predictor)
    assert p.out_of_domain and "per-image-key" in p.reason
    p = predict(odd, "fashion-mnist", "cnn (before)", predictor=predictor)  # never trained on a per-image key
    assert p.out_of_domain and "no per-image-key transform among the training settings" in p.reason
    undefined = Features("noise", "fashion-mnist", 5000, False, float("nan"), 0.08, 0.8, 0.3, 0.03, 0.03)
    assert "structural_loss undefined" in predict(undefined, "fashion-mnist", "cnn", predictor=predictor).reason


def test_without_a_probe_the_measures_alone_predict(predictor):
    measured = Features("block:size=14", "fashion-mnist", 5000, True, 0.052, 0.052, 0.0, 0.0, None)
    p = predict(measured, "fashion-mnist", "cnn", predictor=predictor)
    assert not {"probe_loss", "level_probe_loss", "conv_probe_loss", "augmented_probe_loss"} & set(p.features_used)
    assert any("no label probe" in n for n in p.notes)


def test_bad_inputs_raise_typed_errors(predictor, tmp_path):
    measured = Features("negative", "mnist-5k", 5000, True, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    cases = [
        (lambda: predict(measured, "mnist-5k", "resnet", predictor=predictor), PredictorError,
         "choose one of: 'lenet', 'mlp'"),
        (lambda: predict(measured, "digits", "mlp", predictor=predictor), PredictorError,
         "fitted on: fashion-mnist, mnist-5k"),
        (lambda: predict(measured, "fashion-mnist", "mlp", predictor=predictor), PredictorError,
         "measured on 'mnist-5k'"),
        (lambda: predict(42, "mnist-5k", "mlp", predictor=predictor), ParameterError, "expected a transform spec"),
        (lambda: predict("bogus:x=1", "mnist-5k", "mlp", predictor=predictor), ParameterError, "bogus"),
        (lambda: predict("negative", "mnist-5k", "mlp", max_images=0, predictor=predictor), ParameterError,
         "max_images"),
        (lambda: predict("negative", "mnist-5k", "mlp", images=torch.zeros(4, 1, 28, 28), predictor=predictor),
         ParameterError, "Dataset or Split"),
    ]  # fmt: skip
    for call, kind, match in cases:
        with pytest.raises(kind, match=match) as err:
            call()
        assert_raised_by_pixinfo(err.value)
    (tmp_path / "bad.json").write_text('{"kind": "something else"}')
    with pytest.raises(CorruptFileError, match="not a pixinfo LossPredictor"):
        LossPredictor.load(tmp_path / "bad.json")


def test_regressions_round_trip_and_trees_match_scikit_learn():
    from sklearn.ensemble import GradientBoostingRegressor

    rng = np.random.default_rng(0)
    x, x_new = rng.random((80, 3)), rng.random((20, 3))
    y = 3 * x[:, 0] - 2 * x[:, 1] * x[:, 2] + 0.1 * rng.standard_normal(80)
    trees = fit_regression(x, y, features=["a", "b", "c"], kind="trees")
    reference = GradientBoostingRegressor(max_depth=2, n_estimators=100, learning_rate=0.1, random_state=0).fit(x, y)
    in_range = lambda v: np.clip(v, y.min(), y.max())  # noqa: E731 - a prediction never leaves the fitted values
    np.testing.assert_allclose(trees.predict(x_new), in_range(reference.predict(x_new)), rtol=1e-9, atol=1e-9)
    linear = fit_regression(x, y, features=["a", "b", "c"], kind="linear")
    ones = np.c_[np.ones(80), x]
    np.testing.assert_allclose(linear.predict(x), in_range(ones @ np.linalg.lstsq(ones, y, rcond=None)[0]), atol=1e-6)
    assert linear.predict(np.array([[0.0, 1.0, 1.0]]))[0] == pytest.approx(y.min(), abs=1e-9)  # unclamped: below
    assert fit_regression(x[:, :0], y, features=[], kind="linear").predict(x_new[:, :0]) == pytest.approx(y.mean())
    assert conformal_width(np.arange(1.0, 10.0), level=0.9) == 9.0 and conformal_width(np.ones(3), level=0.9) == np.inf


def test_package_exports_predict_and_the_model_class():
    assert pixinfo.LossPredictor is LossPredictor
    measured = Features("negative", "mnist-5k", 5000, True, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert pixinfo.predict(measured, "mnist-5k", "mlp").model == "mlp"  # the module, called, is predict


def test_cli_predict_and_score_predict(tmp_path, capsys):
    argv = ["predict", "--transform", "negative", "--dataset", "mnist-5k", "--model", "lenet", "--max-images", "300"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "lenet" in out and "accuracy kept %" in out and "out of domain" in out and "300 images" in out
    assert main(["predict", "--transform", "negative", "--dataset", "digits"]) == 2
    assert "no predictor for dataset 'digits'" in capsys.readouterr().err
    assert main(["predict", "--transform", "negative", "--dataset", "mnist-5k", "--model", "vit"]) == 2
    assert "unknown model family 'vit'" in capsys.readouterr().err
    code = main(["score", "--dataset", "mnist-5k", "--transform", "negative", "--predict", "--max-images", "300",
                 "--out", str(tmp_path), "--no-progress", "--n-boot", "0", "--n-boot-value", "0"])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "predicted accuracy kept" in out and "lenet" in out and "mlp" in out


def test_the_records_hold_each_run_once_with_its_probe(records):
    assert {"accuracy_loss", "untransformed_acc", "probe_loss", "value_order_loss", "model", "setting"} <= set(records)
    assert records["config_hash"].is_unique and records[list(PROBE_FEATURES)].notna().all().all()


@pytest.mark.parametrize("kind", ["linear", "interactions", "interactions (alpha 10)"])
def test_held_out_predictions_are_those_of_a_fit_without_the_group(kind):
    rng = np.random.default_rng(1)
    x = np.c_[rng.random((60, 3)), np.repeat([0.0, 1.0], 30), np.full(60, 81.3)]  # a binary and a constant column
    y = 5 * x[:, 0] * x[:, 3] - x[:, 1] + 0.1 * rng.standard_normal(60)
    groups = np.repeat(np.arange(6), 10)
    fast = held_out_predictions(x, y, groups, kind=kind)
    for g in range(6):
        held = groups == g
        fit = fit_regression(x[~held], y[~held], features=list("abcde"), kind=kind)
        np.testing.assert_allclose(fast[held], fit.predict(x[held]), rtol=1e-8, atol=1e-8)
    assert np.isnan(held_out_predictions(x, y, np.zeros(60), kind=kind)).all()  # no rows left to fit on


def test_the_relative_target_corrects_the_probes_share_and_scales_back_to_points():
    """A loss that is the probe's share of the points above chance, plus a correction linear in a
    measure: the relative target recovers it exactly, also for a probe beyond the training range
    (the probe's share carries through unclamped), and its held-out predictions are those of fits."""
    rng = np.random.default_rng(3)
    names = ["structural_loss", "probe_loss", "untransformed_acc"]
    x = np.c_[rng.random(60), rng.random(60) * 0.8, 80 + rng.random(60)]
    y = (x[:, 2] - 10) * (x[:, 1] + 0.2 * x[:, 0])
    fit = fit_regression(x, y, features=names, kind="linear", target="relative", chance=10.0)
    far = np.array([[0.5, 1.0, 80.5]])  # a probe at chance, beyond every training row
    assert fit.predict(far)[0] == pytest.approx(70.5 * 1.1, rel=1e-9)
    assert fit.params["target"] == "relative" and fit.params["chance"] == 10.0
    points = fit_regression(x, y, features=names, kind="linear")
    assert points.predict(far)[0] < 0.9 * fit.predict(far)[0]  # in points: clamped at the training range's edge
    groups = np.repeat(np.arange(6), 10)
    fast = held_out_predictions(x, y, groups, kind="interactions", target="relative", features=names, chance=10.0)
    held = groups == 2
    slow = fit_regression(x[~held], y[~held], features=names, kind="interactions", target="relative", chance=10.0)
    np.testing.assert_allclose(fast[held], slow.predict(x[held]), rtol=1e-8)
    with pytest.raises(ParameterError, match="untransformed_acc and a probe"):
        fit_regression(x[:, :2], y, features=names[:2], kind="linear", target="relative", chance=10.0)
    with pytest.raises(ParameterError, match="chance"):
        fit_regression(x, y, features=names, kind="linear", target="relative")
    with pytest.raises(ParameterError, match="target"):
        fit_regression(x, y, features=names, kind="linear", target="share")


def test_the_out_of_domain_width_is_calibrated_on_the_runs_left_outside():
    rows = pd.DataFrame({"family": np.repeat(["a", "b", "c"], 4), "setting": [f"s{i}" for i in range(12)],
                         "shared_key": True, "structural_loss": np.r_[np.linspace(0, 0.1, 8), [5.0, 5.1, 5.2, 5.3]]})
    outside = outside_other_families(rows, features=["structural_loss"])
    assert not outside[:8].any() and outside[8:].all()  # family c lies far from a and b: flagged when left out
    residuals = np.r_[np.full(8, 0.5), [9.0, 10.0, 11.0, 12.0]]
    assert out_of_domain_width(1.0, residuals, level=0.5, outside=outside) == 11.0  # its 3rd of 4 largest
    assert out_of_domain_width(1.0, residuals, level=0.5) == 1.0  # all runs: the in-domain width wins
    assert out_of_domain_width(1.0, residuals[:1], level=0.9) is None  # too few to calibrate


def test_the_in_domain_width_is_the_wider_of_the_setting_and_the_family_calibration():
    settings, families = np.r_[np.full(9, 1.0), 2.0], np.r_[np.full(9, 0.5), 4.0]
    outside = np.r_[np.zeros(6, dtype=bool), np.ones(4, dtype=bool)]
    # level 0.9 of 10 runs: the ceil(11 * 0.9) = 10th smallest, the largest
    assert interval_widths(settings, families, level=0.9) == (4.0, 4.0)  # held-out kinds missed by more
    assert interval_widths(families, settings, level=0.9) == (4.0, 4.0)  # held-out settings missed by more
    width, outside_width = interval_widths(settings, np.r_[np.full(6, 0.5), [3.0, 3.0, 3.0, 9.0]], level=0.5,
                                           outside=outside)  # fmt: skip
    assert width == 1.0 and outside_width == 3.0  # level 0.5: the 6th of 10, then the 3rd of the 4 left outside
    assert interval_widths(settings, families[:1], level=0.9) == (2.0, None)  # one family: nothing to calibrate


def test_a_regression_predicts_beyond_its_data_as_at_the_nearest_edge():
    rng = np.random.default_rng(2)
    x = rng.random((50, 2))
    y = 4 * x[:, 0] + 3 * x[:, 0] * x[:, 1] + 0.05 * rng.standard_normal(50)
    for kind in ("linear", "interactions"):
        fit = fit_regression(x, y, features=["a", "b"], kind=kind)
        far, edge = np.array([[9.0, -3.0]]), np.array([[x[:, 0].max(), x[:, 1].min()]])
        assert fit.predict(far) == pytest.approx(fit.predict(edge), abs=1e-12)
        assert fit.predict(x[:1]) != pytest.approx(fit.predict(far))  # inside the range nothing is clamped
        unbounded = Regression(kind, fit.features, {k: v for k, v in fit.params.items() if k not in ("lower", "upper")})
        assert unbounded.predict(far) != pytest.approx(fit.predict(far))  # a file without ranges: as fitted, unclamped
    groups = np.r_[np.zeros(49), 1]
    x_out = np.r_[x[:49], [[9.0, -3.0]]]  # the held-out row lies far beyond the rows fitted on
    fast = held_out_predictions(x_out, y, groups, kind="interactions")
    fit = fit_regression(x[:49], y[:49], features=["a", "b"], kind="interactions")
    assert fast[-1] == pytest.approx(float(fit.predict(x_out[-1:])[0]), rel=1e-9)


def test_the_level_probe_reads_what_a_per_pixel_value_map_keeps(digits):
    """A fresh negation of half the pixels of every image keeps each pixel's distance from mid-grey:
    the probe on grey-level codes still reads the digits, the probe on the pixels does not; a fresh
    XOR key per image keeps nothing either can read."""
    from pixinfo.transforms import PerImagePixelBased, PerImageXor

    split = digits.split("all")
    images, labels = split.images, split.labels
    flips = {read: label_probe(PerImagePixelBased(fraction=0.5, seed=0), images, labels, read=read)
             for read in ("pixels", "levels")}  # fmt: skip
    assert flips["pixels"].loss > 0.8 and flips["levels"].loss < 0.5, flips
    assert flips["levels"].accuracy_original > 0.8
    xor = label_probe(PerImageXor(seed=0), images, labels, read="levels")
    assert xor.loss > 0.8, xor
    with pytest.raises(ParameterError, match="read"):
        label_probe(PerImageXor(seed=0), images, labels, read="histogram")


def test_the_conv_probes_pay_for_lost_positions_the_pixel_probe_does_not_see():
    """A fixed pixel permutation keeps everything a linear read-out of the pixels finds, and costs
    a convolutional network; more when it trains on crops and flips of the permuted images, which
    the permutation does not commute with. The conv probe, retrained on the same images with the
    same seed, loses nothing to the identity."""
    from pixinfo.data import load_dataset
    from pixinfo.transforms import build_transform

    split = load_dataset("mnist-5k").split("all")
    images, labels = split.images[:2000], split.labels[:2000]
    for read in ("conv", "conv-augmented"):
        same = label_probe(lambda x: x, images, labels, read=read)
        assert same.loss == 0.0 and same.accuracy_original > 0.8, (read, same)
    permutation = build_transform("permutation:seed=0", shape=(1, 28, 28))
    loss = {read: label_probe(permutation, images, labels, read=read).loss
            for read in ("pixels", "conv", "conv-augmented")}  # fmt: skip
    assert abs(loss["pixels"]) < 0.02 and loss["conv"] > 0.05 and loss["conv-augmented"] > loss["conv"] + 0.05, loss


def test_features_computes_the_probes_asked_for(predictor):
    used = predictor.probes("mnist-5k", ["lenet"])
    assert set(used) == {f for f in predictor.family("mnist-5k", "lenet").regression.features if "probe" in f}
    feats = features("negative", "mnist-5k", max_images=300, probes=["probe_loss"])
    assert feats.probe_loss is not None
    assert feats.level_probe_loss is None and feats.conv_probe_loss is None and feats.augmented_probe_loss is None
    with pytest.raises(ParameterError, match="probes must be") as err:
        features("negative", "mnist-5k", max_images=300, probes=["histogram"])
    assert_raised_by_pixinfo(err.value)


def test_a_probe_baseline_is_reused_on_its_own_images_only():
    probes = ["probe_loss", "level_probe_loss"]
    first = features("block:size=7", "mnist-5k", max_images=300, probes=probes)
    base = first.baseline
    assert set(base.accuracy) == {PROBE_READS["pixels"], PROBE_READS["levels"]}
    again = features("block:size=7", "mnist-5k", max_images=300, probes=probes, baseline=base)
    assert (again.probe_loss, again.level_probe_loss) == (first.probe_loss, first.level_probe_loss)
    lower = ProbeBaseline(base.fingerprint, {name: v - 0.1 for name, v in base.accuracy.items()})
    used = features("block:size=7", "mnist-5k", max_images=300, probes=probes, baseline=lower)
    assert used.probe_loss < first.probe_loss - 0.1 and used.baseline.accuracy == lower.accuracy  # taken as given
    for other in ({"seed": 1}, {"max_images": 301}):  # other images or seed: measured afresh
        fresh = features("block:size=7", "mnist-5k", probes=probes, **{"max_images": 300, **other})
        ignored = features("block:size=7", "mnist-5k", probes=probes, baseline=lower, **{"max_images": 300, **other})
        assert ignored.probe_loss == fresh.probe_loss and ignored.baseline == fresh.baseline != base
    with pytest.raises(ParameterError, match="baseline must be a ProbeBaseline") as err:
        features("block:size=7", "mnist-5k", max_images=300, probes=probes, baseline=dict(base.accuracy))
    assert_raised_by_pixinfo(err.value)


def test_the_shipped_baselines_are_those_of_the_study_images(predictor):
    split = load_dataset("mnist-5k").split("all")
    base = predictor.baseline("mnist-5k")
    assert base.fingerprint == probe_fingerprint(split.images[:STUDY_IMAGES], split.labels[:STUDY_IMAGES], seed=0)
    assert base.fingerprint != probe_fingerprint(split.images[:STUDY_IMAGES], split.labels[:STUDY_IMAGES], seed=1)
    assert set(base.accuracy) == {PROBE_READS[read] for read in PROBE_FEATURES.values()}
    assert predictor.baseline("digits") is None
    assert LossPredictor.from_dict(predictor.to_dict()).baselines == predictor.baselines
