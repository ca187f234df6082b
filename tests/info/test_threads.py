"""A library call never changes torch's thread count (numba's OpenMP layer shares torch's runtime)."""

import subprocess
import sys

import pytest

SCRIPT = """
import torch
torch.set_num_threads({threads})
import pixinfo
from pixinfo.data import load_dataset
from pixinfo.info import structural_retention
x = load_dataset("digits").train.images[:200]
structural_retention(torch.randperm(784), shape=(28, 28))
pixinfo.score("permutation:seed=0", x, n_boot=5, n_boot_value=0)
print(torch.get_num_threads())
"""


@pytest.mark.parametrize("threads", [1, 2])
def test_scoring_keeps_torch_threads(threads):
    """In a fresh interpreter (thread pools are per process): R's fused kernel and a whole score."""
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(threads=threads)], capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == str(threads)
