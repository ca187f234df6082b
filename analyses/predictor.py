"""Predict accuracy loss before training: fit pixinfo's LossPredictor on the study's committed
per-run tables and validate it.

For every model family of the study tables (info_vs_accuracy.py: Fashion-MNIST mlp, cnn, vit,
cnn and mlp with augmentation before encryption, cnn for one epoch on 60,000 images; MNIST-5k
lenet and mlp), the accuracy loss of each run is regressed on the three measures, the shared key
and candidate extra features: the label probes (pixinfo.predict.label_probe: a logistic regression
on a few thousand transformed images against the originals, read from the pixels and from one-hot
codes of their grey levels, and a small CNN trained for four epochs on the images as they are and
on random crops and flips of them; cached per setting in ``--results``), the value-order loss
1 − |Spearman| of the study's measures, and the family's untransformed accuracy of the run's seed.
The model class and the extra features are chosen by leave-one-setting-out MAE pooled over the
families; the validation table reports nested
leave-one-setting-out and leave-one-transform-family-out MAE (the choice made again on each
training part) and 90% interval coverage against the mean loss and a linear fit on the three
measures alone. Every candidate's held-out MAE is written to predictor_candidates_<tag>.csv.

    python analyses/predictor.py --tag validation_cpu                  # probes any setting not cached
    python analyses/predictor.py --tag validation_cpu --from-records   # committed files only
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from _experiment import ROOT, RUNS, add_common_arguments, apply_preset, outputs, save_figure, write_csv, write_table
from info_vs_accuracy import LOSSES

from pixinfo.data import load_dataset
from pixinfo.predict import (KINDS, PREDICTOR_PATH, PROBE_FEATURES, PROBE_READS, STUDY_IMAGES, TARGETS,
                             TRANSFORM_FEATURES, LossPredictor, ProbeBaseline, fit_domain, fit_regression,
                             fits_target, held_out_predictions, interval_widths, label_probe, outside_other_families,
                             probe_fingerprint)
from pixinfo.runs import RowCache
from pixinfo.transforms import build_transform

RESULTS = ROOT / "analyses" / "results"
# (study table tag, {model label in the table: family name in the predictor})
SOURCES = [
    ("cpu_fashion_mlp_cnn_vit", {"mlp": "mlp", "cnn": "cnn", "vit": "vit"}),
    ("cpu_fashion_mlp_cnn_order", {"mlp (before)": "mlp (before)", "cnn (before)": "cnn (before)"}),
    ("cpu_fashion_cnn_60k_e1", {"cnn": "cnn (60k, 1 epoch)"}),
    ("cpu_mnist5k", {"lenet": "lenet", "mlp": "mlp"}),
    ("cpu_fashion_more", {"mlp": "mlp", "cnn": "cnn", "vit": "vit"}),  # kinds the 40 settings lack, the same recipes
    ("cpu_mnist5k_more", {"lenet": "lenet", "mlp": "mlp"}),
    ("cpu_fashion_per_image", {"mlp": "mlp", "cnn": "cnn"}),  # keyed rearrangements with a key per image
    ("cpu_mnist5k_per_image", {"lenet": "lenet", "mlp": "mlp"}),
    ("cpu_fashion_degrade", {"mlp": "mlp", "cnn": "cnn", "vit": "vit"}),  # lossy degradations: blur, mosaics, noise
    ("cpu_mnist5k_degrade", {"lenet": "lenet", "mlp": "mlp"}),
    ("cpu_fashion_chain", {"mlp": "mlp", "cnn": "cnn", "vit": "vit"}),  # two transforms in turn: a rearrangement, a value map
    ("cpu_mnist5k_chain", {"lenet": "lenet", "mlp": "mlp"}),
    ("cpu_fashion_cipher", {"mlp": "mlp", "cnn": "cnn", "vit": "vit"}),  # AES on the images' bytes
    ("cpu_mnist5k_cipher", {"lenet": "lenet", "mlp": "mlp"}),
    ("cpu_fashion_edits", {"mlp": "mlp", "cnn": "cnn", "vit": "vit"}),  # JPEG, tilts, occlusion
    ("cpu_mnist5k_edits", {"lenet": "lenet", "mlp": "mlp"}),
    ("cpu_fashion_chaos", {"mlp": "mlp", "cnn": "cnn", "vit": "vit"}),  # chaos-based permutation-diffusion
    ("cpu_mnist5k_chaos", {"lenet": "lenet", "mlp": "mlp"}),
    ("cpu_fashion_rowcol_sharpen", {"mlp": "mlp", "cnn": "cnn", "vit": "vit"}),  # row-column scrambling, sharpening
    ("cpu_mnist5k_rowcol_sharpen", {"lenet": "lenet", "mlp": "mlp"}),
    ("cpu_fashion_elastic", {"mlp": "mlp", "cnn": "cnn", "vit": "vit"}),  # elastic deformation
    ("cpu_mnist5k_elastic", {"lenet": "lenet", "mlp": "mlp"}),
]
PROBE_KEY = ["dataset", "spec", "max_images", "seed", "probe"]


def probes(specs: pd.DataFrame, *, cache: Path, from_records: bool, seed: int = 0) -> pd.DataFrame:
    """Every label probe (``PROBE_FEATURES``) of every (dataset, spec) of ``specs``, one column of
    losses per probe, cached in ``cache`` (a CSV) under every setting that decides it: dataset,
    spec, images, seed and the probe's definition (``PROBE_READS``)."""
    original, data = {}, {}
    probe_names = {PROBE_READS[read]: (feature, read) for feature, read in PROBE_FEATURES.items()}  # cache name: both

    def compute(key: tuple) -> dict:
        dataset, spec, _, _, probe_name = key
        read = probe_names[probe_name][1]
        ds = data.setdefault(dataset, load_dataset(dataset))
        split = ds.split("all")
        t = build_transform(spec, shape=ds.image_shape, dataset=dataset)
        probe = label_probe(t, split.images[:STUDY_IMAGES], split.labels[:STUDY_IMAGES], seed=seed,
                            original_accuracy=original.get((dataset, read)), read=read)  # fmt: skip
        original[(dataset, read)] = probe.accuracy_original
        print(f"{dataset} {spec} ({read}): probe {probe.accuracy_transformed:.4f} (original "
              f"{probe.accuracy_original:.4f}), {probe.seconds:.1f} s", file=sys.stderr)  # fmt: skip
        return {"probe_accuracy_original": probe.accuracy_original, "probe_accuracy": probe.accuracy_transformed,
                "probe_loss": probe.loss}  # fmt: skip

    pairs = list(specs[["dataset", "spec"]].drop_duplicates().itertuples(index=False))
    keys = [(dataset, spec, STUDY_IMAGES, seed, name) for name in probe_names for dataset, spec in pairs]
    done = RowCache(cache, key=PROBE_KEY).get_or_compute(keys, compute, from_records=from_records)
    done = done.assign(feature=done["probe"].map(lambda name: probe_names[name][0]))
    return done.pivot(index=["dataset", "spec"], columns="feature", values="probe_loss").reset_index()


