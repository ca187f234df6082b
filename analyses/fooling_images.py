"""Fooling images (Nguyen, Yosinski & Clune) with pixinfo: evolution from noise, transfer,
retraining with a "fooling" class, and models trained on vortex-encrypted data.

Experiments (each model is trained with the pixinfo recipe and reused from ``--results``):
1. evolution: for each setup (LeNet on MNIST-5k, the CNN on Fashion-MNIST by default), ``--runs``
   MAP-Elites runs per encoding (direct, CPPN), population 200, up to ``--generations``: the
   generation at which every class reached ``--target``; a gallery of elites; and the time of 200
   generations (without stopping) on this device;
2. gradient ascent from noise: first iteration reaching 50/99/99.9/99.99%;
3. transfer: how often an elite evolved for model A is classified as the same class with
   ≥ 99% confidence by model B (another seed, another architecture);
4. retraining: add the elites as an 11th "fooling" class, retrain, evolve again (``--rounds``);
5. the encrypted domain: the same evolution against a model trained on vortex-encrypted images
   (``--encrypted``; inputs to that model are encrypted images, so noise is searched in that domain).

``--rounds 0`` and ``--encrypted none`` skip experiments 4 and 5 (e.g. for a second setup on a CPU).
Every finished evolution run is kept in pixinfo's cache (named by the model's weights and the run's
options), so an interrupted experiment resumes where it stopped; ``--workers N`` evolves N runs at
a time on N processes with one torch thread each.

    python analyses/fooling_images.py                       # GPU
    python analyses/fooling_images.py --quick               # CPU smoke run on digits
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import torch
from _experiment import (add_common_arguments, apply_preset, check_model_values, outputs, recipe_overrides,
                         save_figure, trained_model, write_csv)

from pixinfo.adversarial.fooling import CPPNEncoding, DirectEncoding, FoolingResult, evolve, gradient_ascent
from pixinfo.data import Dataset, Split, load_dataset, to_uint8
from pixinfo.files import cache_dir, torch_save_atomic, write_text_atomic
from pixinfo.models import predict_logits
from pixinfo.provenance import environment, make_record, write_json
from pixinfo.runs import RunSpec, RunStore, content_digest
from pixinfo.train.recipes import recipe
from pixinfo.train.trainer import weights_digest

ENCODINGS = {"direct": DirectEncoding, "cppn": CPPNEncoding}


def trained(model: str, dataset: str, args, *, seed: int = 0, transform: str | None = None, data=None,
            data_tag: str | None = None):
    config = recipe(model, dataset, seed=seed, transform=transform, device=args.device, data_tag=data_tag,
                    **recipe_overrides(args, model))  # fmt: skip
    return trained_model(config, args, data=data)


def evolution_rows(model, shape, label: str, args, *, classes=None) -> tuple[list[dict], dict]:
    """``args.runs`` MAP-Elites runs per encoding against ``model``: one table row per run, and the runs.

    Each finished run is kept in the cache (:func:`evolution_part`), so an interrupted experiment
    resumes with the runs it has not done; ``--workers N`` runs them on N processes."""
    jobs = [(name, r) for name in ENCODINGS for r in range(args.runs)]
    results = dict(zip(jobs, map_evolutions(model, shape, jobs, args, classes=classes), strict=True))
    rows = []
    for (name, r), res in results.items():
        rows.append({"setup": label, "encoding": name, "run": r, "generations_to_all": res.generations_to_all,
                     "generations_run": res.generations, "min_confidence": float(res.confidences.min()),
                     "median_confidence": float(res.confidences.median()), "seconds": res.seconds})  # fmt: skip
        print(f"{label} {name} run {r}: all >= {args.target} at {res.generations_to_all} "
              f"(min conf {float(res.confidences.min()):.5f}, {res.seconds:.1f} s)", file=sys.stderr)  # fmt: skip
    return rows, results


def evolution_part(weights: str, shape, encoding: str, run: int, args, classes) -> Path:
    """Where the cache keeps one evolution run: named by the model's weights (their
    :func:`~pixinfo.train.trainer.weights_digest`) and the run's options."""
    options = {"shape": list(shape), "encoding": encoding, "run": run, "population": args.population,
               "generations": args.generations, "target": args.target, "classes": classes}  # fmt: skip
    spec = RunSpec("fooling-evolution", f"{encoding}-r{run}", {"weights": weights, **options}, digest_length=20)
    return cache_dir("fooling-runs") / f"{spec.stem}.pt"


