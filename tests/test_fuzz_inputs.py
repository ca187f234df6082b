"""Property-based fuzzing of what users type: spec strings and command lines.

Any input gives a valid result or a typed error raised by pixinfo itself (PixinfoError, or a
ValueError/TypeError from pixinfo's own code); on the command line, exit status 0, or 2 with
``error:`` on stderr and no traceback. Never another exception. Inputs are small and the
commands cheap (``score`` on 8 digits images; ``train`` up to its checked setup, no epochs).
"""

import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from pixinfo.transforms import build_transform, transform_names
from tests.raises import TYPED, assert_raised_by_pixinfo, run_cli

NAMES = [*sorted(transform_names()), "bogus", "Permutation", ""]
KEYS = ["seed", "k", "size", "fraction", "bits", "n", "strength", "bijective", "shuffle_within", "shuffle-blocks",
        "rotate", "flip", "authors", "scale", "divisor", "cutoff", "x", "1a", ""]  # fmt: skip
VALUES = ["0", "1", "2", "4", "-1", "1.5", "nan", "inf", "-inf", "1e30", "true", "False", "YES", "no", "off",
          "None", "", "abc", "mnist", "cifar10", "99999999999999999999", "0x10", " 3 "]  # fmt: skip

_part = st.one_of(st.builds("{}={}".format, st.sampled_from(KEYS), st.sampled_from(VALUES)), st.sampled_from(VALUES))
_one = st.builds(lambda name, parts: name + (":" + ",".join(parts) if parts else ""),
                 st.sampled_from(NAMES), st.lists(_part, max_size=4))  # fmt: skip
SPECS = st.one_of(
    st.lists(_one, min_size=1, max_size=3).map("+".join),
    st.text(alphabet=":=,+.-_ abcdefgikmnoprstuvwxyz0123456789", max_size=40),
)
SHAPES = {None: (1, 8, 8), "mnist": (1, 28, 28), "cifar10": (3, 32, 32)}


@settings(max_examples=100)
@given(spec=SPECS, dataset=st.sampled_from(sorted(SHAPES, key=str)))
def test_any_spec_builds_a_working_transform_or_raises_a_typed_error(spec, dataset):
    shape = SHAPES[dataset]
    try:
        transform = build_transform(spec, shape=shape, dataset=dataset)
    except TYPED as err:
        assert_raised_by_pixinfo(err)
        return
    x = torch.rand(2, *shape)
    y = transform(x)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert build_transform(transform.spec, shape=shape, dataset=dataset).spec == transform.spec


def _options(pools: dict[str, tuple[list[str], list[str]]]):
    """Up to three ``--flag value`` pairs, flattened; ``pools[flag]`` is (good values, bad values),
    a good value drawn three times as often as a bad one."""

    def value(flag: str):
        good, bad = pools[flag]
        return st.one_of(*[st.sampled_from(good)] * 3, st.sampled_from(bad))

    pairs = st.lists(st.sampled_from(sorted(pools)).flatmap(lambda f: st.tuples(st.just(f), value(f))), max_size=3)
    return pairs.map(lambda ps: [item for pair in ps for item in pair])


COUNTS = (["1", "2", "3", "8"], ["-5", "-1", "0", "1.5", "ten", "", "1e3"])
NONNEGATIVE = (["0", "1", "2", "8"], ["-5", "-1", "1.5", "ten", ""])
SCORE_POOLS = {
    "--max-images": (["2", "5", "99999999999999999999"], COUNTS[1]),
    "--max-maps": COUNTS,
    "--n-boot": NONNEGATIVE,
    "--n-boot-value": NONNEGATIVE,
    "--max-value-images": COUNTS,
    "--batch-size": COUNTS,
    "--seed": (["0", "7", "9223372036854775807"], ["-1", "9223372036854775808", "1.5", "x"]),
    "--transform": (["negative", "block:size=4,shuffle_within=yes", "xor:bits=1", "swaps:k=3,seed=2", "monotone"],
                    ["block:size=4,shuffle_within=off", "swaps:k=-1", "vortex:authors", "permutation:seed=0,seed=1",
                     "partial-permutation:fraction=nan", "vortex:authors=mnist"]),
    "--kernel": (["power:scale=2,cutoff=3", "gaussian:scale=1", "exponential:scale=0.5"],
                 ["gaussian:width=1", "exponential:scale=0", "cosine:scale=1", "power", "power:scale=1,scale=2"]),
    "--split": (["train", "test", "all"], ["validation"]),
    "--device": (["cpu"], ["tpu", "cuda:x"]),
}  # fmt: skip


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-out")


def _assert_clean(code, err, argv):
    assert code == 0 or (code == 2 and "error:" in err), (argv, code, err[-1500:])
    assert "Traceback" not in err and "internal error" not in err, (argv, err[-1500:])


@settings(max_examples=40)
@given(options=_options(SCORE_POOLS))
def test_score_command_lines_succeed_or_fail_cleanly(out_dir, options):
    argv = ["score", "--dataset", "digits", "--max-images", "8", "--no-progress", "--n-boot", "20",
            "--out", str(out_dir), *options]  # fmt: skip
    code, _, err = run_cli(argv)
    _assert_clean(code, err, argv)


TRAIN_POOLS = {
    "--model": (["mlp", "cnn"], ["lenet", "resnet"]),
    "--epochs": COUNTS,
    "--batch-size": COUNTS,
    "--max-train": (["64", "500"], COUNTS[1]),
    "--seed": NONNEGATIVE,
    "--crop-pad": NONNEGATIVE,
    "--lr": (["0.1", "1e-3"], ["0", "-1", "nan", "inf", "x"]),
    "--weight-decay": (["0", "1e-4"], ["-1", "nan"]),
    "--momentum": (["0.9", "0"], ["1", "-0.1"]),
    "--warmup": (["0.2"], ["0", "1"]),
    "--negative-p": (["0.5"], ["2"]),
    "--model-options": (["{}", '{"hidden": [16]}', '{"hidden": []}'],
                        ['{"hidden": [0]}', '{"hidden": 5}', '{"width": 0}', "not json", "[1]", '{"depth": 2}']),
    "--transform": (["negative", "swaps:k=3", "block:size=2,flip=yes", "per-image-permutation"],
                    ["block:size=2,flip=maybe", "permutation:seed=-1", "vortex:authors", "block:size=3"]),
    "--optimizer": (["sgd", "adamw"], ["adam"]),
}  # fmt: skip


@settings(max_examples=60)
@given(options=_options(TRAIN_POOLS))
def test_train_command_lines_are_checked_before_training(out_dir, options):
    """Argument parsing and the run's checked setup (data, transform, model); no epoch is trained."""
    import pixinfo.train
    from pixinfo.train.trainer import _setup

    def setup_only(config, **kwargs):
        config.validate()
        _setup(config, None)
        raise SystemExit(0)

    argv = ["train", "--dataset", "digits", "--model", "mlp", "--out", str(out_dir / "train"), "--no-progress", *options]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pixinfo.train, "train", setup_only)
        code, _, err = run_cli(argv)
    _assert_clean(code, err, argv)
    assert not list((out_dir / "train").glob("*.json"))


def test_the_fuzzed_score_runs_wrote_whole_records(out_dir):
    for path in out_dir.glob("score-*.json"):
        assert json.loads(path.read_text())["kind"] == "score"
