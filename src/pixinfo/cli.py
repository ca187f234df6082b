"""The ``pixinfo`` command line.

Every subcommand is an options dataclass (``ScoreOptions``, ``TrainOptions``, ...) and a function
that runs it (``COMMANDS``); the options are generated from the dataclass by
``pixinfo._cli_grammar``, with their defaults read from the library's functions.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pixinfo._cli_grammar import (
    add_options,
    device_option,
    finite_float,
    imports_option,
    nonnegative_int,
    option,
    options_from_args,
    out_option,
    positive_int,
    probability,
    progress_option,
    root_option,
    seed_int,
    seed_option,
    signature_default,
)
from pixinfo.adversarial.fooling import ENCODINGS, evolve
from pixinfo.adversarial.semantic import SEMANTIC_TRANSFORMS, semantic_accuracy
from pixinfo.assess import assess
from pixinfo.data import DATASETS, DEFAULT_DATASET, SPLITS
from pixinfo.predict import features
from pixinfo.privacy.report import run_attack
from pixinfo.privacy.threat import KINDS
from pixinfo.scoring import format_table, score_table
from pixinfo.study import StudyOptions
from pixinfo.train import TrainConfig
from pixinfo.train.recipes import RECIPES
from pixinfo.transforms.registry import DEFAULT_TRANSFORMS

__all__ = ["COMMANDS", "build_parser", "finite_float", "format_predictions", "format_table", "kernel_spec", "main",
           "nonnegative_int", "parse_kernel", "positive_int", "probability", "seed_int"]  # fmt: skip

_CREATED_DIRS: list[Path] = []  # folders this command created; removed again (if still empty) when it fails


def _output_dir(path: str, option: str = "--out") -> Path:
    """``--out`` created and checked writable before any work starts."""
    from pixinfo.files import check_writable_dir

    target = Path(path).expanduser().absolute()
    _CREATED_DIRS.extend(p for p in (target, *target.parents) if not p.exists())
    return check_writable_dir(path, name=option)


def _remove_created_dirs() -> None:
    """Remove the folders ``_output_dir`` created, deepest first, where they are still empty."""
    import os

    for folder in sorted(set(_CREATED_DIRS), key=lambda p: len(p.parts), reverse=True):
        try:
            os.rmdir(folder)
        except OSError:  # not empty (the command wrote something), or already gone
            pass
    _CREATED_DIRS.clear()


def _write_table(frame, path: Path) -> Path:
    """A DataFrame as CSV, written whole."""
    from pixinfo.files import write_text_atomic

    return write_text_atomic(path, frame.to_csv(index=False))


def _device(name: str):
    from pixinfo.train import resolve_device

    return resolve_device(name)


def _load(name: str, root: str | None):
    """The dataset ``name``, from ``root`` where given."""
    from pixinfo.data import load_dataset

    return load_dataset(name, **({"root": root} if root else {}))


def _write_record(out: Path, kind: str, name: str, config: dict, results, *, device, **extra) -> Path:
    """The command's JSON record in ``out`` through the run store (named by ``name`` and the digest of
    ``config``, with provenance); returns the record's path without ``.json``, the stem of its other files."""
    from pixinfo.provenance import make_record
    from pixinfo.runs import RunSpec, RunStore

    store, spec = RunStore(out), RunSpec(kind, name, config)
    store.write(spec, {**make_record(kind, config, results, device=device), **extra})
    return store.path(spec).with_suffix("")


def parse_kernel(spec: str):
    """``family:scale=...,cutoff=...`` to a Kernel."""
    from pixinfo._checks import bind_call
    from pixinfo._spec import parse_spec
    from pixinfo.errors import ParameterError
    from pixinfo.info import Kernel

    family, args, kwargs = parse_spec(spec)
    if args:
        raise ParameterError(f"kernel parameters must be named (scale=..., cutoff=...), got {spec!r}")
    return bind_call(Kernel, family, **kwargs, what=f"kernel spec {spec!r} (FAMILY:scale=S[,cutoff=C])")