def evolve_part(model, shape, encoding: str, run: int, args, classes, path: Path) -> FoolingResult:
    """One evolution run, read from ``path`` when an earlier process finished it, else run and saved there."""
    if path.exists():
        return FoolingResult(**torch.load(path, weights_only=True), genomes=[])
    res = evolve(model, encoding=ENCODINGS[encoding](shape), population=args.population,
                 generations=args.generations, target=args.target, seed=run, classes=classes, progress=False)  # fmt: skip
    fields = {k: getattr(res, k) for k in ("images", "confidences", "history", "reached", "target", "generations",
                                           "seconds", "config")}  # fmt: skip
    torch_save_atomic(fields, path)
    return res


def _evolve_in_worker(model, shape, encoding, run, args, classes, path):
    torch.set_num_threads(1)
    return evolve_part(model, shape, encoding, run, args, classes, path)


def map_evolutions(model, shape, jobs, args, *, classes=None) -> list[FoolingResult]:
    """The runs ``jobs`` (encoding, seed) in order: in this process, or on ``args.workers`` processes
    (spawned, one torch thread each)."""
    weights = weights_digest(model)  # once: every run's cache name starts from it
    paths = [evolution_part(weights, shape, name, r, args, classes) for name, r in jobs]
    if args.workers <= 1 or all(p.exists() for p in paths):
        return [evolve_part(model, shape, name, r, args, classes, p) for (name, r), p in zip(jobs, paths, strict=True)]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    model = copy.deepcopy(model).cpu()
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_evolve_in_worker, model, shape, name, r, args, classes, p)
                   for (name, r), p in zip(jobs, paths, strict=True)]  # fmt: skip
        return [f.result() for f in futures]


def timing_rows(model, shape, label, args) -> list[dict]:
    rows = []
    for name, cls in ENCODINGS.items():
        evolve(model, encoding=cls(shape), population=args.population, generations=3, seed=99, progress=False)
        res = evolve(model, encoding=cls(shape), population=args.population, generations=200, target=1.0,
                     stop_at_target=False, seed=0, progress=False)  # fmt: skip
        rows.append({"setup": label, "encoding": name, "generations": res.generations, "seconds": res.seconds,
                     "population": args.population})  # fmt: skip
    return rows


def with_fooling_class(ds: Dataset, images: torch.Tensor, copies: int) -> Dataset:
    extra = to_uint8(images.clamp(0, 1)).repeat(copies, 1, 1, 1)
    k = ds.num_classes
    train_split = Split(torch.cat([ds.train.images, extra]),
                        torch.cat([ds.train.labels, torch.full((len(extra),), k, dtype=torch.int64)]))  # fmt: skip
    return Dataset(ds.name, train_split, ds.test, (*ds.class_names, "fooling"), ds.source, dict(ds.info))


