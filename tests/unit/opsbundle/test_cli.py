"""The `opsbundle` entry point: what it loads, how it says what went wrong, how it prints."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoRegionError

from opsbundle import failures, output
from opsbundle.cli import COMMANDS, _command_in, build_parser, main
from opsbundle.exceptions import ConfigError, OpsbundleError
from opsbundle.log import human_line

ROOT = Path(__file__).resolve().parents[3]
CLI_ONLY = ("tqdm", "shtab", "opsbundle.cli", "opsbundle.progress", "opsbundle.output")


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    probe = f"import sys\n{code}\nprint('\\n'.join(sys.modules))"
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def test_help_and_bad_usage_load_no_part() -> None:
    loaded = loaded_after("from opsbundle.cli import build_parser; build_parser(['--help'])")

    assert not {"boto3", "botocore", "tqdm", "opensearchpy", "grafanalib", "report_fn.cli"} & loaded


def test_a_command_loads_only_its_own_part() -> None:
    loaded = loaded_after("from opsbundle.cli import build_parser; build_parser(['cost'])")

    assert "opsbundle.deployment.cli" in loaded
    assert not {"report_fn.cli", "log_shipper.cli", "monitors.cli", "audit.cli"} & loaded


@pytest.mark.parametrize(
    "handler",
    [
        "report_fn.handler",
        "log_shipper.handler",
        "log_shipper.maintain",
        "monitors.unhealthy_targets.handler",
        "monitors.root_login.handler",
        "monitors.pipeline_failure.handler",
        "audit.handler",
    ],
)
def test_no_lambda_handler_imports_the_command_line(handler: str) -> None:
    assert not set(CLI_ONLY) & loaded_after(f"import {handler}")


def test_every_command_is_listed_with_the_summary_it_has_when_loaded() -> None:
    [commands] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    shown = {action.dest: action.help for action in commands._choices_actions}

    assert shown == {name: summary for name, (_, summary) in COMMANDS.items()}


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["report", "run"], "report"),
        (["--log-level", "DEBUG", "logs"], "logs"),
        (["--log-format=json", "cost"], "cost"),
        (["--help"], None),
        ([], None),
    ],
)
def test_the_command_is_found_past_the_global_options(argv: list[str], command: str) -> None:
    assert _command_in(argv) == command


def test_a_usage_error_says_where_help_is(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["cost", "--runs", "many"])

    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "opsbundle cost: error: argument --runs: invalid int value: 'many' "
        "(see opsbundle cost --help)"
    )


def test_an_error_nobody_foresaw_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from opsbundle.deployment import cli as deploy_cli

    def broken(args: argparse.Namespace) -> int:
        raise TypeError("unsupported operand")

    monkeypatch.setattr(deploy_cli, "cost_command", broken)
    assert main(["cost"]) == 1
    assert capsys.readouterr().err == (
        "opsbundle: unexpected error: TypeError: unsupported operand (a bug: run again with "
        "--log-level DEBUG to see where, and report it)\n"
    )
    assert main(["--log-level", "debug", "cost"]) == 1
    assert "Traceback" in capsys.readouterr().err  # asked for


def test_aws_errors_are_settings_or_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    no_region = failures.known(NoRegionError())
    unreachable = failures.known(EndpointConnectionError(endpoint_url="https://sts.x/"))
    denied = failures.known(
        ClientError({"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "GetCallerIdentity")
    )
    throttled = failures.known(
        ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "DescribeStacks")
    )

    assert isinstance(no_region, ConfigError) and no_region.setting == "AWS_REGION"
    assert type(unreachable) is OpsbundleError
    assert str(unreachable).startswith("could not reach https://sts.x/")
    assert isinstance(denied, ConfigError) and denied.setting == "AWS credentials"
    assert str(throttled) == "AWS DescribeStacks failed: Throttling: slow down"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    local = failures.known(EndpointConnectionError(endpoint_url="http://127.0.0.1:1/"))
    assert isinstance(local, ConfigError) and local.setting == "AWS_ENDPOINT_URL"
    assert failures.known(ValueError("x")) is None


def test_a_log_record_as_a_short_line() -> None:
    record = {
        "level": "WARNING",
        "location": "ship:110",
        "message": "malformed payload",
        "timestamp": "2026-12-04 20:00:00,000+0000",
        "service": "opsbundle",
        "reason": "data is not gzip",
        "item_id": "4959",
    }

    assert human_line(record) == "warning: malformed payload: reason=data is not gzip, item_id=4959"
    assert human_line({"level": "INFO", "message": "done"}) == "info: done"
    with_error = {"level": "ERROR", "message": "failed", "exception": "Traceback...\nKeyError: 'x'"}
    assert human_line(with_error) == "error: failed: error=KeyError: 'x'"


def test_a_summary_as_text_and_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    summary = {
        "events_in": 3,
        "redacted": {},
        "dead_lettered": {"mapping": 1},
        "dead_letter_keys": ["a", "b"],
        "dry_run": False,
        "queue": None,
    }

    output.emit(summary, "text")
    output.emit(summary, "json")
    text, _, rest = capsys.readouterr().out.partition("{")

    assert text == (
        "events in: 3\ndead lettered:\n  mapping: 1\ndead letter keys:\n  - a\n  - b\n"
        "dry run: no\nqueue: none\n"
    )
    assert json.loads("{" + rest) == summary
