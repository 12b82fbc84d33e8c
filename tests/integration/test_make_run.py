"""A first `make run` on a fresh copy of the project: one line a set-up step and then the
preview, no pip or setuptools chatter (pip's output is kept in .venv/setup.log)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.cli_run import ROOT, clean_env


@pytest.mark.timeout(900)
def test_a_first_make_run_says_one_line_a_step(tmp_path: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    tracked = listed.stdout.decode().split("\0")
    fresh = tmp_path / "opsbundle"
    for name in filter(None, tracked):
        if (ROOT / name).is_file():
            (fresh / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, fresh / name)

    # As typed at a shell: not a make inside `make test` (which would announce directories).
    env = {k: v for k, v in clean_env().items() if not k.startswith(("MAKE", "MFLAGS"))}
    result = subprocess.run(
        ["make", "run"],  # noqa: S607
        cwd=fresh,
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    assert lines[0].startswith("creating .venv with Python 3."), lines[:6]
    assert lines[1:4] == [
        "upgrading pip",
        "installing opsbundle and what it needs to run",
        ".venv/bin/opsbundle report run --source sample --dry-run",
    ], lines[:6]
    assert lines[4].startswith("Lead report · "), lines[:6]
    assert not [line for line in lines if "eprecat" in line or "!!" in line or "arning" in line]
    assert (fresh / ".venv" / "setup.log").is_file()
