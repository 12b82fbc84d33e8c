"""MkDocs hook: the site serves its own copy of Mermaid, pinned, and never loads one from a CDN.

Material for MkDocs would fetch Mermaid from a CDN on every page view. The machines that build
and read this manual may reach package registries only, so the build takes Mermaid from the
npm registry instead: `npm pack mermaid@MERMAID_VERSION` (the tarball alone, without the
dependencies, which its `dist/mermaid.min.js` has built in), checked against
MERMAID_INTEGRITY, unpacked once into `.cache/mermaid/<version>/` and added to the site as
`assets/vendor/mermaid.min.js`, with its licence beside it. `docs/assets/diagrams.js`
renders each ```` ```mermaid ```` block with it (the fence becomes `<div class="diagram">`:
see `mkdocs.yml`), and `scripts/check_docs_diagrams.py` proves in a real browser that every
diagram of the built site renders.

To move to another Mermaid release, set both constants from `npm view mermaid@X.Y.Z
dist.integrity`, then `make docs-check`.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

MERMAID_VERSION = "12.3.0"
MERMAID_INTEGRITY = (  # the registry's `dist.integrity` of that release
    "sha512-4113TdXeLAsMruJ79OpFL5O8+LTFXhQqZ260rF3tgUmiNAtRm4Uume04I+"
    "65PRN6yZ69J4f8rVYWW8zRk65UYw=="
)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CACHE = PROJECT_ROOT / ".cache" / "mermaid" / MERMAID_VERSION
# tarball member → file in the cache → path in the site
ASSETS = (
    ("package/dist/mermaid.min.js", "mermaid.min.js", "assets/vendor/mermaid.min.js"),
    ("package/LICENSE", "LICENSE", "assets/vendor/mermaid.LICENSE.txt"),
)


def ensure_mermaid(cache: Path = CACHE) -> Path:
    """The folder holding Mermaid's files, fetched from the npm registry on first use."""
    if all((cache / name).is_file() for _, name, _ in ASSETS):
        return cache
    npm = shutil.which("npm")
    if npm is None:
        raise PluginError(
            "npm is not installed: the manual's diagrams need Mermaid from the npm registry "
            "(apt-get install npm, or Node.js)"
        )
    with tempfile.TemporaryDirectory(prefix="opsbundle-mermaid-") as scratch:
        done = subprocess.run(  # noqa: S603 (a fixed command, no shell)
            [npm, "pack", f"mermaid@{MERMAID_VERSION}", "--silent", "--pack-destination", scratch],
            capture_output=True,
            text=True,
            check=False,
        )
        tarball = Path(scratch) / f"mermaid-{MERMAID_VERSION}.tgz"
        if done.returncode != 0 or not tarball.is_file():
            raise PluginError(f"npm pack mermaid@{MERMAID_VERSION} failed: {done.stderr.strip()}")
        digest = hashlib.sha512(tarball.read_bytes()).digest()
        integrity = "sha512-" + base64.b64encode(digest).decode("ascii")
        if integrity != MERMAID_INTEGRITY:
            raise PluginError(
                f"mermaid-{MERMAID_VERSION}.tgz is {integrity}, not the pinned "
                f"{MERMAID_INTEGRITY}: refusing it"
            )
        cache.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarball) as tar:
            for member, name, _ in ASSETS:
                source = tar.extractfile(member)
                if source is None:
                    raise PluginError(f"mermaid-{MERMAID_VERSION}.tgz has no {member}")
                partial = cache / f"{name}.partial"
                partial.write_bytes(source.read())
                partial.replace(cache / name)
    return cache


def on_files(files: Files, config: Any) -> Files:
    cache = ensure_mermaid()
    for _, name, site_path in ASSETS:
        files.append(File.generated(config, site_path, abs_src_path=str(cache / name)))
    return files
