"""What every result file records: config, seed, versions, device and git commit."""

from __future__ import annotations

import datetime as _dt
import functools
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

import pixinfo


def git_state(path: str | Path | None = None) -> dict[str, Any]:
    """Commit and dirty flag of the git checkout holding ``path`` (default: pixinfo's source)."""
    where = Path(path) if path is not None else Path(pixinfo.__file__).resolve().parent

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(where), *args], capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.rstrip("\n") if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    if commit is None or status is None:
        return {"commit": commit, "dirty": None, "dirty_files": []}
    changed = [line[3:] for line in status.splitlines() if line.strip()]
    return {"commit": commit, "dirty": bool(changed), "dirty_files": changed}


@functools.lru_cache(maxsize=8)
def cpuinfo_fields(cpuinfo: str | Path = "/proc/cpuinfo") -> dict[str, str]:
    """Each field of ``/proc/cpuinfo`` with its first value (the first processor's); ``{}`` where unreadable.

    Read once per path and process. Its callers: [`cpu_model_name`][pixinfo.provenance.cpu_model_name] and the bf16 check of
    [`pixinfo.train.precision`][pixinfo.train.precision].
    """
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_model_name() -> str | None:
    """The CPU's model name from ``/proc/cpuinfo`` (Linux), else what ``platform`` says, or None."""
    return cpuinfo_fields().get("model name") or platform.processor() or None


def device_description(device: torch.device | str) -> str:
    """What a record says it ran on, e.g. "cpu: AMD EPYC 7B12 (x86_64), 2 torch threads".

    >>> device_description("cpu").startswith("cpu: ") and device_description("cpu").endswith("torch threads")
    True
    """
    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    model, machine = cpu_model_name(), platform.machine()
    name = f"{model} ({machine})" if model and model != machine else machine
    return f"cpu: {name}, {torch.get_num_threads()} torch threads"


def environment(device: torch.device | str | None = None) -> dict[str, Any]:
    """Versions, platform, device and git state."""
    import scipy

    env: dict[str, Any] = {
        "pixinfo": pixinfo.__version__,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "platform": platform.platform(),
        "git": git_state(),
    }
    if device is not None:
        env["device"] = device_description(device)
    return env


def make_record(kind: str, config: dict[str, Any], results: Any, *, device=None) -> dict[str, Any]:
    """A JSON-ready result record."""
    return {
        "kind": kind,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": sys.argv,
        "config": config,
        "environment": environment(device),
        "results": results,
    }


def write_json(path: str | Path, record: dict[str, Any]) -> Path:
    """Write ``record`` as JSON, whole (temporary file + ``os.replace``)."""
    from pixinfo.files import write_text_atomic

    return write_text_atomic(path, json.dumps(record, indent=2, allow_nan=True) + "\n")
