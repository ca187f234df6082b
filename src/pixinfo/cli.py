"""The ``pixinfo`` command line."""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time
from pathlib import Path

DEFAULT_KERNEL_SPEC = "exponential:scale=2"


# -- argument types: every count, seed and number is checked as it is parsed ----------------
def _arg_type(check: str, kind: type, name: str, **bounds):
    """An argparse type: ``kind(text)`` checked by ``pixinfo._checks.<check>`` (``bounds`` passed on)."""

    def convert(text: str):
        from pixinfo import _checks
        from pixinfo.errors import ParameterError

        try:
            value = kind(text)
        except ValueError:
            expected = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        try:
            return getattr(_checks, check)(value, "value", **bounds)
        except ParameterError as err:
            raise argparse.ArgumentTypeError(str(err).replace("value must be", "expected", 1)) from None

    convert.__name__ = name
    return convert


positive_int = _arg_type("check_positive_int", int, "positive_int")
nonnegative_int = _arg_type("check_nonnegative_int", int, "nonnegative_int")
seed_int = _arg_type("check_seed", int, "seed_int")
finite_float = _arg_type("check_finite", float, "finite_float")
probability = _arg_type("check_finite", float, "probability", low=0, high=1, low_open=True)


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


def parse_kernel(spec: str):
    """``family:scale=...,cutoff=...`` to a Kernel."""
    from pixinfo._spec import parse_spec
    from pixinfo.info import Kernel

    from pixinfo.errors import ParameterError

    family, args, kwargs = parse_spec(spec)
    if args:
        raise ParameterError(f"kernel parameters must be named (scale=..., cutoff=...), got {spec!r}")
    from pixinfo._checks import bind_call

    return bind_call(Kernel, family, **kwargs, what=f"kernel spec {spec!r} (FAMILY:scale=S[,cutoff=C])")


def _score(args: argparse.Namespace) -> int:
    import torch

    from pixinfo.data import load_dataset
    from pixinfo.provenance import make_record, write_json
    from pixinfo.scoring import score_table, to_frame
    from pixinfo.transforms import build_transform
    from pixinfo.transforms.registry import default_transforms

    out = _output_dir(args.out)
    kernel = parse_kernel(args.kernel)
    if args.predict and kernel != parse_kernel(DEFAULT_KERNEL_SPEC):
        from pixinfo.errors import ParameterError

        raise ParameterError(f"--predict needs the kernel the predictor was fitted with, {DEFAULT_KERNEL_SPEC}")
    device = _device(args.device)
    options = {"root": args.root} if args.root else {}
    dataset = load_dataset(args.dataset, **options)
    images = dataset.split(args.split).images
    if args.max_images is not None and args.max_images < len(images):
        keep = torch.randperm(len(images), generator=torch.Generator().manual_seed(args.seed))
        images = images[keep[: args.max_images]]
    specs = args.transform or default_transforms(dataset.name)
    transforms = [build_transform(s, shape=dataset.image_shape, dataset=dataset.name) for s in specs]
    print(
        f"scoring {len(transforms)} transforms on {dataset.name} ({args.split}: {len(images)} images "
        f"{'x'.join(map(str, dataset.image_shape))}) with {kernel!r} on {device}",
        file=sys.stderr,
    )
    start = time.perf_counter()
    scores = score_table(
        transforms,
        images,
        kernel=kernel,
        seed=args.seed,
        max_maps=args.max_maps,
        n_boot=args.n_boot,
        n_boot_value=args.n_boot_value,
        max_value_images=args.max_value_images,
        batch_size=args.batch_size,
        device=device,
        progress=not args.no_progress,
    )
    seconds = time.perf_counter() - start
    frame = to_frame(scores).assign(dataset=dataset.name)
    print(format_table(frame))
    print(
        "\n[low, high]: 95% bootstrap intervals over images (R of a per-image map: over sampled maps; "
        "R of one fixed map is exact).",
        file=sys.stderr,
    )
    if args.predict:
        _print_predictions(scores, dataset.name, models=None)
    config = {
        "dataset": dataset.name,
        "dataset_source": dataset.source,
        "split": args.split,
        "n_images": len(images),
        "transforms": [t.spec for t in transforms],
        "kernel": kernel.to_dict(),
        "seed": args.seed,
        "max_images": args.max_images,
        "max_maps": args.max_maps,
        "n_boot": args.n_boot,
        "n_boot_value": args.n_boot_value,
        "max_value_images": args.max_value_images,
        "batch_size": args.batch_size,
    }
    base = out / f"score-{dataset.name}-{_stamp()}"
    record = make_record("score", config, frame.to_dict(orient="records"), device=device)
    record["seconds"] = seconds
    json_path = write_json(base.with_suffix(".json"), record)
    _write_table(frame, base.with_suffix(".csv"))
    from pixinfo.plots import plot_scores

    chart = plot_scores(frame, base.with_suffix(".png"), title=f"{dataset.name}: {len(images)} images")
    print(f"\n{seconds:.1f} s; wrote {json_path}, {base.with_suffix('.csv')} and {chart}", file=sys.stderr)
    return 0


