"""Every diagram of the built manual renders in a real browser (`make docs-check` runs this
after `mkdocs build --strict`).

    python scripts/check_docs_diagrams.py SITE_DIR

Serves SITE_DIR on 127.0.0.1 (on a port the system picks) and opens each page that has a
diagram in headless Chromium (Debian's `chromium`; Google Chrome where that is the machine's
browser, as on CodeBuild's standard image; or the browser named by CHROMIUM), with every host
but 127.0.0.1 made unresolvable: a page that needed anything from outside the site (Mermaid
from a CDN, say) fails. Once the page's scripts have run, it reads the page as the browser
holds it: `docs/assets/diagrams.js` marks each diagram `rendered` (its SVG drawn) or `error`
(with Mermaid's message). A page passes when each of its diagrams is an SVG and none failed
or shows Mermaid's "Syntax error"; the check also fails when the site has no diagram at all
(the Mermaid fence would then not be wired).

Exit status: 0 every diagram rendered, 1 one did not, 2 no site or no browser.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# The flags that work on the build machines: no sandbox as root, no GPU, and nothing that
# would reach for the network in the background (it is closed, and each refusal is noise).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--virtual-time-budget=30000",  # milliseconds of page time for the scripts to finish
    "--dump-dom",
)
PAGE_TIMEOUT_SECONDS = 90
DIAGRAM = '<div class="diagram">'


@dataclass
class Diagram:
    state: str  # "rendered", "error", or "" when the script never reached it
    error: str
    svg: bool = False


@dataclass
class PageResult:
    page: str
    expected: int
    summary: str = ""  # <html data-diagrams="...">
    diagrams: list[Diagram] = field(default_factory=list)
    problem: str = ""

    def failures(self) -> list[str]:
        if self.problem:
            return [self.problem]
        found = []
        if len(self.diagrams) != self.expected:
            found.append(f"{self.expected} diagrams in the page, {len(self.diagrams)} in the DOM")
        if self.summary != f"{self.expected} rendered, 0 failed":
            found.append(f"diagrams.js said {self.summary or 'nothing (did it run?)'}")
        for number, diagram in enumerate(self.diagrams, start=1):
            if diagram.state != "rendered" or not diagram.svg:
                why = diagram.error or "no SVG drawn"
                found.append(f"diagram {number}: {diagram.state or 'not rendered'}: {why}")
        return found


class DomReader(HTMLParser):
    """The diagrams in a DOM dump: each <div class="diagram"> and whether an <svg> opens in it."""

    def __init__(self) -> None:
        super().__init__()
        self.summary = ""
        self.diagrams: list[Diagram] = []
        self._inside: Diagram | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.summary = values.get("data-diagrams", "")
        if self._inside is not None:
            if tag == "svg":
                self._inside.svg = True
            if tag == "div":
                self._depth += 1
            return
        if tag == "div" and "diagram" in values.get("class", "").split():
            self._inside = Diagram(values.get("data-diagram", ""), values.get("data-error", ""))
            self.diagrams.append(self._inside)
            self._depth = 0

    def handle_endtag(self, tag: str) -> None:
        if self._inside is not None and tag == "div":
            if self._depth == 0:
                self._inside = None
            else:
                self._depth -= 1


def find_browser(environ: dict[str, str]) -> str | None:
    named = environ.get("CHROMIUM")
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def pages_with_diagrams(site: Path) -> dict[str, int]:
    """Each page of the site (its path under the site) → how many diagrams it has."""
    pages = {}
    for html in sorted(site.rglob("*.html")):
        count = html.read_text(encoding="utf-8").count(DIAGRAM)
        if count:
            pages[html.relative_to(site).as_posix()] = count
    return pages


@contextmanager
def serve(site: Path) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def check_page(browser: str, base_url: str, page: str, expected: int) -> PageResult:
    result = PageResult(page, expected)
    with tempfile.TemporaryDirectory(prefix="opsbundle-chromium-") as profile:
        command = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", base_url + page]
        try:
            done = subprocess.run(  # noqa: S603 (the browser found on PATH, fixed flags)
                command,
                capture_output=True,
                text=True,
                timeout=PAGE_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            result.problem = f"the browser did not finish in {PAGE_TIMEOUT_SECONDS} s"
            return result
    if done.returncode != 0 or "<html" not in done.stdout:
        last = done.stderr.strip().splitlines()[-1:] or ["no output"]
        result.problem = f"the browser failed (exit {done.returncode}): {last[0]}"
        return result
    reader = DomReader()
    reader.feed(done.stdout)
    result.summary, result.diagrams = reader.summary, reader.diagrams
    if "Syntax error" in done.stdout:
        result.problem = "the page shows Mermaid's 'Syntax error' diagram"
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("site", type=Path, help="the built site (mkdocs build --site-dir)")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"check_docs_diagrams: {args.site} holds no built site (mkdocs build)")
        return 2
    browser = find_browser(dict(os.environ))
    if browser is None:
        print(
            "check_docs_diagrams: no Chromium or Chrome found (scripts/ensure-system-packages "
            "docs installs Debian's chromium; CHROMIUM names another)"
        )
        return 2
    pages = pages_with_diagrams(args.site)
    if not pages:
        print("check_docs_diagrams: no page has a diagram: is the mermaid fence configured?")
        return 1
    started = time.monotonic()
    with serve(args.site) as base_url, ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda item: check_page(browser, base_url, *item), pages.items()))
    seconds = time.monotonic() - started
    failed = [(result, failure) for result in results for failure in result.failures()]
    for result, failure in failed:
        print(f"  {result.page}: {failure}")
    total = sum(pages.values())
    verdict = "FAILED" if failed else "all rendered"
    print(
        f"docs diagrams: {total} diagrams on {len(pages)} pages, {verdict}, in {seconds:.1f} s "
        f"({Path(browser).name}, headless)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
