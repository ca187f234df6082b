"""Relate the information your transforms lose to the accuracy they cost: [`study`][pixinfo.study.study].

For every transform given, on one dataset:

* the three measures of [`pixinfo.score`][pixinfo.scoring.score] as losses (structural loss 1 − R,
  content loss 1 − I(T X)/I(X), value loss 1 − NMI), cached in ``measures.csv`` of the results
  folder under every setting that decides them;
* for every model and seed, a training run on the transformed images and one on the originals
  (through [`pixinfo.train.run_configs`][pixinfo.train.records.run_configs], on the executor
  asked for; finished runs are reused from their records), and the accuracy loss: the
  untransformed run's final test accuracy minus the transformed run's, in points;
* runs and measures joined on one label per transform, its canonical spec
  ([`canonical_label`][pixinfo.study.canonical_label]: ``vortex:authors`` is
  ``vortex:authors=mnist,n=10`` on both sides);
* correlations over runs with bootstrap intervals that resample transform settings, and OLS of
  the accuracy loss on the three measures with model-family interactions
  ([`pixinfo.stats`][pixinfo.stats]);
* a warning when the untransformed model is too weak for its losses to mean much.

``analyses/info_vs_accuracy.py`` is a preset of this module: its 40 transform settings on the
datasets it names.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pixinfo import _cli_grammar as _g  # the command line's option declarations (StudyOptions)
from pixinfo._callable import make_module_callable
from pixinfo.errors import ConfigError, ParameterError
from pixinfo.info.registry import MEASURES as REGISTERED
from pixinfo.train.recipes import RECIPES

LOSSES = [m.loss for m in REGISTERED if not m.signed]  # structural, content and value loss: the study's x
MEASURE_KEY = ["dataset", "spec", "max_images", "seed", "n_boot", "kernel"]  # the columns of a measures.csv row's key
KEY_SEPARATOR = " · key "
SCOPES = ("all settings", "shared key only")
AUGMENT = ("after", "before", "none")
EXECUTORS = ("process", "ray")
MEASURE_BOOT = 200  # bootstrap resamples of the cached measures (their intervals are not reported)


# -- transform settings: label -> (family, spec) ----------------------------------------------------------
def canonical_label(spec: str, *, shape: tuple[int, ...], dataset: str | None) -> str:
    """The one label that names a transform in runs and in scores: the spec of the transform built
    from ``spec`` (every option spelled out, ``vortex:authors`` resolved for ``dataset``).

    Examples
    --------
    >>> canonical_label("xor:bits=8", shape=(1, 8, 8), dataset="digits")
    'xor:bits=8,seed=0'
    """
    from pixinfo.transforms import build_transform

    return build_transform(spec, shape=shape, dataset=dataset).spec


def family_of(spec: str) -> str:
    """The family of a spec: its transform names (``"block"``, ``"vortex+negative"``).

    Examples
    --------
    >>> family_of("block:size=4,shuffle_within=true"), family_of("vortex:authors+negative")
    ('block', 'vortex+negative')
    """
    return "+".join(part.split(":", 1)[0].strip() for part in spec.split("+"))


def _spec_of(value: object, name: str) -> str:
    """The spec of one transform given to :func:`study` (a spec string or a pixinfo Transform)."""
    from pixinfo.transforms import Transform

    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, Transform):
        return value.spec
    raise ParameterError(f"{name} must be a spec string or a pixinfo Transform, got {value!r} ({type(value).__name__})")


def transform_settings(transforms: object) -> dict[str, tuple[str, str]]:
    """The settings of ``transforms`` (spec strings, pixinfo Transforms, or a mapping label ->
    either): label -> (family, spec), the label being the spec where none is given."""
    if isinstance(transforms, (str, bytes)) or not isinstance(transforms, (Mapping, Sequence)):
        raise ParameterError(f"transforms must be a sequence of specs or Transforms, or a mapping label -> spec, "
                             f"got {transforms!r} ({type(transforms).__name__})")  # fmt: skip
    items = (transforms.items() if isinstance(transforms, Mapping)
             else ((None, t) for t in transforms))  # fmt: skip
    out: dict[str, tuple[str, str]] = {}
    for i, (label, value) in enumerate(items):
        spec = _spec_of(value, f"transforms[{label!r}]" if label is not None else f"transforms[{i}]")
        label = spec if label is None else label
        if not isinstance(label, str) or not label or KEY_SEPARATOR in label:
            raise ParameterError(f"a transform label must be a non-empty string without {KEY_SEPARATOR!r}, got {label!r}")
        if label in out:
            raise ParameterError(f"transforms: the label {label!r} is given twice")
        out[label] = (family_of(spec), spec)
    if not out:
        raise ParameterError("transforms must name at least one transform, got none")
    return out


def with_key_seed(spec: str, key_seed: int) -> str:
    """``spec`` with its key drawn from ``key_seed`` (the ``seed`` option set or replaced).

    Examples
    --------
    >>> with_key_seed("swaps:k=5,seed=0", 2), with_key_seed("xor:bits=1", 1)
    ('swaps:k=5,seed=2', 'xor:bits=1,seed=1')
    """
    from pixinfo._spec import parse_spec

    name, positional, options = parse_spec(spec)
    options = {**options, "seed": key_seed}
    text = lambda v: str(v).lower() if isinstance(v, bool) else str(v)  # noqa: E731
    return f"{name}:" + ",".join([*map(text, positional), *(f"{k}={text(v)}" for k, v in options.items())])


def keyed_settings(specs: dict[str, tuple[str, str]], key_seeds: Sequence[int], *, dataset: str,
                   shape: tuple[int, ...]) -> dict[str, tuple[str, str]]:  # fmt: skip
    """``specs`` with every shared-key setting repeated under each of ``key_seeds`` (labels
    ``"<setting> · key <seed>"``; key 0 keeps the plain label). Keyless settings and the negative
    (no key) appear once."""
    from pixinfo.transforms import build_transform

    out: dict[str, tuple[str, str]] = {}
    for label, (family, spec) in specs.items():
        t = build_transform(spec, shape=shape, dataset=dataset)
        keyed = t.shared_key and spec != "negative"
        for k in key_seeds if keyed else [0]:
            out[label if k == 0 else f"{label}{KEY_SEPARATOR}{k}"] = (family, spec if k == 0 else with_key_seed(spec, k))
    return out


def split_key(label: str) -> tuple[str, str]:
    """(setting, key) of a label of :func:`keyed_settings` (key "0" for a plain label)."""
    setting, _, key = label.partition(KEY_SEPARATOR)
    return setting, key or "0"


# -- the measures, cached ---------------------------------------------------------------------------------
def measure(dataset, specs: dict[str, tuple[str, str]], *, max_images: int, cache: Path, seed: int,
            n_boot: int = MEASURE_BOOT, kernel=None, from_records: bool = False) -> pd.DataFrame:  # fmt: skip
    """The three measures per setting under ``kernel`` (default: the measures' default kernel),
    cached in ``cache`` (a CSV) under every setting that decides them: dataset, spec, number of
    images, seed, bootstrap resamples and kernel.

    Raises
    ------
    ConfigError
        ``from_records`` and a setting's measures are not in the cache.
    """
    import pixinfo
    from pixinfo.info import DEFAULT_KERNEL
    from pixinfo.runs import RowCache
    from pixinfo.scoring import ESTIMATES
    from pixinfo.transforms import build_transform

    kernel = DEFAULT_KERNEL if kernel is None else kernel

    def compute(key: tuple) -> dict:
        t = build_transform(key[1], shape=dataset.image_shape, dataset=dataset.name)
        sc = pixinfo.score(t, dataset.split("all").images[:max_images], kernel=kernel, seed=seed, n_boot=n_boot, n_boot_value=0)
        return {**{m: getattr(sc, m).value for m in ESTIMATES}, "n_images": sc.n_images}

    keys = [(dataset.name, spec, max_images, seed, n_boot, repr(kernel)) for _, spec in specs.values()]
    done = RowCache(cache, key=MEASURE_KEY).get_or_compute(keys, compute, from_records=from_records)
    return done.drop(columns=["max_images", "seed", "n_boot", "kernel"])


def with_losses(scores: pd.DataFrame) -> pd.DataFrame:
    """``scores`` (rows of :func:`measure`) with the three losses of ``LOSSES`` (1 − retention)."""
    return scores.assign(**{m.loss: m.loss_of(scores[m.name]) for m in REGISTERED if m.loss in LOSSES})


# -- runs joined with measures ----------------------------------------------------------------------------
@dataclass
class StudyRows:
    """The runs of one dataset joined with their measures.

    ``data``: one row per transformed run (record fields, ``untransformed_acc``, ``accuracy_loss``,
    ``setting``, ``family``, ``shared_key``, ``transform_label``, the measures); ``baseline``: the
    untransformed runs' rows; ``finished`` / ``planned``: runs with a record / runs asked for
    (they differ while a sweep is in progress)."""

    data: pd.DataFrame
    baseline: pd.DataFrame
    finished: int
    planned: int


def _configs(specs, shared, *, dataset: str, models, seeds, augment, overrides, device) -> list:
    """The training configs: every model, seed and augmentation order on the originals and on each
    setting; a per-image key cannot follow an image through augmentations drawn before encryption,
    so keyless settings train with ``after`` only, and a key other than 0 with the first seed only."""
    from pixinfo.train.recipes import recipe

    specs_run = [None, *(v[1] for v in specs.values())]
    other_key = {spec for lab, (_, spec) in specs.items() if split_key(lab)[1] != "0"}
    return [recipe(m, dataset, transform=spec, seed=s, augment=a, device=device, **overrides.get(m, {}))
            for a in augment for m in models for s in seeds for spec in specs_run
            if (a == "after" or spec is None or shared[spec]) and (spec not in other_key or s == seeds[0])]  # fmt: skip


def study_rows(specs: dict[str, tuple[str, str]], *, dataset, models: Sequence[str], seeds: Sequence[int],
               results_dir: str | Path, augment: Sequence[str] = ("after",), overrides: Mapping[str, dict] | None = None,
               device: str = "auto", executor=None, from_records: bool = False, missing: str = "raise",
               reuse_from: Sequence[str | Path] = (), max_images: int = 5000, seed: int = 0,
               progress: bool = False) -> StudyRows:  # fmt: skip
    """Train (or read) every run of ``specs`` (label -> (family, spec)) on ``dataset`` (a loaded
    [`Dataset`][pixinfo.data._types.Dataset]) and join each transformed run with the untransformed
    run of its model and seed and with its setting's measures, on :func:`canonical_label`."""
    from pixinfo.train import run_configs
    from pixinfo.transforms import build_transform

    built = {spec: build_transform(spec, shape=dataset.image_shape, dataset=dataset.name) for _, spec in specs.values()}
    shared = {spec: t.shared_key for spec, t in built.items()}
    canonical = {spec: t.spec for spec, t in built.items()}
    _check_distinct(specs, canonical)
    scores = measure(dataset, specs, max_images=max_images, cache=Path(results_dir) / "measures.csv", seed=seed,
                     from_records=from_records)  # fmt: skip
    configs = _configs(specs, shared, dataset=dataset.name, models=models, seeds=list(seeds), augment=augment,
                       overrides=overrides or {}, device=device)  # fmt: skip
    runs = run_configs(configs, results_dir=results_dir, data={dataset.name: dataset}, executor=executor,
                       from_records=from_records, progress=progress, missing=missing, reuse_from=reuse_from)  # fmt: skip
    if runs.empty:
        return StudyRows(runs, runs, 0, len(configs))
    runs["model"] = [m if a == "after" else f"{m} ({a})" for m, a in zip(runs["model"], runs["augment"], strict=True)]
    baseline = runs[runs["transform"] == "original"]
    base = baseline.set_index(["model", "seed"])["final_test_acc"]
    rows = runs[runs["transform"] != "original"]
    rows = rows[rows.set_index(["model", "seed"]).index.isin(base.index)].copy()  # a partial sweep: no baseline yet
    untransformed = rows.set_index(["model", "seed"]).index.map(base)
    rows["untransformed_acc"] = 100 * untransformed
    rows["accuracy_loss"] = 100 * (untransformed - rows["final_test_acc"])
    label = {spec: (lab, fam) for lab, (fam, spec) in specs.items()}
    rows["setting"] = rows["transform"].map(lambda s: split_key(label[s][0])[0])
    if any(split_key(lab)[1] != "0" for lab in specs):  # the key as a factor (tables of one key have no key column)
        rows["key"] = rows["transform"].map(lambda s: split_key(label[s][0])[1])
    rows["family"] = rows["transform"].map(lambda s: label[s][1])
    rows["shared_key"] = rows["transform"].map(shared)
    rows["transform_label"] = rows["transform"].map(canonical)
    scores = scores.assign(transform_label=scores["spec"].map(canonical))
    data = rows.merge(scores, on=["dataset", "transform_label"])
    return StudyRows(data, baseline.reset_index(drop=True), len(runs), len(configs))


def _check_distinct(specs: dict[str, tuple[str, str]], canonical: dict[str, str]) -> None:
    """Refuse two settings that are one transform (their rows could not be told apart)."""
    seen: dict[str, str] = {}
    for label, (_, spec) in specs.items():
        other = seen.setdefault(canonical[spec], label)
        if other != label:
            raise ParameterError(f"transforms: {other!r} and {label!r} are the same transform ({canonical[spec]}); "
                                 "give each transform once")  # fmt: skip


# -- statistics -------------------------------------------------------------------------------------------
def _resamplable(part: pd.DataFrame) -> bool:
    """Every model family of ``part`` has the 3 runs and 2 settings a bootstrap interval needs."""
    from pixinfo.stats import MIN_CLUSTERS, MIN_ROWS

    if part.empty:
        return False
    settings = part.drop_duplicates(["model", "dataset", "setting"]).groupby("model").size()
    return bool((part.groupby("model").size() >= MIN_ROWS).all() and (settings >= MIN_CLUSTERS).all())


def _n_settings(part: pd.DataFrame) -> int:
    return part[["dataset", "setting"]].drop_duplicates().shape[0]


def scopes(data: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The scopes of the statistics: "all settings", and "shared key only" where that leaves out
    some runs; each where every model family has runs of 2 settings or more."""
    shared = data[data["shared_key"].astype(bool)]
    parts = {"all settings": data, **({"shared key only": shared} if len(shared) < len(data) else {})}
    return {name: part for name, part in parts.items() if _resamplable(part)}


def scoped(parts: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The rows of the correlations: the runs of each scope under its name, and all of these again
    under model "all" (the families pooled)."""
    rows = pd.concat([part.assign(scope=name) for name, part in parts.items()])
    return pd.concat([rows, rows.assign(model="all")])


def statistics(data: pd.DataFrame, *, n_boot: int, seed: int = 0):
    """Correlations per scope (:func:`scopes`), model family and the families pooled, one Holm
    correction over the table; and OLS with family interactions per scope, where the scope has more
    settings than the model has coefficients (else no fit). Returns (table, {scope: LossModel})."""
    from pixinfo.stats import correlate, fit_loss_model

    parts = scopes(data)
    if not parts:
        raise ConfigError(f"too few runs for the statistics: every model needs runs of 2 transform settings or more "
                          f"and 3 runs or more, got {data.groupby('model').size().to_dict()} runs per model")  # fmt: skip
    table = correlate(scoped(parts), x=LOSSES, y="accuracy_loss", by=["scope", "model"],
                      cluster=["dataset", "setting"], n_boot=n_boot, pooled=False, seed=seed)  # fmt: skip
    fits = {scope: fit_loss_model(part, y="accuracy_loss", measures=LOSSES, family="model",
                                  cluster=["dataset", "setting"])
            for scope, part in parts.items()
            if _n_settings(part) > part["model"].nunique() * (1 + len(LOSSES))}  # fmt: skip
    return table, fits


# -- the report -------------------------------------------------------------------------------------------
def describe(data: pd.DataFrame, *, training: str, devices: str, note: str = "") -> str:
    """The introduction of a report: how many runs of which settings, models and seeds, how they
    were trained (``training``) and where (``devices``), the untransformed accuracy per model."""
    n_settings = _n_settings(data)
    n_shared = _n_settings(data[data["shared_key"]])
    trained = data.drop_duplicates(["dataset", "model", "seed"]).groupby(["dataset", "model"])["untransformed_acc"].mean().round(2)
    return (f"{len(data)} trained models: {n_settings} (dataset, transform setting) pairs ({n_shared} with a "
            f"shared key) × models {sorted(set(data['model']))} × seeds {sorted(set(data['seed']))}, "
            f"{training}; devices {devices}. Untransformed test accuracy (%), mean over seeds: "
            + ", ".join(f"{d} / {m} {v:.2f}" for (d, m), v in trained.items())
            + f"{note}. Accuracy loss in points (final test accuracy). Intervals: 95% percentile "
            "bootstrap over transform settings; p: usual test, Holm-adjusted over every row.")  # fmt: skip


def _ci(estimate: float, low: float, high: float) -> str:
    return f"{estimate:.2f} [{low:.2f}, {high:.2f}]"


def _correlation_table(table: pd.DataFrame) -> str:
    cells = table.assign(cell=[_ci(e, lo, hi) for e, lo, hi in zip(table["estimate"], table["ci_low"],
                                                                    table["ci_high"], strict=True)])  # fmt: skip
    wide = cells.pivot_table(index=["group", "x"], columns="method", values="cell", aggfunc="first", sort=False)
    spearman = table[table["method"] == "spearman"].set_index(["group", "x"])
    corr = pd.DataFrame({
        "scope": [g.split(" / ")[0] for g, _ in wide.index], "measure": [x for _, x in wide.index],
        "model": [g.split(" / ")[1] for g, _ in wide.index],
        **{f"{m.capitalize()} [95% CI]": wide.get(m, "–") for m in ("pearson", "spearman", "kendall")},
        "Holm p (Spearman)": [f"{spearman.loc[i, 'p_holm']:.2g}" for i in wide.index],
        "n": [spearman.loc[i, "n"] for i in wide.index],
    })  # fmt: skip
    return corr.to_markdown(index=False, disable_numparse=True)


def _fit_parts(scope: str, fit) -> list[str]:
    coef = fit.coefficients
    return [f"OLS on {scope}: `{fit.formula}` (cluster-robust SE by dataset × setting, "
            f"{fit.n_clusters} clusters, n = {fit.n}): R² = {fit.r2:.3f}; partial R²: "
            + ", ".join(f"{k} {v:.3f}" for k, v in fit.partial_r2.items()),
            pd.DataFrame({
                "term": coef["term"], "estimate": coef["estimate"].map("{:.2f}".format),
                "SE": coef["std_error"].map("{:.2f}".format), "p": coef["p_value"].map("{:.2g}".format),
                "95% CI": [f"[{lo:.2f}, {hi:.2f}]" for lo, hi in zip(coef["ci_low"], coef["ci_high"], strict=True)],
            }).to_markdown(index=False, disable_numparse=True)]  # fmt: skip


def to_markdown(data: pd.DataFrame, table: pd.DataFrame, fits: Mapping[str, Any], *, intro: str) -> str:
    """The report's tables after ``intro`` (:func:`describe`): correlations, the OLS fits, the mean
    accuracy loss per setting and model and, with several keys, their spread."""
    parts = [intro, _correlation_table(table)]
    for scope, fit in fits.items():
        parts += _fit_parts(scope, fit)
    unfitted = [scope for scope in scopes(data) if scope not in fits]
    if unfitted:
        parts.append(f"No OLS on {', '.join(unfitted)}: fewer transform settings than the model has coefficients.")
    per_setting = data.groupby(["dataset", "setting", "model"])["accuracy_loss"].mean().unstack("model")
    cells = per_setting.map(lambda v: "–" if pd.isna(v) else f"{v:.1f}")  # – : a family without the setting
    parts += ["Mean accuracy loss (points) per setting and model:",
              cells.reset_index().to_markdown(index=False, disable_numparse=True)]
    if "key" in data and data["key"].nunique() > 1:
        parts += key_spread(data)
    return "\n\n".join(parts) + "\n"


def key_spread(data: pd.DataFrame) -> list[str]:
    """Markdown parts: per shared-key setting and model, the spread of the accuracy loss over keys
    (training seed 0) beside its spread over training seeds (key 0), and how much of the variance
    between (setting, key) cells is key-to-key variance (keys nested in settings)."""
    shared = data[data["shared_key"]]
    keys = shared[shared["seed"] == 0].groupby(["model", "setting"])["accuracy_loss"].agg(["std", "count"])
    seeds = shared[shared["key"] == "0"].groupby(["model", "setting"])["accuracy_loss"].agg(["std", "count"])
    table = keys.merge(seeds, left_index=True, right_index=True, how="left", suffixes=("_keys", "_seeds")).reset_index()
    table = table[table["count_keys"] >= 2]
    cell = lambda sd, n: "–" if n != n or n < 2 else f"{sd:.2f} ({int(n)})"  # noqa: E731
    rows = pd.DataFrame({
        "model": table["model"], "setting": table["setting"],
        "SD over keys, seed 0 (keys)": [cell(a, b) for a, b in zip(table["std_keys"], table["count_keys"], strict=True)],
        "SD over seeds, key 0 (seeds)": [cell(a, b) for a, b in zip(table["std_seeds"], table["count_seeds"], strict=True)],
    })  # fmt: skip
    lines = []
    for model, part in shared[shared["seed"] == 0].groupby("model"):
        part = part[part.groupby("setting")["key"].transform("nunique") >= 2]
        if part.empty:
            continue
        within = part.groupby("setting")["accuracy_loss"].var().mean()
        total = part["accuracy_loss"].var()
        lines.append(f"{model}: {100 * within / total:.1f}% of the variance of the accuracy loss over "
                     f"{len(part)} runs (training seed 0; {part['setting'].nunique()} settings with 2 or more keys) "
                     "lies between keys of one setting")  # fmt: skip
    return ["Key-to-key against seed-to-seed spread of the accuracy loss (points; shared-key settings with two "
            "or more keys, the number of runs in brackets):",
            rows.to_markdown(index=False, disable_numparse=True),
            "Share of key-to-key variance (mean within-setting variance over keys / total variance): "
            + "; ".join(lines) + "."]  # fmt: skip


def partial_note(finished: int, planned: int) -> str:
    """A clause for the introduction of a table of a sweep in progress, else ""."""
    if finished == planned:
        return ""
    return (f" (a sweep in progress: {finished} of {planned} runs finished, untransformed ones included; "
            "a transformed run counts once its untransformed run has finished)")


def plot(data: pd.DataFrame, table: pd.DataFrame, *, scatter: Path, heatmap: Path) -> None:
    """Two figures: the accuracy loss against the structural loss per model (``scatter``), and
    Spearman ρ per measure, scope and model (``heatmap``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    from pixinfo.files import save_figure_atomic

    g = sns.lmplot(data=data, x="structural_loss", y="accuracy_loss", col="model", hue="family", fit_reg=False,
                   height=3.2, aspect=1.0, scatter_kws={"s": 14, "alpha": 0.7})  # fmt: skip
    for ax, model in zip(g.axes.flat, g.col_names, strict=True):
        part = data[data["model"] == model]
        band = 95 if part["setting"].nunique() >= 10 else None  # a bootstrap band of a few points misleads
        sns.regplot(data=part, x="structural_loss", y="accuracy_loss", scatter=False, ax=ax, color="black",
                    line_kws={"lw": 1}, n_boot=500, seed=0, ci=band)  # fmt: skip
    g.set_axis_labels("structural loss 1 − R", "accuracy loss (points)")
    save_figure_atomic(g, scatter, dpi=130)
    heat = table[table["method"] == "spearman"].pivot(index="x", columns="group", values="estimate")
    heat.columns = [c.replace(" / ", "\n") for c in heat.columns]
    fig, ax = plt.subplots(figsize=(1.3 + 1.1 * heat.shape[1], 2.6))
    sns.heatmap(heat, annot=True, fmt=".2f", vmin=-1, vmax=1, cmap="vlag", ax=ax)
    ax.set_title("Spearman ρ: information loss vs accuracy loss", fontsize=9)
    ax.set_xlabel("scope / model")
    ax.set_ylabel("")
    fig.tight_layout()
    save_figure_atomic(fig, heatmap, dpi=130)


# -- the untransformed baseline -----------------------------------------------------------------------
def baseline_warnings(baseline: pd.DataFrame, *, results_dir: str | Path, min_acc: float,
                      max_last_gain: float) -> list[str]:  # fmt: skip
    """Why the untransformed runs (``baseline``: their record rows) are too weak for accuracy losses
    to mean much, one message per model family: a mean final test accuracy below ``min_acc``
    (percent), or a test accuracy that still rose by more than ``max_last_gain`` points in the last
    epoch (mean over seeds; read from the records' per-epoch ``history``, so a run of one epoch is
    not judged on it)."""
    from pixinfo.files import read_json

    messages = []
    for model, part in baseline.groupby("model", sort=False):
        acc = 100 * part["final_test_acc"].mean()
        seeds = ", ".join(str(s) for s in sorted(part["seed"]))
        if acc < min_acc:
            messages.append(f"the untransformed {model} reaches {acc:.2f}% test accuracy (mean over seeds {seeds}), "
                            f"below min_baseline_acc = {min_acc:g}%: its accuracy losses are those of a weak model")  # fmt: skip
        gains, epochs = [], set()
        for path in part["path"]:
            history = read_json(Path(results_dir) / path, kind="record").get("results", {}).get("history") or []
            if len(history) >= 2:
                gains.append(100 * (history[-1]["test_acc"] - history[-2]["test_acc"]))
                epochs.add(int(history[-1]["epoch"]))
        gain = sum(gains) / len(gains) if gains else 0.0
        if gain > max_last_gain:
            messages.append(f"the untransformed {model}'s test accuracy still rose by {gain:.2f} points in its last "
                            f"epoch (epoch {', '.join(map(str, sorted(epochs)))}, mean over {len(gains)} runs), more "
                            f"than max_last_gain = {max_last_gain:g} points: train more epochs")  # fmt: skip
    return messages


# -- the study --------------------------------------------------------------------------------------------
@dataclass
class StudyResult:
    """What [`study`][pixinfo.study.study] found and wrote.

    Attributes
    ----------
    data : DataFrame
        One row per transformed run: its record fields, ``untransformed_acc`` and
        ``accuracy_loss`` (points), ``setting`` (the label), ``family``, ``shared_key``,
        ``transform_label`` (the canonical spec runs and measures are joined on), the retentions
        and the three losses.
    correlations : DataFrame
        The table of [`pixinfo.stats.correlate`][pixinfo.stats.correlate] per scope and model.
    fits : dict
        Scope -> [`LossModel`][pixinfo.stats.LossModel] (scopes with too few settings have none).
    warnings : list of str
        Why the untransformed baseline is too weak, if it is (each also issued as a ``UserWarning``).
    paths : dict
        Name -> path of each file written: ``table`` (CSV), ``correlations``, ``regression``,
        ``report`` (Markdown), ``scatter`` and ``heatmap`` (PNG).
    markdown : str
        The report.
    """

    data: pd.DataFrame
    correlations: pd.DataFrame
    fits: dict[str, Any]
    warnings: list[str]
    paths: dict[str, Path]
    markdown: str


def _check_seeds(values: object, name: str) -> list[int]:
    from pixinfo._checks import check_seed

    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise ParameterError(f"{name} must be a non-empty sequence of seeds, got {values!r}")
    seeds = [check_seed(v, f"{name}[{i}]") for i, v in enumerate(values)]
    if len(set(seeds)) < len(seeds):
        raise ParameterError(f"{name} must not repeat a seed, got {values!r}")
    return seeds


def _check_choices(values: object, name: str, choices: Sequence[str]) -> list[str]:
    """``values`` (one string or a sequence) as a list without repeats, each one of ``choices``."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, Sequence) or not values or any(v not in choices for v in values):
        raise ParameterError(f"{name} must be a non-empty sequence of {list(choices)}, got {values!r}")
    return list(dict.fromkeys(values))


def _overrides(epochs: object, models: list[str]) -> dict[str, dict]:
    """Per-model recipe changes from ``epochs``: None, an int for every model, or model -> int."""
    from pixinfo._checks import check_positive_int

    if epochs is None:
        return {}
    if isinstance(epochs, Mapping):
        unused = sorted(set(epochs) - set(models))
        if unused:
            raise ParameterError(f"epochs names models not studied: {unused} (models: {models})")
        return {m: {"epochs": check_positive_int(e, f"epochs[{m!r}]")} for m, e in epochs.items()}
    return {m: {"epochs": check_positive_int(epochs, "epochs")} for m in models}


def _executor(executor: object, *, progress: bool):
    """The executor asked for: None (in this process), "process" (a local process pool), "ray", or
    an [`Executor`][pixinfo.train.executors.Executor]."""
    from pixinfo.train.executors import Executor, InProcess, ProcessPool, RayExecutor

    if isinstance(executor, Executor):
        return executor
    makers = {None: InProcess, "process": ProcessPool, "ray": RayExecutor}
    if not isinstance(executor, (str, type(None))) or executor not in makers:
        raise ParameterError(f"executor must be None, 'process', 'ray' or a pixinfo.train.executors.Executor, "
                             f"got {executor!r}")  # fmt: skip
    return makers[executor](progress=progress)


def study(transforms: Sequence[object] | Mapping[str, object], *, models: Sequence[str], dataset: str,
          seeds: Sequence[int] = (0, 1, 2), epochs: int | Mapping[str, int] | None = None,
          key_seeds: Sequence[int] = (0,), augment: Sequence[str] = ("after",), executor: object = None,
          results_dir: str | Path, out: str | Path, from_records: bool = False, max_images: int = 5000,
          n_boot: int = 2000, seed: int = 0, min_baseline_acc: float = 50.0, max_last_gain: float = 1.0,
          device: str = "auto", root: str | Path | None = None, progress: bool = False) -> StudyResult:  # fmt: skip
    """Relate the information ``transforms`` lose to the accuracy they cost ``models`` on ``dataset``.

    Parameters
    ----------
    transforms : sequence or mapping
        Spec strings (``"block:size=4"``, a class of your own once its module is imported),
        pixinfo [`Transform`][pixinfo.transforms.base.Transform]s (trained through their spec), or a
        mapping label -> either (the labels name the settings in the report; default: the spec).
    models : sequence of str
        Model families, each trained with its recipe ([`pixinfo.train.recipes`][pixinfo.train.recipes]).
    dataset : str
        A dataset name of [`pixinfo.data.load_dataset`][pixinfo.data.load_dataset].
    seeds : sequence of int
        Training seeds: the originals and every transform are trained once per model and seed.
    epochs : int or mapping, optional
        Epochs of every model, or model -> epochs (default: the recipes').
    key_seeds : sequence of int
        Keys of every shared-key transform (its ``seed`` option); a key other than 0 trains with
        the first of ``seeds`` only and is a ``key`` column of the table.
    augment : sequence of {"after", "before", "none"}
        Augmentation orders, each a family of its own (``"mlp (before)"``; shared-key transforms only).
    executor : None, "process", "ray" or Executor
        Where the runs train: in this process, on local worker processes, on Ray. Workers build
        transforms from their specs, so a class of your own must be importable there (an entry point).
    results_dir, out : path
        Folder of the per-run records (runs resume from it) and of ``measures.csv``; folder of the
        outputs: ``study.csv`` (one row per transformed run), ``correlations.csv``,
        ``regression.csv``, ``report.md``, ``scatter.png`` and ``heatmap.png``.
    from_records : bool
        Train and measure nothing: build everything from ``results_dir``.
    max_images, n_boot, seed : int
        Images the measures are computed on (the dataset's first, both splits); bootstrap
        resamples of the correlation intervals; seed of the measures and of the bootstrap.
    min_baseline_acc, max_last_gain : float
        Accuracy floor (percent) and last-epoch rise (points): an untransformed model whose mean
        final test accuracy is below the floor, or whose test accuracy rose by more than
        ``max_last_gain`` in its last epoch (runs of one epoch are not judged on it), gets a
        ``UserWarning`` with the numbers.
    device : str
        Device of the runs (``"auto"``, ``"cpu"``, ``"cuda"``).
    root : path, optional
        Folder holding your copy of a file-based dataset (``mnist``, ``cifar10``, ``gtsrb``,
        ``fashion-mnist``); every run reads it from there (not part of a run's identity).
    progress : bool
        Progress bars of the runs.

    Raises
    ------
    ParameterError
        A parameter of the wrong kind or out of range (the message names it), or two settings
        that are the same transform.
    ConfigError
        With ``from_records``, a run or a measure without a record; or too few runs for the
        statistics (every model needs runs of 2 transform settings or more).
    """
    options, checked = _check_options(models=models, seeds=seeds, epochs=epochs, key_seeds=key_seeds, augment=augment,
                                      executor=executor, from_records=from_records, max_images=max_images,
                                      n_boot=n_boot, seed=seed, min_baseline_acc=min_baseline_acc,
                                      max_last_gain=max_last_gain, device=device, progress=progress, out=out)  # fmt: skip
    ds, options["overrides"] = _load_from(dataset, root, options)
    specs = keyed_settings(transform_settings(transforms), checked["key_seeds"], dataset=ds.name, shape=ds.image_shape)
    rows = study_rows(specs, dataset=ds, results_dir=results_dir, **options)
    data = with_losses(rows.data)
    found = baseline_warnings(rows.baseline, results_dir=results_dir, min_acc=checked["min_baseline_acc"],
                              max_last_gain=checked["max_last_gain"])  # fmt: skip
    for message in found:
        warnings.warn(message, UserWarning, stacklevel=2)
    table, fits = statistics(data, n_boot=checked["n_boot"], seed=options["seed"])
    markdown = report(data, table, fits, warned=found)
    paths = write_outputs(data, table, fits, markdown=markdown, out=checked["out"])
    return StudyResult(data, table, fits, found, paths, markdown)


def _load_from(dataset: str, root, options: dict) -> tuple[Any, dict]:
    """The dataset, read from ``root`` where given, and the per-model recipe changes with which the
    worker processes, which load it again from each run's config, read it from there too."""
    from pixinfo.data import load_dataset

    if root is None:
        return load_dataset(dataset), options["overrides"]
    loader = {"root": str(root)}
    overrides = {m: {**options["overrides"].get(m, {}), "dataset_options": loader} for m in options["models"]}
    return load_dataset(dataset, **loader), overrides


def _check_options(*, models, seeds, epochs, key_seeds, augment, executor, from_records, max_images, n_boot, seed,
                   min_baseline_acc, max_last_gain, device, progress, out) -> tuple[dict, dict]:  # fmt: skip
    """:func:`study`'s options checked, before anything is trained: (the keywords of
    :func:`study_rows`, the others), the output folder created."""
    from pixinfo._checks import check_bool, check_finite, check_positive_int, check_seed
    from pixinfo.files import check_writable_dir

    models = _check_choices(models, "models", sorted(RECIPES))
    if not isinstance(device, str):
        raise ParameterError(f"device must be a string such as 'auto', 'cpu' or 'cuda', got {device!r}")
    options = dict(models=models, seeds=_check_seeds(seeds, "seeds"),
                   augment=_check_choices(augment, "augment", list(AUGMENT)), overrides=_overrides(epochs, models),
                   device=device,
                   executor=_executor(executor, progress=check_bool(progress, "progress")),
                   from_records=check_bool(from_records, "from_records"),
                   max_images=check_positive_int(max_images, "max_images"), seed=check_seed(seed), progress=progress)  # fmt: skip
    checked = dict(key_seeds=_check_seeds(key_seeds, "key_seeds"), n_boot=check_positive_int(n_boot, "n_boot"),
                   min_baseline_acc=check_finite(min_baseline_acc, "min_baseline_acc", low=0, high=100),
                   max_last_gain=check_finite(max_last_gain, "max_last_gain", low=0),
                   out=check_writable_dir(out, name="out"))  # fmt: skip
    return options, checked


def report(data: pd.DataFrame, table: pd.DataFrame, fits: Mapping[str, Any], *, warned: Sequence[str] = ()) -> str:
    """The Markdown report of a study: a title, the baseline warnings, :func:`to_markdown`'s
    tables and the two figures."""
    devices = ", ".join(sorted(set(data["device_name"].astype(str))))
    training = "; ".join(f"{m}: epochs {sorted(set(g['epochs']))}" for m, g in data.groupby("model"))
    intro = describe(data, training=training, devices=devices)
    head = ["# Information loss against accuracy loss", *(f"> **Weak baseline:** {w}." for w in warned)]
    figures = "![accuracy loss against structural loss](scatter.png)\n\n![Spearman rho per measure](heatmap.png)\n"
    return "\n\n".join(head) + "\n\n" + to_markdown(data, table, fits, intro=intro) + "\n" + figures


def write_outputs(data: pd.DataFrame, table: pd.DataFrame, fits: Mapping[str, Any], *, markdown: str,
                  out: Path) -> dict[str, Path]:  # fmt: skip
    """Write a study's files into ``out``; name -> path of each."""
    from pixinfo.files import write_csv_atomic, write_text_atomic

    paths = {"table": out / "study.csv", "correlations": out / "correlations.csv", "regression": out / "regression.csv",
             "report": out / "report.md", "scatter": out / "scatter.png", "heatmap": out / "heatmap.png"}  # fmt: skip
    write_csv_atomic(data, paths["table"])
    write_csv_atomic(table, paths["correlations"])
    coefficients = [f.coefficients.assign(scope=k) for k, f in fits.items()]
    write_csv_atomic(pd.concat(coefficients) if coefficients else pd.DataFrame(columns=["term", "scope"]),
                     paths["regression"])  # fmt: skip
    write_text_atomic(paths["report"], markdown)
    plot(data, table, scatter=paths["scatter"], heatmap=paths["heatmap"])
    return paths


# -- the command line: pixinfo study ----------------------------------------------------------------------
def signature_default_of(name: str) -> Any:
    """The default of :func:`study`'s parameter ``name`` (the command line never copies one)."""
    return _g.signature_default(study, name)


@dataclass(frozen=True, kw_only=True)
class StudyOptions:
    """``pixinfo study``: the options of a study, one field per option (declared with the command-line
    grammar, defaults read off [`study`][pixinfo.study.study]); [`run`][pixinfo.study.StudyOptions.run]
    runs it."""

    transform: tuple[str, ...] = _g.option(metavar="SPEC", help="transform specs to study (see `pixinfo transforms`; "
                                           "a class of your own: --import MODULE)")  # fmt: skip
    imports: tuple[str, ...] = _g.imports_option()
    model: tuple[str, ...] = _g.option(metavar="MODEL", help=f"model families, each trained with its recipe "
                                       f"({', '.join(RECIPES)})")  # fmt: skip
    dataset: str = _g.option(metavar="NAME", help="dataset the transforms are studied on (see `pixinfo datasets`)")
    seeds: tuple[int, ...] = _g.option(signature_default_of("seeds"), type=_g.seed_int, help="training seeds")
    epochs: int | None = _g.option(None, type=_g.positive_int, shown_default="the recipes'",
                                   help="epochs of every model")  # fmt: skip
    key_seeds: tuple[int, ...] = _g.option(signature_default_of("key_seeds"), type=_g.seed_int,
                                           help="keys of every shared-key transform (its seed option); a key other "
                                                "than 0 trains with the first seed only")  # fmt: skip
    augment: tuple[str, ...] = _g.option(signature_default_of("augment"), choices=AUGMENT,
                                         help="augmentation orders, each a model family of its own")  # fmt: skip
    executor: str = _g.option("local", choices=("local", *EXECUTORS),
                              help="where the runs train: in this process, on local worker processes, on Ray")  # fmt: skip
    out: str = _g.out_option(None, help="folder of study.csv, report.md and the figures")
    results: str | None = _g.option(None, metavar="FOLDER", shown_default="OUT/runs",
                                    help="folder of the per-run records and the measures; runs resume from it")  # fmt: skip
    from_records: bool = _g.option(False, help="train and measure nothing: rebuild the outputs from --results")
    max_images: int = _g.option(signature_default_of("max_images"), type=_g.positive_int,
                                help="images the measures are computed on")  # fmt: skip
    n_boot: int = _g.option(signature_default_of("n_boot"), type=_g.positive_int,
                            help="bootstrap resamples of the correlation intervals")  # fmt: skip
    seed: int = _g.seed_option(signature_default_of("seed"), help="seed of the measures and the bootstrap")
    min_baseline_acc: float = _g.option(signature_default_of("min_baseline_acc"),
                                        help="warn when an untransformed model's mean test accuracy (percent) is "
                                             "below this")  # fmt: skip
    max_last_gain: float = _g.option(signature_default_of("max_last_gain"),
                                     help="warn when an untransformed model's test accuracy rose by more points "
                                          "than this in its last epoch")  # fmt: skip
    device: str = _g.option(signature_default_of("device"), metavar="DEVICE",
                            help="where the runs train: auto, cpu, cuda, ...")  # fmt: skip
    root: str | None = _g.root_option()
    no_progress: bool = _g.progress_option()

    def run(self) -> StudyResult:
        """Import ``imports``, then run the study these options describe."""
        from pixinfo.transforms.registry import import_transforms

        import_transforms(*self.imports)
        return study(list(self.transform), models=list(self.model), dataset=self.dataset, seeds=list(self.seeds),
                     epochs=self.epochs, key_seeds=list(self.key_seeds), augment=list(self.augment),
                     executor=None if self.executor == "local" else self.executor,
                     results_dir=self.results or str(Path(self.out) / "runs"), out=self.out,
                     from_records=self.from_records, max_images=self.max_images, n_boot=self.n_boot, seed=self.seed,
                     min_baseline_acc=self.min_baseline_acc, max_last_gain=self.max_last_gain, device=self.device,
                     root=self.root, progress=not self.no_progress)  # fmt: skip


make_module_callable(__name__, "study")

__all__ = ["LOSSES", "StudyOptions", "StudyResult", "StudyRows", "baseline_warnings", "canonical_label",
           "keyed_settings", "measure", "statistics", "study", "study_rows", "to_markdown", "transform_settings"]
