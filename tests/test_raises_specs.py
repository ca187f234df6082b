"""Spec strings (transforms and kernels): every bad value is a typed error naming the parameter.

Table-driven in the style of foolbox's tests: one row per input a user might type, with the
error it must raise and what its message must say. Booleans are ``true/false/1/0/yes/no`` in any
case, anything else an error (no truthiness); repeated keys, out-of-range counts and seeds,
non-finite numbers and keys for another grid are refused.
"""

import pytest
import torch

from pixinfo.cli import parse_kernel
from pixinfo.errors import PixinfoError, ShapeError
from pixinfo.transforms import build_transform
from tests.raises import assert_raised_by_pixinfo

SHAPE = (1, 28, 28)

BAD_SPECS = [
    # booleans by truthiness (both built the option *on*)
    ("block:size=4,shuffle_within=off", "shuffle_within must be a boolean.*'off'"),
    ("vortex:seed=0,bijective=no_thanks", "bijective must be a boolean.*'no_thanks'"),
    ("block:size=4,rotate=2", "rotate must be a boolean"),
    ("block:size=4,flip=none", "flip must be a boolean"),
    ("vortex:authors,bijective=on", "bijective must be a boolean"),
    # repeated keys
    ("permutation:seed=0,seed=1", "'seed' is given twice"),
    ("block:size=4,shuffle-within=true,shuffle_within=false", "'shuffle_within' is given twice"),
    # seeds: integers in [0, 2**63)
    ("permutation:seed=-1", "seed must be an integer >= 0.*-1"),
    ("permutation:seed=1.5", "seed must be an integer.*1.5"),
    ("swaps:k=3,seed=true", "seed must be an integer.*True"),
    ("xor:seed=99999999999999999999", "seed must be an integer.*99999999999999999999"),
    # counts
    ("swaps:k=-3", "k must be an integer >= 0.*-3"),
    ("swaps:k=2.5", "k must be an integer"),
    ("swaps:k=10000000000", "k must be an integer .*<= 1000000"),
    ("block:size=0", "size must be an integer >= 1"),
    ("block:size=big", "size must be an integer"),
    ("vortex:seed=0,n=-1", "n_vortices must be an integer >= 0"),
    ("vortex:seed=0,n=1000000000", "n_vortices must be an integer .*<= 10000"),
    ("vortex:authors=mnist,n=x", "n_vortices must be an integer"),
    ("xor:bits=4", "bits must be 8 or 1"),
    # finite numbers in range
    ("partial-permutation:fraction=nan", "fraction must be a finite number"),
    ("partial-permutation:fraction=1.5", "fraction must be a finite number >= 0 and <= 1.*1.5"),
    ("vortex:seed=0,strength=inf", "strength must be a finite number"),
    ("vortex:seed=0,divisor=0", "divisor must be a finite number > 0"),
    ("vortex:seed=0,scale=nan", "scale must be a finite number"),
    # names and structure
    ("bogus", "unknown transform 'bogus'"),
    (":seed=1", "must start with a name"),
    ("permutation+", "non-empty string"),
    ("negative:x=1", "bad parameters for transform 'negative'"),
    ("permutation:1x=2", "bad parameter name"),
    ("permutation:seed=1,extra", "positional parameter 'extra' after keyword"),
    ("vortex:authors", "picks the authors' key of the dataset"),
]


def test_a_key_for_another_grid_is_refused_when_built():
    with pytest.raises(ShapeError, match="keyed for 28x28 images, not 8x8"):
        build_transform("vortex:authors=mnist", shape=(1, 8, 8))


def _map(spec: str) -> torch.Tensor:
    return build_transform(spec, shape=SHAPE).gather_map(SHAPE)


@pytest.mark.parametrize("word", ["true", "TRUE", "True", "1", "yes", "YES"])
def test_true_words_turn_an_option_on(word):
    assert torch.equal(_map(f"block:size=4,shuffle_within={word}"), _map("block:size=4,shuffle_within=true"))
    assert torch.equal(_map(f"vortex:seed=0,bijective={word}"), _map("vortex:seed=0,bijective=true"))


@pytest.mark.parametrize("word", ["false", "FALSE", "0", "no", "No"])
def test_false_words_turn_an_option_off(word):
    assert torch.equal(_map(f"block:size=4,shuffle_within={word}"), _map("block:size=4"))
    assert not torch.equal(_map("block:size=4,shuffle_within=true"), _map("block:size=4"))
    assert torch.equal(_map(f"vortex:seed=0,bijective={word}"), _map("vortex:seed=0"))


BAD_KERNELS = [
    ("exponential:scale=2,scale=3", "'scale' is given twice"),
    ("power:scale=nan", "scale must be finite"),
    ("gaussian:scale=1,cutoff=0.5", "cutoff must be finite and >= 1"),
    ("gaussian:width=2", "bad parameters for kernel spec"),
    ("exponential:2", "kernel parameters must be named"),
    ("cosine:scale=1", "kernel family must be one of"),
]


PARSERS = {"transform": lambda spec: build_transform(spec, shape=SHAPE), "kernel": parse_kernel}


@pytest.mark.parametrize(
    ("kind", "spec", "match"),
    [("transform", *row) for row in BAD_SPECS] + [("kernel", *row) for row in BAD_KERNELS],
)
def test_bad_spec_raises_a_typed_error_naming_the_parameter(kind, spec, match):
    with pytest.raises((PixinfoError, ValueError, TypeError), match=match) as err:
        PARSERS[kind](spec)
    assert_raised_by_pixinfo(err.value)
