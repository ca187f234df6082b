"""Hostile inputs: each gave a silent wrong answer or an untyped traceback; each now raises a typed
error naming the parameter (or file), what was expected and what was given."""

import numpy as np
import pytest
import torch

from pixinfo.errors import PixinfoError
from tests.raises import assert_cli_error, assert_raised_by_pixinfo

TYPED = (PixinfoError, ValueError, TypeError)


# -- attack: a count of ciphertexts that is not positive ------------------------------------------
@pytest.mark.parametrize("n", ["0", "-5"])
def test_attack_cli_refuses_a_non_positive_n_images(tmp_path, n):
    assert_cli_error(["attack", "--transform", "negative", "--dataset", "digits", "--n-images", n,
                      "--out", str(tmp_path)], f"argument --n-images: expected an integer >= 1, got {n}")  # fmt: skip
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("n", [0, -5, 2.5])
def test_run_attack_refuses_a_non_positive_n_images(tmp_path, n):
    from pixinfo.privacy.report import run_attack

    with pytest.raises(TYPED, match=f"n_images must be an integer >= 1, got {n}") as err:
        run_attack(spec="negative", dataset="digits", n_images=n, out=tmp_path)
    assert_raised_by_pixinfo(err.value)
    assert not list(tmp_path.iterdir())