def baselines(datasets, *, cache: Path, seed: int = 0) -> dict[str, ProbeBaseline]:
    """Per dataset, the probes' accuracy on its untransformed study images as the cached probes
    measured it (one value per probe definition; the most frequent where runs differed), with the
    images' fingerprint: what the fitted predictor keeps so that a prediction on those images does
    not train the probes on them again."""
    cached = pd.read_csv(cache)
    cached = cached[(cached["max_images"] == STUDY_IMAGES) & (cached["seed"] == seed)]
    out = {}
    for dataset in sorted(set(datasets)):
        split = load_dataset(dataset).split("all")
        rows = cached[cached["dataset"] == dataset]
        accuracy = {name: float(values.mode().iloc[0])
                    for name, values in rows.groupby("probe")["probe_accuracy_original"]}  # fmt: skip
        out[dataset] = ProbeBaseline(probe_fingerprint(split.images[:STUDY_IMAGES], split.labels[:STUDY_IMAGES],
                                                       seed=seed), accuracy)  # fmt: skip
    return out


def study_records(results: Path = RESULTS) -> pd.DataFrame:
    """Every transformed run of the study tables in ``SOURCES``, one row per run (a run in two
    tables once): ``model`` is its family in the predictor, ``architecture`` the network, ``source``
    its table, ``value_order_loss`` 1 − |Spearman ρ| of the setting's values, ``chance`` the accuracy
    of guessing (points). A run whose setting has a measure undefined is left out (a transform with
    a fresh key per image and no pixel map has no structural measure)."""
    parts = []
    for tag, families in SOURCES:
        table = pd.read_csv(results / f"info_vs_accuracy_{tag}.csv")
        table = table[table["model"].isin(families)]
        parts.append(table.assign(architecture=table["model"].str.split(" ").str[0], model=table["model"].map(families),
                                  source=f"info_vs_accuracy_{tag}.csv"))  # fmt: skip
    runs = pd.concat(parts, ignore_index=True).drop_duplicates("config_hash", keep="first")
    runs = runs[runs[list(LOSSES)].notna().all(axis=1)]
    chance = {name: 100 / load_dataset(name).num_classes for name in sorted(set(runs["dataset"]))}
    return runs.assign(value_order_loss=1 - runs["value_spearman"].abs(),
                       chance=runs["dataset"].map(chance)).reset_index(drop=True)  # fmt: skip