def format_table(frame) -> str:
    """Each measure with its interval, three decimals."""

    def with_ci(row, name: str) -> str:
        lo, hi = row[f"{name}_low"], row[f"{name}_high"]
        if lo == lo and hi == hi and lo != hi:  # not NaN, not a point
            return f"{row[name]:.3f} [{lo:.3f}, {hi:.3f}]"
        return f"{row[name]:.3f}"

    table = frame[["transform", "shared_key"]].copy()
    for column, name in [
        ("structural R", "structural_retention"),
        ("content retention", "content_retention"),
        ("value NMI", "value_nmi"),
        ("value Spearman", "value_spearman"),
    ]:
        table[column] = [with_ci(row, name) for _, row in frame.iterrows()]
    return table.to_string(index=False)


def _print_predictions(things, dataset: str, *, models, max_images: int = 5000, seed: int = 0) -> None:
    """Predicted accuracy kept per model family for each transform spec or Score of ``things``."""
    from pixinfo.predict import LossPredictor, features, predict

    predictor = LossPredictor.load()
    families = models or [f for _, f in predictor.families(dataset)]
    if not families:
        predictor.family(dataset, "")  # raises: no predictor for this dataset, naming those it has
    for family in families:
        predictor.family(dataset, family)  # an unknown family fails before anything is measured
    for thing in things:
        feats = features(thing, dataset, max_images=max_images, seed=seed)
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


def _predict(args: argparse.Namespace) -> int:
    _print_predictions(args.transform, args.dataset, models=args.model, max_images=args.max_images, seed=args.seed)
    return 0


def _add_predict_parser(sub) -> None:
    p = sub.add_parser("predict", help="predict the accuracy a transform will cost, before training",
                       description="Measure a transform as the study measured its settings and predict, per model "
                       "family, the accuracy kept (untransformed accuracy minus the predicted loss) with a 90% "
                       "interval, flagging transforms unlike any the predictor was fitted on.")  # fmt: skip
    p.add_argument("--transform", action="append", required=True, metavar="SPEC",
                   help="transform spec NAME[:key=value,...], repeatable (see `pixinfo transforms`)")
    add_import_argument(p)
    p.add_argument("--dataset", default="fashion-mnist",
                   help="a dataset the predictor was fitted on (default: %(default)s)")
    p.add_argument("--model", nargs="+", metavar="FAMILY",
                   help='model families, e.g. cnn "mlp (before)" (default: every family fitted on the dataset)')
    p.add_argument("--max-images", type=positive_int, default=5000,
                   help="measure on the dataset's first this many images (default: %(default)s, as the study)")
    p.add_argument("--seed", type=seed_int, default=0, help="seed of sampled maps and the probe (default: %(default)s)")
    p.set_defaults(func=_predict)


def _datasets(args: argparse.Namespace) -> int:
    from pixinfo.data import available_datasets

    for name, status in available_datasets().items():
        print(f"{name:14s} {status}")
    return 0


def _transforms(args: argparse.Namespace) -> int:
    from pixinfo.transforms import transform_names

    for name, helptext in transform_names().items():
        print(f"{name:24s} {helptext}")
    return 0


