"""Every command and action, run as a process with --help and with garbage: help always has
examples, bad usage is exit 2 (or 1 when the garbage gets as far as the work), and no
traceback ever reaches the user. The commands are read from the parser, so a new one is
swept without anyone adding it here."""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from subprocess import CompletedProcess

import pytest

from opsbundle.cli import build_parser
from tests.integration.cli_run import clean_env, no_traceback, run
from tests.integration.moto_process import free_port


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The path of every parser that runs something (the leaves), in the parser's order."""
    found: list[tuple[str, ...]] = []
    for action in parser._actions:  # argparse keeps subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += commands(child, (*path, name))
            return found
    return [path]


LEAVES = commands(build_parser())
# Nothing answers anywhere: what gets past the parser fails fast, never reaches AWS.
CLOSED = f"http://127.0.0.1:{free_port()}"
ENV = clean_env(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_REGION="us-east-1",
    AWS_ENDPOINT_URL=CLOSED,
    AWS_MAX_ATTEMPTS="1",
    OPENSEARCH_URL=CLOSED,
    LOG_SHIPPER_DLQ_BUCKET="dead-letters",
)


def test_every_command_is_swept() -> None:
    names = {" ".join(path) for path in LEAVES}
    assert {
        "report run",
        "report test",
        "report validate",
        "logs ship",
        "logs replay",
        "targets inspect",
        "dashboards build",
        "audit",
        "deploy",
        "cost",
        "completion",
    } <= names
    assert len(names) >= 20


def test_help_of_every_command_has_examples_and_no_traceback() -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda path: (path, run(*path, "--help", env=ENV)), LEAVES))
    for path, result in results:
        assert result.returncode == 0, (path, result.stderr)
        assert "\nexamples:\n  opsbundle " in result.stdout, (path, result.stdout)
        no_traceback(result.stdout, result.stderr)


GARBAGE = [
    ("--no-such-flag",),
    ("%%garbage%%",),
    ("--format", "nonsense"),
    ("", "\x7f", "-"),
]


@pytest.mark.parametrize("garbage", GARBAGE, ids=["flag", "word", "format", "odd"])
def test_garbage_to_every_command_is_one_error_and_no_traceback(garbage: tuple[str, ...]) -> None:
    def attempt(path: tuple[str, ...]) -> tuple[tuple[str, ...], CompletedProcess[str]]:
        return path, run(*path, *garbage, env=ENV, timeout=90)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(attempt, LEAVES))
    for path, result in results:
        assert result.returncode in (1, 2), (path, garbage, result.returncode, result.stderr)
        no_traceback(result.stdout, result.stderr)
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(("opsbundle", "usage:")), (path, garbage, result.stderr)


@pytest.mark.parametrize(
    "argv",
    [
        (),
        ("nonsense-command",),
        ("--log-level", "LOUD", "cost"),
        ("--log-format", "xml", "cost"),
        ("report",),
        ("logs",),
        ("logs", "nonsense"),
    ],
)
def test_garbage_at_the_top_is_usage_and_exit_2(argv: tuple[str, ...]) -> None:
    result = run(*argv, env=ENV)

    assert result.returncode == 2, result.stderr
    assert "(see opsbundle" in result.stderr
    no_traceback(result.stdout, result.stderr)
