"""Gallery of transforms and a bar chart of their information measures.

Writes to paper_figures/:
  transform_gallery.png   originals and each transform, MNIST-5k and Fashion-MNIST
                          (like the effect figure of the Random Vortex paper)
  transform_measures.png  structural retention R, content retention and value NMI per
                          transform, with 95% bootstrap intervals
and the numbers behind the chart, with config, versions and git commit, to
analyses/results/transform_measures.json and .csv.

With --from-records nothing is scored: the chart and the CSV are rebuilt from the committed
analyses/results/transform_measures.json, and the gallery is drawn again from the datasets and
transforms that record names (left as it is, with a message, when a dataset is missing).

Usage: python analyses/transform_gallery.py [--max-images N] [--out DIR] [--from-records]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402
import torch  # noqa: E402
from _experiment import add_output_arguments, with_folders  # noqa: E402

from pixinfo.data import load_dataset, to_float  # noqa: E402
from pixinfo.errors import DatasetNotFoundError  # noqa: E402
from pixinfo.files import save_figure_atomic, write_text_atomic  # noqa: E402
from pixinfo.info import DEFAULT_KERNEL, MEASURES  # noqa: E402
from pixinfo.provenance import make_record, write_json  # noqa: E402
from pixinfo.scoring import score_table, to_frame  # noqa: E402
from pixinfo.transforms import build_transform  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRANSFORMS = {
    "identity": "identity",
    "vortex (authors' key)": "vortex:authors",
    "vortex, bijective": "vortex:authors,bijective=true",
    "block 4, shuffle": "block:size=4",
    "block 4, +within/rot/flip": "block:size=4,shuffle_within=true,rotate=true,flip=true",
    "10% of pixels moved": "partial-permutation:fraction=0.1",
    "50 swaps": "swaps:k=50",
    "fixed permutation": "permutation",
    "per-image permutation": "per-image-permutation",
    "negative": "negative",
    "XOR 8-bit key": "xor",
    "XOR 1-bit key": "xor:bits=1",
    "XOR one-time pad": "xor-per-image",
    "level permutation": "level-permutation",
    "monotone map": "monotone",
}
DATASETS = ("mnist-5k", "fashion-mnist")


def load(name: str):
    try:
        return load_dataset(name)
    except DatasetNotFoundError as err:
        print(f"skipping {name}: {err}")
        return None


def gallery(datasets: dict, path: Path, n_examples: int = 3, transforms: dict[str, str] = TRANSFORMS) -> None:
    labels = list(transforms)
    rows = [(name, i) for name in datasets for i in range(n_examples)]
    fig, axes = plt.subplots(len(rows), len(labels), figsize=(1.1 * len(labels), 1.15 * len(rows)))
    for r, (name, i) in enumerate(rows):
        ds = datasets[name]
        x = to_float(ds.test.images[i : i + 1])
        for c, label in enumerate(labels):
            t = build_transform(transforms[label], shape=ds.image_shape, dataset=ds.name)
            ax = axes[r, c]
            ax.imshow(t(x)[0, 0].numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(label, fontsize=6, rotation=30, ha="left", va="bottom", rotation_mode="anchor")
            if c == 0:
                ax.set_ylabel(name, fontsize=6)
    fig.subplots_adjust(wspace=0.05, hspace=0.05, top=0.86)
    save_figure_atomic(fig, path, dpi=160, bbox_inches="tight")


def measures_chart(frame, path: Path) -> None:
    long = []
    for _, row in frame.iterrows():
        for measure, key in [(m.label, m.name) for m in MEASURES if not m.signed]:
            long.append({"dataset": row["dataset"], "transform": row["label"], "measure": measure,
                         "value": row[key], "low": row[f"{key}_low"], "high": row[f"{key}_high"]})  # fmt: skip
    import pandas as pd

    data = pd.DataFrame(long)
    grid = sns.catplot(data=data, kind="bar", x="value", y="transform", hue="measure", col="dataset",
                       height=5, aspect=0.9, errorbar=None, orient="h")  # fmt: skip
    for ax, (dataset, part) in zip(grid.axes.flat, data.groupby("dataset", sort=False)):
        for container, (measure, sub) in zip(ax.containers, part.groupby("measure", sort=False)):
            sub = sub.set_index("transform").loc[[t.get_text() for t in ax.get_yticklabels()]]
            for bar, (_, r) in zip(container, sub.iterrows()):
                if r["low"] == r["low"] and r["high"] > r["low"]:
                    y = bar.get_y() + bar.get_height() / 2
                    ax.plot([r["low"], r["high"]], [y, y], color="black", lw=0.8)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_xlim(-0.1, 1.05)
    grid.set_axis_labels("retained (1 = everything)", "")
    save_figure_atomic(grid, path, dpi=160)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-images", type=int, default=None, help="score on the first N test images")
    parser.add_argument("--n-boot-value", type=int, default=10)
    add_output_arguments(parser, experiment="transform_gallery")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--from-records", action="store_true",
                        help="score nothing: rebuild the chart and the CSV from --record, redraw the gallery")  # fmt: skip
    parser.add_argument("--record", type=Path, default=ROOT / "analyses" / "results" / "transform_measures.json",
                        help="with --from-records, the record to rebuild from (default: the committed one)")  # fmt: skip
    args = with_folders(parser.parse_args(argv))
    args.out, args.results = Path(args.figure_dir), Path(args.out_dir)  # figures; the CSV and the JSON record
    if args.from_records:
        return from_records(args)
    datasets = {name: ds for name in DATASETS if (ds := load(name)) is not None}
    args.out.mkdir(parents=True, exist_ok=True)
    gallery(datasets, args.out / "transform_gallery.png")
    frames = []
    for name, ds in datasets.items():
        images = ds.test.images[: args.max_images]
        transforms = [build_transform(spec, shape=ds.image_shape, dataset=ds.name) for spec in TRANSFORMS.values()]
        scores = score_table(transforms, images, seed=args.seed, n_boot_value=args.n_boot_value)
        frames.append(to_frame(scores).assign(dataset=name, label=list(TRANSFORMS)))
    import pandas as pd

    frame = pd.concat(frames, ignore_index=True)
    measures_chart(frame, args.out / "transform_measures.png")
    config = {"datasets": list(datasets), "split": "test", "max_images": args.max_images, "transforms": TRANSFORMS,
              "kernel": DEFAULT_KERNEL.to_dict(), "seed": args.seed, "n_boot_value": args.n_boot_value}  # fmt: skip
    write_json(args.results / "transform_measures.json", make_record("transform_measures", config, frame.to_dict(orient="records"), device="cpu"))
    write_text_atomic(args.results / "transform_measures.csv", frame.to_csv(index=False))
    print(frame[["dataset", "label", *(m.name for m in MEASURES)]].to_string(index=False))
    print(f"wrote {args.out / 'transform_gallery.png'}, {args.out / 'transform_measures.png'}")


def from_records(args: argparse.Namespace) -> None:
    """The chart and the CSV from ``args.record``; the gallery from its datasets and transforms."""
    import pandas as pd

    from pixinfo.runs import read_record

    record = read_record(args.record, require=("config", "results"))
    if record is None:
        raise FileNotFoundError(f"--record: no file {args.record}")
    config = record["config"]
    frame = pd.DataFrame(record["results"])
    args.out.mkdir(parents=True, exist_ok=True)
    measures_chart(frame, args.out / "transform_measures.png")
    write_text_atomic(args.results / "transform_measures.csv", frame.to_csv(index=False))
    datasets = {name: ds for name in config["datasets"] if (ds := load(name)) is not None}
    if len(datasets) < len(config["datasets"]):
        print(f"transform_gallery.png left as it is: needs {', '.join(config['datasets'])}", file=sys.stderr)
    else:
        gallery(datasets, args.out / "transform_gallery.png", transforms=config["transforms"])
    print(f"rebuilt from {args.record}: {args.results / 'transform_measures.csv'}, figures in {args.out}")


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
