"""Do the information-vs-accuracy correlations depend on the distance kernel?

The study (info_vs_accuracy.py) weights every pair of pixels by exp(−d/2) (pixinfo's default
kernel). Here every setting of a study table is scored again under other kernels (shorter and
longer exponentials, a power law, a Gaussian, an exponential cut off at 3 px) and the study's
Spearman correlations are recomputed from the table's per-run accuracy losses (nothing is
retrained): ρ over runs, 95% percentile bootstrap over transform settings (dataset × setting),
per model family and pooled, in the study's two scopes (every setting; shared-key settings
only). Structural loss 1 − R and content loss 1 − I(TX)/I(X) weight pixel pairs by the kernel;
value loss 1 − NMI compares pixel values alone, so its row is the same under every kernel.

The measures are cached in --results/measures.csv under every setting that decides them (the
kernel among them), so --from-records rebuilds the table and figure without scoring anything.

    python analyses/kernel_sensitivity.py --tag cpu_fashion        # the committed table
    python analyses/kernel_sensitivity.py --quick --study TABLE    # digits; TABLE: per-run rows on digits
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
from _experiment import (ROOT, add_common_arguments, apply_preset, devices_note, outputs, save_figure,
                         training_by_model, write_csv, write_table)
from info_vs_accuracy import LOSSES, measure, scoped, with_losses
from scipy.stats import spearmanr

from pixinfo.data import load_dataset
from pixinfo.errors import ParameterError
from pixinfo.info import DEFAULT_KERNEL, Kernel
from pixinfo.info import measure as measure_of
from pixinfo.stats import correlate

KERNELS = ["exponential:1", "exponential:2", "exponential:4", "power:2", "gaussian:1.5", "exponential:2:3"]
STUDY = ROOT / "analyses" / "results" / "info_vs_accuracy_cpu_fashion_mlp_cnn_vit.csv"
# what a study table must hold per run: the setting it trained on and its accuracy loss, and how it was trained
STUDY_COLUMNS = ["dataset", "setting", "family", "spec", "shared_key", "model", "seed", "accuracy_loss", "epochs",
                 "max_train", "device_name", "commit"]  # fmt: skip
RETENTIONS = [measure_of(loss).name for loss in LOSSES]  # the study's three retentions

PRESETS = {
    "full": dict(datasets=["fashion-mnist"], kernels=KERNELS, study=str(STUDY), n_boot=1000),
    "quick": dict(datasets=["digits"], kernels=KERNELS, n_boot=200),
}  # fmt: skip


def kernel_from_text(text: str) -> Kernel:
    """``FAMILY:SCALE[:CUTOFF]`` as a kernel, e.g. ``"exponential:2:3"``: exp(−d/2) cut off beyond 3 px."""
    family, _, rest = text.partition(":")
    scale, _, cutoff = rest.partition(":")
    try:
        return Kernel(family, scale=float(scale), cutoff=float(cutoff) if cutoff else None)
    except ValueError as err:
        raise ParameterError(f"kernel {text!r}: expected FAMILY:SCALE[:CUTOFF] ({err})") from None


def kernel_option(text: str) -> str:
    """``type`` of ``--kernels``: the text, once it names a kernel."""
    try:
        kernel_from_text(text)
    except ParameterError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def kernel_label(kernel: Kernel) -> str:
    """A column heading: the kernel's formula, e.g. "exp(−d/2) (default)", "(1+d)^−2", "exp(−d/2), d ≤ 3"."""
    name = {"exponential": f"exp(−d/{kernel.scale:g})", "power": f"(1+d)^−{kernel.scale:g}",
            "gaussian": f"Gaussian σ={kernel.scale:g}"}[kernel.family]  # fmt: skip
    cut = "" if kernel.cutoff is None else f", d ≤ {kernel.cutoff:g}"
    return name + cut + (" (default)" if kernel == DEFAULT_KERNEL else "")


def parse(argv) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", help="datasets of the study table to score (default: fashion-mnist)")
    p.add_argument("--kernels", nargs="+", type=kernel_option, metavar="FAMILY:SCALE[:CUTOFF]",
                   help=f"kernels, the default exponential:2 among them (default: {' '.join(KERNELS)})")
    p.add_argument("--study", help=f"table of per-run rows of info_vs_accuracy.py (default: {STUDY.name})")
    p.add_argument("--max-images", type=int, default=5000, help="images scored per dataset (the study's 5000)")
    p.add_argument("--n-boot", type=int, help="bootstrap resamples of the correlations (default 1000)")
    add_common_arguments(p, experiment="kernel_sensitivity", quick_help="CPU: digits, the table given by --study")
    args = apply_preset(p.parse_args(argv), PRESETS)
    kernels = [kernel_from_text(k) for k in args.kernels]
    if DEFAULT_KERNEL not in kernels or len(set(kernels)) < len(kernels):
        p.error(f"--kernels: each kernel once, the study's {DEFAULT_KERNEL!r} (exponential:2) among them")
    if args.study is None:
        p.error("--quick needs --study: a table of per-run rows on digits (e.g. info_vs_accuracy.py --quick's)")
    return args


