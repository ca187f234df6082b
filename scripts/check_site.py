"""Check the built docs site as a reader sees it: links resolve, pages render, images load.

Usage: python scripts/check_site.py [SITE] [--page PATH ...] [--require-browser]

1. Links (every page, no browser): every relative ``href``/``src`` of ``SITE/**/*.html`` names a
   file of the site (a folder means its ``index.html``), and a ``#fragment`` into a page names an
   ``id`` of that page. MkDocs' own validation (mkdocs.yml ``validation:``) checks the links
   written in Markdown; this also covers those that mkdocstrings, autorefs and the theme write.
2. Rendering (``--page``; default: the home page, the key-recovery experiment page and the
   transforms API page, the one with the most cross-references), in headless Chromium: a copy of
   each page, with a script added that waits for every image and writes what it found into the
   page, is loaded from ``file://``, its DOM dumped and a screenshot taken. A page fails when the screenshot is one colour, its
   rendered text is (nearly) empty, an ``<img>`` did not load (``naturalWidth`` 0), or the text
   shows a literal Sphinx role (``:func:`…```), which MkDocs does not turn into a link.
3. Every image a page shows that is a single colour (it loads, but shows nothing) is printed as
   a warning; it does not fail the check.

Without a Chromium or Chrome executable (``scripts/install_chromium.sh`` installs Debian's
``chromium``; ``$CHROMIUM`` names another) the rendering checks are skipped with a message, unless
``--require-browser`` is given. Exit status 1 lists every problem found.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_PAGES = ("index.html", "experiments/key-recovery/index.html", "api/transforms/index.html")
SPHINX_ROLES = (":func:`", ":meth:`", ":class:`", ":mod:`", ":attr:`", ":obj:`", ":data:`", ":exc:`")
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MIN_TEXT_CHARS = 200  # a rendered page with less visible text than this counts as blank
MARK = "pixinfo-site-check"

# Added at the end of <body>: images are made eager (a lazy image below the fold would never
# load), then once each has loaded or failed, a <pre> receives the count and the visible text.
PROBE = """<script>
(function () {
  var imgs = Array.prototype.slice.call(document.images);
  imgs.forEach(function (img) { img.loading = "eager"; });
  var settle = function (img) {
    return new Promise(function (done) {
      if (img.complete) { done(); return; }
      img.addEventListener("load", done); img.addEventListener("error", done);
    });
  };
  var report = function () {
    var broken = imgs.filter(function (img) { return !(img.complete && img.naturalWidth > 0); })
                     .map(function (img) { return img.getAttribute("src"); });
    var out = document.createElement("pre");
    out.id = "MARK";
    out.style.display = "none";
    out.textContent = JSON.stringify({images: imgs.length, broken: broken, text: document.body.innerText});
    document.body.appendChild(out);
  };
  window.addEventListener("load", function () { Promise.all(imgs.map(settle)).then(report); });
})();
</script>
""".replace("MARK", MARK)


class _Refs(HTMLParser):
    """The link targets (href, src) and the ids of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name") and (name == "id" or tag == "a"):
                self.ids.add(value)
            elif name in ("href", "src"):
                self.refs.append((tag, value))


def _parse(path: Path) -> _Refs:
    parser = _Refs()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def _target(site: Path, page: Path, ref: str) -> tuple[Path, str] | None:
    """The file a relative reference of ``page`` names and its fragment; None for an external,
    absolute, data or same-page reference."""
    parts = urlsplit(ref)
    if parts.scheme or parts.netloc or ref.startswith(("/", "#")) or not parts.path:
        return None
    path = (page.parent / unquote(parts.path)).resolve()
    if ref.split("#")[0].split("?")[0].endswith("/") or path.is_dir():
        path = path / "index.html"
    return path, unquote(parts.fragment)


def check_links(site: Path) -> list[str]:
    """Problems with the relative links of every page of ``site``: a missing file, a link out of
    the site, or a fragment naming no id of its target page."""
    site = site.resolve()
    pages = sorted(site.rglob("*.html"))
    parsed = {p: _parse(p) for p in pages}
    problems = []
    for page in pages:
        name = page.relative_to(site)
        for tag, ref in parsed[page].refs:
            found = _target(site, page, ref)
            if found is None:
                if ref.startswith("#") and len(ref) > 1 and unquote(ref[1:]) not in parsed[page].ids:
                    problems.append(f"{name}: <{tag}> {ref!r}: no such id in the page")
                continue
            path, fragment = found
            if not path.is_relative_to(site):
                problems.append(f"{name}: <{tag}> {ref!r} leaves the site")
            elif not path.is_file():
                problems.append(f"{name}: <{tag}> {ref!r}: {path.relative_to(site)} does not exist")
            elif fragment and path.suffix == ".html":
                ids = parsed[path].ids if path in parsed else _parse(path).ids
                if fragment not in ids:
                    problems.append(f"{name}: <{tag}> {ref!r}: no id {fragment!r} in {path.relative_to(site)}")
    return problems