def _train(args: argparse.Namespace) -> int:
    import os

    from pixinfo.models import ConfigError
    from pixinfo.train import TrainConfig, train
    from pixinfo.train.recipes import recipe

    _output_dir(args.out)
    given = {k[len("cfg_"):]: v for k, v in vars(args).items() if k.startswith("cfg_")}
    if args.root:
        given["dataset_options"] = {**given.get("dataset_options", {}), "root": args.root}
    if args.recipe:
        if given.get("model", args.recipe) != args.recipe:
            raise ConfigError(f"--recipe {args.recipe} and --model {given['model']} disagree; give one of them")
        given.pop("model", None)
        config = recipe(args.recipe, given.pop("dataset", TrainConfig.dataset), **given)
    else:
        config = TrainConfig(**given)
    run = train(config, results_dir=args.out, reuse=args.reuse, resume=args.resume, save_model=args.save_model,
                progress=not args.no_progress)  # fmt: skip
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
        from pixinfo.train import model_path

        print(f"record: {run.path}" + (f"; model: {model_path(config)}" if args.save_model else ""))
    return 0


def _json_object(text: str) -> dict:
    import json

    try:
        value = json.loads(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON ({err}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object like '{{\"patch\": 7}}', got {text!r}")
    return value


def _config_choices() -> dict[str, tuple[str, ...]]:
    from pixinfo.data import DATASETS
    from pixinfo.models import MODELS, NORMALIZATIONS
    from pixinfo.train import config as c

    return {"dataset": tuple(DATASETS), "model": tuple(sorted(MODELS)), "optimizer": c.OPTIMIZERS,
            "schedule": c.SCHEDULES, "precision": c.PRECISIONS, "per_image_keys": c.PER_IMAGE_KEYS,
            "augment": c.AUGMENT_ORDERS, "normalization": NORMALIZATIONS}  # fmt: skip


def add_config_arguments(p: argparse.ArgumentParser) -> None:
    """One option per [`TrainConfig`][pixinfo.train.config.TrainConfig] field, generated from the dataclass:
    type from its annotation, default and help from the config (``FIELD_HELP``). Options not
    given are absent from the parsed namespace (``dest`` ``cfg_<field>``), so a recipe's values
    stay in force for them."""
    import dataclasses

    from pixinfo.train.config import FIELD_HELP, TrainConfig

    choices = _config_choices()
    defaults = TrainConfig()
    for f in dataclasses.fields(TrainConfig):
        flag, kind = "--" + f.name.replace("_", "-"), str(f.type).replace(" ", "")
        default = getattr(defaults, f.name)
        kw: dict = {"dest": f"cfg_{f.name}", "default": argparse.SUPPRESS,
                    "help": f"{FIELD_HELP[f.name]} (default: {default!r})"}  # fmt: skip
        if kind.startswith("bool"):
            kw["action"] = argparse.BooleanOptionalAction
        elif kind.startswith("dict"):
            kw["type"], kw["metavar"] = _json_object, "JSON"
        elif f.name in choices:
            kw["choices"] = choices[f.name]
        else:
            ints = seed_int if f.name == "seed" else nonnegative_int
            kw["type"] = {"int": ints, "float": finite_float}.get(kind.split("|")[0], str)
            kw["metavar"] = f.name.upper()
        p.add_argument(flag, **kw)


def _add_train_parser(sub) -> None:
    from pixinfo.train.recipes import RECIPES

    p = sub.add_parser("train", help="train a model on original or transformed data; writes a JSON record",
                       description="Every TrainConfig field is an option; --recipe starts from a model's "
                       "recipe (the analyses' defaults) and the options given override it.")  # fmt: skip
    p.add_argument("--recipe", choices=sorted(RECIPES), help="start from this model's recipe (sets --model)")
    add_import_argument(p)
    add_config_arguments(p)
    p.add_argument("--root", help="folder holding the dataset's files (file-based datasets)")
    p.add_argument("--out", default="results/train", help="folder for the JSON record")
    p.add_argument("--save-model", action="store_true",
                   help="also save the trained model ($PIXINFO_CACHE/models) for `semantic`/`fool`")
    p.add_argument("--reuse", action="store_true", help="reuse a finished record of the identical config")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from its last epoch checkpoint ($PIXINFO_CACHE/checkpoints)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_train)


def _add_attack_parser(sub) -> None:
    from pixinfo.data import DATASETS, DEFAULT_DATASET
    from pixinfo.privacy.threat import KINDS

    def run(args: argparse.Namespace) -> int:
        _output_dir(args.out)  # before any work
        from pixinfo.data import load_dataset
        from pixinfo.privacy.report import default_threat, run_attack

        threat = default_threat(args.threat, load_dataset(args.dataset), public_images=args.public_images,
                                pairs=args.pairs)  # fmt: skip
        measures = run_attack(spec=args.transform, dataset=args.dataset, threat=threat, n_images=args.n_images,
                              out=args.out)  # fmt: skip
        print(f"threat model: {threat.label}")
        for name, value in measures.items():
            print(f"{name:20s} {value:.4f}")
        return 0

    p = sub.add_parser("recover-key", aliases=["attack"],
                       help="key recovery under a threat model: measures and a gallery PNG")  # fmt: skip
    p.add_argument("--transform", required=True, metavar="SPEC", help="transform spec (see `pixinfo transforms`)")
    add_import_argument(p)
    p.add_argument("--dataset", default=DEFAULT_DATASET, choices=DATASETS, help="(default: %(default)s)")
    p.add_argument("--threat", default="blind", choices=[k for k in KINDS if k != "chosen-plaintext"],
                   help="what the attacker holds: nothing but ciphertexts (blind), public plain images of the same "
                        "kind (prior), or (plain, encrypted) pairs (known-plaintext); default: %(default)s")  # fmt: skip
    p.add_argument("--public-images", "--prior-images", type=positive_int,
                   help="prior: public plain test images the attacker holds (default: the test split beyond its "
                        "first 1,000 images, at most 9,000)")  # fmt: skip
    p.add_argument("--pairs", type=positive_int, help="known-plaintext: (plain, encrypted) pairs (default 100)")
    p.add_argument("--n-images", type=positive_int, help="training ciphertexts the attacker sees (default: all)")
    p.add_argument("--out", default="results", help="folder for the JSON and the gallery (default: %(default)s)")
    p.set_defaults(func=run)


def _add_assess_parser(sub) -> None:
    from pixinfo.assess import DEFAULT_SIZES
    from pixinfo.data import DATASETS
    from pixinfo.train.recipes import RECIPES

    def run(args: argparse.Namespace) -> int:
        from pixinfo.assess import assess

        out = _output_dir(args.out)  # before any work
        sizes = {k: getattr(args, k) for k in DEFAULT_SIZES}
        report = assess(args.transform, args.dataset, out=out, train=args.train, model=args.model, seed=args.seed,
                        device=args.device, progress=not args.no_progress, **sizes)  # fmt: skip
        print(report["verdict"])
        print(f"report: {report['files']['report.html']} (and report.md, report.json)")
        return 0

    p = sub.add_parser("assess", help="one report on a transform: measures, predicted accuracy, key recovery",
                       description="Score a transform beside the paper's, predict the accuracy it keeps, attack it "
                       "under each threat model (blind, prior, known-plaintext) and write report.md, a self-contained "
                       "report.html and report.json with a verdict.")  # fmt: skip
    p.add_argument("--transform", required=True, metavar="SPEC", help="transform spec (see `pixinfo transforms`)")
    add_import_argument(p)
    p.add_argument("--dataset", required=True, choices=DATASETS)
    p.add_argument("--out", required=True, help="folder for the report")
    p.add_argument("--train", action="store_true",
                   help="also train quickly on original and transformed images (accuracy beside the prediction, "
                        "and of the originals-trained model on each attack's decryptions)")  # fmt: skip
    p.add_argument("--model", choices=sorted(RECIPES), help="model of the quick runs (default: cnn, or lenet)")
    helps = {"n_score": "images scored with the three measures", "n_ciphertexts": "transformed training images each "
             "attacker sees", "n_public": "public plain test images of the prior attacker", "n_pairs": "(plain, "
             "encrypted) pairs of the known-plaintext attacker", "n_held_out": "held-out test images each attack is "
             "scored on", "n_gallery": "images per gallery row", "train_images": "training images of each quick run",
             "epochs": "epochs of each quick run"}  # fmt: skip
    for name, default in DEFAULT_SIZES.items():
        p.add_argument("--" + name.replace("_", "-"), type=positive_int, default=default,
                       help=f"{helps[name]} (default: %(default)s)")  # fmt: skip
    p.add_argument("--seed", type=seed_int, default=0, help="(default: %(default)s)")
    p.add_argument("--device", default="auto", help="where the quick runs train: auto, cpu, cuda, ...")
    p.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run)