def training_records(*, cache: Path = RUNS / "predict" / "probes.csv", from_records: bool = True) -> pd.DataFrame:
    """The rows the predictor is fitted on: :func:`study_records` with each setting's label probe
    (computed into ``cache`` where missing, unless ``from_records``)."""
    runs = study_records()
    probe = probes(runs, cache=cache, from_records=from_records)
    return runs.merge(probe[["dataset", "spec", *PROBE_FEATURES]], on=["dataset", "spec"], validate="many_to_one")


BASE = [*LOSSES, "shared_key"]
PROBES = "label probe + level probe + conv probe + augmented probe"
FEATURE_SETS = {  # the three measures, then the shared key, then the candidate extra features
    "three measures": list(LOSSES), "+ shared key": BASE,
    "+ shared key + label probe": [*BASE, "probe_loss"], "+ shared key + value order": [*BASE, "value_order_loss"],
    "+ shared key + untransformed accuracy": [*BASE, "untransformed_acc"],
    "+ shared key + conv probe": [*BASE, "conv_probe_loss"],
    "+ shared key + augmented probe": [*BASE, "augmented_probe_loss"],
    "+ shared key + label probe + value order + untransformed accuracy":
        [*BASE, "probe_loss", "value_order_loss", "untransformed_acc"],
    "+ shared key + label probe + level probe + value order + untransformed accuracy":
        [*BASE, "probe_loss", "level_probe_loss", "value_order_loss", "untransformed_acc"],
    "+ shared key + label probe + conv probe + value order + untransformed accuracy":
        [*BASE, "probe_loss", "conv_probe_loss", "value_order_loss", "untransformed_acc"],
    "+ shared key + label probe + augmented probe + value order + untransformed accuracy":
        [*BASE, "probe_loss", "augmented_probe_loss", "value_order_loss", "untransformed_acc"],
    "+ shared key + label probe + conv probe + augmented probe + value order + untransformed accuracy":
        [*BASE, "probe_loss", "conv_probe_loss", "augmented_probe_loss", "value_order_loss", "untransformed_acc"],
    f"+ shared key + {PROBES} + value order + untransformed accuracy":
        [*BASE, *PROBE_FEATURES, "value_order_loss", "untransformed_acc"],
}  # fmt: skip
CHOICES = [name for name, f in FEATURE_SETS.items() if len(f) > len(BASE)]  # at least one feature beyond them
# the kinds of regression the selection compares (the boosted trees of pixinfo.predict are not among them)
CANDIDATE_KINDS = ("linear", "interactions", "interactions (alpha 10)")


# every (kind, target, feature set) the selection compares
CANDIDATES = [(kind, target, name) for kind in CANDIDATE_KINDS for target in TARGETS for name in CHOICES
              if fits_target(target, FEATURE_SETS[name])]  # fmt: skip
