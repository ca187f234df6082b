"""docs/architecture.md names every public module of pixinfo, and every module it names exists."""

import importlib
import pkgutil
import re
from pathlib import Path

import pixinfo

PAGE = (Path(__file__).resolve().parents[1] / "docs" / "architecture.md").read_text()
NAMED = set(re.findall(r"`(pixinfo(?:\.\w+)+)`", PAGE))


def test_every_named_module_imports():
    missing = []
    for name in sorted(NAMED):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError:
            missing.append(name)
    assert not missing, f"docs/architecture.md names modules that do not exist: {missing}"


def test_every_public_module_is_on_the_page():
    public = {f"pixinfo.{m.name}" for m in pkgutil.iter_modules(pixinfo.__path__) if not m.name.startswith("_")}
    public -= {"pixinfo.py"}  # not a module
    absent = sorted(public - NAMED)
    assert not absent, f"docs/architecture.md does not place {absent} in a layer"
