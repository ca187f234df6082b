"""The documentation's code runs: every ```python block of the quickstart and the how-to guides,
in order, one namespace per page."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = [
    "getting-started/quickstart.md",
    "how-to/score-your-transform.md",
    "how-to/predict.md",
    "how-to/assess.md",
    "how-to/study.md",
    "how-to/train-encrypted.md",
    "how-to/add-a-transform.md",
    "how-to/add-a-measure.md",
    "how-to/add-an-attack.md",
]


@pytest.mark.parametrize("page", PAGES)
def test_page_code_runs(page, capsys):
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), flags=re.S)
    assert blocks, f"{page} has no python code"
    namespace: dict = {"__name__": f"docs_{page}"}
    for code in blocks:
        exec(compile(code, f"{page}", "exec"), namespace)  # noqa: S102 - our own documentation
