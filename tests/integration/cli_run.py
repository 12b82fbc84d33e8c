"""The real `opsbundle` command in a process of its own, as a user runs it: in a pipe, or on a
terminal (a pseudo-terminal, so that what it draws for a person can be read back)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Settings a developer's shell may hold: none of them reaches the command unless a test says.
PREFIXES = (
    "AWS_",
    "REPORT",
    "CRM_",
    "SLACK_",
    "OPS_",
    "OPENSEARCH_",
    "LOG_SHIPPER_",
    "GRAFANA_",
    "PROMETHEUS_",
    "PUSHGATEWAY_",
    "DASHBOARDS_",
    "AUDIT_",
    "LOG_LEVEL",
)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any setting, no AWS profile or metadata service,
    plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIXES)}
    env.update(
        {
            "AWS_CONFIG_FILE": "/nonexistent/config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
            "AWS_EC2_METADATA_DISABLED": "true",
            "COLUMNS": "120",
        }
    )
    env.update(settings)
    return env


def command(*argv: str) -> list[str]:
    return [sys.executable, "-m", "opsbundle.cli", *argv]


def run(
    *argv: str, env: dict[str, str], timeout: float = 120, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """The command with stdout and stderr in pipes (not a terminal)."""
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        command(*argv),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Screen:
    returncode: int
    stdout: str  # a pipe
    terminal: str  # what stderr drew on the terminal, escape sequences removed

    def lines(self) -> list[str]:
        """Each line as it stands once the terminal has drawn it: the text after the last
        carriage return (a bar redrawn in place leaves only its last state)."""
        return [line.rsplit("\r", 1)[-1].rstrip() for line in self.terminal.split("\n")]


def on_terminal(*argv: str, env: dict[str, str], timeout: float = 120) -> Screen:
    """The command with stderr on a pseudo-terminal (stdout still a pipe)."""
    leader, follower = pty.openpty()
    # A terminal 120 columns wide (a new pseudo-terminal has no size: bars would not fit).
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command(*argv),
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    os.close(follower)
    drawn = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the command has closed its side
                break
            if not chunk:
                break
            drawn += chunk
        elif process.poll() is not None:
            break
    os.close(leader)
    assert process.stdout is not None
    stdout = process.stdout.read()
    process.wait(timeout=10)
    text = ANSI.sub("", drawn.decode("utf-8", "replace")).replace("\r\n", "\n")
    return Screen(process.returncode, stdout, text)


def no_traceback(*outputs: str) -> None:
    for output in outputs:
        assert "Traceback" not in output, output
        assert "Exception ignored" not in output, output
