"""One grammar for every subcommand: options generated from dataclasses, defaults shown and taken from the library."""

from __future__ import annotations

import argparse
import dataclasses
import inspect

import pytest

from pixinfo import _cli_grammar as grammar
from pixinfo.cli import COMMANDS, SCORE_TABLE_OPTIONS, build_parser, kernel_spec, parse_kernel

# the common options each subcommand must have (where they mean something for it)
COMMON = {
    "score": {"--seed", "--device", "--no-progress", "--root", "--out", "--import"},
    "predict": {"--seed", "--root", "--import"},
    "train": {"--seed", "--device", "--no-progress", "--root", "--out", "--import"},
    "recover-key": {"--out", "--import", "--root", "--seed"},
    "assess": {"--seed", "--device", "--no-progress", "--root", "--out", "--import"},
    "semantic": {"--seed", "--device", "--root", "--out", "--import"},
    "study": {"--seed", "--device", "--no-progress", "--out", "--import"},
    "fool": {"--seed", "--device", "--no-progress", "--out"},
    "datasets": set(),
    "transforms": {"--import"},
}


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def _squeeze(text: str) -> str:
    return "".join(text.split())  # argparse wraps help lines (and breaks them at hyphens)


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if a.option_strings and not isinstance(a, argparse._HelpAction)]


def _has_default(action: argparse.Action) -> bool:
    """Options that have a default to show: not required, and not a flag that is off unless given."""
    return not action.required and not isinstance(action, argparse._StoreTrueAction)


def test_every_command_is_tested_here():
    assert {c.name for c in COMMANDS} == set(COMMON)


@pytest.mark.parametrize("name", sorted(COMMON))
def test_help_shows_a_default_for_every_option_that_has_one(name):
    parser = _subparsers()[name]
    shown = _squeeze(parser.format_help())
    formatter = parser._get_formatter()
    checked = 0
    for action in _options(parser):
        text = formatter._expand_help(action)
        assert _squeeze(text) in shown, f"{name} {action.option_strings[0]}: help not in --help"
        if _has_default(action):
            assert "default:" in text.lower(), f"pixinfo {name} {action.option_strings[0]}: no default in {text!r}"
            checked += 1
    assert checked or name == "datasets"


@pytest.mark.parametrize(("name", "expected"), sorted(COMMON.items()))
def test_common_options_exist_where_they_mean_something(name, expected):
    flags = {s for a in _options(_subparsers()[name]) for s in a.option_strings}
    assert expected <= flags, f"pixinfo {name} lacks {sorted(expected - flags)}"


def test_recover_key_keeps_its_alias():
    parsers = _subparsers()
    assert parsers["attack"] is parsers["recover-key"]


def test_score_defaults_are_scorings():
    from pixinfo.scoring import score_table

    parser = _subparsers()["score"]
    signature = inspect.signature(score_table).parameters
    defaults = {a.dest: a.default for a in _options(parser)}
    for name in (*SCORE_TABLE_OPTIONS, "split"):
        assert defaults[name] == signature[name].default, name
    assert parse_kernel(defaults["kernel"]) == signature["kernel"].default


def test_defaults_shown_are_the_library_defaults():
    from pixinfo.adversarial.fooling import evolve
    from pixinfo.assess import DEFAULT_SIZES

    parsers = _subparsers()
    fool = {a.dest: a for a in _options(parsers["fool"])}
    for name in ("target", "population", "generations", "seed"):
        assert fool[name].default == inspect.signature(evolve).parameters[name].default
        assert f"(default: {fool[name].default})" in fool[name].help
    assess = {a.dest: a.default for a in _options(parsers["assess"])}
    assert {k: assess[k] for k in DEFAULT_SIZES} == DEFAULT_SIZES


def test_kernel_spec_round_trips():
    from pixinfo.info import DEFAULT_KERNEL, Kernel

    for kernel in (DEFAULT_KERNEL, Kernel("power", scale=3, cutoff=4), Kernel("gaussian", scale=1.5)):
        assert parse_kernel(kernel_spec(kernel)) == kernel


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_parsed_options_are_the_dataclass(command):
    """With no options given (bar the required ones), a command's options are its dataclass's defaults."""
    required = {"transform": ["--transform", "identity"], "model": ["--model", "m.pt"],
                "dataset": ["--dataset", "digits"], "out": ["--out", "o"]}  # fmt: skip
    fields = {f.name: f for f in dataclasses.fields(command.options)}
    argv = [command.name]
    for name, f in fields.items():
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            argv += required[name]
    args = build_parser().parse_args(argv)
    options = grammar.options_from_args(command.options, args)
    assert isinstance(options, command.options)
    for name, f in fields.items():
        if f.default is not dataclasses.MISSING and name not in required:
            assert getattr(options, name) == f.default, name


