"""Sweeps: the same records in-process, on a local process pool and on a real local Ray runtime."""

import json

import pytest

from pixinfo.errors import ParameterError
from pixinfo.models import ConfigError
from pixinfo.train import TrainConfig, run_configs
from pixinfo.train.executors import InProcess, ProcessPool, RayExecutor, RunOptions, make_executor

CONFIGS = [TrainConfig(dataset="digits", model=m, epochs=1, batch_size=128, seed=s, transform=t)
           for m, s, t in [("mlp", 0, None), ("mlp", 1, None), ("mlp", 0, "permutation:seed=0"), ("lenet", 0, None)]
           if m != "lenet"] + [TrainConfig(dataset="digits", model="cnn", epochs=1, batch_size=128)]  # fmt: skip


def _results(folder):
    """What must not depend on where a run ran: config, weights and accuracies per record."""
    out = {}
    for path in sorted(folder.glob("*.json")):
        r = json.loads(path.read_text())
        out[path.name] = (r["config_hash"], r["results"]["weights_sha256"], r["results"]["final_test_acc"],
                          [h["test_loss"] for h in r["results"]["history"]])  # fmt: skip
    return out


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inprocess")
    InProcess(progress=False).run(CONFIGS, RunOptions(str(folder), threads=1))
    return _results(folder)


def test_process_pool_gives_the_in_process_records(tmp_path, in_process):
    ProcessPool(workers=2, threads=1, progress=False).run(CONFIGS, RunOptions(str(tmp_path)))
    assert _results(tmp_path) == in_process and len(in_process) == 4


def test_ray_gives_the_in_process_records(tmp_path, in_process, monkeypatch):
    ray = pytest.importorskip("ray")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    try:
        RayExecutor(num_cpus=2, progress=False).run(CONFIGS, RunOptions(str(tmp_path)))
        assert ray.is_initialized()
        import socket

        # one node, the local host (Ray registers it under the address of its own interface)
        assert [n["NodeManagerHostname"] for n in ray.nodes()] == [socket.gethostname()]
    finally:
        ray.shutdown()
    assert _results(tmp_path) == in_process


def test_sweep_reuses_records_and_from_records_needs_them(tmp_path, digits):
    frame = run_configs(CONFIGS[:2], results_dir=tmp_path, progress=False, data={"digits": digits})
    assert len(frame) == 2
    created = {p.name: json.loads(p.read_text())["created"] for p in tmp_path.glob("*.json")}
    again = run_configs(CONFIGS[:2], results_dir=tmp_path, progress=False, from_records=True)
    assert sorted(again["path"]) == sorted(frame["path"])
    assert {p.name: json.loads(p.read_text())["created"] for p in tmp_path.glob("*.json")} == created
    with pytest.raises(ConfigError, match="1 of 3 runs have no finished record"):
        run_configs(CONFIGS[:3], results_dir=tmp_path, progress=False, from_records=True)
    # a sweep in progress: the finished runs only, nothing trained
    partial = run_configs(CONFIGS[:3], results_dir=tmp_path, progress=False, from_records=True, missing="skip")
    assert sorted(partial["path"]) == sorted(frame["path"]) and len(list(tmp_path.glob("*.json"))) == 2
    with pytest.raises(ParameterError, match="missing"):
        run_configs(CONFIGS[:2], results_dir=tmp_path, progress=False, from_records=True, missing="ignore")


def test_make_executor_and_bad_workers():
    assert isinstance(make_executor(), InProcess)
    assert isinstance(make_executor(workers=2), ProcessPool)
    assert isinstance(make_executor(ray=True), RayExecutor)
    with pytest.raises(ConfigError, match="workers must be an integer >= 1"):
        ProcessPool(workers=0)


def test_records_of_another_experiment_are_copied_not_retrained(tmp_path, digits):
    other, mine = tmp_path / "other", tmp_path / "mine"
    run_configs(CONFIGS[:1], results_dir=other, progress=False, data={"digits": digits})
    (other / "unrelated.json").write_text("{}")
    frame = run_configs(CONFIGS[:2], results_dir=mine, progress=False, data={"digits": digits}, reuse_from=[other])
    name = next(other.glob("train-*.json")).name
    assert (mine / name).read_text() == (other / name).read_text()  # copied whole, not retrained
    assert len(frame) == 2 and not (mine / "unrelated.json").exists()
    # a record whose config hash differs is not adopted
    record = json.loads((other / name).read_text())
    record["config_hash"] = "0" * 16
    (other / name).write_text(json.dumps(record))
    fresh = tmp_path / "fresh"
    run_configs(CONFIGS[:1], results_dir=fresh, progress=False, data={"digits": digits}, reuse_from=[other])
    assert json.loads((fresh / name).read_text())["config_hash"] != "0" * 16


def test_a_record_without_an_accuracy_is_not_adopted(tmp_path, digits):
    """Records migrated from a stand-in table hold only that table's row: one with no final test
    accuracy stays with its experiment and the run is trained afresh (a migrated negative-images
    record was once adopted by the information sweep as its untransformed run)."""
    other, mine = tmp_path / "other", tmp_path / "mine"
    run_configs(CONFIGS[:1], results_dir=other, progress=False, data={"digits": digits})
    path = next(other.glob("train-*.json"))
    record = json.loads(path.read_text())
    record["migrated_from"] = "analyses/results/some_table.csv"
    record["results"] = {**record["results"], "final_test_acc": None}
    path.write_text(json.dumps(record))
    frame = run_configs(CONFIGS[:1], results_dir=mine, progress=False, data={"digits": digits}, reuse_from=[other])
    mine_record = json.loads((mine / path.name).read_text())
    assert "migrated_from" not in mine_record and mine_record["results"]["final_test_acc"] is not None
    assert frame["final_test_acc"].notna().all()