PRESETS = {
    "full": dict(setups=["lenet:mnist-5k", "cnn:fashion-mnist"], runs=5, population=200, generations=1000,
                 target=0.9999, rounds=3, encrypted="vortex:authors", epochs=None),
    "quick": dict(setups=["cnn:digits"], runs=2, population=50, generations=60, target=0.99, rounds=1,
                  encrypted="permutation:seed=0", epochs=15),
}  # fmt: skip


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--setups", nargs="+", help="model:dataset pairs (default: lenet:mnist-5k cnn:fashion-mnist)")
    p.add_argument("--runs", type=int, help="evolution runs per encoding (default 5)")
    p.add_argument("--population", type=int, help="default 200")
    p.add_argument("--generations", type=int, help="at most this many (default 1000)")
    p.add_argument("--target", type=float, help="confidence every class must reach (default 0.9999)")
    p.add_argument("--rounds", type=int, help="retraining rounds with a fooling class (default 3)")
    p.add_argument("--encrypted", help="transform of the encrypted-domain experiment ('none' skips it; "
                                       "default vortex:authors)")  # fmt: skip
    add_common_arguments(p, experiment="fooling_images", quick_help="CPU smoke run on digits")
    args = apply_preset(p.parse_args(argv), PRESETS)
    try:
        models = [parse_setup(setup)[0] for setup in args.setups]
    except ValueError as err:
        p.error(f"--setups: {err}")
    check_model_values(p, args, models)
    base, figures, suffix = outputs(args, "fooling_images")
    results = [setup_result(setup, args) for setup in args.setups]
    frames = {name: pd.DataFrame([row for r in results for row in r[name]]) for name in SECTIONS}
    for name, frame in frames.items():
        write_csv(frame, base.parent / f"fooling_{name}{suffix}.csv")
    markdown = to_markdown(frames, args)
    write_text_atomic(base.parent / f"fooling_images{suffix}.md", markdown)
    print(markdown)
    galleries = {r["label"]: r["gallery"] for r in results if r.get("gallery")}
    if galleries:
        plot_galleries(galleries, figures / f"fooling_gallery{suffix}.png")
    write_json(base.parent / f"fooling_images{suffix}_meta.json", {
        "config": vars(args), "environment": environment(), "records": [r["path"] for r in results]})
    return 0


SECTIONS = ("evolution", "timing", "ascent", "transfer", "retraining")
# the options that decide a setup's results (its record's identity)
RESULT_OPTIONS = ("runs", "population", "generations", "target", "rounds", "encrypted", "epochs", "device")


def parse_setup(setup: str) -> tuple[str, str]:
    """(model, dataset) of a ``MODEL:DATASET`` setup; ValueError for any other form."""
    model, sep, dataset = setup.partition(":")
    if not (sep and model and dataset) or ":" in dataset:
        raise ValueError(f"each must be MODEL:DATASET, e.g. cnn:fashion-mnist; got {setup!r}")
    return model, dataset


def result_options(setup: str, args) -> dict:
    """The options of ``RESULT_OPTIONS`` (``epochs`` as it applies to the setup's model), and
    ``max_train`` when given (records made before it existed keep their names)."""
    overrides = recipe_overrides(args, parse_setup(setup)[0])
    options = {k: getattr(args, k) for k in RESULT_OPTIONS} | {"epochs": overrides.get("epochs")}
    return options | ({"max_train": overrides["max_train"]} if "max_train" in overrides else {})


def setup_spec(setup: str, args) -> RunSpec:
    """A setup's record, named by the setup and every option that decides its results."""
    return RunSpec("fooling_images", f"fooling-{setup}", result_options(setup, args))


def setup_result(setup: str, args) -> dict:
    """One setup's rows of every table and its gallery: read from its record, or computed and
    recorded (``--from-records`` only reads)."""
    store, spec = RunStore(args.results), setup_spec(setup, args)
    record = store.get_or_run(spec, lambda: compute_setup(setup, args), from_records=args.from_records,
                              require=("results",))  # fmt: skip
    return {**record["results"], "gallery": _gallery_from_lists(record["results"].get("gallery")),
            "path": str(store.path(spec))}  # fmt: skip


def compute_setup(setup: str, args) -> dict:
    """``run_setup``'s rows and gallery as a record (images as uint8 lists)."""
    result = run_setup(setup, args)
    gallery = {enc: {"images": to_uint8(res.images.clamp(0, 1)).tolist(), "confidences": res.confidences.tolist()}
               for enc, res in result.pop("gallery").items()}  # fmt: skip
    return make_record("fooling_images", {"setup": setup, **result_options(setup, args)}, {**result, "gallery": gallery})