def kernel_spec(kernel) -> str:
    """A Kernel as the spec ``parse_kernel`` reads back.

    Examples
    --------
    >>> from pixinfo.info import Kernel
    >>> kernel_spec(Kernel("power", scale=3, cutoff=4))
    'power:scale=3,cutoff=4'
    """
    d = kernel.to_dict()
    return f"{d['family']}:scale={d['scale']:g}" + (f",cutoff={d['cutoff']:g}" if d["cutoff"] is not None else "")


# -- pixinfo score ---------------------------------------------------------------------------------
SCORE_TABLE_OPTIONS = ("seed", "max_maps", "n_boot", "n_boot_value", "max_value_images", "batch_size")


def _score_default(name: str) -> Any:
    return signature_default(score_table, name)


@dataclass(frozen=True, kw_only=True)
class ScoreOptions:
    """``pixinfo score``: the three information measures of transforms on a dataset."""

    imports: tuple[str, ...] = imports_option()
    dataset: str = option(DEFAULT_DATASET, choices=DATASETS, help="dataset to score on (see `pixinfo datasets`)")
    root: str | None = root_option()
    split: str = option(_score_default("split"), choices=SPLITS, help="the split scored")
    transform: tuple[str, ...] | None = option(
        None, repeat=True, metavar="SPEC", help="transform spec NAME[:key=value,...], repeatable (see `pixinfo "
        "transforms`)", shown_default=", ".join(DEFAULT_TRANSFORMS) + " (vortex:seed=0 where the authors have no key)")
    kernel: str = option(kernel_spec(_score_default("kernel")), metavar="FAMILY:scale=S[,cutoff=C]",
                         help="distance weight of the measures")  # fmt: skip
    seed: int = seed_option(_score_default("seed"), help="seed of the subset, the sampled maps and the bootstraps")
    max_images: int | None = option(None, type=positive_int, shown_default="every image of the split",
                                    help="score a seeded random subset of this size")  # fmt: skip
    max_maps: int = option(_score_default("max_maps"), type=positive_int, help="per-image maps sampled for R")
    n_boot: int = option(_score_default("n_boot"), help="bootstrap resamples (content, per-image R)")
    n_boot_value: int = option(_score_default("n_boot_value"), help="bootstrap resamples of value retention")
    max_value_images: int = option(_score_default("max_value_images"), type=positive_int,
                                   help="images used for value retention")  # fmt: skip
    batch_size: int = option(_score_default("batch_size"), type=positive_int, help="images per batch")
    device: str = device_option()
    out: str = out_option(help="folder for the JSON, CSV and chart")
    no_progress: bool = progress_option()
    predict: bool = option(False, help="also predict the accuracy each transform costs every model family "
                           "(`pixinfo predict`)")  # fmt: skip


def _score_images(o: ScoreOptions, dataset):
    """The split's images, or a seeded random subset of ``max_images`` of them."""
    import torch

    images = dataset.split(o.split).images
    if o.max_images is not None and o.max_images < len(images):
        keep = torch.randperm(len(images), generator=torch.Generator().manual_seed(o.seed))
        images = images[keep[: o.max_images]]
    return images


