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

A preset of :mod:`pixinfo.study` (``pixinfo.study`` / ``pixinfo study`` run the same study on
transforms of your own): this script fixes the 40 settings, the datasets and the tables' names.

    python analyses/info_vs_accuracy.py                     # full sweep (GPU)
    python analyses/info_vs_accuracy.py --quick             # CPU, digits, a few minutes
    python analyses/info_vs_accuracy.py --datasets mnist-5k --models lenet mlp --seeds 0 1 --tag cpu
    python analyses/info_vs_accuracy.py --datasets fashion-mnist --models mlp --augment after before --epochs 5
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd
from _experiment import (RUNS, add_common_arguments, add_partial_argument, apply_preset, check_model_values,
                         devices_note, missing_runs, outputs, recipe_overrides, training_by_model, write_csv)  # fmt: skip

from pixinfo.data import load_dataset
from pixinfo.errors import ParameterError
from pixinfo.files import write_text_atomic
from pixinfo.provenance import environment, write_json
from pixinfo.study import LOSSES, measure, split_key  # noqa: F401  (the other analyses import them from here)
from pixinfo.study import KEY_SEPARATOR, describe, partial_note, plot, statistics
from pixinfo.study import keyed_settings as keyed_by_seed
from pixinfo.study import scoped as scoped_parts
from pixinfo.study import study_rows, to_markdown, with_losses
from pixinfo.train.config import PRECISIONS
from pixinfo.train.executors import make_executor

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


def more_settings(size: int) -> dict[str, tuple[str, str]]:
    """Settings of kinds the study above never trained (label -> (family, spec)): geometry that keeps
    every neighbour, value maps that merge or rescale, and the literature's learnable encryptions —
    the kinds a user is likely to bring, to widen what the accuracy predictor is fit on."""
    block = 4 if size % 4 == 0 else 2
    return {
        "flip left-right": ("geometry", "flip:axis=horizontal"),
        "half turn": ("geometry", "rotate:quarter_turns=2"),
        "shift 2 px": ("geometry", "translate:dx=2,dy=2"),
        "contrast 0.5": ("value", "contrast:factor=0.5"),
        "pixel-based 0.5": ("literature", "pixel-based:fraction=0.5,seed=0"),
        "pixel-based per-image": ("literature", "pixel-based-per-image:fraction=0.5"),
        f"learnable {block}": ("literature", f"learnable:size={block},seed=0"),
        f"EtC {block}": ("literature", f"etc:size={block},seed=0"),
        "quarter turn": ("geometry", "rotate:quarter_turns=1"),
        "flip top-bottom": ("geometry", "flip:axis=vertical"),
        "shift 4 px": ("geometry", "translate:dx=4,dy=4"),
        "contrast 0.25": ("value", "contrast:factor=0.25"),
        "contrast 2": ("value", "contrast:factor=2.0"),
        "pixel-based 0.25": ("literature", "pixel-based:fraction=0.25,seed=0"),
        "pixel-based per-image 0.1": ("literature", "pixel-based-per-image:fraction=0.1"),
        "pixel-based per-image 0.25": ("literature", "pixel-based-per-image:fraction=0.25"),
        "learnable 2": ("literature", "learnable:size=2,seed=0"),
        "EtC 2": ("literature", "etc:size=2,seed=0"),
    }  # fmt: skip


def per_image_settings(size: int) -> dict[str, tuple[str, str]]:
    """Keyed rearrangements with a fresh key for every image (label -> (family, spec)), in the family
    of their shared-key twins: the study trained only three per-image settings (a uniform
    permutation, XOR and, among the learnable encryptions, the pixel-wise negative-positive map),
    so a per-image key was almost always a total loss in its data."""
    block = 4 if size % 4 == 0 else 2
    half = size // 2 if size % 2 == 0 else block
    blocks = {f"block {b} per-image": ("block", f"block-per-image:size={b}") for b in dict.fromkeys((block, half))}
    return {
        **blocks,  # half the side as well where it differs (on 8×8 digits both are 4)
        f"block {block} + within per-image": ("block", f"block-per-image:size={block},shuffle_within=true"),
        "swaps 25 per-image": ("swaps", "swaps-per-image:k=25"),
        "swaps 100 per-image": ("swaps", "swaps-per-image:k=100"),
        "partial 0.25 per-image": ("partial", "partial-permutation-per-image:fraction=0.25"),
        "partial 0.75 per-image": ("partial", "partial-permutation-per-image:fraction=0.75"),
        "vortex per-image": ("vortex", "vortex-per-image:n=10"),
        "vortex n=40 per-image": ("vortex", "vortex-per-image:n=40"),
    }  # fmt: skip