def _stamp() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _semantic(args: argparse.Namespace) -> int:
    from pixinfo.adversarial.semantic import semantic_accuracy
    from pixinfo.data import load_dataset
    from pixinfo.models import load_model
    from pixinfo.provenance import make_record, write_json

    from pixinfo.models import check_model_input

    out = _output_dir(args.out)
    device = _device(args.device)
    model = load_model(args.model)
    dataset = load_dataset(args.dataset, **({"root": args.root} if args.root else {}))
    check_model_input(model, image_shape=dataset.image_shape, source=f"the model {args.model}",
                      data=f"dataset {dataset.name!r}")  # fmt: skip
    model = model.to(device)
    from pixinfo.adversarial.semantic import SEMANTIC_TRANSFORMS

    transforms = args.transform or list(SEMANTIC_TRANSFORMS)
    splits = args.split or ["test", "train"]
    report = semantic_accuracy(model, dataset, transforms=transforms, splits=splits,
                               max_images=args.max_images, seed=args.seed)  # fmt: skip
    table = report.table.pivot(index="transform", columns="split", values="accuracy").loc[report.table["transform"].unique()]
    print((100 * table).round(2).to_string())
    config = {"model": str(args.model), "model_extra": getattr(model, "extra", {}), "dataset": dataset.name,
              "transforms": transforms, "splits": splits, "max_images": args.max_images, "seed": args.seed}  # fmt: skip
    base = out / f"semantic-{dataset.name}-{_stamp()}"
    record = make_record("semantic", config, report.table.to_dict(orient="records"), device=device)
    record["confusion"] = {f"{s}/{t}": m.tolist() for (s, t), m in report.confusion.items()}
    write_json(base.with_suffix(".json"), record)
    _write_table(report.table, base.with_suffix(".csv"))
    print(f"wrote {base.with_suffix('.json')} and {base.with_suffix('.csv')}", file=sys.stderr)
    return 0