def _score(o: ScoreOptions) -> int:
    from pixinfo.errors import ParameterError
    from pixinfo.scoring import to_frame
    from pixinfo.transforms import build_transform
    from pixinfo.transforms.registry import default_transforms

    out = _output_dir(o.out)
    kernel = parse_kernel(o.kernel)
    if o.predict and kernel != _score_default("kernel"):
        raise ParameterError(f"--predict needs the kernel the predictor was fitted with, "
                             f"{kernel_spec(_score_default('kernel'))}; got --kernel {o.kernel}")  # fmt: skip
    device = _device(o.device)
    dataset = _load(o.dataset, o.root)
    images = _score_images(o, dataset)
    specs = o.transform or default_transforms(dataset.name)
    transforms = [build_transform(s, shape=dataset.image_shape, dataset=dataset.name) for s in specs]
    print(f"scoring {len(transforms)} transforms on {dataset.name} ({o.split}: {len(images)} images "
          f"{'x'.join(map(str, dataset.image_shape))}) with {kernel!r} on {device}", file=sys.stderr)  # fmt: skip
    start = time.perf_counter()
    options = {name: getattr(o, name) for name in SCORE_TABLE_OPTIONS}
    scores = score_table(transforms, images, kernel=kernel, device=device, progress=not o.no_progress, **options)
    seconds = time.perf_counter() - start
    frame = to_frame(scores).assign(dataset=dataset.name)
    print(format_table(frame))
    print("\n[low, high]: 95% bootstrap intervals over images (R of a per-image map: over sampled maps; "
          "R of one fixed map is exact).", file=sys.stderr)  # fmt: skip
    if o.predict:
        _print_predictions(scores, dataset.name, models=None, images=dataset if o.root else None)
    config = {"dataset": dataset.name, "dataset_source": dataset.source, "split": o.split, "n_images": len(images),
              "transforms": [t.spec for t in transforms], "kernel": kernel.to_dict(), "max_images": o.max_images,
              **options}  # fmt: skip
    _write_score_files(out, config, frame, device=device, seconds=seconds)
    return 0


def _write_score_files(out: Path, config: dict, frame, *, device, seconds: float) -> None:
    """The JSON record, the CSV table and the chart of ``pixinfo score``."""
    from pixinfo.plots import plot_scores

    base = _write_record(out, "score", f"score-{config['dataset']}", config, frame.to_dict(orient="records"),
                         device=device, seconds=seconds)  # fmt: skip
    json_path = base.with_suffix(".json")
    _write_table(frame, base.with_suffix(".csv"))
    chart = plot_scores(frame, base.with_suffix(".png"), title=f"{config['dataset']}: {config['n_images']} images")
    print(f"\n{seconds:.1f} s; wrote {json_path}, {base.with_suffix('.csv')} and {chart}", file=sys.stderr)


# -- pixinfo predict -------------------------------------------------------------------------------
def _print_predictions(things, dataset: str, *, models, max_images: int = signature_default(features, "max_images"),
                       seed: int = 0, images=None) -> None:  # fmt: skip
    """Predicted accuracy kept per model family for each transform spec or Score of ``things``."""
    from pixinfo.predict import LossPredictor, predict

    predictor = LossPredictor.load()
    families = models or [f for _, f in predictor.families(dataset)]
    if not families:
        predictor.family(dataset, "")  # raises: no predictor for this dataset, naming those it has
    for family in families:
        predictor.family(dataset, family)  # an unknown family fails before anything is measured
    baseline = predictor.baseline(dataset)  # the probes on the untransformed images, measured once at most
    for thing in things:
        feats = features(thing, dataset, images=images, max_images=max_images, seed=seed,
                         probes=predictor.probes(dataset, families), baseline=baseline)  # fmt: skip
        baseline = feats.baseline
        rows = [predict(feats, dataset, f, predictor=predictor) for f in families]
        print(f"\n{feats.transform} on {dataset} ({feats.n_images:,} images, measured in {feats.seconds:.1f} s): "
              "predicted accuracy kept")
        print(format_predictions(rows))
        for note in rows[0].notes:
            print(f"  note: {note}")


def format_predictions(predictions) -> str:
    """One line per model family: accuracy kept and loss with their intervals, and the out-of-domain flag."""
    import pandas as pd

    table = pd.DataFrame({
        "model": [p.model for p in predictions],
        "accuracy kept %": [f"{p.accuracy:.1f} [{p.accuracy_interval[0]:.1f}, {p.accuracy_interval[1]:.1f}]"
                            for p in predictions],
        "loss (points)": [f"{p.loss:.1f} [{p.interval[0]:.1f}, {p.interval[1]:.1f}]" for p in predictions],
        "untransformed %": [f"{p.untransformed_accuracy:.1f}" for p in predictions],
        "out of domain": [f"yes: {p.reason}" if p.out_of_domain else "no" for p in predictions],
    })  # fmt: skip
    level = predictions[0].level if predictions else 0.9
    return table.to_string(index=False) + f"\n[low, high]: {level:.0%} intervals for one training run"