def degrade_settings(size: int) -> dict[str, tuple[str, str]]:
    """Lossy degradations people apply to hide or shrink images (label -> (family, spec)): grey
    levels merged, neighbours averaged, blocks averaged into a mosaic, noise added. Many-to-one
    maps and smoothing: the measures count them as lost information although a network may lose
    little, the kind of transform the accuracy predictor had never seen."""
    mosaics = [b for b in (2, 4, 7) if size % b == 0 and b < size]
    return {
        **{f"posterize {n}": ("degradation", f"posterize:levels={n}") for n in (2, 4, 8)},
        **{f"blur {k}": ("degradation", f"blur:size={k}") for k in (3, 5) if k < size},
        **{f"pixelate {b}": ("degradation", f"pixelate:size={b}") for b in mosaics},
        **{f"noise {sigma}": ("degradation", f"noise:sigma={sigma}") for sigma in (0.1, 0.3)},
    }


def chain_settings(size: int) -> dict[str, tuple[str, str]]:
    """Two transforms applied in turn (label -> (family, spec)), as encryption schemes chain a
    rearrangement with a value map: a family of its own, each part of a kind the study trained."""
    block = next(b for b in (7, 4, 2) if size % b == 0 and b < size)
    small = 4 if size % 4 == 0 else 2
    return {
        f"block {block} + negative": ("chain", f"block:size={block},seed=0+negative"),
        "permutation + contrast 0.5": ("chain", "permutation:seed=0+contrast:factor=0.5"),
        "vortex + xor 1-bit": ("chain", "vortex:seed=0,n=10+xor:bits=1,seed=0"),
        f"block {small} + xor 8-bit": ("chain", f"block:size={small},seed=0+xor:bits=8,seed=0"),
        "swaps 100 + level permutation": ("chain", "swaps:k=100,seed=0+level-permutation:seed=0"),
        "blur 3 + partial 0.25": ("chain", "blur:size=3+partial-permutation:fraction=0.25,seed=0"),
    }  # fmt: skip


def cipher_settings(size: int) -> dict[str, tuple[str, str]]:
    """AES-128 on the images' bytes, as a user would apply a standard cipher (label -> (family,
    spec)): ECB over 16-byte runs of the raster and over 4 × 4 tiles and CBC with one fixed IV, each
    with one key for every image, and CBC with a fresh IV per image (pixinfo.transforms.aes). A
    block cipher mixes the bits of a whole block: a kind of transform the study never trained."""
    if size % 4:  # a square grey image splits into whole 16-byte blocks, and into 4 × 4 tiles, iff 4 divides its side
        return {}
    return {
        "AES ECB": ("cipher", "aes:mode=ecb,seed=0"), "AES ECB tiles": ("cipher", "aes:mode=ecb,layout=tiles,seed=0"),
        "AES CBC fixed IV": ("cipher", "aes:mode=cbc,seed=0"),
        "AES CBC per-image IV": ("cipher", "aes-per-image:mode=cbc,seed=0"),
    }  # fmt: skip


def edit_settings(size: int) -> dict[str, tuple[str, str]]:
    """Everyday edits (label -> (family, spec)): JPEG compression, rotation by an angle that is not
    a quarter turn, and a masked-out centre square — in the families of their kind (lossy
    degradation, geometry), none of them trained before."""
    return {
        "JPEG 10": ("degradation", "jpeg:quality=10"), "JPEG 50": ("degradation", "jpeg:quality=50"),
        "tilt 15": ("geometry", "tilt:degrees=15"), "tilt 45": ("geometry", "tilt:degrees=45"),
        "occlude 1/4": ("degradation", "occlude:fraction=0.25"), "occlude 1/2": ("degradation", "occlude:fraction=0.5"),
    }  # fmt: skip


def chaos_settings(size: int) -> dict[str, tuple[str, str]]:
    """Chaos-based image encryption as the image-encryption literature builds it (label -> (family,
    spec); pixinfo.transforms.chaos): the logistic-map diffusion alone, and one and two rounds of
    cat-map permutation and diffusion, each with one key for every image — a family of its own."""
    return {
        "chaos diffusion": ("chaos", "chaos:permute=false,seed=0"),
        "chaos 1 round": ("chaos", "chaos:rounds=1,seed=0"), "chaos 2 rounds": ("chaos", "chaos:rounds=2,seed=0"),
    }  # fmt: skip


def rowcol_sharpen_settings(size: int) -> dict[str, tuple[str, str]]:
    """Row–column scrambling (whole rows, then rows and columns, reordered by one key) and
    sharpening (an unsharp mask, mild and strong) (label -> (family, spec)): two kinds of
    transform, each a family of its own."""
    return {
        "rows scrambled": ("row-column", "rowcol:columns=false,seed=0"),
        "rows and columns scrambled": ("row-column", "rowcol:seed=0"),
        "sharpen 1": ("sharpen", "sharpen:amount=1"), "sharpen 4": ("sharpen", "sharpen:amount=4"),
    }  # fmt: skip


