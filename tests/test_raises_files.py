"""Files are written whole, and a key, record or model that is truncated, tampered or of the wrong
kind raises a typed error naming the path (CorruptFileError; FileNotFoundError when missing)."""

import json
import os
import pickle
import re
from pathlib import Path

import pytest
import torch

import pixinfo
from pixinfo.errors import CorruptFileError
from pixinfo.transforms import BlockScramble, FixedPermutation, load_transform


SRC = Path(pixinfo.__file__).resolve().parent  # the code under test

# a raw writer: pathlib writes, pandas' to_csv/to_json to a path, torch.save, open(..., "w"/"wb"/"a")
RAW_WRITERS = re.compile(r"\.write_text\(|\.write_bytes\(|\.to_csv\((?!\s*index)|\.to_json\(|torch\.save\(|"
                         r"open\([^)]*[\"'][wa]b?[\"']")  # fmt: skip


def test_no_writer_in_src_bypasses_pixinfo_files():
    """Every file pixinfo writes goes through pixinfo.files (temporary file + os.replace)."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "files.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if RAW_WRITERS.search(line) and not line.lstrip().startswith(("#", ">>>")):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert not offenders, "write these through pixinfo.files:\n" + "\n".join(offenders)


def _interrupted_replace(monkeypatch):
    def fail(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", fail)


@pytest.mark.parametrize(
    "save",
    [
        lambda path: FixedPermutation((4, 4), seed=1).save_key(path),
        lambda path: __import__("pixinfo.transforms.vortex", fromlist=["x"]).authors_key("mnist").save(path),
    ],
    ids=["transform key", "vortex key"],
)
def test_keys_are_written_whole(tmp_path, monkeypatch, save):
    path = tmp_path / "key.json"
    FixedPermutation((4, 4), seed=0).save_key(path)
    before = path.read_bytes()
    _interrupted_replace(monkeypatch)
    with pytest.raises(OSError, match="simulated"):
        save(path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["key.json"]


def _key_file(tmp_path, content: str | bytes) -> Path:
    path = tmp_path / "key.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


GOOD_KEY = json.dumps(BlockScramble((8, 8), size=4, seed=0).key_dict())
BAD_KEYS = [
    (GOOD_KEY[: len(GOOD_KEY) // 2], "is not a readable transform key file"),  # truncated
    (b"\xff\xfe\x00binary", "is not a readable transform key file"),
    ("[1, 2, 3]", "is not a pixinfo transform key"),
    ('{"class": "FixedPermutation"}', "is not a pixinfo transform key"),
    ('{"class": "Rot13", "kwargs": {}}', "unknown transform class 'Rot13'"),
    (GOOD_KEY.replace('"size": 4', '"size": 3'), "does not rebuild a BlockScramble"),
    (GOOD_KEY.replace('"int64"', '"int4096"', 1), "does not rebuild a BlockScramble.*no valid dtype"),
    (json.dumps({"class": "FixedPermutation", "kwargs": {"shape": [2, 2], "index": {"__tensor__": [0, 0, 1, 2],
                                                                                       "dtype": "int64"}}}),
     "does not rebuild a FixedPermutation"),  # fmt: skip
]


@pytest.mark.parametrize(("content", "match"), BAD_KEYS)
def test_loading_a_bad_transform_key_names_the_path(tmp_path, content, match):
    path = _key_file(tmp_path, content)
    with pytest.raises(CorruptFileError, match=match) as err:
        load_transform(path)
    assert str(path) in str(err.value)


def test_loading_a_missing_key():
    with pytest.raises(FileNotFoundError, match="no transform key file at"):
        load_transform("/nonexistent/key.json")


@pytest.mark.parametrize("content", ['{"shape": [28, 28]', '{"shape": [28, 28]}', '{"vortices": "many"}'])
def test_loading_a_bad_vortex_key_names_the_path(tmp_path, content):
    from pixinfo.transforms.vortex import VortexKey

    path = _key_file(tmp_path, content)
    with pytest.raises(CorruptFileError, match=re.escape(str(path))):
        VortexKey.load(path)


def test_a_truncated_record_names_its_path(tmp_path):
    from pixinfo.train import collect_records

    good = tmp_path / "a.json"
    good.write_text('{"kind": "train", "status": "finished"}')
    bad = tmp_path / "sub" / "b.json"
    bad.parent.mkdir()
    bad.write_text('{"kind": "train", "stat')
    with pytest.raises(CorruptFileError, match=f"{re.escape(str(bad))} is not a readable record"):
        collect_records(tmp_path)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    from pixinfo.models import build_model, save_model

    return save_model(build_model("mlp", image_shape=(1, 8, 8), num_classes=10, hidden=[8]),
                      tmp_path_factory.mktemp("m") / "model.pt")  # fmt: skip


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/pixinfo-pwned",))


def _tampered_spec(blob):
    blob["spec"]["image_shape"] = [1, 28, 28]
    return blob


BAD_MODELS = [
    ("truncated", lambda data: data[: len(data) // 2], "is not a readable model file"),
    ("text", lambda data: b"not a model\n" * 50, "is not a readable model file"),
    ("empty", lambda data: b"", "is not a readable model file"),
    ("zip garbage", lambda data: b"PK\x03\x04" + b"\x00" * 200, "is not a readable model file"),
    ("code", lambda data: pickle.dumps(_Evil()), "is not a readable model file"),
]


@pytest.mark.parametrize(("kind", "damage", "match"), BAD_MODELS, ids=[row[0] for row in BAD_MODELS])
def test_load_model_refuses_damaged_files(tmp_path, model_file, kind, damage, match):
    from pixinfo.models import load_model

    path = tmp_path / "damaged.pt"
    path.write_bytes(damage(model_file.read_bytes()))
    with pytest.raises(CorruptFileError, match=match) as err:
        load_model(path)
    assert str(path) in str(err.value) and not Path("/tmp/pixinfo-pwned").exists()


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda blob: {"weights": blob["state_dict"]}, "is not a pixinfo model file"),
        (lambda blob: [1, 2, 3], "is not a pixinfo model file"),
        (_tampered_spec, "the saved weights do not fit the model it describes"),
    ],
)
def test_load_model_refuses_files_of_the_wrong_kind(tmp_path, model_file, edit, match):
    from pixinfo.models import load_model

    path = tmp_path / "other.pt"
    torch.save(edit(torch.load(model_file, weights_only=True)), path)
    with pytest.raises(CorruptFileError, match=match):
        load_model(path)


def test_output_folders_are_checked_before_work(tmp_path):
    from pixinfo.errors import OutputPathError
    from pixinfo.files import check_writable_dir

    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert check_writable_dir(tmp_path / "new" / "deeper").is_dir()
    for bad in (blocker, blocker / "sub"):
        with pytest.raises(OutputPathError, match=re.escape(str(bad))):
            check_writable_dir(bad, name="--out")
    assert sorted(p.name for p in (tmp_path / "new" / "deeper").iterdir()) == []
