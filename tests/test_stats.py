import numpy as np
import pandas as pd
import pytest

from pixinfo.stats import correlate, fit_loss_model


def test_perfect_correlation_gives_one_with_a_tight_interval():
    x = np.linspace(0, 1, 30)
    frame = pd.DataFrame({"x": x, "y": np.exp(3 * x)})  # monotone, not linear
    table = correlate(frame, x="x", y="y", n_boot=300).set_index("method")
    assert table.loc["spearman", "estimate"] == pytest.approx(1.0)
    assert table.loc["kendall", "estimate"] == pytest.approx(1.0)
    assert table.loc[["spearman", "kendall"], "ci_low"].min() == pytest.approx(1.0)
    assert 0.85 < table.loc["pearson", "estimate"] < 1.0
    assert table.loc["pearson", "ci_high"] - table.loc["pearson", "ci_low"] < 0.1


def test_independent_data_intervals_cover_zero_in_most_seeds():
    covered = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        frame = pd.DataFrame({"x": rng.normal(size=60), "y": rng.normal(size=60)})
        table = correlate(frame, x="x", y="y", n_boot=300, methods=["spearman"], seed=seed)
        covered += int(table["ci_low"].iloc[0] <= 0 <= table["ci_high"].iloc[0])
    assert covered >= 16  # nominal 95%


def test_tied_ranks_match_scipy():
    from scipy import stats

    x = np.array([1, 1, 2, 2, 3, 3, 4, 4, 5, 5], dtype=float)
    y = np.array([2, 1, 2, 3, 3, 3, 5, 4, 4, 6], dtype=float)
    table = correlate(pd.DataFrame({"x": x, "y": y}), x="x", y="y", n_boot=50).set_index("method")
    assert table.loc["spearman", "estimate"] == pytest.approx(stats.spearmanr(x, y).statistic)
    assert table.loc["kendall", "estimate"] == pytest.approx(stats.kendalltau(x, y).statistic)
    assert table.loc["pearson", "p_value"] == pytest.approx(stats.pearsonr(x, y).pvalue)


def test_groups_pooled_clusters_and_holm():
    rng = np.random.default_rng(0)
    rows = []
    for family, slope in [("cnn", 1.0), ("mlp", 0.0)]:
        for setting in range(15):
            x = rng.uniform()
            for seed in range(3):  # three seeds per setting: one cluster
                rows.append({"family": family, "setting": setting, "x": x, "y": slope * x + 0.05 * rng.normal()})
    frame = pd.DataFrame(rows)
    table = correlate(frame, x="x", y="y", by="family", cluster="setting", n_boot=300)
    assert list(dict.fromkeys(table["group"])) == ["cnn", "mlp", "all"]
    cnn = table[(table["group"] == "cnn") & (table["method"] == "pearson")].iloc[0]
    mlp = table[(table["group"] == "mlp") & (table["method"] == "pearson")].iloc[0]
    assert cnn["estimate"] > 0.95 and cnn["n"] == 45 and cnn["n_clusters"] == 15
    assert mlp["ci_low"] < 0 < mlp["ci_high"]
    assert (table["p_holm"] >= table["p_value"] - 1e-12).all() and (table["p_holm"] <= 1).all()
    # resampling clusters widens the interval compared with treating seeds as independent
    rows_only = correlate(frame[frame["family"] == "mlp"], x="x", y="y", n_boot=300, methods=["pearson"])
    assert (mlp["ci_high"] - mlp["ci_low"]) > (rows_only["ci_high"] - rows_only["ci_low"]).iloc[0]


def test_bad_arguments():
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": [1.0, 2.0]})
    with pytest.raises(KeyError, match="not in the frame"):
        correlate(frame, x="x", y="z")
    with pytest.raises(ValueError, match="unknown method"):
        correlate(frame, x="x", y="y", methods=["distance"])