def _fool(args: argparse.Namespace) -> int:
    from pixinfo.adversarial.fooling import ENCODINGS, evolve, gradient_ascent
    from pixinfo.models import load_model
    from pixinfo.provenance import make_record, write_json

    from pixinfo.files import torch_save_atomic

    out = _output_dir(args.out)
    device = _device(args.device)
    model = load_model(args.model).to(device)
    shape = tuple(model.spec["image_shape"])
    base = out / f"fool-{args.encoding}-{_stamp()}"
    if args.encoding == "gradient":
        run = gradient_ascent(model, shape=shape, steps=args.generations, seed=args.seed)
        results, images, conf = run.to_dict(), run.images, run.confidences
        summary = f"first step at >= {args.target}: {run.first_reached.get(args.target, 'n/a')}"
    else:
        encoding = ENCODINGS[args.encoding](shape)
        run = evolve(model, encoding=encoding, population=args.population, generations=args.generations,
                     target=args.target, seed=args.seed, progress=not args.no_progress)  # fmt: skip
        results, images, conf = run.to_dict(), run.images, run.confidences
        summary = (f"generations run: {run.generations}; every class >= {args.target} at generation "
                   f"{run.generations_to_all}; {run.seconds:.1f} s")  # fmt: skip
    print("confidence per class: " + " ".join(f"{float(c):.5f}" for c in conf))
    print(summary)
    record = make_record("fool", {"model": str(args.model), "encoding": args.encoding, "target": args.target,
                                  "population": args.population, "generations": args.generations,
                                  "seed": args.seed}, results, device=device)  # fmt: skip
    write_json(base.with_suffix(".json"), record)
    torch_save_atomic(images, base.with_suffix(".pt"))
    print(f"wrote {base.with_suffix('.json')} and the images to {base.with_suffix('.pt')}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from pixinfo.adversarial.semantic import SEMANTIC_TRANSFORMS
    from pixinfo.data import DATASETS, DEFAULT_DATASET, SPLITS
    from pixinfo.transforms.registry import DEFAULT_TRANSFORMS

    parser = argparse.ArgumentParser(prog="pixinfo", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("score", help="score transforms with the three information measures")
    add_import_argument(p)
    p.add_argument("--dataset", default=DEFAULT_DATASET, choices=DATASETS)
    p.add_argument("--root", help="folder holding the dataset's files (file-based datasets)")
    p.add_argument("--split", default="all", choices=SPLITS)
    p.add_argument(
        "--transform", action="append", metavar="SPEC",
        help="transform spec NAME[:key=value,...], repeatable (see `pixinfo transforms`); "
        "default: " + ", ".join(DEFAULT_TRANSFORMS) + " (vortex:seed=0 where the authors have no key)",
    )  # fmt: skip
    p.add_argument("--kernel", default=DEFAULT_KERNEL_SPEC, help="FAMILY:scale=S[,cutoff=C]")
    p.add_argument("--seed", type=seed_int, default=0)
    p.add_argument("--max-images", type=positive_int, help="score a seeded random subset of this size")
    p.add_argument("--max-maps", type=positive_int, default=64, help="per-image maps sampled for R")
    p.add_argument("--n-boot", type=nonnegative_int, default=1000, help="bootstrap resamples (content, per-image R)")
    p.add_argument("--n-boot-value", type=nonnegative_int, default=10, help="bootstrap resamples of value retention")
    p.add_argument("--max-value-images", type=positive_int, default=10000, help="images used for value retention")
    p.add_argument("--batch-size", type=positive_int, default=4096)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument("--out", default="results", help="folder for the JSON and CSV results")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--predict", action="store_true",
                   help="also predict the accuracy each transform costs every model family (`pixinfo predict`)")
    p.set_defaults(func=_score)

    _add_predict_parser(sub)
    _add_train_parser(sub)
    _add_attack_parser(sub)
    _add_assess_parser(sub)

    p = sub.add_parser("semantic", help="accuracy of a saved model on negatives and other meaning-preserving transforms")
    p.add_argument("--model", required=True, help="a model saved by `pixinfo train --save-model`")
    p.add_argument("--dataset", default=DEFAULT_DATASET, choices=DATASETS)
    p.add_argument("--root")
    p.add_argument("--transform", action="append", metavar="NAME_OR_SPEC",
                   help=f"{', '.join(SEMANTIC_TRANSFORMS)} or a transform spec; repeatable")
    p.add_argument("--split", action="append", choices=["train", "test"], help="default: test and train")
    p.add_argument("--max-images", type=positive_int, help="a seeded random subset of each split of this size")
    p.add_argument("--seed", type=seed_int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--out", default="results")
    p.set_defaults(func=_semantic)

    p = sub.add_parser("fool", help="generate fooling images for a saved model (evolution or gradient ascent)")
    p.add_argument("--model", required=True, help="a model saved by `pixinfo train --save-model`")
    p.add_argument("--encoding", default="direct", choices=["direct", "cppn", "gradient"])
    p.add_argument("--target", type=probability, default=0.9999, help="confidence to reach, in (0, 1]")
    p.add_argument("--population", type=positive_int, default=200)
    p.add_argument("--generations", type=nonnegative_int, default=1000, help="generations (gradient: steps)")
    p.add_argument("--seed", type=seed_int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--out", default="results")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_fool)

    p = sub.add_parser("datasets", help="which datasets can be loaded here")
    p.set_defaults(func=_datasets)
    p = sub.add_parser("transforms", help="registered transform names")
    p.set_defaults(func=_transforms)
    return parser


def _error_message(err: BaseException) -> str:
    """What ``pixinfo CMD: error:`` says: the message of an expected error, or a pointer to --debug."""
    from pixinfo.errors import PixinfoError

    if isinstance(err, (PixinfoError, ValueError, TypeError, OSError)):
        return str(err) or type(err).__name__
    first = (str(err).splitlines() or [""])[0][:300]
    return f"internal error ({type(err).__name__}: {first}); rerun with `pixinfo --debug ...` for the traceback"


def add_import_argument(p: argparse.ArgumentParser) -> None:
    """``--import MODULE`` (repeatable): a module of the user's whose transform classes the specs may name."""
    p.add_argument("--import", dest="imports", action="append", metavar="MODULE", default=[],
                   help="import this module first (repeatable): transform classes it defines can be named by "
                        "their spec, like the built-in ones")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the command line; every error ends as ``pixinfo CMD: error: ...`` and exit status 2.

    Bad arguments exit through argparse (status 2, ``error:`` on stderr); ``--debug`` shows the
    traceback of an error instead; Ctrl-C exits with status 130.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    _CREATED_DIRS.clear()
    try:
        if getattr(args, "imports", None):  # a user's transform classes register their spec names
            from pixinfo.transforms.registry import import_transforms

            import_transforms(*args.imports)
        code = args.func(args)
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
