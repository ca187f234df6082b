"""The Benchmarks page's record tables, built from the committed benchmark JSON files.

Every ``analyses/results/bench_*.json`` becomes a section: what ran (its kind and command), when,
at which commit, on which device and precision (read from the record's own fields), and each of
its numbers (nested results flattened to dotted names; lists of timed repeats summarised by their
median). Nothing is timed here.

    python analyses/benchmarks_page.py --tag cpu --from-records
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from statistics import median

import pandas as pd
from _experiment import ROOT, add_output_arguments, with_folders

from pixinfo.files import read_json, write_text_atomic

RESULTS = ROOT / "analyses" / "results"


def flatten(value, prefix: str = "") -> dict[str, object]:
    """Dotted names of the scalar leaves of nested dicts and lists; a list of numbers becomes its
    median (with its length), a list of records one entry per index."""
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, item in value.items():
            out |= flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(value, list):
        if value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return {f"{prefix} (median of {len(value)})": median(value)}
        out = {}
        for i, item in enumerate(value):
            out |= flatten(item, f"{prefix}[{i}]")
        return out
    return {prefix: value}


def section(path: Path) -> str:
    record = read_json(path)
    env = record.get("environment", {})
    numbers = flatten(record.get("results", {}))
    cells = [(k, f"{v:.4g}" if isinstance(v, float) else str(v)) for k, v in numbers.items()]
    table = pd.DataFrame(cells, columns=["result", "value"]).to_markdown(index=False, disable_numparse=True)
    command = " ".join(map(str, record.get("command", []))) or "–"
    return (f"### `{path.name}`\n\n{record.get('kind', path.stem)}: `{command}`, "
            f"{record.get('created', '–')}, commit {str(env.get('git', {}).get('commit', '–'))[:7]}; "
            f"device: {env.get('device', '–')}.\n\n{table}\n")  # fmt: skip


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tag", default="cpu")
    p.add_argument("--from-records", action="store_true", help="(always: the page is built from the records)")
    add_output_arguments(p, experiment="benchmarks_page")
    args = with_folders(p.parse_args(argv))
    files = sorted(RESULTS.glob(f"bench_*_{args.tag}*.json")) + sorted(RESULTS.glob(f"bench_*_{args.tag}.json"))
    files = sorted(set(files))
    if not files:
        raise SystemExit(f"no analyses/results/bench_*_{args.tag}*.json records")
    text = "\n".join(section(f) for f in files)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / f"benchmarks_page_{args.tag}.md", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
