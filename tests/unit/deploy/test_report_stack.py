"""The report stack rendered from the reports file: a schedule per report, checked before AWS."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from opsbundle import cli
from opsbundle.deployment import report_stack
from opsbundle.deployment.changesets import Stacks
from opsbundle.deployment.deploy import Artifacts, Deployer, Target, template_body
from opsbundle.deployment.stacks import TEMPLATES_DIR, load_plan, load_template
from opsbundle.exceptions import ConfigError
from report_fn import reports_file
from tests.unit.deploy.fakes import FakeCloudFormation

ROOT = TEMPLATES_DIR.parent
EXAMPLE = ROOT / "reports.example.yml"
TEMPLATE = load_template(TEMPLATES_DIR / "report.yaml")


def rendered(text: str | None = None) -> dict[str, Any]:
    loaded = (
        reports_file.load(EXAMPLE)
        if text is None
        else reports_file.parse(text.encode(), Path("reports.yml"))
    )
    return report_stack.render(TEMPLATE, loaded)


def schedules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: r["Properties"]
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::Scheduler::Schedule"
    }


def test_the_committed_template_schedules_the_environment_s_one_report() -> None:
    (only,) = schedules(TEMPLATE).values()
    assert only["ScheduleExpression"] == {"Ref": "ReportScheduleExpression"}
    assert "report" not in json.loads(only["Target"]["Input"])


def test_each_report_gets_its_own_schedule_with_its_name_in_the_input() -> None:
    found = schedules(rendered())
    assert set(found) == {
        "ReportScheduleLeads",
        "ReportScheduleTxMassTorts",
        "ReportScheduleLeadsDrop",
    }
    tx = found["ReportScheduleTxMassTorts"]
    assert tx["Name"] == "tx-mass-torts"
    assert tx["GroupName"] == {"Ref": "ReportScheduleGroup"}
    assert tx["ScheduleExpression"] == "cron(0 9,17 ? * MON-FRI *)"
    assert tx["ScheduleExpressionTimezone"] == "America/New_York"
    assert json.loads(tx["Target"]["Input"]) == {
        "report": "tx-mass-torts",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
        "execution_id": "<aws.scheduler.execution-id>",
        "attempt": "<aws.scheduler.attempt-number>",
        "schedule_arn": "<aws.scheduler.schedule-arn>",
    }
    committed = next(iter(schedules(TEMPLATE).values()))
    for kept in ("FlexibleTimeWindow", "State", "KmsKeyArn"):
        assert tx[kept] == committed[kept]
    for kept in ("Arn", "RoleArn", "RetryPolicy", "DeadLetterConfig"):
        assert tx["Target"][kept] == committed["Target"][kept]


def test_the_function_reads_the_shipped_file_and_the_unused_parameter_is_gone() -> None:
    template = rendered()
    variables = template["Resources"]["ReportFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["REPORTS_FILE"] == "reports.yml"
    assert "ReportScheduleExpression" not in template["Parameters"]
    assert template["Outputs"]["ReportScheduleArn"]["Value"] == {
        "Fn::GetAtt": ["ReportScheduleLeads", "Arn"]
    }
    assert "ReportScheduleExpression" in TEMPLATE["Parameters"]  # the committed one untouched


def test_times_with_different_minutes_get_a_schedule_each_and_no_zone_means_the_stack_s() -> None:
    found = schedules(rendered("reports:\n  shift:\n    times: ['08:30', '17:00', '20:30']\n"))
    assert {name: (p["Name"], p["ScheduleExpression"]) for name, p in found.items()} == {
        "ReportScheduleShift1": ("shift-1", "cron(0 17 * * ? *)"),
        "ReportScheduleShift2": ("shift-2", "cron(30 8,20 * * ? *)"),
    }
    assert found["ReportScheduleShift1"]["ScheduleExpressionTimezone"] == {"Ref": "ReportTimezone"}


def test_two_names_that_make_one_logical_id_are_refused_with_the_file() -> None:
    expected = r"report 'tx_a'.*would be named TxA, as report 'tx-a''s is: rename one"
    with pytest.raises(ConfigError, match=expected):
        rendered("defaults: {times: ['08:00']}\nreports:\n  tx-a: {}\n  tx_a: {}\n")


# --- the deploy -----------------------------------------------------------------------------


def project(tmp_path: Path, reports: str | None, **parameters: str) -> tuple[Path, Path]:
    """A copy of cloudformation/ with a plan deploying the report stack, and a dist/."""
    templates = tmp_path / "cloudformation"
    (templates / "params").mkdir(parents=True)
    shutil.copy(TEMPLATES_DIR / "report.yaml", templates / "report.yaml")
    values = {"PermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/opsbundle-boundary/b",
              "KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/abc",
              "OpsTopicArn": "arn:aws:sns:us-east-1:123456789012:ops", "ArtifactBucket": "art",
              "ReportCodeKey": "${package:report_fn}", "SlackChannel": "C0123456789",
              **parameters}  # fmt: skip  # laid out as a table
    plan = {"stack_prefix": "ob", "stacks": {"report": {"parameters": values}}}
    (templates / "params" / "dev.json").write_text(json.dumps(plan))
    if reports is not None:
        (tmp_path / "reports.yml").write_text(reports)
    dist = tmp_path / "dist"
    dist.mkdir()
    return templates / "params", dist


def package(dist: Path, reports: bytes | None) -> None:
    with zipfile.ZipFile(dist / "report_fn.zip", "w") as archive:
        archive.writestr("report_fn/handler.py", "")
        if reports is not None:
            archive.writestr("reports.yml", reports)
    digest = hashlib.sha256((dist / "report_fn.zip").read_bytes()).digest()
    (dist / "report_fn.zip.sha256").write_text(base64.b64encode(digest).decode())


def test_without_a_reports_file_the_committed_template_is_deployed(tmp_path: Path) -> None:
    params, _ = project(tmp_path, None)
    (spec,) = load_plan("dev", params_dir=params, lambdas=["report_fn"]).stacks
    assert spec.reports is None
    assert template_body(spec) == (TEMPLATES_DIR / "report.yaml").read_bytes()


def test_with_one_the_deployed_template_is_rendered_from_it(tmp_path: Path) -> None:
    params, _ = project(tmp_path, EXAMPLE.read_text())
    (spec,) = load_plan("dev", params_dir=params, lambdas=["report_fn"]).stacks
    assert spec.reports is not None and spec.reports.name == "reports.yml"
    body = json.loads(template_body(spec))
    assert "ReportScheduleTxMassTorts" in body["Resources"]


def test_a_bad_reports_file_stops_the_deploy_before_any_aws_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    params, _ = project(tmp_path, "reports:\n  leads:\n    times: ['8am']\n")
    monkeypatch.chdir(tmp_path)

    def no_session(**kwargs: Any) -> Any:
        raise AssertionError("no AWS session may be made")

    monkeypatch.setattr("opsbundle.deployment.cli.boto3.Session", no_session)
    code = cli.main(["deploy", "--env", "dev", "--yes", "--params-dir", str(params)])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "opsbundle: configuration error: reports.yml: report 'leads', field 'times[0]': "
        "'8am' is not a time of day as HH:MM (quote it: \"08:00\")"
    ]


def test_the_schedule_expression_parameter_conflicts_with_a_reports_file(tmp_path: Path) -> None:
    params, _ = project(tmp_path, EXAMPLE.read_text(), ReportScheduleExpression="cron(0 8 * * ? *)")
    expected = r"parameters.ReportScheduleExpression: .*reports.yml gives every report its own"
    with pytest.raises(ConfigError, match=expected):
        load_plan("dev", params_dir=params, lambdas=["report_fn"])


@pytest.mark.parametrize(
    ("shipped", "message"),
    [
        (None, "has no reports.yml, but the stack is rendered from"),
        (b"reports: {}\n", "carries another reports.yml than"),
    ],
)
def test_the_zip_must_carry_the_same_reports_file(
    tmp_path: Path, shipped: bytes | None, message: str
) -> None:
    params, dist = project(tmp_path, EXAMPLE.read_text())
    package(dist, shipped)
    plan = load_plan("dev", params_dir=params, lambdas=["report_fn"])
    deployer = Deployer(
        plan,
        Target(account="123456789012", region="us-east-1", artifact_bucket="art"),
        stacks=Stacks(FakeCloudFormation(), sleep=lambda s: None, poll_seconds=0),
        artifacts=Artifacts(object(), "art", "us-east-1", owner="123456789012", environment="dev"),
        dist=dist,
        out=io.StringIO(),
        confirm=lambda question: True,
    )
    with pytest.raises(ConfigError, match=f"report_fn.zip: {message} .*make package again"):
        deployer.preflight()
    package(dist, EXAMPLE.read_bytes())
    deployer.preflight()