def study_runs(path: Path, datasets: list[str]) -> pd.DataFrame:
    """The per-run rows of the study table at ``path`` on ``datasets``."""
    if not path.is_file():
        raise ParameterError(f"--study: no table {path}")
    runs = pd.read_csv(path)
    missing = [c for c in STUDY_COLUMNS if c not in runs]
    if missing:
        raise ParameterError(f"--study {path}: no columns {missing} (a per-run table of info_vs_accuracy.py)")
    runs = runs[runs["dataset"].isin(datasets)]
    if runs.empty:
        raise ParameterError(f"--study {path}: no runs on {datasets}")
    return runs


def scores(runs: pd.DataFrame, args) -> pd.DataFrame:
    """The three measures (and losses) of every (dataset, spec) of ``runs`` under each kernel of
    ``--kernels``: one row per dataset, spec and kernel (column ``kernel``: its label)."""
    parts = []
    for name, part in runs.groupby("dataset", sort=False):
        ds = load_dataset(name)
        pairs = part[["family", "spec"]].drop_duplicates().itertuples(index=False)
        specs = {spec: (family, spec) for family, spec in pairs}  # by spec: a setting under several keys has several
        for text in args.kernels:
            kernel = kernel_from_text(text)
            found = measure(ds, specs, max_images=args.max_images, cache=Path(args.results) / "measures.csv", seed=0,
                            kernel=kernel, from_records=args.from_records)  # fmt: skip
            parts.append(found.assign(kernel=kernel_label(kernel)))
    return with_losses(pd.concat(parts, ignore_index=True))


def correlations(data: pd.DataFrame, n_boot: int) -> pd.DataFrame:
    """Spearman ρ of accuracy loss with each measure per kernel, scope and model (as the study's
    table: bootstrap over dataset × setting, Holm over each kernel's rows)."""
    return pd.concat([
        correlate(scoped(part), x=LOSSES, y="accuracy_loss", by=["scope", "model"], cluster=["dataset", "setting"],
                  methods=["spearman"], n_boot=n_boot, pooled=False).assign(kernel=kernel)
        for kernel, part in data.groupby("kernel", sort=False)
    ], ignore_index=True)  # fmt: skip