@dataclass(frozen=True, kw_only=True)
class PredictOptions:
    """``pixinfo predict``: the accuracy a transform will cost, before training."""

    transform: tuple[str, ...] = option(repeat=True, metavar="SPEC", help="transform spec NAME[:key=value,...], "
                                        "repeatable (see `pixinfo transforms`)")  # fmt: skip
    imports: tuple[str, ...] = imports_option()
    dataset: str = option(signature_default(features, "dataset"), help="a dataset the predictor was fitted on")
    root: str | None = root_option()
    model: tuple[str, ...] | None = option(None, metavar="FAMILY", shown_default="every family fitted on the dataset",
                                           help='model families, e.g. cnn "mlp (before)"')  # fmt: skip
    max_images: int = option(signature_default(features, "max_images"), type=positive_int,
                             help="measure on the dataset's first this many images (the study's number)")  # fmt: skip
    seed: int = seed_option(signature_default(features, "seed"), help="seed of sampled maps and the probe")


def _predict(o: PredictOptions) -> int:
    _print_predictions(o.transform, o.dataset, models=o.model, max_images=o.max_images, seed=o.seed,
                       images=_load(o.dataset, o.root) if o.root else None)  # fmt: skip
    return 0


# -- pixinfo train ---------------------------------------------------------------------------------
def _train_config_metadata() -> dict[str, dict]:
    """Option metadata of each [`TrainConfig`][pixinfo.train.config.TrainConfig] field: help from
    ``FIELD_HELP``, choices from the config's tuples, seeds checked as seeds."""
    import dataclasses

    from pixinfo.models import MODELS, NORMALIZATIONS
    from pixinfo.train import config as c

    choices = {"dataset": DATASETS, "model": tuple(sorted(MODELS)), "optimizer": c.OPTIMIZERS,
               "schedule": c.SCHEDULES, "precision": c.PRECISIONS, "per_image_keys": c.PER_IMAGE_KEYS,
               "augment": c.AUGMENT_ORDERS, "normalization": NORMALIZATIONS}  # fmt: skip
    fields = dataclasses.fields(c.TrainConfig)
    meta = {f.name: {"help": c.FIELD_HELP[f.name], "choices": choices.get(f.name)} for f in fields}
    meta["seed"]["type"] = seed_int
    meta["max_train"]["shown_default"] = "every training image"
    meta["ricap_beta"]["shown_default"] = "off"
    return meta


@dataclass(frozen=True, kw_only=True)
class TrainOptions:
    """``pixinfo train``: one option per TrainConfig field, a recipe to start from, and where to write."""

    recipe: str | None = option(None, choices=tuple(sorted(RECIPES)), shown_default="none: TrainConfig's defaults",
                                help="start from this model's recipe (sets --model)")  # fmt: skip
    imports: tuple[str, ...] = imports_option()
    config: dict[str, Any] = option(default_factory=dict, fields_of=TrainConfig, prefix="cfg_",
                                    fields_metadata=_train_config_metadata(),
                                    help="the TrainConfig fields given")  # fmt: skip
    root: str | None = root_option()
    out: str = out_option("results/train", help="folder for the JSON record")
    save_model: bool = option(False, help="also save the trained model ($PIXINFO_CACHE/models) for `semantic`/`fool`")
    reuse: bool = option(False, help="reuse a finished record of the identical config")
    resume: bool = option(False, help="continue an interrupted run from its last epoch checkpoint "
                          "($PIXINFO_CACHE/checkpoints)")  # fmt: skip
    no_progress: bool = progress_option()


def _train_config(o: TrainOptions) -> TrainConfig:
    """The config: the recipe's (or TrainConfig's) values, overridden by the options given."""
    from pixinfo.models import ConfigError
    from pixinfo.train.recipes import recipe

    given = dict(o.config)
    if o.root:
        given["dataset_options"] = {**given.get("dataset_options", {}), "root": o.root}
    if not o.recipe:
        return TrainConfig(**given)
    if given.get("model", o.recipe) != o.recipe:
        raise ConfigError(f"--recipe {o.recipe} and --model {given['model']} disagree; give one of them")
    given.pop("model", None)
    return recipe(o.recipe, given.pop("dataset", TrainConfig.dataset), **given)


