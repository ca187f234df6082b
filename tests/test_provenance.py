import json
import subprocess

from pixinfo.provenance import cpuinfo_fields, environment, git_state, make_record, write_json


def test_git_state_reads_a_repository(tmp_path):
    assert git_state(tmp_path) == {"commit": None, "dirty": None, "dirty_files": []}
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "f").write_text("x")
    subprocess.run(["git", "-C", str(tmp_path), "add", "f"], check=True)
    subprocess.run(
        ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "m"], check=True
    )
    state = git_state(tmp_path)
    assert len(state["commit"]) == 40 and state["dirty"] is False
    (tmp_path / "f").write_text("y")
    assert git_state(tmp_path)["dirty"] is True and git_state(tmp_path)["dirty_files"] == ["f"]


def test_record_round_trips(tmp_path):
    record = make_record("test", {"seed": 3}, [{"a": float("nan")}], device="cpu")
    path = write_json(tmp_path / "sub" / "r.json", record)
    back = json.loads(path.read_text())
    assert back["config"] == {"seed": 3} and back["environment"]["device"].startswith("cpu")
    assert set(environment()) >= {"pixinfo", "torch", "numpy", "scipy", "git"}


def test_cpuinfo_fields_first_processor_and_missing_file(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t\t: fpu avx2\n\nprocessor\t: 1\nmodel name\t: Other\n")
    assert cpuinfo_fields(info) == {"processor": "0", "model name": "Test CPU 9000", "flags": "fpu avx2"}
    assert cpuinfo_fields(tmp_path / "missing") == {}