def blank_images(site: Path) -> list[str]:
    """The images that pages of ``site`` show (``<img>`` with a relative ``src``) that are a
    single colour: reported as warnings, since such a figure loads but shows nothing."""
    site = site.resolve()
    shown: dict[Path, str] = {}
    for page in sorted(site.rglob("*.html")):
        for tag, ref in _parse(page).refs:
            found = _target(site, page, ref) if tag == "img" else None
            if found and found[0].suffix.lower() in {".png", ".jpg", ".jpeg"} and found[0].is_file():
                shown.setdefault(found[0], str(page.relative_to(site)))
    return [f"{path.relative_to(site)} (shown on {page}) is a single colour"
            for path, page in sorted(shown.items()) if _colours(path) < 2]  # fmt: skip


def find_browser() -> str | None:
    """``$CHROMIUM``, else the first Chromium or Chrome executable on the PATH."""
    if os.environ.get("CHROMIUM"):
        return shutil.which(os.environ["CHROMIUM"])
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def _chromium(browser: str, profile: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
               "--mute-audio", f"--user-data-dir={profile}", "--virtual-time-budget=10000", *args]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def _colours(png: Path) -> int:
    """How many distinct colours the screenshot holds (up to 2: that is all a check needs)."""
    from PIL import Image

    with Image.open(png) as image:
        extrema = image.convert("RGB").getextrema()
    return 1 if all(low == high for low, high in extrema) else 2


def render(page: Path, browser: str, work: Path, *, size: str = "1280,1600") -> dict:
    """Render ``page`` (a file of a site) in headless Chromium. Returns ``{"images": n,
    "broken": [src, ...], "text": visible text, "colours": 1 or 2}``; raises RuntimeError when
    the browser gives no result.

    The probe runs in a copy of the page in ``work``, whose ``<base>`` points back to the page's
    folder, so its relative links hold and the site is left as it was."""
    source = page.read_text(encoding="utf-8")
    base = f'<base href="{page.parent.as_uri()}/">'
    head = re.search(r"<head[^>]*>", source)
    source = source[: head.end()] + base + source[head.end() :] if head else base + source
    body_end = source.rfind("</body>")
    source = source[:body_end] + PROBE + source[body_end:] if body_end >= 0 else source + PROBE
    probe = work / f"{MARK}.html"
    probe.write_text(source, encoding="utf-8")
    shot = work / "screenshot.png"
    shot.unlink(missing_ok=True)
    done = _chromium(browser, work / "profile", f"--window-size={size}", f"--screenshot={shot}", "--dump-dom",
                     probe.as_uri())  # fmt: skip
    found = re.search(rf'<pre id="{MARK}"[^>]*>(.*?)</pre>', done.stdout, flags=re.S)
    if found is None or not shot.is_file():
        raise RuntimeError(f"the browser returned no result (exit {done.returncode}): {done.stderr[-1500:]}")
    result = json.loads(html.unescape(found.group(1)))
    result["colours"] = _colours(shot)
    return result


def check_render(site: Path, pages: list[str], browser: str) -> list[str]:
    """Problems of each of ``pages`` (paths relative to ``site``) rendered in ``browser``."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="pixinfo-site-check-") as tmp:
        for name in pages:
            page = (site / name).resolve()
            if not page.is_file():
                problems.append(f"{name}: not in the site")
                continue
            start = time.perf_counter()
            try:
                result = render(page, browser, Path(tmp))
            except (RuntimeError, subprocess.TimeoutExpired) as err:
                problems.append(f"{name}: {err}")
                continue
            text = result["text"]
            print(f"  {name}: {result['images']} images, {len(result['broken'])} broken, "
                  f"{len(text)} characters of text ({time.perf_counter() - start:.1f} s)")  # fmt: skip
            if result["colours"] < 2:
                problems.append(f"{name}: the screenshot is a single colour (a blank page)")
            if len(text.strip()) < MIN_TEXT_CHARS:
                problems.append(f"{name}: only {len(text.strip())} characters of visible text")
            for src in result["broken"]:
                problems.append(f"{name}: image {src!r} did not load")
            for role in SPHINX_ROLES:
                if role in text:
                    at = text.index(role)
                    problems.append(f"{name}: literal Sphinx role {role} in the text: {text[max(0, at - 40) : at + 60]!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site", nargs="?", default="site", type=Path, help="the built site (default: %(default)s)")
    parser.add_argument("--page", action="append", dest="pages", metavar="PATH",
                        help=f"a page to render, relative to SITE (repeatable; default: {' '.join(DEFAULT_PAGES)})")
    parser.add_argument("--require-browser", action="store_true", help="fail, rather than skip, without a browser")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"{args.site}: no built site here (run make docs first)", file=sys.stderr)
        return 1
    start = time.perf_counter()
    problems = check_links(args.site)
    n_pages = sum(1 for _ in args.site.rglob("*.html"))
    print(f"links: {n_pages} pages checked, {len(problems)} problems ({time.perf_counter() - start:.1f} s)")
    for warning in blank_images(args.site):
        print(f"WARN image {warning}")
    browser = find_browser()
    if browser is None:
        message = "no Chromium or Chrome found (bash scripts/install_chromium.sh installs Debian's chromium)"
        if args.require_browser:
            problems.append(message)
        else:
            print(f"rendering: skipped: {message}")
    else:
        print(f"rendering with {browser}:")
        problems += check_render(args.site, args.pages or list(DEFAULT_PAGES), browser)
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    print(f"{'FAILED' if problems else 'ok'} in {time.perf_counter() - start:.1f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