def _train(o: TrainOptions) -> int:
    import os

    from pixinfo.train import model_path, train

    _output_dir(o.out)
    config = _train_config(o)
    run = train(config, results_dir=o.out, reuse=o.reuse, resume=o.resume, save_model=o.save_model,
                progress=not o.no_progress)  # fmt: skip
    res = run.record["results"]
    if res["world_size"] > 1 and int(os.environ.get("RANK", "0")) != 0:
        return 0
    print(
        f"{config.model} on {config.dataset} ({config.transform or 'original'}), seed {config.seed}: "
        f"final test accuracy {100 * res['final_test_acc']:.2f}%, best {100 * res['best_test_acc']:.2f}% "
        f"(epoch {res['best_epoch']}); {res['train_seconds']:.1f} s training "
        f"({res['train_images_per_second']:.0f} img/s, {res['precision']}) on {run.record['environment']['device']}"
    )
    if run.path is not None:
        print(f"record: {run.path}" + (f"; model: {model_path(config)}" if o.save_model else ""))
    return 0


# -- pixinfo recover-key ---------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class RecoverKeyOptions:
    """``pixinfo recover-key`` (``attack``): key recovery under a threat model."""

    transform: str = option(metavar="SPEC", help="transform spec (see `pixinfo transforms`)")
    imports: tuple[str, ...] = imports_option()
    dataset: str = option(DEFAULT_DATASET, choices=DATASETS, help="dataset whose images are encrypted")
    threat: str = option(signature_default(run_attack, "threat"),
                         choices=tuple(k for k in KINDS if k != "chosen-plaintext"),
                         help="what the attacker holds: nothing but ciphertexts (blind), public plain images of the "
                         "same kind (prior), or (plain, encrypted) pairs (known-plaintext)")  # fmt: skip
    public_images: int | None = option(None, flags=("--public-images", "--prior-images"), type=positive_int,
                                       shown_default="the test split beyond its first 1,000 images, at most 9,000",
                                       help="prior: public plain test images the attacker holds")  # fmt: skip
    pairs: int | None = option(None, type=positive_int, shown_default="as pixinfo.privacy.report.default_threat "
                               "chooses: 100", help="known-plaintext: (plain, encrypted) pairs")  # fmt: skip
    n_images: int | None = option(None, type=positive_int, shown_default="every training image",
                                  help="training ciphertexts the attacker sees")  # fmt: skip
    seed: int = seed_option(signature_default(run_attack, "seed"), help="seed of the blind rearrangement attack's "
                            "random restarts (the other attacks are deterministic)")  # fmt: skip
    root: str | None = root_option()
    out: str = out_option(signature_default(run_attack, "out"), help="folder for the JSON and the gallery")


def _recover_key(o: RecoverKeyOptions) -> int:
    from pixinfo.privacy.report import default_threat

    _output_dir(o.out)  # before any work
    threat = default_threat(o.threat, _load(o.dataset, o.root), public_images=o.public_images, pairs=o.pairs)
    measures = run_attack(spec=o.transform, dataset=o.dataset, threat=threat, n_images=o.n_images, out=o.out,
                          root=o.root, seed=o.seed)  # fmt: skip
    print(f"threat model: {threat.label}")
    for name, value in measures.items():
        print(f"{name:20s} {value:.4f}")
    return 0


# -- pixinfo assess --------------------------------------------------------------------------------
def _size(name: str, help: str) -> Any:
    return option(signature_default(assess, name), type=positive_int, help=help)