BASELINES = {"mean loss": ([], "linear", "points"),
             "linear on the three measures": (list(LOSSES), "linear", "points")}  # fmt: skip
LEVEL = 0.9
SELECT_BY = "setting"  # the folds of the selection criterion, inside the training part
CRITERION = "leave-one-setting-out MAE (points) on the training part, mean over the model families"


def families(runs: pd.DataFrame):
    """(dataset, family, its rows in a fixed order), every family of ``runs``."""
    for (dataset, family), rows in runs.groupby(["dataset", "model"], sort=True):
        yield dataset, family, rows.sort_values(["setting", "seed"], kind="stable").reset_index(drop=True)


class Fits:
    """Held-out predictions of every candidate on the rows of each (dataset, model family), each
    computed once: ``residuals(key, features, kind, by, keep, target)`` fits on the ``keep`` rows
    only, leaving out one ``by`` group of them at a time (NaN outside ``keep``)."""

    def __init__(self, runs: pd.DataFrame):
        self.parts = {(d, f): part for d, f, part in families(runs)}
        self._cache: dict = {}

    def residuals(self, key, features, kind: str, by: str, keep: np.ndarray | None = None,
                  target: str = "points") -> np.ndarray:  # fmt: skip
        part = self.parts[key]
        keep = np.ones(len(part), dtype=bool) if keep is None else keep
        memo = (key, tuple(features), kind, target, by, keep.tobytes())
        if memo not in self._cache:
            x = part[list(features)].to_numpy(np.float64)
            y = part["accuracy_loss"].to_numpy(np.float64)
            out = np.full(len(part), np.nan)
            out[keep] = y[keep] - held_out_predictions(x[keep], y[keep], part[by].to_numpy()[keep], kind=kind,
                                                       target=target, features=features, chance=self.chance(key))
            self._cache[memo] = out
        return self._cache[memo]

    def chance(self, key) -> float:
        return float(self.parts[key]["chance"].iloc[0])

    def outside(self, by: str, group) -> dict:
        """Per family, the mask of its rows outside ``group`` of ``by`` (the training part)."""
        return {key: part[by].to_numpy() != group for key, part in self.parts.items()}


def candidates(fits: Fits) -> pd.DataFrame:
    """Leave-one-setting-out and leave-one-transform-family-out MAE of every candidate kind of
    regression and target on every feature set it fits, per family (each candidate fixed:
    nothing chosen)."""
    rows = []
    for (dataset, family) in fits.parts:
        for kind in CANDIDATE_KINDS:
            for target in TARGETS:
                for name, features in FEATURE_SETS.items():
                    if not fits_target(target, features):
                        continue
                    mae = {by: float(np.abs(fits.residuals((dataset, family), features, kind, by, None, target)).mean())
                           for by in ("setting", "family")}  # fmt: skip
                    rows.append({"dataset": dataset, "model": family, "kind": kind, "target": target, "features": name,
                                 "loso_mae": mae["setting"], "lofo_mae": mae["family"]})  # fmt: skip
    return pd.DataFrame(rows)


def select(fits: Fits, keep: dict | None = None) -> tuple[tuple[str, str, str], dict]:
    """The (kind, target, feature set) of ``CANDIDATES`` with the least ``CRITERION`` on the ``keep``
    rows of each family (all rows by default), the first on a tie; and every candidate's criterion."""
    scores = {}
    for kind, target, name in CANDIDATES:
        per_family = [np.nanmean(np.abs(fits.residuals(key, FEATURE_SETS[name], kind, SELECT_BY,
                                                       None if keep is None else keep[key], target)))
                      for key in fits.parts]  # fmt: skip
        scores[(kind, target, name)] = float(np.mean(per_family))
    return min(scores, key=scores.get), scores


def choose(fits: Fits) -> dict:
    """The choice on every record, as the fitted predictor keeps it."""
    (kind, target, name), scores = select(fits)
    return {"kind": kind, "target": target, "feature_set": name, "features": FEATURE_SETS[name], "level": LEVEL,
            "criterion": CRITERION, "candidates": {" / ".join(c): round(v, 4) for c, v in scores.items()}}


