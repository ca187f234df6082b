"""Shared helpers of the raise-tests: an error is typed and raised by pixinfo itself; the CLI fails cleanly."""

from __future__ import annotations

import contextlib
import io
import re
import traceback
from pathlib import Path

import pixinfo
from pixinfo.errors import PixinfoError

PIXINFO_DIR = Path(pixinfo.__file__).resolve().parent
TYPED = (PixinfoError, ValueError, TypeError)


def assert_raised_by_pixinfo(err: BaseException) -> None:
    """``err`` is a typed error (PixinfoError, ValueError, TypeError) whose innermost frame is pixinfo's."""
    assert isinstance(err, TYPED), f"untyped {type(err).__name__}: {err}"
    frames = traceback.extract_tb(err.__traceback__)
    where = Path(frames[-1].filename).resolve() if frames else PIXINFO_DIR
    assert where == PIXINFO_DIR or PIXINFO_DIR in where.parents, (
        f"{type(err).__name__} raised outside pixinfo, at {where}:{frames[-1].lineno}: {err}"
    )


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``pixinfo.cli.main(argv)`` in-process: exit status, stdout, stderr (argparse exits count too)."""
    from pixinfo.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as done:
            code = done.code
    return code, out.getvalue(), err.getvalue()


def assert_cli_error(argv: list[str], match: str | None = None) -> str:
    """The command fails like a CLI: status 2, ``error:`` on stderr, no traceback; returns stderr."""
    code, _, err = run_cli(argv)
    assert code == 2, f"exit status {code} for {argv}; stderr: {err[-1500:]}"
    assert "error:" in err and "Traceback" not in err and "internal error" not in err, err[-1500:]
    if match is not None:
        assert re.search(match, err), f"{match!r} not in: {err[-1500:]}"
    return err