def elastic_settings(size: int) -> dict[str, tuple[str, str]]:
    """Elastic deformation by one keyed smooth displacement field (label -> (family, spec)): with
    Simard, Steinkraus and Platt's MNIST values (alpha 34, sigma 4: under a pixel on average on
    28 x 28 images) and a stronger one (alpha 100, sigma 3: about three pixels) — a family of its own."""
    return {
        "elastic 34/4": ("elastic", "elastic:alpha=34,sigma=4,seed=0"),
        "elastic 100/3": ("elastic", "elastic:alpha=100,sigma=3,seed=0"),
    }  # fmt: skip


KINDS = {"study": settings, "more": more_settings, "per-image": per_image_settings, "degrade": degrade_settings,
         "chain": chain_settings, "cipher": cipher_settings,
         "edits": edit_settings, "chaos": chaos_settings, "rowcol-sharpen": rowcol_sharpen_settings,
         "elastic": elastic_settings}  # fmt: skip

AUTHORS_KEYS = {"fashion-mnist": "vortex strength 1.0", "mnist-5k": "vortex strength 1.0", "mnist": "vortex strength 1.0"}


def keyed_settings(specs: dict[str, tuple[str, str]], key_seeds: list[int], *, dataset: str,
                     shape: tuple[int, ...]) -> dict[str, tuple[str, str]]:  # fmt: skip
    """:func:`pixinfo.study.keyed_settings`, plus the authors' published vortex key as another key
    of the vortex setting it matches, where the dataset has one and several keys are asked for."""
    out = keyed_by_seed(specs, key_seeds, dataset=dataset, shape=shape)
    if len(key_seeds) > 1 and dataset in AUTHORS_KEYS and AUTHORS_KEYS[dataset] in specs:
        out[f"{AUTHORS_KEYS[dataset]}{KEY_SEPARATOR}authors"] = ("vortex", "vortex:authors")
    return out


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
    if fits:  # none where there are fewer settings than the model's coefficients
        write_csv(pd.concat([f.coefficients.assign(scope=k) for k, f in fits.items()]),
                  out_dir / f"info_vs_accuracy_regression{suffix}.csv")
    intro = describe(data, training=training_by_model(data), devices=devices_note(data),
                     note=partial_note(finished, planned))  # fmt: skip
    markdown = to_markdown(data, table, fits, intro=intro)
    write_text_atomic(out_dir / f"info_vs_accuracy{suffix}.md", markdown)
    print(markdown)
    plot(data, table, scatter=figures / f"info_vs_accuracy_scatter{suffix}.png",
         heatmap=figures / f"info_vs_accuracy_heatmap{suffix}.png")  # fmt: skip
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
    p.add_argument("--kinds", choices=list(KINDS), default="study",
                   help="the study's settings, or settings of kinds it never trained ("
                        + ", ".join(f.__name__ for name, f in KINDS.items() if name != "study") + "; default: study)")
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
    """Every transformed run of one dataset (:func:`pixinfo.study.study_rows` of the settings):
    its accuracy loss against the untransformed run of the same model and seed, its setting and
    family, and the setting's three measures; and (runs finished, runs planned), which differ in a
    ``--partial`` table."""
    ds = load_dataset(name)
    specs = only_settings(KINDS[args.kinds](ds.image_shape[1]), args.settings, dataset=name)
    if args.quick and not args.settings:  # a spread of settings that runs in minutes
        specs = {k: v for i, (k, v) in enumerate(specs.items()) if i % 2 == 0 or v[0] in ("value", "permutation")}
    specs = keyed_settings(specs, args.key_seeds, dataset=name, shape=ds.image_shape)
    progress = not args.no_progress
    executor = make_executor(workers=args.workers, ray=args.ray, ray_address=args.ray_address, progress=progress)
    rows = study_rows(specs, dataset=ds, models=args.models, seeds=args.seeds, results_dir=args.results,
                      augment=args.augment, overrides={m: recipe_overrides(args, m) for m in args.models},
                      device=args.device, executor=executor, from_records=args.from_records,
                      missing=missing_runs(args), reuse_from=sorted(p for p in RUNS.glob("*") if p.is_dir()),
                      max_images=args.max_images, seed=0, progress=progress)  # fmt: skip
    print(f"{name}: {len(specs)} settings, {rows.planned} runs", file=sys.stderr)
    return rows.data.drop(columns="transform_label"), (rows.finished, rows.planned)


def only_settings(specs: dict[str, tuple[str, str]], labels: list[str] | None, *, dataset: str):
    """``specs`` restricted to ``labels`` (``--settings``; None keeps them all)."""
    unknown = [label for label in labels or [] if label not in specs]
    if unknown:
        raise ParameterError(f"--settings: {unknown} not among the settings of {dataset}: {list(specs)}")
    return specs if labels is None else {label: specs[label] for label in labels}


def scoped(data: pd.DataFrame) -> pd.DataFrame:
    """The rows of the correlations (:func:`pixinfo.study.scoped`): every run under scope "all
    settings", the shared-key runs again under "shared key only", all of these again under model "all"."""
    return scoped_parts({"all settings": data, "shared key only": data[data["shared_key"]]})


if __name__ == "__main__":
    sys.exit(main())