@dataclass(frozen=True, kw_only=True)
class AssessOptions:
    """``pixinfo assess``: one report on a transform's measures, predicted accuracy and key recovery."""

    transform: str = option(metavar="SPEC", help="transform spec (see `pixinfo transforms`)")
    imports: tuple[str, ...] = imports_option()
    dataset: str = option(choices=DATASETS, help="dataset the transform is assessed on")
    root: str | None = root_option()
    out: str = out_option(None, help="folder for the report")
    train: bool = option(False, help="also train quickly on original and transformed images (accuracy beside the "
                         "prediction, and of the originals-trained model on each attack's decryptions)")  # fmt: skip
    model: str | None = option(None, choices=tuple(sorted(RECIPES)), help="model of the quick runs",
                               shown_default="cnn, or lenet where the predictor has a LeNet family and no CNN "
                               "one")  # fmt: skip
    n_score: int = _size("n_score", "images scored with the three measures")
    n_ciphertexts: int = _size("n_ciphertexts", "transformed training images each attacker sees")
    n_public: int = _size("n_public", "public plain test images of the prior attacker")
    n_pairs: int = _size("n_pairs", "(plain, encrypted) pairs of the known-plaintext attacker")
    n_held_out: int = _size("n_held_out", "held-out test images each attack is scored on")
    n_gallery: int = _size("n_gallery", "images per gallery row")
    train_images: int = _size("train_images", "training images of each quick run")
    epochs: int = _size("epochs", "epochs of each quick run")
    seed: int = seed_option(signature_default(assess, "seed"))
    device: str = option(signature_default(assess, "device"), metavar="DEVICE",
                         help="where the quick runs train: auto, cpu, cuda, ...")  # fmt: skip
    no_progress: bool = progress_option()


def _assess(o: AssessOptions) -> int:
    from pixinfo.assess import DEFAULT_SIZES

    out = _output_dir(o.out)  # before any work
    sizes = {k: getattr(o, k) for k in DEFAULT_SIZES}
    dataset = _load(o.dataset, o.root) if o.root else o.dataset
    report = assess(o.transform, dataset, out=out, train=o.train, model=o.model, seed=o.seed, device=o.device,
                    progress=not o.no_progress, **sizes)  # fmt: skip
    print(report["verdict"])
    print(f"report: {report['files']['report.html']} (and report.md, report.json)")
    return 0


# -- pixinfo semantic ------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class SemanticOptions:
    """``pixinfo semantic``: a saved model's accuracy on negatives and other meaning-preserving transforms."""

    model: str = option(help="a model saved by `pixinfo train --save-model`")
    dataset: str = option(DEFAULT_DATASET, choices=DATASETS, help="dataset whose images are transformed")
    root: str | None = root_option()
    transform: tuple[str, ...] = option(tuple(signature_default(semantic_accuracy, "transforms")), repeat=True,
                                        metavar="NAME_OR_SPEC", help=f"{', '.join(SEMANTIC_TRANSFORMS)} or a "
                                        "transform spec; repeatable")  # fmt: skip
    imports: tuple[str, ...] = imports_option()
    split: tuple[str, ...] = option(tuple(signature_default(semantic_accuracy, "splits")), repeat=True,
                                    choices=("train", "test"), help="split to evaluate; repeatable")  # fmt: skip
    max_images: int | None = option(None, type=positive_int, shown_default="every image of each split",
                                    help="a seeded random subset of each split of this size")  # fmt: skip
    seed: int = seed_option(signature_default(semantic_accuracy, "seed"), help="seed of the subsets")
    device: str = device_option()
    out: str = out_option(help="folder for the JSON and CSV results")


def _semantic(o: SemanticOptions) -> int:
    from pixinfo.models import check_model_input, load_model

    out = _output_dir(o.out)
    device = _device(o.device)
    model = load_model(o.model)
    dataset = _load(o.dataset, o.root)
    check_model_input(model, image_shape=dataset.image_shape, source=f"the model {o.model}",
                      data=f"dataset {dataset.name!r}")  # fmt: skip
    model = model.to(device)
    transforms, splits = list(o.transform), list(o.split)
    report = semantic_accuracy(model, dataset, transforms=transforms, splits=splits, max_images=o.max_images,
                               seed=o.seed)  # fmt: skip
    table = report.table.pivot(index="transform", columns="split", values="accuracy")
    table = table.loc[report.table["transform"].unique()]
    print((100 * table).round(2).to_string())
    config = {"model": str(o.model), "model_extra": getattr(model, "extra", {}), "dataset": dataset.name,
              "transforms": transforms, "splits": splits, "max_images": o.max_images, "seed": o.seed}  # fmt: skip
    confusion = {f"{s}/{t}": m.tolist() for (s, t), m in report.confusion.items()}
    base = _write_record(out, "semantic", f"semantic-{dataset.name}", config, report.table.to_dict(orient="records"),
                         device=device, confusion=confusion)  # fmt: skip
    _write_table(report.table, base.with_suffix(".csv"))
    print(f"wrote {base.with_suffix('.json')} and {base.with_suffix('.csv')}", file=sys.stderr)
    return 0