# -- the builder on its own -------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class _Example:
    name: str = grammar.option(help="a name")
    count: int = grammar.option(3, type=grammar.positive_int, help="how many")
    ratio: float | None = grammar.option(None, shown_default="all of it", help="what share")
    sizes: tuple[int, ...] = grammar.option((1, 2), help="sizes")
    tags: tuple[str, ...] = grammar.option(("a",), repeat=True, choices=("a", "b", "c"), help="a tag; repeatable")
    loud: bool = grammar.option(False, help="say more")
    colour: bool = grammar.option(True, help="in colour")
    extra: dict = grammar.option(default_factory=dict, help="JSON options")
    seed: int = grammar.seed_option()


def _example_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="example")
    grammar.add_options(parser, _Example)
    return parser


def test_builder_types_defaults_and_round_trip():
    parser = _example_parser()
    options = grammar.options_from_args(_Example, parser.parse_args(["--name", "x"]))
    assert options == _Example(name="x")
    argv = ["--name", "y", "--count", "5", "--ratio", "0.5", "--sizes", "4", "5", "--tags", "b", "--tags", "c",
            "--loud", "--no-colour", "--extra", '{"k": 1}', "--seed", "7"]  # fmt: skip
    options = grammar.options_from_args(_Example, parser.parse_args(argv))
    assert options == _Example(name="y", count=5, ratio=0.5, sizes=(4, 5), tags=("b", "c"), loud=True, colour=False,
                               extra={"k": 1}, seed=7)  # fmt: skip


def test_builder_help_shows_defaults():
    text = _squeeze(_example_parser().format_help())
    for shown in ("howmany(default:3)", "whatshare(default:allofit)", "sizes(default:12)", "repeatable(default:a)",
                  "incolour(default:True)", "(default:{})"):  # fmt: skip
        assert shown in text, shown
    assert "saymore(default" not in text  # a flag that is off unless given


@pytest.mark.parametrize(("argv", "match"), [
    (["--count", "0"], "argument --count: expected an integer >= 1, got 0"),
    (["--seed", "-1"], "argument --seed: expected an integer >= 0"),
    (["--ratio", "nan"], "argument --ratio: expected a finite number"),
    (["--tags", "d"], "argument --tags: invalid choice"),
    (["--extra", "[1]"], "expected a JSON object"),
    ([], "the following arguments are required: --name"),
])  # fmt: skip
def test_builder_checks_values_as_they_are_parsed(argv, match, capsys):
    with pytest.raises(SystemExit):
        _example_parser().parse_args(["--name", "x", *argv] if argv else argv)
    assert match in capsys.readouterr().err


def test_overrides_hold_only_the_options_given():
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Outer:
        values: dict = grammar.option(default_factory=dict, fields_of=_Example, prefix="v_", help="overrides",
                                      fields_metadata={"name": {"shown_default": "unnamed"}})  # fmt: skip

    parser = argparse.ArgumentParser(prog="outer")
    grammar.add_options(parser, Outer)
    assert grammar.options_from_args(Outer, parser.parse_args([])) == Outer(values={})
    parsed = parser.parse_args(["--count", "2", "--no-loud"])
    assert grammar.options_from_args(Outer, parsed).values == {"count": 2, "loud": False}
    assert "howmany(default:3)" in _squeeze(parser.format_help())


def test_an_option_without_help_is_refused():
    @dataclasses.dataclass
    class Bare:
        size: int = 3

    with pytest.raises(TypeError, match="'size' has no help"):
        grammar.add_options(argparse.ArgumentParser(), Bare)


def test_signature_default_reads_the_library():
    from pixinfo.scoring import score_table

    n_boot = inspect.signature(score_table).parameters["n_boot"].default
    assert grammar.signature_default(score_table, "n_boot") == n_boot
    with pytest.raises(TypeError, match="no default"):
        grammar.signature_default(score_table, "transforms")
