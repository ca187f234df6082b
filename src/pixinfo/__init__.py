"""pixinfo: how much neighbour information an image transform leaves a network.

Submodules are imported on first use, so ``import pixinfo`` stays light:
``pixinfo.info`` (the measures), ``pixinfo.data`` (datasets),
``pixinfo.transforms`` (keyed transforms), [`pixinfo.score`][pixinfo.scoring.score] and
[`pixinfo.predict`][pixinfo.predict.predict] (the accuracy a transform will cost, before training;
the module, called, is that function) with its [`LossPredictor`][pixinfo.predict.LossPredictor], and
[`pixinfo.study`][pixinfo.study.study] (information loss against accuracy loss over your transforms).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = ("data", "info", "transforms", "scoring", "provenance", "errors", "models", "train", "adversarial", "stats",
               "predict")


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"pixinfo.{name}")
    if name in ("score", "Score"):
        return getattr(importlib.import_module("pixinfo.scoring"), name)
    if name == "assess":  # the function; importing the submodule rebinds the name to it, callable alike
        return importlib.import_module("pixinfo.assess").assess
    if name == "study":  # the function, as for assess
        return importlib.import_module("pixinfo.study").study
    if name == "LossPredictor":
        return importlib.import_module("pixinfo.predict").LossPredictor
    raise AttributeError(f"module 'pixinfo' has no attribute {name!r}")


__all__ = ["LossPredictor", "Score", "__version__", "assess", "score", "study", *_SUBMODULES]