def _gallery_from_lists(gallery):
    if not gallery:
        return None
    return {enc: SimpleNamespace(images=torch.tensor(g["images"], dtype=torch.uint8).float() / 255,
                                 confidences=torch.tensor(g["confidences"])) for enc, g in gallery.items()}  # fmt: skip


def run_setup(setup: str, args) -> dict:
    """Every experiment of one ``arch:dataset`` setup."""
    arch, dataset = parse_setup(setup)
    ds = load_dataset(dataset)
    model, run = trained(arch, dataset, args, data=ds)
    label = f"{arch} / {dataset}"
    evo, elites = evolution_rows(model, ds.image_shape, label, args)
    asc = gradient_ascent(model, shape=ds.image_shape, steps=300, seed=0)
    ascent = [{"setup": label, "threshold": t, "median_first_step": float(v[v >= 0].float().median())
               if bool((v >= 0).any()) else None, "classes_reached": int((v >= 0).sum())}
              for t, v in asc.first_reached.items()]  # fmt: skip
    retrain = retraining_rows(arch, dataset, ds, elites, label, args)
    if args.encrypted != "none":  # the encrypted domain
        vmodel, vrun = trained(arch, dataset, args, transform=args.encrypted, data=ds)
        rows, _ = evolution_rows(vmodel, ds.image_shape, f"{label} trained on {args.encrypted}", args)
        evo += [dict(r, test_acc=vrun.final_test_acc) for r in rows]
    evo = [dict(r, test_acc=r.get("test_acc", run.final_test_acc)) for r in evo]
    return {"label": label, "evolution": evo, "timing": timing_rows(model, ds.image_shape, label, args),
            "ascent": ascent, "transfer": transfer_rows(arch, dataset, ds, elites, label, args),
            "retraining": retrain, "gallery": {name: elites[(name, 0)] for name in ENCODINGS}}  # fmt: skip


def transfer_rows(arch, dataset, ds, elites, label, args) -> list[dict]:
    """Share of elites that another seed and other architectures give the same class."""
    others = {"other seed": trained(arch, dataset, args, seed=1, data=ds)[0],
              "mlp": trained("mlp", dataset, args, data=ds)[0]}  # fmt: skip
    if arch != "lenet" and min(ds.image_shape[1:]) >= 12:
        others["lenet"] = trained("lenet", dataset, args, data=ds)[0]
    rows = []
    for (enc, r), res in elites.items():
        for name, other in others.items():
            probs = torch.softmax(predict_logits(other, res.images), 1)
            k = torch.arange(len(res.images))
            rows.append({"setup": label, "encoding": enc, "run": r, "to": name,
                         "same_class_99": float((probs[k, k] >= 0.99).float().mean()),
                         "same_class_top1": float((probs.argmax(1) == k).float().mean())})  # fmt: skip
    return rows


def retraining_rows(arch, dataset, ds, elites, label, args) -> list[dict]:
    """Rounds of retraining with the elites as an extra "fooling" class, then evolving again."""
    pool, rows = torch.cat([res.images for res in elites.values()]), []
    for rnd in range(1, args.rounds + 1):
        copies = max(1, int(0.1 * len(ds.train) / len(pool)))
        current = with_fooling_class(ds, pool, copies)
        tag = "fooling-class-" + content_digest([to_uint8(pool.clamp(0, 1)).numpy().tobytes()], length=12)
        rmodel, rrun = trained(arch, dataset, args, data=current, seed=rnd, data_tag=tag)
        found, new_elites = evolution_rows(rmodel, ds.image_shape, f"{label} round {rnd}", args,
                                           classes=list(range(ds.num_classes)))  # fmt: skip
        with torch.no_grad():
            pool_pred = predict_logits(rmodel, pool).argmax(1)
        for row in found:
            rows.append({**row, "round": rnd, "fooling_images_in_training": len(pool), "test_acc": rrun.final_test_acc,
                         "old_pool_caught": float((pool_pred == ds.num_classes).float().mean())})  # fmt: skip
        pool = torch.cat([pool] + [res.images for res in new_elites.values()])
    return rows