def nested(fits: Fits, by: str) -> tuple[dict, dict, Counter]:
    """Leave each ``by`` group out, choose the candidate on the rest alone (:func:`select`), fit it
    there and predict the group: per family the held-out residuals and, per group, the chosen
    (kind, target, features); and how often each candidate was chosen."""
    groups = sorted(set().union(*(set(part[by]) for part in fits.parts.values())))
    res = {key: np.full(len(part), np.nan) for key, part in fits.parts.items()}
    picks = {key: np.empty(len(part), dtype=object) for key, part in fits.parts.items()}
    counts: Counter = Counter()
    for g in groups:
        keep = fits.outside(by, g)
        choice, _ = select(fits, keep)
        kind, target, name = choice
        counts[choice] += 1
        for key, part in fits.parts.items():
            held = ~keep[key]
            if not held.any():
                continue
            x = part[FEATURE_SETS[name]].to_numpy(np.float64)
            y = part["accuracy_loss"].to_numpy(np.float64)
            fit = fit_regression(x[keep[key]], y[keep[key]], features=FEATURE_SETS[name], kind=kind, target=target,
                                 chance=fits.chance(key))  # fmt: skip
            res[key][held] = y[held] - fit.predict(x[held])
            for i in np.flatnonzero(held):
                picks[key][i] = choice
    return res, picks, counts