def with_scope_model(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (of :func:`correlations`) with its group split into scope and model, rows ordered by
    measure, model (the families, then "all") and scope."""
    scope, model = zip(*(g.split(" / ") for g in table["group"]), strict=True)
    table = table.assign(scope=scope, model=model)
    order = {m: i for i, m in enumerate([*sorted(set(model) - {"all"}), "all"])}
    key = lambda c: c.map(LOSSES.index) if c.name == "x" else c.map(order) if c.name == "model" else c  # noqa: E731
    return table.sort_values(["x", "model", "scope"], key=key, kind="stable", ignore_index=True)


def agreement(measures: pd.DataFrame) -> pd.DataFrame:
    """Per kernel and measure: Spearman ρ of the settings' measure with its value under the default
    kernel (across settings), and the largest |difference|."""
    wide = measures.pivot_table(index=["dataset", "spec"], columns="kernel", values=LOSSES)
    default = kernel_label(DEFAULT_KERNEL)
    rows = [{"measure": m, "kernel": k, "rank_agreement": spearmanr(wide[m, k], wide[m, default]).statistic,
             "max_abs_difference": float((wide[m, k] - wide[m, default]).abs().max())}
            for m in LOSSES for k in measures["kernel"].unique()]  # fmt: skip
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    args = parse(argv)
    base, figures, suffix = outputs(args, "kernel_sensitivity")
    runs = study_runs(Path(args.study), args.datasets)
    measures = scores(runs, args)
    data = runs.drop(columns=[c for c in [*RETENTIONS, *LOSSES, "n_images"] if c in runs])
    data = data.merge(measures, on=["dataset", "spec"])
    if len(data) != len(runs) * len(args.kernels):
        raise ParameterError(f"--study {args.study}: some runs' settings were not scored")
    table = with_scope_model(correlations(data, args.n_boot))
    write_csv(table, f"{base}.csv")
    markdown = to_markdown(data, runs, table, agreement(measures), args)
    write_table(base, markdown, args, runs, kernels={kernel_label(kernel_from_text(k)): repr(kernel_from_text(k))
                                                     for k in args.kernels})  # fmt: skip
    plot(table, figures, suffix)
    return 0


def to_markdown(data, runs, table, agree, args) -> str:
    n_settings = runs[["dataset", "setting"]].drop_duplicates().shape[0]
    n_shared = runs[runs["shared_key"]][["dataset", "setting"]].drop_duplicates().shape[0]
    kernels = list(dict.fromkeys(table["kernel"]))
    intro = (f"Spearman ρ between accuracy loss and each information measure under {len(kernels)} distance kernels. "
             f"ρ is over the {len(runs)} trained runs of {Path(args.study).name} (the accuracy losses as recorded "
             f"there, nothing retrained): {n_settings} (dataset, transform setting) pairs ({n_shared} with a shared "
             f"key) of {', '.join(sorted(set(runs['dataset'])))} × models {sorted(set(runs['model']))} × seeds "
             f"{sorted(set(runs['seed']))}, {training_by_model(runs)}; devices {devices_note(runs)}. Each "
             f"setting's measures are scored on {' / '.join(f'{int(n):,}' for n in sorted(set(data['n_images'])))} "
             f"images (seed 0). Intervals: 95% percentile bootstrap ({args.n_boot} resamples) over transform "
             "settings, the same resamples under every kernel; model \"all\" pools the families.")  # fmt: skip
    cells = table.assign(cell=[f"{e:.2f} [{lo:.2f}, {hi:.2f}]" for e, lo, hi in
                               zip(table["estimate"], table["ci_low"], table["ci_high"], strict=True)])  # fmt: skip
    rows = ["x", "model", "scope"]
    wide = cells.pivot_table(index=rows, columns="kernel", values="cell", aggfunc="first", sort=False)[kernels]
    spread = table.groupby(rows, sort=False)["estimate"].agg(lambda e: e.max() - e.min())
    wide["spread of ρ"] = spread.loc[wide.index].map("{:.2f}".format)
    wide = wide.reset_index().rename(columns={"x": "measure"})
    agree_cells = agree.assign(cell=[f"{r:.3f} ({d:.3f})" for r, d in zip(agree["rank_agreement"],
                                                                            agree["max_abs_difference"], strict=True)])
    agree_wide = agree_cells.pivot_table(index="measure", columns="kernel", values="cell", aggfunc="first",
                                         sort=False)[kernels].reset_index()  # fmt: skip
    return "\n\n".join([
        intro, wide.to_markdown(index=False, disable_numparse=True),
        spread_note(table, agree),
        "How the settings' measures move with the kernel: Spearman ρ across the settings between a measure under "
        "each kernel and under the default, and in brackets the largest |difference| of one setting's measure.",
        agree_wide.to_markdown(index=False, disable_numparse=True),
    ]) + "\n"  # fmt: skip


def spread_note(table: pd.DataFrame, agree: pd.DataFrame) -> str:
    """The sentence under the table: the largest spread of ρ, and whether value loss moved with the kernel."""
    spread = table.groupby(["x", "model", "scope"], sort=False)["estimate"].agg(lambda e: e.max() - e.min())
    value = agree.loc[agree["measure"] == "value_loss", "max_abs_difference"].max()
    return (f"Spread of ρ: the largest minus the smallest point estimate across the kernels; at most "
            f"{spread.max():.2f} ({', '.join(spread.idxmax())}). "
            + ("Value loss 1 − NMI is the same under every kernel (it compares pixel values only), and so is its ρ."
               if value == 0 else f"Value loss moves by up to {value:.2g} across the kernels."))  # fmt: skip


def plot(table: pd.DataFrame, figures: Path, suffix: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    t = table
    kernels, models, scopes = (list(dict.fromkeys(t[c])) for c in ("kernel", "model", "scope"))
    fig, axes = plt.subplots(len(scopes), len(LOSSES), figsize=(4.2 * len(LOSSES), 3.0 * len(scopes)),
                             sharey=True, squeeze=False)  # fmt: skip
    for (i, scope), (j, m) in ((a, b) for a in enumerate(scopes) for b in enumerate(LOSSES)):
        ax = axes[i][j]
        for k, model in enumerate(models):
            part = t[(t["scope"] == scope) & (t["x"] == m) & (t["model"] == model)].set_index("kernel").loc[kernels]
            x = [n + (k - (len(models) - 1) / 2) * 0.15 for n in range(len(kernels))]
            error = [part["estimate"] - part["ci_low"], part["ci_high"] - part["estimate"]]
            ax.errorbar(x, part["estimate"], yerr=error, fmt="o", ms=3.5, capsize=2, lw=1, label=model)
        ax.axhline(0, color="grey", lw=0.6)
        ax.set_xticks(range(len(kernels)), kernels, rotation=35, ha="right", fontsize=7)
        ax.set_title(f"{m.replace('_', ' ')} — {scope}", fontsize=9)
    axes[0][0].set_ylabel("Spearman ρ (accuracy loss)")
    axes[-1][0].set_ylabel("Spearman ρ (accuracy loss)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(models), fontsize=8, title="model", title_fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    save_figure(fig, figures / f"kernel_sensitivity{suffix}.png")


if __name__ == "__main__":
    sys.exit(main())