def _reached(g: pd.DataFrame) -> dict:
    """Runs reaching the target, median and max generations of those that did, median min-confidence."""
    reached = g["generations_to_all"].dropna()
    return {"runs reaching target": f"{len(reached)}/{len(g)}",
            "median generations (reached)": f"{reached.median():g}" if len(reached) else "–",
            "max": f"{reached.max():g}" if len(reached) else "–",
            "median min-confidence": f"{g['min_confidence'].median():.5f}"}  # fmt: skip


def _md(frame: pd.DataFrame) -> str:
    return frame.to_markdown(index=False, disable_numparse=True)


def to_markdown(frames, args) -> str:
    evo, timing, ascent, transfer, retrain = (frames[k] for k in SECTIONS)
    evolution = pd.DataFrame([{"setup": setup, "encoding": enc, **_reached(g)}
                              for (setup, enc), g in evo.groupby(["setup", "encoding"], sort=False)])  # fmt: skip
    same = transfer.groupby(["setup", "encoding", "to"], sort=False)[["same_class_top1", "same_class_99"]].mean()
    same = same.map("{:.2f}".format).reset_index().rename(
        columns={"same_class_top1": "top-1 same class", "same_class_99": "≥ 99% same class"})
    parts = [f"Target confidence {args.target}, population {args.population}, at most {args.generations} "
             f"generations, {args.runs} runs per encoding.", _md(evolution),
             "Time of 200 generations (no early stop):",
             _md(timing[["setup", "encoding"]].assign(seconds=timing["seconds"].map("{:.2f}".format))),
             "Gradient ascent from noise (300 steps): median first step reaching each confidence:",
             _md(ascent[["setup", "threshold", "median_first_step", "classes_reached"]].rename(columns={
                 "median_first_step": "median first step", "classes_reached": "classes reached"})),
             "Transfer: share of elites classified as the same class by another model:", _md(same)]  # fmt: skip
    if len(retrain):
        rounds = pd.DataFrame([{
            "round": rnd, "encoding": enc, "fooling images in training": g["fooling_images_in_training"].iloc[0],
            "test acc": f"{100 * g['test_acc'].iloc[0]:.2f}", "old elites caught": f"{g['old_pool_caught'].iloc[0]:.2f}",
            **{k: v for k, v in _reached(g).items() if k != "max"},
        } for (rnd, enc), g in retrain.groupby(["round", "encoding"], sort=False)])  # fmt: skip
        parts += ["Retraining with a fooling class:", _md(rounds)]
    return "\n\n".join(parts) + "\n"


def plot_galleries(galleries, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(setup, enc, res) for setup, by_enc in galleries.items() for enc, res in by_enc.items()]
    k = max(len(res.images) for _, _, res in rows)
    fig, axes = plt.subplots(len(rows), k, figsize=(1.1 * k, 1.35 * len(rows)), squeeze=False)
    for i, (setup, enc, res) in enumerate(rows):
        for j in range(k):
            ax = axes[i][j]
            ax.set_axis_off()
            if j < len(res.images):
                ax.imshow(res.images[j].permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray", vmin=0, vmax=1)
                ax.set_title(f"{j}: {float(res.confidences[j]):.4f}", fontsize=6)
        axes[i][0].text(-0.3, 0.5, f"{setup}\n{enc}", transform=axes[i][0].transAxes, ha="right", va="center",
                        fontsize=6)  # fmt: skip
    fig.tight_layout()
    save_figure(fig, path)


if __name__ == "__main__":
    sys.exit(main())