def test_regression_recovers_known_coefficients_and_partial_r2():
    rng = np.random.default_rng(1)
    n = 400
    frame = pd.DataFrame({
        "structural": rng.uniform(size=n), "value": rng.uniform(size=n), "noise": rng.uniform(size=n),
        "family": np.repeat(["cnn", "mlp"], n // 2), "setting": np.arange(n) // 4,
    })  # fmt: skip
    slope = np.where(frame["family"] == "cnn", 0.8, 0.0)  # the mlp ignores structure
    frame["loss"] = slope * frame["structural"] + 0.5 * frame["value"] + 0.02 * rng.normal(size=n)
    fit = fit_loss_model(frame, y="loss", measures=["structural", "value", "noise"], family="family",
                         cluster="setting")  # fmt: skip
    coef = fit.coefficients.set_index("term")["estimate"]
    assert coef["structural"] == pytest.approx(0.8, abs=0.02)
    assert coef["structural:C(family)[T.mlp]"] == pytest.approx(-0.8, abs=0.03)
    assert coef["value"] == pytest.approx(0.5, abs=0.02)
    assert fit.r2 > 0.98 and fit.n == n and fit.n_clusters == 100
    assert fit.partial_r2["structural"] > 0.9 and fit.partial_r2["value"] > 0.9
    assert fit.partial_r2["noise"] < 0.05


def test_several_x_columns_share_one_holm_correction():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    frame["y"] = frame["a"] + 0.1 * rng.normal(size=40)
    table = correlate(frame, x=["a", "b"], y="y", n_boot=100)
    assert list(table["x"]) == ["a"] * 3 + ["b"] * 3
    from statsmodels.stats.multitest import multipletests

    assert np.allclose(table["p_holm"], multipletests(table["p_value"], method="holm")[1])
    single = correlate(frame, x="b", y="y", n_boot=100)
    assert (table.loc[table["x"] == "b", "p_holm"].to_numpy() >= single["p_holm"].to_numpy() - 1e-12).all()


def test_family_levels_and_column_names_survive_the_formula():
    """Regression: columns were renamed v0…vN and substituted back as text, so a family
    level ``mlp-v1`` came out as ``mlp-s`` (v1 → the name of column 1)."""
    import numpy as np
    import pandas as pd

    from pixinfo.stats import fit_loss_model

    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame({"loss": rng.normal(size=n), "s": rng.normal(size=n),
                          "model": np.repeat(["cnn", "mlp-v1", "v0"], 20), "g": np.arange(n) % 10})  # fmt: skip
    fit = fit_loss_model(frame, y="loss", measures=["s"], family="model", cluster="g")
    assert set(fit.coefficients["term"]) == {"Intercept", "C(model)[T.mlp-v1]", "C(model)[T.v0]", "s",
                                             "s:C(model)[T.mlp-v1]", "s:C(model)[T.v0]"}  # fmt: skip
    assert fit.formula == "loss ~ s * C(model) + C(model)"


def test_bootstrap_correlations_are_scipy_s_on_each_resample():
    """The resampled correlations are computed for every resample at once (Kendall from each pair's
    signs weighted by the resample's counts): each must equal scipy's on that resample, ties and
    constant resamples included, for resamples of unequal length (clusters of unequal size)."""
    import warnings

    from scipy import stats as sps

    from pixinfo.stats import _correlations

    rng = np.random.default_rng(4)
    x, y = rng.integers(0, 5, 40).astype(float), rng.random(40).round(1)
    samples = [rng.integers(0, 40, n) for n in (40, 40, 37, 12, 3)] + [np.full(5, 7)]  # the last is constant
    reference = {"pearson": sps.pearsonr, "spearman": sps.spearmanr, "kendall": sps.kendalltau}
    for method, test in reference.items():
        est, boot = _correlations(method, x, y, samples)
        assert est == pytest.approx(test(x, y).statistic, abs=1e-12)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy warns on the constant resample
            expected = [test(x[s], y[s]).statistic for s in samples]
        np.testing.assert_allclose(boot, expected, atol=1e-12, equal_nan=True)
