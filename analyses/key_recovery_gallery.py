"""A key-recovery gallery for the docs: original / encrypted / recovered test images.

Runs `pixinfo recover-key --transform SPEC --dataset NAME --threat KIND [--n-images N]` (the
attack is seeded: the same key and the same figure every time; it trains nothing and takes
seconds on a CPU) and keeps its gallery as paper_figures/key_recovery_gallery_<tag>.png and its
measures, threat model and environment as analyses/results/key_recovery_gallery_<tag>_meta.json.
``--from-records`` is accepted for analyses/regenerate.sh: there is no record to reuse, the
attack is what regenerates the figure.

Usage: python analyses/key_recovery_gallery.py --transform permutation:seed=0 --dataset mnist-5k
           --threat blind --tag mnist5k_permutation
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

from _experiment import add_output_arguments, with_folders

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transform", required=True, metavar="SPEC")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--threat", default="blind", help="blind, prior or known-plaintext (default: %(default)s)")
    parser.add_argument("--n-images", type=int, help="training ciphertexts the attacker sees (default: all)")
    parser.add_argument("--tag", required=True, help="the figure is key_recovery_gallery_<tag>.png")
    add_output_arguments(parser, experiment="key_recovery_gallery")
    parser.add_argument("--from-records", action="store_true", help="accepted; the attack always runs (seconds)")
    args = with_folders(parser.parse_args(argv))
    args.figure_dir, args.out_dir = Path(args.figure_dir), Path(args.out_dir)

    from pixinfo.cli import main as pixinfo
    from pixinfo.data import available_datasets
    from pixinfo.files import write_text_atomic
    from pixinfo.runs import read_record

    status = available_datasets().get(args.dataset, "unknown dataset")
    if not status.startswith("ok"):
        print(f"key_recovery_gallery_{args.tag}.png left as it is: {args.dataset}: {status}", file=sys.stderr)
        return 0
    command = ["recover-key", "--transform", args.transform, "--dataset", args.dataset, "--threat", args.threat]
    command += ["--n-images", str(args.n_images)] if args.n_images else []
    args.figure_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".key_recovery_gallery-", dir=args.figure_dir) as tmp:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            code = pixinfo([*command, "--out", tmp])
        if code != 0:
            raise SystemExit(f"pixinfo {' '.join(command)} failed ({code})")
        (png,) = Path(tmp).glob("*.png")
        (record,) = Path(tmp).glob("*.json")
        target = args.figure_dir / f"key_recovery_gallery_{args.tag}.png"
        os.replace(png, target)  # same folder: the figure appears whole
        meta = {"command": ["pixinfo", *command], **read_record(record)}
    meta_path = args.out_dir / f"key_recovery_gallery_{args.tag}_meta.json"
    write_text_atomic(meta_path, json.dumps(meta, indent=2) + "\n")
    print(printed.getvalue(), end="")
    print(f"wrote {target} and {meta_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
