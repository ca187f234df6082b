"""Does an encryption that stays learnable stay secret, and against whom? Key recovery under
declared threat models for every setting of the information-vs-accuracy study (each shared key
under several key seeds, and the authors' published vortex key) and for the learnable
encryptions of the literature, against the accuracy each setting keeps.

Threat models (--threats): "blind", ciphertext-only: the attacker sees only encrypted training
images; "prior", ciphertext-only with --public-images plain test images of the same kind, disjoint
from the scored ones (no pairs). The estimated inverse decrypts held-out test images, scored by
exact key entries (blind: up to the grid's symmetries and shifts, with 300 public images picking
them; prior: every encrypted position's source, no symmetry left), PSNR, SSIM and the accuracy of a
CNN trained on the original images. One small JSON record per (dataset, setting, key, size,
threat) under --results; --from-records rebuilds the table and figure from them. Accuracy kept comes from the per-run rows of the study tables named
by --study (analyses/results/info_vs_accuracy_<TAG>.csv: transformed / untransformed final test
accuracy per model family, recipes' augmentation order), where they cover a setting. Naming
them keeps a new study table (another training of a family) from entering this one unasked.

    python analyses/key_recovery.py --quick                 # CPU, digits, a few minutes
    python analyses/key_recovery.py --datasets mnist-5k fashion-mnist --tag cpu
    python analyses/key_recovery.py --from-records --tag cpu
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
from _experiment import ROOT, add_common_arguments, apply_preset, outputs, save_figure, write_csv
from info_vs_accuracy import keyed_settings, settings, split_key

from pixinfo.data import load_dataset
from pixinfo.errors import UnsupportedSchemeError
from pixinfo.files import write_text_atomic
from pixinfo.privacy import accuracy, attack, image_similarity, known_plaintext, recovery_measures, solve_jigsaw
from pixinfo.provenance import environment, write_json
from pixinfo.runs import RunSpec, RunStore, read_record
from pixinfo.stats import correlate
from pixinfo.train import train
from pixinfo.train.recipes import recipe
from pixinfo.transforms import build_transform

STUDY = ROOT / "analyses" / "results"
KEPT_KEY = ["dataset", "spec", "model"]
# the study tables pooled by default: MNIST-5k (LeNet, MLP) and full Fashion-MNIST (MLP, CNN, ViT)
STUDY_TAGS = ["cpu_mnist5k", "cpu_fashion_mlp_cnn_vit"]


LITERATURE = {
    "learnable (Tanaka)": ("literature", "learnable:size=4"),
    "EtC (block-wise)": ("literature", "etc:size=4"),
    "pixel-based": ("literature", "pixel-based"),
    "pixel-based per image": ("literature", "pixel-based-per-image"),
    "InstaHide (k=4)": ("literature", "instahide"),
}  # the learnable encryptions of the literature: label -> (family, spec)


def sizes_for(n_train: int, sizes: list[int]) -> list[int]:
    """The attack sizes that fit (each at most the training set), plus "all" (= n_train)."""
    return sorted({s for s in sizes if s < n_train} | {n_train})


def attacked_settings(ds, key_seeds: list[int], *, quick: bool = False) -> dict[str, tuple[str, str]]:
    """The study's settings under every key seed (and the published key), then the literature's schemes."""
    specs = settings(ds.image_shape[1])
    if quick:
        specs = {k: v for i, (k, v) in enumerate(specs.items()) if i % 3 == 0 or v[0] in ("value", "permutation")}
    return keyed_settings(specs, key_seeds, dataset=ds.name, shape=ds.image_shape) | LITERATURE


def attack_spec(dataset: str, spec: str, n: int, threat: str = "blind", public: int = 0) -> RunSpec:
    """One attack's record: the dataset, the encryption, the ciphertexts seen, the threat model and
    the public images it allows."""
    return RunSpec("key-recovery", f"{dataset}-{n}", {"dataset": dataset, "spec": spec, "n_ciphertexts": n,
                                                      "threat": threat, "public_images": public})  # fmt: skip


def public_images(ds, args, threat: str):
    """Plain test images the attacker holds: after the scored ones (prior), or the last 300 (blind: only to
    pick the grid's symmetry)."""
    if threat == "prior":
        return ds.test.images[args.test_images : args.test_images + args.public_images]
    return ds.test.images[-args.prior_images:]


def run_one(ds, label, family, spec, n, model, args, threat="blind") -> dict | None:
    """One attack's record, or None where no attack is written for the scheme under ``threat``."""
    t = build_transform(spec, shape=ds.image_shape, dataset=ds.name)
    ciphertexts = t(ds.train.images[:n])
    public = public_images(ds, args, threat)
    start = time.perf_counter()
    try:
        key = attack(t, ciphertexts, public=public if threat == "prior" else None)
    except UnsupportedSchemeError:
        return None
    seconds = time.perf_counter() - start
    test = ds.test.images[: args.test_images]
    m = recovery_measures(key=key, transform=build_transform(spec, shape=ds.image_shape, dataset=ds.name),
                          original=test, labels=ds.test.labels[: len(test)], model=model, prior=public)  # fmt: skip
    first = n == min(sizes_for(len(ds.train), args.sizes)) and threat == "blind" and family != "literature"
    kp = known_plaintext(transform=build_transform(spec, shape=ds.image_shape, dataset=ds.name),
                         plain=ds.train.images[: max(args.kp_ks)], ks=args.kp_ks) if first \
        else {"k": [], "determined": [], "k_needed": None}  # independent of n and threat: once per setting
    m = {"exact_d4": m["exact"], "exact_prior": m["exact"], **m}  # value keys have no symmetry to fix
    setting, key_label = split_key(label)
    return {"dataset": ds.name, "setting": setting, "key": key_label, "family": family, "spec": spec,
            "n_ciphertexts": n, "threat": threat, "public_images": len(public) if threat == "prior" else 0,
            "shared_key": t.shared_key, "attack_seconds": seconds, "solver": key.info.get("solver"),
            **m, "kp_k_needed": kp["k_needed"], "kp_determined": dict(zip(kp["k"], kp["determined"], strict=True)),
            "n_test": len(test), "environment": {"commit": environment()["git"]["commit"]}}  # fmt: skip


def jigsaw_record(ds, label, spec, model, args) -> dict:
    """Blind, one image at a time: a block scramble's test images reassembled each on its own."""
    t = build_transform(spec, shape=ds.image_shape, dataset=ds.name)
    test = ds.test.images[: args.test_images]
    start = time.perf_counter()
    decrypted = solve_jigsaw(t(test), size=t.size)
    seconds = time.perf_counter() - start
    sim = image_similarity(test, decrypted)
    setting, key_label = split_key(label)
    return {"dataset": ds.name, "setting": setting, "key": key_label, "family": "block", "spec": spec,
            "n_ciphertexts": 1, "threat": "blind-per-image", "public_images": 0, "shared_key": t.shared_key,
            "attack_seconds": seconds / len(test), "solver": "single-image jigsaw", "found": True,
            "confidence": float("nan"), "exact_d4": float("nan"), "ssim_prior": sim["ssim"], "psnr_prior": sim["psnr"],
            "accuracy_prior": accuracy(model, decrypted, ds.test.labels[: len(test)]),
            "accuracy_original": accuracy(model, test, ds.test.labels[: len(test)]), "kp_k_needed": None,
            "kp_determined": {}, "n_test": len(test)}  # fmt: skip


def jigsaw_all(ds, specs, model, args, store: RunStore) -> None:
    """The single-image jigsaw on every block scramble with intact blocks (key 0)."""
    for label, (family, spec) in specs.items():
        options = spec.partition(":")[2]
        if family != "block" or split_key(label)[1] != "0" or "true" in options:
            continue
        store.get_or_run(attack_spec(ds.name, spec, 1, "blind-per-image"),
                         lambda label=label, spec=spec: jigsaw_record(ds, label, spec, model, args))  # fmt: skip


def reference_model(ds, args):
    """A CNN trained on the original images (its record under --results/models, its weights in the cache)."""
    config = recipe("cnn", ds.name, epochs=args.cnn_epochs, device="cpu")
    run = train(config, results_dir=Path(args.results) / "models", reuse=True, resume=True, save_model=True,
                progress=False, data=ds)  # fmt: skip
    return run.model, run.record["results"]["final_test_acc"]


def attack_all(args) -> None:
    """Every (threat, size, setting) of every dataset that has no record yet; threats in the order given,
    and within each the study's key 0, the published key and the literature's schemes before the other keys."""
    store = RunStore(args.results)
    for name in args.datasets:
        ds = load_dataset(name)
        model, acc = reference_model(ds, args)
        print(f"{name}: CNN ({args.cnn_epochs} epochs) test accuracy {acc:.4f}", file=sys.stderr)
        specs = attacked_settings(ds, args.key_seeds, quick=args.quick)
        first = {k: v for k, v in specs.items() if split_key(k)[1] in ("0", "authors")}  # key 0, published, literature
        groups = [first, {k: v for k, v in specs.items() if k not in first}]
        if "blind" in args.threats:
            jigsaw_all(ds, specs, model, args, store)
        for threat, group in ((t, g) for t in args.threats for g in groups):
            public = args.public_images if threat == "prior" else 0
            for n in sizes_for(len(ds.train), args.sizes):
                for label, (family, spec) in group.items():
                    run = attack_spec(name, spec, n, threat, public)
                    if store.read(run) is not None:
                        continue
                    rec = run_one(ds, label, family, spec, n, model, args, threat)
                    if rec is None:  # no attack is written for this scheme under this threat model
                        continue
                    store.write(run, rec)
                    print(f"{name} {threat:6s} n={n:6d} {label:40s} found={rec['found']:.0f} "
                          f"exact={rec.get('exact_sources', rec['exact_d4']):.3f} ssim={rec['ssim_prior']:.3f} "
                          f"acc={rec.get('accuracy_prior', float('nan')):.3f} ({rec['attack_seconds']:.1f} s)",
                          file=sys.stderr)  # fmt: skip


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


# the table's columns, in order (fields a record lacks stay empty)
COLUMNS = ["dataset", "setting", "key", "family", "spec", "n_ciphertexts", "threat", "public_images", "shared_key",
           "attack_seconds", "solver", "exact_d4", "exact_prior", "found", "confidence", "exact", "neighbours",
           "exact_sources", "accuracy_original", "psnr_d4", "ssim_d4", "accuracy_d4", "psnr_prior", "ssim_prior",
           "accuracy_prior", "kp_k_needed", "n_test", "kp_k_max", "kp_share", "exact_background"]  # fmt: skip


def load(folder: Path) -> pd.DataFrame:
    rows = [read_record(p) for p in sorted(folder.glob("*.json"))]  # the attacks' records (not models/)
    if not rows:
        raise SystemExit(f"no records in {folder}; run without --from-records first")
    for r in rows:  # share of the key the largest k of known pairs determines
        r["kp_k_max"], r["kp_share"] = (int(max(r["kp_determined"], key=int)), max(r["kp_determined"].items(),
                                        key=lambda kv: int(kv[0]))[1]) if r["kp_determined"] else (None, None)  # fmt: skip
        r.setdefault("threat", "blind")  # records written before threat models were a factor: blind, key 0
        r.setdefault("key", "0")
        r.setdefault("public_images", 0)
    data = pd.DataFrame(rows).drop(columns=["environment", "kp_determined", "kind", "identity", "digest"], errors="ignore")
    data = data[[c for c in COLUMNS if c in data] + [c for c in data if c not in COLUMNS]]  # the same on every run
    sources = data["exact_sources"] if "exact_sources" in data else pd.Series(float("nan"), index=data.index)
    # every encrypted position's source where the attack estimates it (prior), else exact up to symmetry
    data["recovered"] = sources.where(sources.notna(), data["exact_d4"])
    order = {label: i for i, label in enumerate([*settings(28), *LITERATURE])}
    data = data.assign(order=data["setting"].map(order))
    return data.sort_values(["dataset", "threat", "order", "key", "n_ciphertexts"])


PRESETS = {
    "full": dict(datasets=["mnist-5k", "fashion-mnist"], sizes=[1000, 10000], test_images=500, prior_images=300,
                 kp_ks=[1, 2, 4, 8, 16, 32, 64, 128, 256], cnn_epochs=3, n_boot=2000, threats=["prior", "blind"],
                 public_images=9000, key_seeds=[0, 1, 2]),
    "quick": dict(datasets=["digits"], sizes=[300], test_images=180, prior_images=100, kp_ks=[1, 4, 16, 64],
                  cnn_epochs=8, n_boot=200, threats=["prior", "blind"], public_images=180, key_seeds=[0]),
}  # fmt: skip


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", help="default: mnist-5k fashion-mnist")
    p.add_argument("--sizes", nargs="+", type=int, help="ciphertexts seen, plus all (default: 1000 10000)")
    p.add_argument("--test-images", type=int, help="held-out images decrypted and scored (default 500)")
    p.add_argument("--prior-images", type=int, help="public plain images that pick the blind key's symmetry (default 300)")
    p.add_argument("--threats", nargs="+", choices=["prior", "blind"],
                   help="threat models, run in this order (default: prior blind)")
    p.add_argument("--public-images", type=int,
                   help="plain test images the prior attacker holds, after the scored ones (default 9000: as many "
                        "as the test split has)")
    p.add_argument("--key-seeds", nargs="+", type=int, help="key seeds of every shared-key setting (default 0 1 2)")
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
    largest = data["n_ciphertexts"] == data.groupby("dataset")["n_ciphertexts"].transform("max")
    merged = data[largest].merge(kept, on=["dataset", "spec"], how="left")
    write_csv(data, f"{base}.csv")
    stats = None
    have = merged.dropna(subset=["accuracy_kept"])
    have = have[have.groupby(["threat", "model"])["setting"].transform("nunique") >= 5]  # enough settings to resample
    if len(have):
        pooled = pd.concat([have, have.assign(model="all")])  # every family, within each threat model
        stats = correlate(pooled, x=["ssim_prior", "recovered"], y="accuracy_kept", by=["threat", "model"],
                          cluster=["dataset", "setting"], n_boot=args.n_boot, pooled=False)  # fmt: skip
        write_csv(stats, f"{base}_correlations.csv")
    markdown = to_markdown(data, merged, stats)
    write_text_atomic(f"{base}.md", markdown)
    write_text_atomic(figures / f"key_recovery{suffix}.md", markdown)
    print(markdown)
    plot(merged, figures, suffix)
    write_json(Path(f"{base}_meta.json"), {
        "config": vars(args), "environment": environment("cpu"), "n_records": len(data),
        "commits": sorted({str(_commit(read_record(p))) for p in Path(args.results).glob("*.json")}),
    })  # fmt: skip


def _commit(record: dict) -> str | None:
    """The commit a record was made at (records before full provenance kept only the commit)."""
    env = record.get("environment", {})
    return env.get("commit") or env.get("git", {}).get("commit")


THREATS = {
    "blind": "blind ciphertext-only: encrypted training images only; exact = share of varying positions back in "
             "place up to the grid's symmetries and shifts (gather keys), or of key entries (value keys)",
    "blind-per-image": "blind, each test image reassembled on its own by a jigsaw solver (no shared key needed; "
                       "block scrambles with intact blocks); SSIM and CNN accuracy on the reassembled images",
    "prior": "ciphertext-only with public plain images of the same kind (test images disjoint from the scored "
             "ones; no pairs); exact = share of the encrypted positions whose value varies that get their exact "
             "source (gather keys), or of key entries (value keys)",
}  # fmt: skip


def to_markdown(data: pd.DataFrame, merged: pd.DataFrame, stats) -> str:
    parts = []
    for (name, threat), part in data.groupby(["dataset", "threat"], sort=False):
        sizes = sorted(set(part["n_ciphertexts"]))
        public = int(part["public_images"].max())
        held = f", {public} public images" if threat == "prior" else ""
        parts.append(f"**{name}, threat model {threat}** ({THREATS[threat]}{held}): ciphertexts seen {sizes}; "
                     f"{int(part['n_test'].iloc[0])} held-out test images. Keys: the study's key seeds "
                     f"{sorted(set(part['key']) - {'authors'})}, each shared-key cell the mean over keys with the "
                     "range (min–max) where there are several; the published vortex key in a row of its own. "
                     "keys, found, SSIM and CNN accuracy on the decryptions at the most ciphertexts each row was run with (at n); "
                     "accuracy kept: accuracy on "
                     "the transform over untransformed accuracy (same family and seed), mean over seeds, key 0, one "
                     "column per model family of the study (– : no study record).\n\n"
                     + recovery_table(part, merged[(merged["dataset"] == name) & (merged["threat"] == threat)],
                                      sizes).to_markdown(index=False, disable_numparse=True) + "\n")  # fmt: skip
    if stats is not None:
        wide = stats.pivot_table(index=["x", "group", "n"], columns="method", values=["estimate", "ci_low", "ci_high"],
                                 sort=False).reset_index()  # fmt: skip
        table = pd.DataFrame({
            "measure": wide["x"], "threat / model": wide["group"], "Pearson": wide["estimate"]["pearson"].map("{:.2f}".format),
            "Spearman [95% CI]": [f"{e:.2f} [{lo:.2f}, {hi:.2f}]" for e, lo, hi in zip(
                wide["estimate"]["spearman"], wide["ci_low"]["spearman"], wide["ci_high"]["spearman"], strict=True)],
            "n": wide["n"],
        })  # fmt: skip
        parts.append("Accuracy kept vs recovery at the most ciphertexts (rows: settings × keys with study records, "
                     "ρ over those rows; 95% bootstrap resampling settings):\n\n"
                     + table.to_markdown(index=False, disable_numparse=True) + "\n")  # fmt: skip
    return "\n".join(parts)


def _row_label(setting: str, key: str) -> str:
    return f"{setting} (published key)" if key == "authors" else setting


def _over_keys(values: pd.Series) -> str:
    """Mean over keys, with the range where there are several; "–" where none."""
    values = values.dropna()
    if values.empty:
        return "–"
    if len(values) == 1:
        return f"{values.iloc[0]:.2f}"
    return f"{values.mean():.2f} ({values.min():.2f}–{values.max():.2f})"


def recovery_table(part: pd.DataFrame, merged: pd.DataFrame, sizes: list[int]) -> pd.DataFrame:
    """One row per setting (the published key apart) of one dataset and threat model."""
    part = part.assign(row=[_row_label(s, k) for s, k in zip(part["setting"], part["key"], strict=True)])
    rows = list(dict.fromkeys(part["row"]))
    most = part["n_ciphertexts"] == part.groupby("row")["n_ciphertexts"].transform("max")
    top = dict(tuple(part[most].groupby("row", sort=False)))  # each row at the most ciphertexts it was run with
    table = pd.DataFrame(index=rows)
    table["shared key"] = part.groupby("row")["shared_key"].first().reindex(rows).map(lambda v: "yes" if v else "no")
    table["keys"] = [top[r]["key"].nunique() for r in rows]
    table["found"] = [f"{int(top[r]['found'].sum())}/{len(top[r])}" for r in rows]
    for n in sizes:
        at_n = part[part["n_ciphertexts"] == n].groupby("row")["recovered"]
        table[f"exact (n={n})"] = [_over_keys(at_n.get_group(r)) if r in at_n.groups else "–" for r in rows]
    table["at n"] = [int(top[r]["n_ciphertexts"].iloc[0]) for r in rows]
    table["SSIM (at n)"] = [_over_keys(top[r]["ssim_prior"]) for r in rows]
    table["CNN acc. on decryptions / on originals (at n)"] = [
        f"{top[r]['accuracy_prior'].mean():.3f} / {top[r]['accuracy_original'].iloc[0]:.3f}"
        if "accuracy_prior" in top[r] else "–" for r in rows]  # fmt: skip
    kp = part.dropna(subset=["kp_k_max"]).drop_duplicates("row").set_index("row")
    table["known pairs for the key (share at most pairs)"] = [_pairs_cell(kp.loc[r]) if r in kp.index else "–" for r in rows]
    kept = merged.dropna(subset=["accuracy_kept"])
    kept = kept[kept["key"] == "0"].groupby(["model", "setting"])["accuracy_kept"].mean()
    models = sorted(kept.index.unique("model"))  # one column per model family of the study
    if not models:
        table["accuracy kept"] = "–"
    for model in models:
        table[f"accuracy kept ({model})"] = _kept_cells(kept[model], rows)
    if len(models) > 1:
        table["accuracy kept (mean)"] = _kept_cells(kept.groupby("setting").mean(), rows)
    return table.rename_axis("setting").reset_index()


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
    """Learnable vs secret, one panel per threat model: SSIM of the attacker's decryptions (mean over
    keys) against accuracy kept (mean over the study's families), one point per (dataset, setting)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    threats = list(dict.fromkeys(merged["threat"]))
    fig, axes = plt.subplots(1, len(threats), figsize=(4.8 * len(threats), 4.2), squeeze=False, sharey=True)
    markers = dict(zip(sorted(set(merged["dataset"])), "osD^v", strict=False))
    colours = {fam: f"C{i}" for i, fam in enumerate(sorted(set(merged["family"])))}
    for ax, threat in zip(axes[0], threats, strict=True):
        part = merged[merged["threat"] == threat]
        kept = part[part["key"] == "0"].groupby(["dataset", "setting"])["accuracy_kept"].mean()
        per = part.groupby(["dataset", "setting", "family"], as_index=False)["ssim_prior"].mean()
        per["kept"] = [kept.get((d, s), float("nan")) for d, s in zip(per["dataset"], per["setting"], strict=True)]
        per = per.dropna(subset=["kept"])
        for (dataset, fam), g in per.groupby(["dataset", "family"]):
            ax.scatter(g["ssim_prior"], g["kept"], s=20, marker=markers[dataset], color=colours[fam],
                       label=f"{fam} ({dataset})")  # fmt: skip
        ax.axvspan(-0.1, 0.3, color="0.9", zorder=0)
        ax.set_xlabel("attacker's decryptions: SSIM")
        ax.set_title(f"threat model: {threat}", fontsize=10)
        ax.set_xlim(-0.1, 1.05)
    axes[0][0].set_ylabel("accuracy kept (study)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=6, loc="lower center", ncol=min(len(labels), 5) or 1)
    fig.suptitle("learnable (high) and secret (left, shaded) — against whom?", fontsize=10)
    fig.tight_layout(rect=(0, 0.12, 1, 0.95))
    save_figure(fig, figures / f"key_recovery{suffix}.png")


if __name__ == "__main__":
    sys.exit(main())
