"""scripts/check_site.py, the check of the built docs site (`make docs-check`), reports what it
is there to catch: a broken link or fragment, an image that does not load, a literal Sphinx role,
a blank page and (a warning) a blank image, on a tiny site written here."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_site.py"


@pytest.fixture(scope="module")
def check_site():
    spec = importlib.util.spec_from_file_location("check_site", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def page(body: str) -> str:
    return f"<!doctype html><html><head><meta charset='utf-8'><title>t</title></head><body>{body}</body></html>"


@pytest.fixture
def site(tmp_path):
    from PIL import Image

    (tmp_path / "figures").mkdir()
    ok = Image.new("RGB", (40, 30), (200, 30, 30))
    ok.paste((30, 30, 200), (10, 10, 30, 20))
    ok.save(tmp_path / "figures" / "ok.png")
    Image.new("RGB", (40, 30), (255, 255, 255)).save(tmp_path / "figures" / "blank.png")
    words = "A page with enough words to count as read. " * 10
    (tmp_path / "index.html").write_text(page(
        f"<h1 id='top'>Home</h1><p>{words}</p><p>See :func:`pixinfo.score` for details.</p>"
        "<img src='figures/ok.png'><img src='figures/missing.png'>"
        "<a href='api/'>api</a><a href='api/#there'>there</a><a href='api/#nowhere'>nowhere</a>"
        "<a href='gone/'>gone</a><a href='#top'>top</a><a href='https://example.org/x'>out</a>"
    ))  # fmt: skip
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "index.html").write_text(page(f"<h2 id='there'>There</h2><p>{words}</p><img src='../figures/ok.png'><img src='../figures/blank.png'>"))
    (tmp_path / "blank").mkdir()
    (tmp_path / "blank" / "index.html").write_text(page(""))
    return tmp_path


def test_link_check_reports_missing_files_and_fragments(check_site, site):
    problems = check_site.check_links(site)
    assert problems == [
        "index.html: <img> 'figures/missing.png': figures/missing.png does not exist",
        "index.html: <a> 'api/#nowhere': no id 'nowhere' in api/index.html",
        "index.html: <a> 'gone/': gone/index.html does not exist",
    ]
    assert check_site.blank_images(site) == ["figures/blank.png (shown on api/index.html) is a single colour"]


def test_render_reports_broken_images_sphinx_roles_and_blank_pages(check_site, site):
    browser = check_site.find_browser()
    if browser is None:
        pytest.skip("no Chromium or Chrome executable (bash scripts/install_chromium.sh installs Debian's chromium)")
    problems = check_site.check_render(site, ["index.html", "api/index.html", "blank/index.html"], browser)
    assert any(p.startswith("index.html: image 'figures/missing.png' did not load") for p in problems), problems
    assert any(p.startswith("index.html: literal Sphinx role :func:`") for p in problems), problems
    assert any(p.startswith("blank/index.html: the screenshot is a single colour") for p in problems), problems
    assert any(p.startswith("blank/index.html: only 0 characters") for p in problems), problems
    assert not [p for p in problems if p.startswith("api/")], problems
    assert len(problems) == 4, problems
