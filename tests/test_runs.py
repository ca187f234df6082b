"""The run store: one naming rule, one checked reader, get-or-run and its from-records mode."""

import json

import pandas as pd
import pytest

from pixinfo.errors import CorruptFileError, MissingRecordError, ParameterError
from pixinfo.runs import RowCache, RunSpec, RunStore, digest, slug
from pixinfo.train import TrainConfig, record_path


def test_digest_ignores_key_order_and_depends_on_values():
    assert digest({"a": 1, "b": [1, 2]}) == digest({"b": [1, 2], "a": 1})
    assert digest({"a": 1}) != digest({"a": 2})
    assert len(digest({"a": 1}, length=20)) == 20


def test_slug_makes_file_names():
    assert slug("vortex:authors=mnist,n=10") == "vortex-authorsmnist-n10"
    assert slug("a+b c/d") == "a_b-cd"
    assert slug("x" * 100, max_len=80) == "x" * 80


def test_spec_stem_is_name_and_digest():
    spec = RunSpec("demo", "cnn:fashion-mnist", {"epochs": 3})
    assert spec.stem == f"cnn-fashion-mnist-{digest({'epochs': 3})}"
    assert spec == RunSpec("demo", "cnn:fashion-mnist", {"epochs": 3})
    assert spec != RunSpec("demo", "cnn:fashion-mnist", {"epochs": 4})
    with pytest.raises(AttributeError, match="frozen"):
        spec.name = "other"


@pytest.mark.parametrize("kwargs, match", [
    (dict(kind="", name="a", identity=1), "kind"),
    (dict(kind="k", name="::", identity=1), "name"),
    (dict(kind="k", name="a", identity={1, 2}), "identity"),
    (dict(kind="k", name="a", identity=1, digest_length=4), "digest_length"),
])  # fmt: skip
def test_spec_refuses_bad_parts(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        RunSpec(**kwargs)


def test_train_config_is_a_spec_and_names_its_record(tmp_path):
    config = TrainConfig(dataset="digits", model="mlp", transform="vortex:n=4", data_tag="extra class")
    assert config.kind == "train"
    assert config.digest == config.config_hash() == digest(config.identity(), length=16)
    assert "dataset_options" not in config.identity()
    assert config.stem == f"train-digits-mlp-vortex-n4-s0-extra-class-{config.digest}"
    assert record_path(tmp_path, config) == RunStore(tmp_path).path(config)


def test_get_or_run_computes_once_and_records_provenance(tmp_path):
    store, spec, calls = RunStore(tmp_path / "runs"), RunSpec("demo", "one", {"x": 1}), []

    def compute():
        calls.append(1)
        return {"y": 2}

    first = store.get_or_run(spec, compute)
    second = store.get_or_run(spec, compute)
    assert calls == [1]
    assert first == second
    assert (first["kind"], first["identity"], first["digest"], first["y"]) == ("demo", {"x": 1}, spec.digest, 2)
    assert "git" in first["environment"] and "torch" in first["environment"]
    assert json.loads(store.path(spec).read_text())["y"] == 2


def test_from_records_never_computes(tmp_path):
    store, spec = RunStore(tmp_path), RunSpec("demo", "absent", {"x": 1})
    with pytest.raises(MissingRecordError, match="absent-"):
        store.get_or_run(spec, lambda: pytest.fail("computed"), from_records=True)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("text, match", [
    ('{"y": ', "not a readable record"),
    ("[1, 2]", "must be a JSON object"),
    ('{"y": 1}', "no field 'results.acc'"),
    ('{"results": {"other": 1}}', "no field 'results.acc'"),
])  # fmt: skip
def test_damaged_records_name_the_file_and_field(tmp_path, text, match):
    store, spec = RunStore(tmp_path), RunSpec("demo", "torn", {"x": 1})
    store.path(spec).write_text(text)
    with pytest.raises(CorruptFileError, match=match) as err:
        store.get_or_run(spec, dict, require=("results.acc",))
    assert spec.stem in str(err.value)


def test_row_cache_computes_missing_rows_only(tmp_path):
    cache, calls = RowCache(tmp_path / "m.csv", key=["spec", "seed"]), []

    def compute(key):
        calls.append(key)
        return {"value": len(key[0]) + key[1]}

    rows = cache.get_or_compute([("ab", 0), ("abc", 1)], compute)
    assert rows["value"].tolist() == [2, 4]
    rows = cache.get_or_compute([("abc", 1), ("a", 5)], compute)
    assert calls == [("ab", 0), ("abc", 1), ("a", 5)]
    assert sorted(rows["value"].tolist()) == [4, 6]
    assert len(pd.read_csv(tmp_path / "m.csv")) == 3
    with pytest.raises(MissingRecordError, match="1 rows missing"):
        cache.get_or_compute([("zz", 0)], compute, from_records=True)


def test_row_cache_refuses_a_cache_of_another_format(tmp_path):
    (tmp_path / "m.csv").write_text("spec,value\nab,2\n")
    with pytest.raises(CorruptFileError, match="no column"):
        RowCache(tmp_path / "m.csv", key=["spec", "seed"]).read()