def coverage(fits: Fits, key, residuals, picks, *, by: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whether each held-out residual lies within the interval the held-out part would have been
    given, whether the predictor's domain holds it, and that interval's half-width: for each
    ``by`` group, the training region of the rest and the rest's two widths
    (pixinfo.predict.interval_widths of the rest's own leave-one-setting-out and
    leave-one-transform-family-out residuals of the group's chosen (kind, target, features)), as
    ``FamilyModel`` gives them."""
    part = fits.parts[key]
    groups = part[by].to_numpy()
    covered, inside, half = np.zeros(len(part), dtype=bool), np.ones(len(part), dtype=bool), np.zeros(len(part))
    for g in sorted(set(groups)):
        held = groups == g
        kind, target, name = picks[np.flatnonzero(held)[0]]
        features = FEATURE_SETS.get(name, name)
        domain_features = [f for f in features if f in TRANSFORM_FEATURES]
        if domain_features:
            inside[held] = ~fit_domain(part[~held], features=domain_features).outside(part[held])
        # the rest's leave-one-setting-out residuals are those at hand when settings are the groups
        by_setting = residuals if by == "setting" else fits.residuals(key, features, kind, "setting", ~held, target)
        outside = None  # which runs of the rest their other families' domain leaves out: only for a flagged run
        if not inside[held].all():
            outside = np.zeros(len(part), dtype=bool)
            outside[~held] = outside_other_families(part[~held], features=domain_features)
        width, wider = interval_widths(by_setting[~held], fits.residuals(key, features, kind, "family", ~held, target),
                                       level=LEVEL, outside=outside)  # fmt: skip
        half[held] = np.where(inside[held], width, width if wider is None else wider)
        covered[held] = np.abs(residuals[held]) <= half[held]
    return covered, inside, half


def validate(fits: Fits, chosen: dict) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Per family and method (the predictor, the two baselines): leave-one-setting-out and
    leave-one-transform-family-out MAE and interval coverage, and for the predictor the share of
    held-out-family runs its domain holds; the predictor's held-out predictions per run; and how
    often each candidate was chosen in the folds. The predictor's numbers are nested: its kind,
    target and features are chosen again on each training part."""
    outer = {by: nested(fits, by) for by in ("setting", "family")}
    rows, held = [], []
    for (dataset, family), part in fits.parts.items():
        key = (dataset, family)
        methods = {"predictor": (chosen["features"], chosen["kind"], chosen["target"]), **BASELINES}
        for method, (features, kind, target) in methods.items():
            row = {"dataset": dataset, "model": family, "method": method, "kind": kind, "target": target,
                   "features": " + ".join(features) or "none", "runs": len(part), "settings": part["setting"].nunique()}
            for by, name in (("setting", "loso"), ("family", "lofo")):
                if method == "predictor":
                    res, picks = outer[by][0][key], outer[by][1][key]
                else:
                    res = fits.residuals(key, features, kind, by, None, target)
                    picks = np.empty(len(part), dtype=object)
                    for i in range(len(part)):
                        picks[i] = (kind, target, tuple(features))
                covered, inside, half = coverage(fits, key, res, picks, by=by)
                row |= {f"{name}_mae": float(np.abs(res).mean()), f"{name}_coverage": float(covered.mean()),
                        f"{name}_half_width": float(half.mean())}  # fmt: skip
                if method == "predictor" and by == "family":
                    row |= {"lofo_in_domain": float(inside.mean()),
                            "lofo_mae_in_domain": float(np.abs(res[inside]).mean()) if inside.any() else np.nan,
                            "lofo_coverage_in_domain": float(covered[inside].mean()) if inside.any() else np.nan,
                            "lofo_covered_or_flagged": float((covered | ~inside).mean())}  # fmt: skip
                if method == "predictor" and by == "setting":
                    held.append(part[["dataset", "model", "setting", "family", "seed", "accuracy_loss"]]
                                .assign(predicted=part["accuracy_loss"] - res, half_width=half))  # fmt: skip
            rows.append(row)
    folds = {by: outer[by][2] for by in outer}
    return pd.DataFrame(rows), pd.concat(held, ignore_index=True), folds


def _points(v: float) -> str:
    return "–" if pd.isna(v) else f"{v:.2f}"


def _share(v: float) -> str:
    return "–" if pd.isna(v) else f"{100 * v:.0f}%"


def validation_table(table: pd.DataFrame) -> str:
    """The per-family table: MAE and coverage of the predictor and the baselines."""
    t = table.assign(family=table["dataset"] + " / " + table["model"])
    out = pd.DataFrame({
        "family": t["family"], "method": t["method"], "runs": t["runs"].astype(str),
        "LOSO MAE": t["loso_mae"].map(_points), "LOFO MAE": t["lofo_mae"].map(_points),
        "LOSO coverage": t["loso_coverage"].map(_share), "LOFO coverage": t["lofo_coverage"].map(_share),
        "LOFO in domain": t["lofo_in_domain"].map(_share), "LOFO MAE in domain": t["lofo_mae_in_domain"].map(_points),
        "LOFO coverage in domain": t["lofo_coverage_in_domain"].map(_share),
        "LOFO covered or flagged": t["lofo_covered_or_flagged"].map(_share),
        "LOFO mean half-width": t["lofo_half_width"].map(_points),
    })  # fmt: skip
    return out.to_markdown(index=False, disable_numparse=True)


def gains_table(grid: pd.DataFrame, kind: str) -> str:
    """MAE of each feature set under ``kind`` (in points), per family, and its gain over the three measures alone."""
    part = grid[(grid["kind"] == kind) & (grid["target"] == "points")]
    part = part.assign(family=part["dataset"] + " / " + part["model"])
    blocks = []
    for column, name in (("loso_mae", "LOSO"), ("lofo_mae", "LOFO")):
        wide = part.pivot_table(index="features", columns="family", values=column, sort=False)
        wide["mean"] = wide.mean(axis=1)
        gain = wide.loc["three measures"] - wide
        cells = wide.map("{:.2f}".format) + gain.map(lambda g: f" ({round(g, 2) + 0.0:+.2f})")  # no "-0.00" from rounding noise
        cells.loc["three measures"] = wide.loc["three measures"].map("{:.2f}".format)
        blocks.append(cells.reset_index().rename(columns={"features": f"{name} MAE (gain)"})
                      .to_markdown(index=False, disable_numparse=True))  # fmt: skip
    return "\n\n".join(blocks)


def lofo_note(table: pd.DataFrame) -> str:
    """What the leave-one-family-out MAE of the predictor says, as the numbers have it."""
    mine = table[table["method"] == "predictor"]
    above = mine[mine["lofo_mae"] > 2]
    names = ", ".join(f"{d} / {m} {v:.2f}" for d, m, v in zip(above["dataset"], above["model"], above["lofo_mae"],
                                                               strict=True))  # fmt: skip
    linear = table[table["method"] == "linear on the three measures"].set_index(["dataset", "model"])["lofo_mae"]
    worse = [f"{d} / {m} {v:.2f} vs {linear[(d, m)]:.2f}" for d, m, v in
             zip(mine["dataset"], mine["model"], mine["lofo_mae"], strict=True) if v > linear[(d, m)]]  # fmt: skip
    families = "family" if len(worse) == 1 else "families"
    versus = (f" Its LOFO MAE is above the linear baseline's in {len(worse)} {families} ({', '.join(worse)})."
              if worse else " Its LOFO MAE is at or below the linear baseline's in every family.")  # fmt: skip
    if above.empty:
        return "Leave-one-family-out MAE stays at or below 2 points in every family." + versus
    return (f"Leave-one-family-out MAE stays above 2 points in {len(above)} of {len(mine)} families ({names}): "
            "for a transform of a kind the study did not train on, expect errors of that size; the in-domain "
            "columns show how many such runs the out-of-domain flag catches and how the rest fare." + versus)


def folds_note(folds: dict) -> str:
    """How often each candidate was chosen on the training part of a fold."""
    parts = []
    for by, name in (("family", "LOFO"), ("setting", "LOSO")):
        n = sum(folds[by].values())
        picks = "; ".join(f"{kind} ({target}) on {features} in {c}"
                          for (kind, target, features), c in folds[by].most_common())  # fmt: skip
        parts.append(f"{name} ({n} folds): {picks}")
    return "The choice made again on the training part of each fold — " + ". ".join(parts) + "."


def to_markdown(runs: pd.DataFrame, table: pd.DataFrame, grid: pd.DataFrame, chosen: dict, folds: dict) -> str:
    recipes = runs.groupby(["dataset", "model"]).agg(epochs=("epochs", lambda e: sorted(set(e))),
                                                     seeds=("seed", "nunique"), settings=("setting", "nunique"))
    intro = (f"Predicting accuracy loss (points) from the transform before training: {len(runs)} trained runs of "
             f"the study tables ({', '.join(sorted(set(runs['source'])))}), {len(recipes)} (dataset, model family) "
             "pairs: " + "; ".join(f"{d} / {m} ({r.settings} settings × {r.seeds} seeds, epochs {r.epochs})"
                                   for (d, m), r in recipes.iterrows())
             + f". Chosen by {chosen['criterion']} among {len(CANDIDATES)} candidates ({len(CANDIDATE_KINDS)} kinds "
             f"× {len(TARGETS)} targets × {len(CHOICES)} feature sets that add at least one feature to the three "
             "measures and the shared key, the relative target only where the set holds a probe and the "
             f"untransformed accuracy): **{chosen['kind']}** ({KINDS[chosen['kind']]}) of **the {chosen['target']} "
             f"target** ({TARGETS[chosen['target']]}) on **{' + '.join(chosen['features'])}**. LOSO: leave "
             "one setting out (all its seeds, in every family); LOFO: leave one transform family out ("
             + ", ".join(dict.fromkeys(runs["family"])) + "; in every family). The predictor's rows are nested: in "
             "each fold the kind, the target and the feature set are chosen again by the same criterion on the "
             "training part "
             "alone, so the held-out setting or transform family decides nothing. Coverage: share of held-out "
             f"runs inside the {LEVEL:.0%} interval the training part gives them (split-conformal: the wider of "
             f"the {LEVEL:.0%} quantiles of the absolute LOSO and LOFO residuals within the training part; outside "
             "its domain, that of the LOFO residuals of the runs its other families' domain left outside, never "
             "narrower; pixinfo.predict.interval_widths). In domain: held-out runs whose transform the "
             "training part's domain holds (pixinfo.predict.Domain). Covered or flagged: held-out runs inside "
             "their interval or outside the domain (flagged), the share a transform of a kind the predictor "
             "has not seen can expect. Mean half-width: of those intervals, in points. Baselines: the mean loss "
             "of the training "
             "part; ordinary least squares on the three measures alone. The unit of every number is the run "
             "(setting × seed); the folds are settings or transform families, not seeds.")  # fmt: skip
    return "\n\n".join([
        intro, validation_table(table), lofo_note(table), folds_note(folds),
        f"Gain of each feature over the three measures alone, under {chosen['kind']} of the points target: MAE "
        "(points) and in brackets the three measures' MAE minus it (positive: the feature helps).",
        gains_table(grid, chosen["kind"]),
        "Every candidate, fixed (nothing chosen): LOSO and LOFO MAE (points), mean over the families; per "
        f"family in predictor_candidates_*.csv.",
        grid.groupby(["kind", "target", "features"], sort=False)[["loso_mae", "lofo_mae"]].mean().map("{:.2f}".format)
        .reset_index().to_markdown(index=False, disable_numparse=True),
    ]) + "\n"  # fmt: skip


def plot(held: pd.DataFrame, figures: Path, suffix: str) -> None:
    """Calibration: each setting's mean LOSO prediction against its mean measured loss, with the
    interval half-width, one panel per family."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(dict.fromkeys(zip(held["dataset"], held["model"], strict=True)))
    fig, axes = plt.subplots(2, (len(keys) + 1) // 2, figsize=(3.1 * ((len(keys) + 1) // 2), 6.2), squeeze=False)
    colours = {f: f"C{i}" for i, f in enumerate(sorted(set(held["family"])))}
    for ax, (dataset, model) in zip(axes.flat, keys, strict=False):
        part = held[(held["dataset"] == dataset) & (held["model"] == model)]
        mean = part.groupby(["setting", "family"], as_index=False)[["accuracy_loss", "predicted", "half_width"]].mean()
        for family, rows in mean.groupby("family"):
            ax.errorbar(rows["predicted"], rows["accuracy_loss"], xerr=rows["half_width"], fmt="o", ms=3, lw=0.6,
                        capsize=1.5, color=colours[family], label=family, alpha=0.8)  # fmt: skip
        top = max(mean["accuracy_loss"].max(), mean["predicted"].max()) + 3
        ax.plot([-3, top], [-3, top], color="grey", lw=0.7)
        ax.set_title(f"{dataset} / {model}", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.flat[len(keys):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("measured loss (points)", fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("predicted, left out (points)", fontsize=8)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(colours), fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    save_figure(fig, figures / f"predictor_calibration{suffix}.png")


PRESETS = {"full": {}, "quick": {}}


def parse(argv) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model-out", help="where the fitted predictor is written (default: the package's "
                   f"{PREDICTOR_PATH.relative_to(ROOT)} with the default --out-dir, else {PREDICTOR_PATH.name} "
                   "in --out-dir)")
    add_common_arguments(p, experiment="predict", quick_help="the same as the full run (nothing is trained)")
    args = apply_preset(p.parse_args(argv), PRESETS)
    if args.model_out is None:
        default = Path(args.out_dir).resolve() == RESULTS.resolve()
        args.model_out = str(PREDICTOR_PATH if default else Path(args.out_dir) / PREDICTOR_PATH.name)
    return args


def main(argv=None) -> int:
    args = parse(argv)
    base, figures, suffix = outputs(args, "predictor")
    cache = Path(args.results) / "probes.csv"
    runs = training_records(cache=cache, from_records=args.from_records)
    fits = Fits(runs)
    grid = candidates(fits)
    chosen = choose(fits)
    predictor = LossPredictor.fit(runs, features=chosen["features"], kind=chosen["kind"], target=chosen["target"],
                                  level=LEVEL, selection={k: v for k, v in chosen.items() if k != "level"},
                                  baselines=baselines(runs["dataset"], cache=cache))  # fmt: skip
    predictor.save(args.model_out)
    table, held, folds = validate(fits, chosen)
    write_csv(table, f"{base}.csv")
    write_csv(grid, out := base.parent / f"predictor_candidates{suffix}.csv")
    write_table(base, to_markdown(runs, table, grid, chosen, folds), args, runs, chosen=chosen,
                outputs=[str(out.name), str(Path(args.model_out).name)])  # fmt: skip
    plot(held, figures, suffix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
