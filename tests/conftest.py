import importlib
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, settings

settings.register_profile(
    "pixinfo", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("pixinfo")

HAS_CUDA = torch.cuda.is_available()
DEVICES = [
    "cpu",
    pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(not HAS_CUDA, reason="needs CUDA")]),
]


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="gpu test: no CUDA device here")
    for item in items:
        if "gpu" in item.keywords and not HAS_CUDA:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Checkpoints and saved models of every test go to a fresh cache folder, never ~/.cache."""
    monkeypatch.setenv("PIXINFO_CACHE", str(tmp_path_factory.mktemp("cache")))


ANALYSES = Path(__file__).resolve().parents[1] / "analyses"


@pytest.fixture(scope="session")
def analysis():
    """``analysis("name")``: the script ``analyses/name.py`` imported as a module (the folder is on
    ``sys.path`` only while it is imported)."""

    def load(name: str):
        sys.path.insert(0, str(ANALYSES))
        try:
            return importlib.import_module(name)
        finally:
            sys.path.remove(str(ANALYSES))

    return load


@pytest.fixture(params=DEVICES)
def device(request):
    return torch.device(request.param)


@pytest.fixture(scope="session")
def digits():
    from pixinfo.data import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def digits_cnn(digits):
    """A small CNN trained for a few seconds on digits (about 95% test accuracy)."""
    from pixinfo.train import TrainConfig, train

    run = train(TrainConfig(dataset="digits", model="cnn", epochs=8, batch_size=64, seed=0),
                results_dir=None, progress=False, data=digits)  # fmt: skip
    assert run.final_test_acc > 0.85, run.history
    return run.model
