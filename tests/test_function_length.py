"""No function in pixinfo is longer than ``MAX_LINES`` lines (its docstring counted): long ones are split."""

from __future__ import annotations

import ast
from pathlib import Path

import pixinfo

MAX_LINES = 80
SOURCE = Path(pixinfo.__file__).resolve().parent


def long_functions(root: Path = SOURCE, *, limit: int = MAX_LINES) -> list[str]:
    """``path:line name (N lines)`` of every function or method under ``root`` longer than ``limit`` lines."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_is_longer_than_the_limit():
    too_long = long_functions()
    assert not too_long, f"functions over {MAX_LINES} lines: " + "; ".join(too_long)


def test_the_check_finds_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(f"def short():\n    return 1\n\n\ndef long():\n{body}\n")
    assert long_functions(tmp_path / "pkg") == [f"pkg/m.py:5 long ({MAX_LINES + 1} lines)"]