# -- pixinfo fool ----------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class FoolOptions:
    """``pixinfo fool``: fooling images for a saved model, by evolution or gradient ascent."""

    model: str = option(help="a model saved by `pixinfo train --save-model`")
    encoding: str = option("direct", choices=(*ENCODINGS, "gradient"), help="evolve pixels directly or a CPPN, or "
                           "follow the gradient")  # fmt: skip
    target: float = option(signature_default(evolve, "target"), type=probability,
                           help="confidence to reach, in (0, 1]")  # fmt: skip
    population: int = option(signature_default(evolve, "population"), type=positive_int,
                             help="images per generation")  # fmt: skip
    generations: int = option(signature_default(evolve, "generations"), help="generations (gradient: steps)")
    seed: int = seed_option(signature_default(evolve, "seed"))
    device: str = device_option()
    out: str = out_option(help="folder for the JSON record and the images")
    no_progress: bool = progress_option()


def _fool(o: FoolOptions) -> int:
    from pixinfo.adversarial.fooling import gradient_ascent
    from pixinfo.files import torch_save_atomic
    from pixinfo.models import load_model

    out = _output_dir(o.out)
    device = _device(o.device)
    model = load_model(o.model).to(device)
    shape = tuple(model.spec["image_shape"])
    if o.encoding == "gradient":
        run = gradient_ascent(model, shape=shape, steps=o.generations, seed=o.seed)
        summary = f"first step at >= {o.target}: {run.first_reached.get(o.target, 'n/a')}"
    else:
        run = evolve(model, encoding=ENCODINGS[o.encoding](shape), population=o.population,
                     generations=o.generations, target=o.target, seed=o.seed, progress=not o.no_progress)  # fmt: skip
        summary = (f"generations run: {run.generations}; every class >= {o.target} at generation "
                   f"{run.generations_to_all}; {run.seconds:.1f} s")  # fmt: skip
    print("confidence per class: " + " ".join(f"{float(c):.5f}" for c in run.confidences))
    print(summary)
    config = {"model": str(o.model), "encoding": o.encoding, "target": o.target, "population": o.population,
              "generations": o.generations, "seed": o.seed}  # fmt: skip
    base = _write_record(out, "fool", f"fool-{o.encoding}", config, run.to_dict(), device=device)
    torch_save_atomic(run.images, base.with_suffix(".pt"))
    print(f"wrote {base.with_suffix('.json')} and the images to {base.with_suffix('.pt')}", file=sys.stderr)
    return 0


# -- pixinfo datasets, pixinfo transforms ------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class DatasetsOptions:
    """``pixinfo datasets``: which datasets can be loaded here."""


def _datasets(o: DatasetsOptions) -> int:
    from pixinfo.data import available_datasets

    for name, status in available_datasets().items():
        print(f"{name:14s} {status}")
    return 0


@dataclass(frozen=True, kw_only=True)
class TransformsOptions:
    """``pixinfo transforms``: the registered transform names, the imported modules' included."""

    imports: tuple[str, ...] = imports_option()


def _transforms(o: TransformsOptions) -> int:
    from pixinfo.transforms import transform_names

    for name, helptext in transform_names().items():
        print(f"{name:24s} {helptext}")
    return 0


# -- pixinfo study ---------------------------------------------------------------------------------
def _study(o: StudyOptions) -> int:
    _output_dir(o.out)  # before any work
    result = o.run()
    print(result.markdown)
    print(f"wrote {', '.join(str(p) for p in result.paths.values())}")
    return 0


