"""Progress bars show on a terminal and stay off when the output is not one (a log, a pipe)."""

import subprocess
import sys


def test_no_progress_bar_when_output_is_not_a_terminal(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pixinfo", "score", "--dataset", "digits", "--transform", "negative",
                           "--max-images", "200", "--n-boot", "5", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "batch/s" not in done.stderr and "it/s" not in done.stderr
