"""A transform class in a module pixinfo has never seen works on the command line like a built-in
one (``--import MODULE``) and from an installed package's entry point."""

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from pixinfo.errors import ParameterError
from pixinfo.transforms import registry

MODULE = '''
import torch
from pixinfo.transforms import GatherTransform


class Roll(GatherTransform, spec="user-roll"):
    """Every row rolled right by ``shift`` pixels."""

    def __init__(self, shape, *, shift: int = 2):
        h, w = shape[-2:]
        super().__init__(shape, torch.arange(h * w).reshape(h, w).roll(shift, dims=1).reshape(-1))
        self.shift = shift

    def params(self):
        return {"shift": self.shift}

    def init_kwargs(self):
        return {"shape": list(self.grid), "shift": self.shift}
'''


def _cli(tmp_path, *args):
    """``pixinfo ARGS`` in a fresh interpreter, from a folder holding the user's module."""
    (tmp_path / "user_transforms.py").write_text(MODULE)
    return subprocess.run([sys.executable, "-m", "pixinfo", *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip


@pytest.mark.parametrize("command", [
    ["score", "--transform", "user-roll:shift=3", "--dataset", "digits", "--no-progress", "--max-images", "200"],
    ["recover-key", "--transform", "user-roll:shift=3", "--dataset", "digits", "--threat", "prior"],
    ["train", "--transform", "user-roll:shift=3", "--dataset", "digits", "--model", "mlp", "--epochs", "1", "--no-progress"],
])  # fmt: skip
def test_imported_transform_runs_like_a_built_in(tmp_path, command):
    done = _cli(tmp_path, *command, "--import", "user_transforms", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr[-2000:]
    records = [json.loads(p.read_text()) for p in (tmp_path / "out").glob("*.json")]
    assert records and "user-roll" in json.dumps(records)


def test_unknown_spec_says_how_to_add_one(tmp_path):
    done = _cli(tmp_path, "score", "--transform", "user-roll", "--dataset", "digits", "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "--import MODULE" in done.stderr and not (tmp_path / "out").exists()


def test_bad_import_is_a_typed_error():
    with pytest.raises(ParameterError, match="no_such_module_here"):
        registry.import_transforms("no_such_module_here")


def test_entry_points_are_loaded_for_an_unknown_spec(monkeypatch):
    """An installed package's entry point in the group is imported when a spec is not known yet."""
    loaded = []
    point = SimpleNamespace(name="theirs", load=lambda: loaded.append("theirs"))
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [point] if group == registry.ENTRY_POINTS else [])
    with pytest.raises(ParameterError, match="unknown transform"):
        registry.build_transform("not-registered-anywhere", shape=(1, 8, 8))
    assert loaded == ["theirs"] and registry.load_plugins() == ["theirs"]