# -- the command line ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Command:
    """A subcommand: its options dataclass, the function that runs it, and its help."""

    name: str
    options: type
    run: Callable[[Any], int]
    help: str
    description: str | None = None
    aliases: tuple[str, ...] = field(default=())


COMMANDS: tuple[Command, ...] = (
    Command("score", ScoreOptions, _score, "score transforms with the three information measures"),
    Command("predict", PredictOptions, _predict, "predict the accuracy a transform will cost, before training",
            "Measure a transform as the study measured its settings and predict, per model family, the accuracy "
            "kept (untransformed accuracy minus the predicted loss) with a 90% interval, flagging transforms "
            "unlike any the predictor was fitted on."),
    Command("train", TrainOptions, _train, "train a model on original or transformed data; writes a JSON record",
            "Every TrainConfig field is an option; --recipe starts from a model's recipe (the analyses' defaults) "
            "and the options given override it."),
    Command("recover-key", RecoverKeyOptions, _recover_key,
            "key recovery under a threat model: measures and a gallery PNG", aliases=("attack",)),
    Command("assess", AssessOptions, _assess, "one report on a transform: measures, predicted accuracy, key recovery",
            "Score a transform beside the paper's, predict the accuracy it keeps, attack it under each threat model "
            "(blind, prior, known-plaintext) and write report.md, a self-contained report.html and report.json "
            "with a verdict."),
    Command("study", StudyOptions, _study, "relate the information transforms lose to the accuracy they cost",
            "Train every model on the original and on each transformed dataset for every seed, measure each "
            "transform, and write study.csv, report.md and figures: correlations and regressions of the accuracy "
            "loss on the three measures, with a warning where the untransformed model is too weak."),
    Command("semantic", SemanticOptions, _semantic,
            "accuracy of a saved model on negatives and other meaning-preserving transforms"),
    Command("fool", FoolOptions, _fool, "generate fooling images for a saved model (evolution or gradient ascent)"),
    Command("datasets", DatasetsOptions, _datasets, "which datasets can be loaded here"),
    Command("transforms", TransformsOptions, _transforms, "registered transform names"),
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The ``pixinfo`` parser: one subparser per entry of ``COMMANDS``, its options generated from its dataclass."""
    parser = argparse.ArgumentParser(prog="pixinfo", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        description = command.description or command.help[0].upper() + command.help[1:] + "."
        p = sub.add_parser(command.name, aliases=list(command.aliases), help=command.help, description=description)
        add_options(p, command.options)
        p.set_defaults(func=command.run, options=command.options)
    return parser


def _error_message(err: BaseException) -> str:
    """What ``pixinfo CMD: error:`` says: the message of an expected error, or a pointer to --debug."""
    from pixinfo.errors import PixinfoError

    if isinstance(err, (PixinfoError, ValueError, TypeError, OSError)):
        return str(err) or type(err).__name__
    first = (str(err).splitlines() or [""])[0][:300]
    return f"internal error ({type(err).__name__}: {first}); rerun with `pixinfo --debug ...` for the traceback"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; every error ends as ``pixinfo CMD: error: ...`` and exit status 2.

    Bad arguments exit through argparse (status 2, ``error:`` on stderr); ``--debug`` shows the
    traceback of an error instead; Ctrl-C exits with status 130.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    _CREATED_DIRS.clear()
    try:
        options = options_from_args(args.options, args)
        if getattr(options, "imports", ()):  # a user's transform classes register their spec names
            from pixinfo.transforms.registry import import_transforms

            import_transforms(*options.imports)
        code = args.func(options)
    except KeyboardInterrupt:
        _remove_created_dirs()
        print(f"pixinfo {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        _remove_created_dirs()  # a failed command leaves no empty output folders behind
        if args.debug:
            raise
        print(f"pixinfo {args.command}: error: {_error_message(err)}", file=sys.stderr)
        return 2
    if code:
        _remove_created_dirs()
    _CREATED_DIRS.clear()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
