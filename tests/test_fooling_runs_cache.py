"""analyses/fooling_images.py keeps each finished evolution run in the cache: an interrupted
experiment resumes without repeating them, and ``--workers 2`` gives the same runs as one process."""

import argparse
from pathlib import Path

import pytest
import torch

ANALYSES = Path(__file__).resolve().parents[1] / "analyses"


@pytest.fixture(scope="module")
def fooling(analysis):
    return analysis("fooling_images")


def _model(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))


def _args(workers):
    return argparse.Namespace(runs=2, population=8, generations=4, target=0.999, workers=workers)


def test_finished_runs_are_read_back_not_rerun(fooling, monkeypatch):
    first, _ = fooling.evolution_rows(_model(0), (1, 8, 8), "m", _args(1))
    assert len(first) == 4 and {r["encoding"] for r in first} == {"direct", "cppn"}

    def refuse(*a, **k):
        raise AssertionError("a cached run was evolved again")

    monkeypatch.setattr(fooling, "evolve", refuse)
    again, elites = fooling.evolution_rows(_model(0), (1, 8, 8), "m", _args(1))
    assert again == first  # the same rows, measured seconds included: read from the cache
    assert elites[("direct", 0)].images.shape == (10, 1, 8, 8)
    with pytest.raises(AssertionError, match="evolved again"):  # other weights: other runs
        fooling.evolution_rows(_model(1), (1, 8, 8), "m", _args(1))


def test_two_workers_evolve_the_same_runs_as_one_process(fooling, tmp_path, monkeypatch):
    one, _ = fooling.evolution_rows(_model(2), (1, 8, 8), "m", _args(1))
    monkeypatch.setenv("PIXINFO_CACHE", str(tmp_path / "fresh"))
    monkeypatch.syspath_prepend(str(ANALYSES))  # as when the script runs: workers import it by name
    two, _ = fooling.evolution_rows(_model(2), (1, 8, 8), "m", _args(2))
    assert len(list((tmp_path / "fresh" / "fooling-runs").glob("*.pt"))) == 4
    drop = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert drop(two) == drop(one)
