"""Does an encryption that stays learnable stay secret? Ciphertext-only key recovery for every
setting of the information-vs-accuracy study, against the accuracy each setting keeps.

For each dataset, setting and number of training ciphertexts the attack of pixinfo.privacy sees
only encrypted training images; its estimated inverse decrypts held-out test images, scored by
exact key entries (up to the grid's symmetries and shifts, and with a public prior of 300 plain
images picking them), PSNR, SSIM and the accuracy of a CNN trained on the original images. One
small JSON record per (dataset, setting, size) under --results; --from-records rebuilds the
table and figure from them. Accuracy kept comes from the per-run rows of the study tables named
by --study (analyses/results/info_vs_accuracy_<TAG>.csv: transformed / untransformed final test
accuracy per model family, recipes' augmentation order), where they cover a setting. Naming
them keeps a new study table (another training of a family) from entering this one unasked.

    python analyses/key_recovery.py --quick                 # CPU, digits, < 60 s
    python analyses/key_recovery.py --datasets mnist-5k fashion-mnist --tag cpu
    python analyses/key_recovery.py --from-records --tag cpu
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import pandas as pd
from _experiment import ROOT, add_common_arguments, apply_preset, outputs, save_figure, write_csv
from info_vs_accuracy import settings

from pixinfo.data import load_dataset
from pixinfo.files import write_text_atomic
from pixinfo.privacy import attack, known_plaintext, recovery_measures
from pixinfo.provenance import environment, write_json
from pixinfo.stats import correlate
from pixinfo.train import train
from pixinfo.train.recipes import recipe
from pixinfo.transforms import build_transform

STUDY = ROOT / "analyses" / "results"
KEPT_KEY = ["dataset", "spec", "model"]
# the study tables pooled by default: MNIST-5k (LeNet, MLP) and full Fashion-MNIST (MLP, CNN, ViT)
STUDY_TAGS = ["cpu_mnist5k", "cpu_fashion_mlp_cnn_vit"]


def sizes_for(n_train: int, sizes: list[int]) -> list[int]:
    """The attack sizes that fit (each at most the training set), plus "all" (= n_train)."""
    return sorted({s for s in sizes if s < n_train} | {n_train})


def record_path(folder: Path, dataset: str, spec: str, n: int) -> Path:
    digest = hashlib.sha256(f"{dataset}|{spec}|{n}".encode()).hexdigest()[:12]
    return folder / f"{dataset}-{n}-{digest}.json"


def run_one(ds, label, family, spec, n, model, args) -> dict:
    t = build_transform(spec, shape=ds.image_shape, dataset=ds.name)
    ciphertexts = t(ds.train.images[:n])
    start = time.perf_counter()
    key = attack(t, ciphertexts)
    seconds = time.perf_counter() - start
    test = ds.test.images[: args.test_images]
    public = ds.test.images[-args.prior_images:]  # plain images never scored (another part of the split)
    m = recovery_measures(key=key, transform=build_transform(spec, shape=ds.image_shape, dataset=ds.name),
                          original=test, labels=ds.test.labels[: len(test)], model=model, prior=public)  # fmt: skip
    kp = known_plaintext(transform=build_transform(spec, shape=ds.image_shape, dataset=ds.name),
                         plain=ds.train.images[: max(args.kp_ks)], ks=args.kp_ks) if n == min(sizes_for(len(ds.train), args.sizes)) \
        else {"k": [], "determined": [], "k_needed": None}  # independent of n: once per setting
    m = {"exact_d4": m["exact"], "exact_prior": m["exact"], **m}  # value keys have no symmetry to fix
    return {"dataset": ds.name, "setting": label, "family": family, "spec": spec, "n_ciphertexts": n,
            "shared_key": t.shared_key, "attack_seconds": seconds, "solver": key.info.get("solver"),
            **m, "kp_k_needed": kp["k_needed"], "kp_determined": dict(zip(kp["k"], kp["determined"], strict=True)),
            "n_test": len(test), "environment": {"commit": environment()["git"]["commit"]}}  # fmt: skip


def reference_model(ds, args):
    """A CNN trained on the original images (its record under --results/models, its weights in the cache)."""
    config = recipe("cnn", ds.name, epochs=args.cnn_epochs, device="cpu")
    run = train(config, results_dir=Path(args.results) / "models", reuse=True, resume=True, save_model=True,
                progress=False, data=ds)  # fmt: skip
    return run.model, run.record["results"]["final_test_acc"]


def attack_all(args) -> None:
    folder = Path(args.results)
    for name in args.datasets:
        ds = load_dataset(name)
        model, acc = reference_model(ds, args)
        print(f"{name}: CNN ({args.cnn_epochs} epochs) test accuracy {acc:.4f}", file=sys.stderr)
        specs = settings(ds.image_shape[1])
        if args.quick:
            specs = {k: v for i, (k, v) in enumerate(specs.items()) if i % 3 == 0 or v[0] in ("value", "permutation")}
        for n in sizes_for(len(ds.train), args.sizes):
            for label, (family, spec) in specs.items():
                path = record_path(folder, name, spec, n)
                if path.exists():
                    continue
                rec = run_one(ds, label, family, spec, n, model, args)
                write_json(path, rec)
                print(f"{name} n={n:6d} {label:32s} found={rec['found']:.0f} exact={rec['exact_d4']:.3f} "
                      f"ssim={rec['ssim_prior']:.3f} acc={rec.get('accuracy_prior', float('nan')):.3f} "
                      f"({rec['attack_seconds']:.1f} s)", file=sys.stderr)  # fmt: skip


def accuracy_kept(tags: list[str]) -> pd.DataFrame:
    """Accuracy kept per (dataset, spec, model) from the committed per-run rows of the study tables
    ``info_vs_accuracy_<tag>.csv`` (models trained with the recipes' augmentation order); a run
    in several of them counts once."""
    frames = []
    for tag in tags:
        path = STUDY / f"info_vs_accuracy_{tag}.csv"
        if not path.is_file():
            raise SystemExit(f"--study {tag}: no study table {path}")
        rows = pd.read_csv(path)
        if not {"path", "final_test_acc", "accuracy_loss", *KEPT_KEY} <= set(rows.columns):
            raise SystemExit(f"--study {tag}: {path} has no per-run accuracy columns")
        if "augment" in rows.columns:  # the recipes' order; other orders are families of their own
            rows = rows[rows["augment"] == "after"]
        base = rows["final_test_acc"] + rows["accuracy_loss"] / 100  # untransformed, same model and seed
        frames.append(rows.assign(accuracy_kept=rows["final_test_acc"] / base)[["path", *KEPT_KEY, "accuracy_kept"]])
    runs = pd.concat(frames).drop_duplicates("path")
    return runs.groupby(KEPT_KEY, as_index=False)["accuracy_kept"].mean()


def load(folder: Path) -> pd.DataFrame:
    rows = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    if not rows:
        raise SystemExit(f"no records in {folder}; run without --from-records first")
    for r in rows:  # share of the key the largest k of known pairs determines
        r["kp_k_max"], r["kp_share"] = (int(max(r["kp_determined"], key=int)), max(r["kp_determined"].items(),
                                        key=lambda kv: int(kv[0]))[1]) if r["kp_determined"] else (None, None)  # fmt: skip
    data = pd.DataFrame(rows).drop(columns=["environment", "kp_determined"])
    order = {label: i for i, label in enumerate(settings(28))}
    return data.assign(order=data["setting"].map(order)).sort_values(["dataset", "order", "n_ciphertexts"])


PRESETS = {
    "full": dict(datasets=["mnist-5k", "fashion-mnist"], sizes=[1000, 10000], test_images=500, prior_images=300,
                 kp_ks=[1, 2, 4, 8, 16, 32, 64, 128, 256], cnn_epochs=3, n_boot=2000),
    "quick": dict(datasets=["digits"], sizes=[300], test_images=300, prior_images=100, kp_ks=[1, 4, 16, 64],
                  cnn_epochs=8, n_boot=200),
}  # fmt: skip


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", help="default: mnist-5k fashion-mnist")
    p.add_argument("--sizes", nargs="+", type=int, help="ciphertexts seen, plus all (default: 1000 10000)")
    p.add_argument("--test-images", type=int, help="held-out images decrypted and scored (default 500)")
    p.add_argument("--prior-images", type=int, help="public plain images that pick the symmetry (default 300)")
    p.add_argument("--kp-ks", nargs="+", type=int, help="known-plaintext pair counts (default 1 2 4 ... 256)")
    p.add_argument("--cnn-epochs", type=int, help="epochs of the reference CNN (default 3)")
    p.add_argument("--n-boot", type=int, help="bootstrap resamples (default 2000)")
    p.add_argument("--study", nargs="+", metavar="TAG", default=STUDY_TAGS,
                   help="study tables info_vs_accuracy_<TAG>.csv whose accuracy kept the attacks are set against "
                        f"(default: {' '.join(STUDY_TAGS)})")  # fmt: skip
    add_common_arguments(p, experiment="key_recovery", quick_help="CPU: digits, a third of the settings")
    args = apply_preset(p.parse_args(argv), PRESETS)
    base, figures, suffix = outputs(args, "key_recovery")
    if not args.from_records:
        attack_all(args)
    data = load(Path(args.results))
    data = data[data["dataset"].isin(args.datasets)]
    report(data, args, base, figures, suffix)
    return 0


def report(data: pd.DataFrame, args, base: Path, figures: Path, suffix: str) -> None:
    kept = accuracy_kept(args.study)
    full = data[data["n_ciphertexts"] == data.groupby("dataset")["n_ciphertexts"].transform("max")]
    merged = full.merge(kept, on=["dataset", "spec"], how="left")
    write_csv(data, f"{base}.csv")
    stats = None
    have = merged.dropna(subset=["accuracy_kept"])
    if have["setting"].nunique() >= 5:
        stats = correlate(have, x=["ssim_prior", "exact_d4"], y="accuracy_kept", by="model", cluster=["dataset", "setting"],
                          n_boot=args.n_boot)  # fmt: skip
        write_csv(stats, f"{base}_correlations.csv")
    markdown = to_markdown(data, merged, stats)
    write_text_atomic(f"{base}.md", markdown)
    write_text_atomic(figures / f"key_recovery{suffix}.md", markdown)
    print(markdown)
    plot(merged, figures, suffix)
    write_json(Path(f"{base}_meta.json"), {
        "config": vars(args), "environment": environment("cpu"), "n_records": len(data),
        "commits": sorted(set(pd.DataFrame(json.loads(p.read_text())["environment"] for p in
                                           Path(args.results).glob("*.json"))["commit"].astype(str))),
    })  # fmt: skip


def to_markdown(data: pd.DataFrame, merged: pd.DataFrame, stats) -> str:
    parts = []
    for name, part in data.groupby("dataset"):
        sizes = sorted(set(part["n_ciphertexts"]))
        parts.append(f"**{name}**: ciphertexts seen {sizes}; {int(part['n_test'].iloc[0])} held-out test images. "
                     "exact: share of varying positions (key entries) recovered, up to symmetry and shift; "
                     "SSIM and CNN accuracy on decryptions aligned with the public prior; accuracy kept: "
                     "accuracy on the transform over untransformed accuracy (same family and seed), mean over seeds, one "
                     "column per model family of the study (– : study pending).\n\n"
                     + recovery_table(part, merged[merged["dataset"] == name], sizes).to_markdown(
                         index=False, disable_numparse=True) + "\n")  # fmt: skip
    if stats is not None:
        wide = stats.pivot_table(index=["x", "group", "n"], columns="method", values=["estimate", "ci_low", "ci_high"],
                                 sort=False).reset_index()  # fmt: skip
        table = pd.DataFrame({
            "measure": wide["x"], "model": wide["group"], "Pearson": wide["estimate"]["pearson"].map("{:.2f}".format),
            "Spearman [95% CI]": [f"{e:.2f} [{lo:.2f}, {hi:.2f}]" for e, lo, hi in zip(
                wide["estimate"]["spearman"], wide["ci_low"]["spearman"], wide["ci_high"]["spearman"], strict=True)],
            "n": wide["n"],
        })  # fmt: skip
        parts.append("Accuracy kept vs recovery (settings with study records; 95% bootstrap over settings):\n\n"
                     + table.to_markdown(index=False, disable_numparse=True) + "\n")  # fmt: skip
    return "\n".join(parts)


def recovery_table(part: pd.DataFrame, merged: pd.DataFrame, sizes: list[int]) -> pd.DataFrame:
    """One row per setting of one dataset: recovery at every number of ciphertexts, and more."""
    top = part[part["n_ciphertexts"] == sizes[-1]].set_index("setting")
    exact = part.pivot_table(index="setting", columns="n_ciphertexts", values="exact_d4", aggfunc="first")
    kp = part.dropna(subset=["kp_k_max"]).drop_duplicates("setting").set_index("setting")
    kept = merged.dropna(subset=["accuracy_kept"]).groupby(["model", "setting"])["accuracy_kept"].mean()
    table = pd.DataFrame(index=top.index)
    table["shared key"] = top["shared_key"].map(lambda v: "yes" if v else "no")
    table["found"] = top["found"].map(lambda v: "yes" if v else "no")
    for n in sizes:
        table[f"exact (n={n})"] = exact[n].reindex(top.index).map(lambda v: "–" if v != v else f"{v:.2f}")
    if "exact_background" in top:
        bg = top["exact_background"].map(lambda v: "" if v != v else f" (bg {v:.2f})")
        table[f"exact (n={sizes[-1]})"] += bg
    table[f"SSIM (n={sizes[-1]})"] = top["ssim_prior"].map("{:.3f}".format)
    table["CNN acc. on decryptions / on originals"] = (
        [f"{a:.3f} / {o:.3f}" for a, o in zip(top["accuracy_prior"], top["accuracy_original"], strict=True)]
        if "accuracy_prior" in top else "–")  # fmt: skip
    table["known pairs for the key (share at most pairs)"] = [
        _pairs_cell(kp.loc[s]) if s in kp.index else "–" for s in top.index]
    models = sorted(kept.index.unique("model"))  # one column per model family of the study
    if not models:
        table["accuracy kept"] = "–"
    for model in models:
        table[f"accuracy kept ({model})"] = _kept_cells(kept[model], top.index)
    if len(models) > 1:
        table["accuracy kept (mean)"] = _kept_cells(kept.groupby("setting").mean(), top.index)
    return table.reset_index()


def _kept_cells(per_setting: pd.Series, settings) -> list[str]:
    """Accuracy kept of each setting to 3 decimals, "–" where the study has no record."""
    return [f"{per_setting[s]:.3f}" if s in per_setting.index else "–" for s in settings]


def _pairs_cell(r) -> str:
    """Known pairs that determine the key, or the share the most pairs tried determine."""
    if not r["shared_key"]:
        return "no key"
    if r["kp_k_needed"] == r["kp_k_needed"] and r["kp_k_needed"] is not None:
        return str(int(r["kp_k_needed"]))
    return f"> {int(r['kp_k_max'])} ({100 * r['kp_share']:.1f}%)"


def plot(merged: pd.DataFrame, figures: Path, suffix: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted(set(merged["dataset"]))
    fig, axes = plt.subplots(1, len(names), figsize=(4.6 * len(names), 4.0), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        part = merged[merged["dataset"] == name]
        per = part.groupby(["setting", "family"], as_index=False).agg(ssim=("ssim_prior", "first"),
                                                                     kept=("accuracy_kept", "mean"))  # fmt: skip
        pending = per["kept"].isna().all()
        y = per["ssim"] * 0 + 0.5 if pending else per["kept"]
        for fam, g in per.groupby("family"):
            ax.scatter(g["ssim"], y[g.index], s=18, label=fam)
        ax.set_xlabel("recovery: SSIM of the attacker's decryptions")
        ax.set_ylabel("accuracy kept (study)" if not pending else "study pending (recovery only)")
        ax.set_title(name, fontsize=10)
        ax.set_xlim(-0.1, 1.05)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, figures / f"key_recovery{suffix}.png")


if __name__ == "__main__":
    sys.exit(main())
