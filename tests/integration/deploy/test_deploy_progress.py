"""`opsbundle deploy` as a process: on a terminal it shows each upload and each change set's
creation as it goes; in a pipe it draws nothing (moto_server on 127.0.0.1)."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import random
import zipfile
from typing import Any

from tests.integration.cli_run import clean_env, no_traceback, on_terminal, run
from tests.integration.deploy.conftest import PREFIX, Workspace


def large_zip(workspace: Workspace, megabytes: int = 6) -> None:
    """report_fn.zip of incompressible bytes, so its upload takes many reads."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        noise = random.Random(12).randbytes(megabytes * 1024 * 1024)
        archive.writestr("report_fn/data.bin", noise)
    body = buffer.getvalue()
    (workspace.dist / "report_fn.zip").write_bytes(body)
    sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
    (workspace.dist / "report_fn.zip.sha256").write_text(sha + "\n")


def test_deploy_shows_the_upload_and_the_change_set_on_a_terminal_only(
    aws: dict[str, Any], workspace: Workspace
) -> None:
    large_zip(workspace)
    names = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION")
    env = clean_env(**{name: os.environ[name] for name in names})

    screen = on_terminal(*workspace.cli("--dry-run"), env=env)
    piped = run(*workspace.cli("--dry-run"), env=env)

    assert screen.returncode == 0, screen.terminal
    assert "report_fn.zip: 100%" in screen.terminal and "6.29M/6.29M" in screen.terminal
    assert f"{PREFIX}-alerting: creating the change set" in screen.terminal
    assert "CREATE_COMPLETE" in screen.terminal  # the change set's status as it was polled
    assert "dry run: nothing executed" in screen.stdout
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""
    no_traceback(screen.terminal, piped.stderr)
