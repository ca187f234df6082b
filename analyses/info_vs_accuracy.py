"""Does information loss predict accuracy loss? A sweep over graded transforms, datasets, model
families and seeds, with bootstrap correlations (resampling transform settings) and a regression
of accuracy loss on the three measures with model-family interactions.

For every transform setting and dataset: the three measures of pixinfo.score (structural loss
1 − R, content loss 1 − I(T X)/I(X), value loss 1 − NMI), and for every model family and seed the
accuracy loss (final test accuracy of the untransformed model with the same seed minus that of
the transformed one, in points). ``--augment`` adds the augmentation order as a factor: a family
trained with ``before`` or ``none`` is reported as e.g. "mlp (before)", against its own
untransformed run, on the shared-key settings only (a per-image key cannot follow an image
through augmentations drawn before encryption). Records resume from ``--results``.

    python analyses/info_vs_accuracy.py                     # full sweep (GPU)
    python analyses/info_vs_accuracy.py --quick             # CPU, digits, a few minutes
    python analyses/info_vs_accuracy.py --datasets mnist-5k --models lenet mlp --seeds 0 1 --tag cpu
    python analyses/info_vs_accuracy.py --datasets fashion-mnist --models mlp --augment after before --epochs 5
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
from _experiment import (add_common_arguments, add_partial_argument, apply_preset, check_model_values, devices_note,
                         missing_runs, outputs, recipe_overrides, save_figure, sweep, training_by_model, write_csv)

import pixinfo
from pixinfo.info import DEFAULT_KERNEL, Kernel
from pixinfo.data import load_dataset
from pixinfo.errors import ParameterError
from pixinfo.files import write_text_atomic
from pixinfo.provenance import environment, write_json
from pixinfo.scoring import ESTIMATES
from pixinfo.stats import correlate, fit_loss_model
from pixinfo.train.config import PRECISIONS
from pixinfo.train.recipes import recipe
from pixinfo._spec import parse_spec
from pixinfo.transforms import build_transform

MEASURES = ["structural_loss", "content_loss", "value_loss"]


def settings(size: int) -> dict[str, tuple[str, str]]:
    """Transform settings: label -> (family, spec), for square images of side ``size``."""
    s: dict[str, tuple[str, str]] = {}
    for strength in (0.25, 0.5, 1.0, 2.0, 4.0, 8.0):
        s[f"vortex strength {strength}"] = ("vortex", f"vortex:seed=0,n=10,strength={strength}")
    for n in (1, 3, 20, 40):
        s[f"vortex n={n}"] = ("vortex", f"vortex:seed=0,n={n}")
    s["vortex bijective"] = ("vortex", "vortex:seed=0,n=10,bijective=true")
    blocks = [b for b in (2, 4, 7, 14) if size % b == 0 and b < size] or [b for b in (2, 4) if size % b == 0]
    for b in blocks:
        s[f"block {b}"] = ("block", f"block:size={b}")
        s[f"block {b} + within"] = ("block", f"block:size={b},shuffle_within=true")
    for b in blocks[1:3]:  # the full learnable-image-encryption recipe
        s[f"block {b} + within + rotate/flip"] = ("block", f"block:size={b},shuffle_within=true,rotate=true,flip=true")
    n_pix = size * size
    for k in (5, 25, 100, 300):
        if 2 * k <= n_pix:
            s[f"swaps {k}"] = ("swaps", f"swaps:k={k},seed=0")
    for f in (0.05, 0.1, 0.25, 0.5, 0.75, 1.0):
        s[f"partial {f}"] = ("partial", f"partial-permutation:fraction={f},seed=0")
    s["fixed permutation"] = ("permutation", "permutation:seed=0")
    s["per-image permutation"] = ("permutation", "per-image-permutation")
    s["negative"] = ("value", "negative")
    s["xor 1-bit"] = ("value", "xor:bits=1")
    s["xor 8-bit"] = ("value", "xor:bits=8")
    s["xor per-image 8-bit"] = ("value", "xor-per-image:bits=8")
    s["xor per-image 1-bit"] = ("value", "xor-per-image:bits=1")
    s["monotone map"] = ("value", "monotone")
    s["level permutation"] = ("value", "level-permutation")
    return s


AUTHORS_KEYS = {"fashion-mnist": "vortex strength 1.0", "mnist-5k": "vortex strength 1.0", "mnist": "vortex strength 1.0"}
KEY_SEPARATOR = " · key "


def with_key_seed(spec: str, key_seed: int) -> str:
    """``spec`` with its key drawn from ``key_seed`` (the ``seed`` option set or replaced)."""
    name, positional, options = parse_spec(spec)
    options = {**options, "seed": key_seed}
    text = lambda v: str(v).lower() if isinstance(v, bool) else str(v)  # noqa: E731
    return f"{name}:" + ",".join([*map(text, positional), *(f"{k}={text(v)}" for k, v in options.items())])


def keyed_settings(specs: dict[str, tuple[str, str]], key_seeds: list[int], *, dataset: str,
                   shape: tuple[int, ...]) -> dict[str, tuple[str, str]]:  # fmt: skip
    """``specs`` with every shared-key setting that draws a key from a seed repeated under each of
    ``key_seeds`` (labels ``"<setting> · key <seed>"``; key 0 keeps the plain label), plus the
    authors' published vortex key as another key of the vortex setting it matches, where the
    dataset has one. Keyless settings and the negative (no key) appear once."""
    out: dict[str, tuple[str, str]] = {}
    for label, (family, spec) in specs.items():
        t = build_transform(spec, shape=shape, dataset=dataset)
        keyed = t.shared_key and spec != "negative"
        for k in key_seeds if keyed else [0]:
            out[label if k == 0 else f"{label}{KEY_SEPARATOR}{k}"] = (family, spec if k == 0 else with_key_seed(spec, k))
    if len(key_seeds) > 1 and dataset in AUTHORS_KEYS and AUTHORS_KEYS[dataset] in specs:
        out[f"{AUTHORS_KEYS[dataset]}{KEY_SEPARATOR}authors"] = ("vortex", "vortex:authors")
    return out


def split_key(label: str) -> tuple[str, str]:
    """(setting, key) of a label of :func:`keyed_settings` (key "0" for a plain label)."""
    setting, _, key = label.partition(KEY_SEPARATOR)
    return setting, key or "0"


MEASURE_KEY = ["dataset", "spec", "max_images", "seed", "n_boot", "kernel"]


def measure(dataset, specs: dict[str, tuple[str, str]], *, max_images: int, cache: Path, seed: int,
            n_boot: int = 200, kernel: Kernel = DEFAULT_KERNEL,
            from_records: bool = False) -> pd.DataFrame:  # fmt: skip
    """The three measures per setting under ``kernel``, cached in ``cache`` (a CSV) under every
    setting that decides them: dataset, spec, number of images, seed, bootstrap resamples and kernel."""
    done = pd.read_csv(cache) if cache.exists() else pd.DataFrame(columns=MEASURE_KEY)
    key = lambda spec: (dataset.name, spec, max_images, seed, n_boot, repr(kernel))  # noqa: E731
    have = set(done[MEASURE_KEY].itertuples(index=False, name=None))
    todo = [(label, spec) for label, (_, spec) in specs.items() if key(spec) not in have]
    if todo and from_records:
        raise SystemExit(f"--from-records: {len(todo)} measures missing from {cache} (e.g. {todo[0][1]!r})")
    rows = []
    split = dataset.split("all")
    for _, spec in todo:
        t = build_transform(spec, shape=dataset.image_shape, dataset=dataset.name)
        sc = pixinfo.score(t, split.images[:max_images], kernel=kernel, seed=seed, n_boot=n_boot, n_boot_value=0)
        rows.append({**dict(zip(MEASURE_KEY, key(spec), strict=True)),
                     **{m: getattr(sc, m).value for m in ESTIMATES}, "n_images": sc.n_images})  # fmt: skip
    if rows:
        done = pd.concat([done, pd.DataFrame(rows)], ignore_index=True)
        write_csv(done, cache)
    wanted = {key(spec) for _, (_, spec) in specs.items()}
    mask = [k in wanted for k in done[MEASURE_KEY].itertuples(index=False, name=None)]
    return done[mask].drop(columns=["max_images", "seed", "n_boot", "kernel"])


def with_losses(scores: pd.DataFrame) -> pd.DataFrame:
    """``scores`` (rows of :func:`measure`) with the three losses 1 − retention of ``MEASURES``."""
    return scores.assign(structural_loss=1 - scores["structural_retention"],
                         content_loss=1 - scores["content_retention"], value_loss=1 - scores["value_nmi"])  # fmt: skip


PRESETS = {
    "full": dict(datasets=["fashion-mnist", "mnist-5k"], models=["resnet18", "vit", "mlp"], seeds=[0, 1, 2],
                 augment=["after"], n_boot=2000),
    "quick": dict(datasets=["digits"], models=["cnn", "mlp"], seeds=[0], augment=["after"], epochs=4, n_boot=300),
}  # fmt: skip


def main(argv=None) -> int:
    args = parse(argv)
    base, figures, suffix = outputs(args, "info_vs_accuracy")
    out_dir = base.parent
    parts = [dataset_rows(name, args) for name in args.datasets]
    data = pd.concat([rows for rows, _ in parts], ignore_index=True)
    finished, planned = (sum(n[i] for _, n in parts) for i in (0, 1))
    data = with_losses(data)
    write_csv(data, out_dir / f"info_vs_accuracy{suffix}.csv")
    table, fits = statistics(data, n_boot=args.n_boot)
    write_csv(table, out_dir / f"info_vs_accuracy_correlations{suffix}.csv")
    write_csv(pd.concat([f.coefficients.assign(scope=k) for k, f in fits.items()]),
              out_dir / f"info_vs_accuracy_regression{suffix}.csv")
    markdown = to_markdown(data, table, fits, note=partial_note(finished, planned))
    write_text_atomic(out_dir / f"info_vs_accuracy{suffix}.md", markdown)
    print(markdown)
    plot(data, table, figures, suffix)
    write_json(out_dir / f"info_vs_accuracy{suffix}_meta.json", {
        "config": vars(args), "environment": environment(), "n_rows": len(data),
        "n_settings": int(data[["dataset", "setting"]].drop_duplicates().shape[0]),
        "devices": sorted(set(data["device_name"])), "commits": sorted(set(data["commit"].astype(str))),
        "regression": {k: {"r2": f.r2, "partial_r2": f.partial_r2, "n": f.n, "n_clusters": f.n_clusters,
                           "formula": f.formula} for k, f in fits.items()},
    })  # fmt: skip
    return 0


def parse(argv) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", help="default: fashion-mnist mnist-5k")
    p.add_argument("--models", nargs="+", help="default: resnet18 vit mlp")
    p.add_argument("--seeds", nargs="+", type=int, help="default: 0 1 2")
    p.add_argument("--augment", nargs="+", choices=["after", "before", "none"],
                   help="augmentation orders, each a family of its own (default: after, the recipes' order)")
    p.add_argument("--key-seeds", nargs="+", type=int, default=[0],
                   help="key seeds of every shared-key setting, each key other than 0 trained with the first "
                        "of --seeds only (more than one adds the authors' vortex key where the dataset has one; "
                        "default: 0)")
    p.add_argument("--settings", nargs="+", metavar="LABEL",
                   help='train and report only these settings (labels of settings(), e.g. "swaps 100")')
    p.add_argument("--precision", choices=PRECISIONS,
                   help="the runs' precision (default: the recipes' auto: bf16 where the device computes it natively)")
    p.add_argument("--max-images", type=int, default=5000, help="images scored per dataset")
    p.add_argument("--n-boot", type=int, help="bootstrap resamples (default 2000)")
    p.add_argument("--no-progress", action="store_true")
    add_partial_argument(p, holds="the table says how many runs it holds")
    add_common_arguments(p, experiment="info_vs_accuracy", quick_help="CPU: digits, cnn and mlp, one seed, 4 epochs")
    args = apply_preset(p.parse_args(argv), PRESETS)
    check_model_values(p, args, args.models)
    return args


def dataset_rows(name: str, args) -> tuple[pd.DataFrame, tuple[int, int]]:
    """Every transformed run of one dataset: its accuracy loss against the untransformed run of
    the same model and seed, its setting and family, and the setting's three measures; and
    (runs finished, runs planned), which differ in a ``--partial`` table."""
    ds = load_dataset(name)
    specs = only_settings(settings(ds.image_shape[1]), args.settings, dataset=name)
    if args.quick and not args.settings:  # a spread of settings that runs in minutes
        specs = {k: v for i, (k, v) in enumerate(specs.items()) if i % 2 == 0 or v[0] in ("value", "permutation")}
    specs = keyed_settings(specs, args.key_seeds, dataset=name, shape=ds.image_shape)
    scores = measure(ds, specs, max_images=args.max_images, cache=Path(args.results) / "measures.csv", seed=0,
                     from_records=args.from_records)  # fmt: skip
    shared = {spec: build_transform(spec, shape=ds.image_shape, dataset=name).shared_key for _, spec in specs.values()}
    # a per-image key cannot follow an image through augmentations drawn before encryption, so the
    # keyless settings belong to the recipes' order only
    specs_run = [None, *(v[1] for v in specs.values())]
    # keys nested in settings: a key other than 0 is trained with the first training seed only
    other_key = {spec for lab, (_, spec) in specs.items() if split_key(lab)[1] != "0"}
    configs = [recipe(m, name, transform=spec, seed=s, augment=a, device=args.device, **recipe_overrides(args, m))
               for a in args.augment for m in args.models for s in args.seeds for spec in specs_run
               if (a == "after" or spec is None or shared[spec]) and (spec not in other_key or s == args.seeds[0])]  # fmt: skip
    print(f"{name}: {len(specs)} settings, {len(configs)} runs", file=sys.stderr)
    runs = sweep(configs, args, data={name: ds}, progress=not args.no_progress,
                 missing=missing_runs(args))  # fmt: skip
    finished = len(runs)
    runs["model"] = [m if a == "after" else f"{m} ({a})" for m, a in zip(runs["model"], runs["augment"], strict=True)]
    base = runs[runs["transform"] == "original"].set_index(["model", "seed"])["final_test_acc"]
    runs = runs[runs["transform"] != "original"]
    runs = runs[runs.set_index(["model", "seed"]).index.isin(base.index)].copy()  # --partial: baseline not run yet
    untransformed = runs.set_index(["model", "seed"]).index.map(base)
    runs["untransformed_acc"] = 100 * untransformed
    runs["accuracy_loss"] = 100 * (untransformed - runs["final_test_acc"])
    label = {spec: (lab, fam) for lab, (fam, spec) in specs.items()}
    runs["setting"] = runs["transform"].map(lambda s: split_key(label[s][0])[0])
    if len(args.key_seeds) > 1:  # the key as a factor (tables of one key have no key column)
        runs["key"] = runs["transform"].map(lambda s: split_key(label[s][0])[1])
    runs["family"] = runs["transform"].map(lambda s: label[s][1])
    runs["shared_key"] = runs["transform"].map(shared)
    return runs.merge(scores, left_on=["dataset", "transform"], right_on=["dataset", "spec"]), (finished, len(configs))


def only_settings(specs: dict[str, tuple[str, str]], labels: list[str] | None, *, dataset: str):
    """``specs`` restricted to ``labels`` (``--settings``; None keeps them all)."""
    unknown = [label for label in labels or [] if label not in specs]
    if unknown:
        raise ParameterError(f"--settings: {unknown} not among the settings of {dataset}: {list(specs)}")
    return specs if labels is None else {label: specs[label] for label in labels}


def scoped(data: pd.DataFrame) -> pd.DataFrame:
    """The rows of the correlations: every run under scope "all settings", the shared-key runs again
    under "shared key only", and all of these again under model "all" (the families pooled)."""
    rows = pd.concat([data.assign(scope="all settings"), data[data["shared_key"]].assign(scope="shared key only")])
    return pd.concat([rows, rows.assign(model="all")])


def statistics(data: pd.DataFrame, *, n_boot: int):
    """Correlations in two scopes (every setting; shared-key transforms only), per model family
    and pooled, one Holm correction over the table; and OLS with family interactions per scope."""
    table = correlate(scoped(data), x=MEASURES, y="accuracy_loss", by=["scope", "model"],
                      cluster=["dataset", "setting"], n_boot=n_boot, pooled=False)  # fmt: skip
    fits = {scope: fit_loss_model(part, y="accuracy_loss", measures=MEASURES, family="model",
                                  cluster=["dataset", "setting"])
            for scope, part in [("all settings", data), ("shared key only", data[data["shared_key"]])]}  # fmt: skip
    return table, fits


def _ci(estimate: float, low: float, high: float) -> str:
    return f"{estimate:.2f} [{low:.2f}, {high:.2f}]"


def to_markdown(data, table, fits, *, note: str = "") -> str:
    n_settings = data[["dataset", "setting"]].drop_duplicates().shape[0]
    n_shared = data[data["shared_key"]][["dataset", "setting"]].drop_duplicates().shape[0]
    trained = data.drop_duplicates(["dataset", "model", "seed"]).groupby(["dataset", "model"])["untransformed_acc"].mean().round(2)
    parts = [f"{len(data)} trained models: {n_settings} (dataset, transform setting) pairs ({n_shared} with a "
             f"shared key) × models {sorted(set(data['model']))} × seeds {sorted(set(data['seed']))}, "
             f"{training_by_model(data)}; "
             f"devices {devices_note(data)}. "
             "Untransformed test accuracy (%), mean over seeds: "
             + ", ".join(f"{d} / {m} {v:.2f}" for (d, m), v in trained.items())
             + f"{note}. Accuracy loss in points (final test accuracy). Intervals: 95% percentile "
             "bootstrap over transform settings; p: usual test, Holm-adjusted over every row."]  # fmt: skip
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
    parts.append(corr.to_markdown(index=False, disable_numparse=True))
    for scope, fit in fits.items():
        coef = fit.coefficients
        parts.append(f"OLS on {scope}: `{fit.formula}` (cluster-robust SE by dataset × setting, "
                     f"{fit.n_clusters} clusters, n = {fit.n}): R² = {fit.r2:.3f}; partial R²: "
                     + ", ".join(f"{k} {v:.3f}" for k, v in fit.partial_r2.items()))  # fmt: skip
        parts.append(pd.DataFrame({
            "term": coef["term"], "estimate": coef["estimate"].map("{:.2f}".format),
            "SE": coef["std_error"].map("{:.2f}".format), "p": coef["p_value"].map("{:.2g}".format),
            "95% CI": [f"[{lo:.2f}, {hi:.2f}]" for lo, hi in zip(coef["ci_low"], coef["ci_high"], strict=True)],
        }).to_markdown(index=False, disable_numparse=True))  # fmt: skip
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
    """A clause for the introduction of a ``--partial`` table of a sweep in progress, else ""."""
    if finished == planned:
        return ""
    return (f" (a sweep in progress: {finished} of {planned} runs finished, untransformed ones included; "
            "a transformed run counts once its untransformed run has finished)")


def plot(data, table, figures: Path, suffix: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    figures.mkdir(parents=True, exist_ok=True)
    g = sns.lmplot(data=data, x="structural_loss", y="accuracy_loss", col="model", hue="family", fit_reg=False,
                   height=3.2, aspect=1.0, scatter_kws={"s": 14, "alpha": 0.7})  # fmt: skip
    for ax, model in zip(g.axes.flat, g.col_names, strict=True):
        part = data[data["model"] == model]
        sns.regplot(data=part, x="structural_loss", y="accuracy_loss", scatter=False, ax=ax, color="black",
                    line_kws={"lw": 1}, n_boot=500, seed=0)  # fmt: skip
    g.set_axis_labels("structural loss 1 − R", "accuracy loss (points)")
    save_figure(g, figures / f"info_vs_accuracy_scatter{suffix}.png")
    heat = table[table["method"] == "spearman"].pivot(index="x", columns="group", values="estimate")
    heat.columns = [c.replace(" / ", "\n") for c in heat.columns]
    fig, ax = plt.subplots(figsize=(1.3 + 1.1 * heat.shape[1], 2.6))
    sns.heatmap(heat, annot=True, fmt=".2f", vmin=-1, vmax=1, cmap="vlag", ax=ax)
    ax.set_title("Spearman ρ: information loss vs accuracy loss", fontsize=9)
    ax.set_xlabel("scope / model")
    ax.set_ylabel("")
    fig.tight_layout()
    save_figure(fig, figures / f"info_vs_accuracy_heatmap{suffix}.png")


if __name__ == "__main__":
    sys.exit(main())
