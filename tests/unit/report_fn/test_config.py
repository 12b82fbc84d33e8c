"""Bad settings stop the run with exit 2 and one line naming the variable."""

from __future__ import annotations

import pytest

from opsbundle.cli import main
from opsbundle.exceptions import ConfigError
from opsbundle.settings import Env
from report_fn.config import ReportSettings


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["report", "run", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("env", "args", "names"),
    [
        ({"REPORT_TIMEZONE": "Mars/Olympus_Mons"}, ["--dry-run"], "REPORT_TIMEZONE"),
        ({"CRM_KIND": "pipedrive"}, ["--dry-run"], "CRM_KIND"),
        ({"CRM_KIND": "hubspot"}, ["--dry-run"], "CRM_SECRET_ARN"),
        ({"CRM_KIND": "csv"}, ["--dry-run"], "CRM_EXPORT_URL"),
        ({"REPORT_TOP_N": "lots"}, ["--dry-run"], "REPORT_TOP_N"),
        ({"CRM_FIELD_MAP": "{source: 1}"}, ["--dry-run"], "CRM_FIELD_MAP"),
        ({"REPORT_ATTACH_CSV": "maybe"}, ["--dry-run"], "REPORT_ATTACH_CSV"),
        ({}, [], "SLACK_TOKEN_SECRET_ARN"),  # posting for real needs Slack
        ({}, ["--dry-run", "--at", "yesterday"], "--at"),
        ({}, ["--dry-run", "--at", "2026-11-26T14:00:00"], "--at"),
    ],
)
def test_bad_settings_exit_2_with_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    args: list[str],
    names: str,
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, out, err = run_cli(capsys, *args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert f"configuration error: {names}:" in lines[0]


def test_bad_usage_is_exit_2_too(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["report", "run", "--source", "pipedrive"])
    assert stopped.value.code == 2


def test_explicit_argument_beats_environment_beats_default() -> None:
    env = Env({"REPORT_TIMEZONE": "Europe/London", "REPORT_TOP_N": "7"})
    assert ReportSettings.load(env, dry_run=True).timezone.key == "Europe/London"
    assert (
        ReportSettings.load(env, timezone="Asia/Tokyo", dry_run=True).timezone.key == "Asia/Tokyo"
    )
    assert ReportSettings.load(env, dry_run=True).top_n == 7
    assert ReportSettings.load(Env({}), dry_run=True).timezone.key == "America/New_York"
    assert ReportSettings.load(Env({"REPORT_TIMEZONE": ""}), dry_run=True).top_n == 5


def test_integer_bounds_are_named() -> None:
    with pytest.raises(ConfigError, match="REPORT_TOP_N: must be between 1 and 100, got 0"):
        ReportSettings.load(Env({"REPORT_TOP_N": "0"}), dry_run=True)
