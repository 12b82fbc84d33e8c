"""`opsbundle deploy` end to end against moto_server: order, diff, outputs, no-change, refusal."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from opsbundle import cli
from opsbundle.deployment.cli import deploy_command
from opsbundle.deployment.deploy import Artifacts
from opsbundle.exceptions import DeployError
from tests.integration.deploy.conftest import PREFIX, REGION, ROOT, Terminal, Workspace


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def stack_status(cfn: Any, name: str) -> str | None:
    try:
        return str(cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"])
    except ClientError:
        return None


def outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_first_deploy_goes_in_dependency_order_with_the_diff_and_outputs(
    aws: dict[str, Any], workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(workspace.cli("--yes"), capsys)

    assert code == 0, err
    assert f"deploying dev to account 123456789012 in {REGION}" in out
    key = re.search(
        r"report_fn: uploaded s3://ob-it-artifacts/(dev/lambda/report_fn/[0-9a-f]{64}\.zip) "
        r"\(version [^)]+\)",
        out,
    )
    assert key, out
    # alerting before consumer, though the file lists consumer first
    assert out.index(f"{PREFIX}-alerting: create") < out.index(f"{PREFIX}-consumer: create")
    assert "  + add  AlertingKey (AWS::KMS::Key)" in out
    assert "  + add  AlertingOpsTopic (AWS::SNS::Topic)" in out
    assert "  + add  ConsumerFunction (AWS::Lambda::Function)" in out
    assert "  + add  ConsumerQueue (AWS::SQS::Queue)" in out
    assert f"{PREFIX}-alerting: done" in out and f"{PREFIX}-consumer: done" in out
    assert "deployed: alerting, consumer; unchanged: none" in out

    cfn = aws["cloudformation"]
    assert stack_status(cfn, f"{PREFIX}-alerting") == "CREATE_COMPLETE"
    alerting = outputs(cfn, f"{PREFIX}-alerting")
    consumer = outputs(cfn, f"{PREFIX}-consumer")
    assert f"  alerting.KmsKeyArn = {alerting['KmsKeyArn']}" in out
    assert f"  consumer.QueueArn = {consumer['QueueArn']}" in out
    # the references were resolved: the queue uses the alerting key, the function the zip
    queue_url = aws["sqs"].get_queue_url(QueueName=consumer["QueueArn"].split(":")[-1])["QueueUrl"]
    attributes = aws["sqs"].get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])
    assert attributes["Attributes"]["KmsMasterKeyId"] == alerting["KmsKeyArn"]
    function = aws["lambda"].get_function(FunctionName=f"{PREFIX}-consumer-fn")
    assert function["Configuration"]["CodeSha256"] == workspace.zip_sha256
    assert (
        function["Configuration"]["Environment"]["Variables"]["OPS_TOPIC_ARN"]
        == alerting["OpsTopicArn"]
    )
    tags = {
        t["Key"]: t["Value"]
        for t in cfn.describe_stacks(StackName=f"{PREFIX}-consumer")["Stacks"][0]["Tags"]
    }
    assert tags == {"project": "opsbundle-test", "opsbundle:environment": "dev"}


def test_deploying_again_unchanged_is_no_changes_and_leaves_no_change_sets(
    aws: dict[str, Any], workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(workspace.cli("--yes"), capsys)[0] == 0

    code, out, err = run(workspace.cli("--yes"), capsys)

    assert code == 0, err
    assert "report_fn: unchanged s3://ob-it-artifacts/dev/lambda/report_fn/" in out
    assert f"{PREFIX}-alerting: no changes" in out
    assert f"{PREFIX}-consumer: no changes" in out
    assert "executing" not in out
    assert "deployed: none; unchanged: alerting, consumer" in out
    for stack in ("alerting", "consumer"):
        summaries = aws["cloudformation"].list_change_sets(StackName=f"{PREFIX}-{stack}")[
            "Summaries"
        ]
        assert [s for s in summaries if s.get("ExecutionStatus") != "EXECUTE_COMPLETE"] == []


def test_dry_run_prints_a_modification_and_changes_nothing(
    aws: dict[str, Any], workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(workspace.cli("--yes"), capsys)[0] == 0
    template = workspace.templates_dir / "consumer.yaml"
    template.write_text(
        template.read_text().replace(
            "MessageRetentionPeriod: 1209600", "MessageRetentionPeriod: 345600"
        )
    )

    code, out, err = run(workspace.cli("--dry-run"), capsys)

    assert code == 0, err
    assert f"{PREFIX}-alerting: no changes" in out
    assert f"{PREFIX}-consumer: update, 1 resource change(s)" in out
    assert "  ~ modify  ConsumerQueue (AWS::SQS::Queue)" in out
    assert "dry run: nothing executed; would change: consumer; unchanged: alerting" in out
    queue_arn = outputs(aws["cloudformation"], f"{PREFIX}-consumer")["QueueArn"]
    url = aws["sqs"].get_queue_url(QueueName=queue_arn.split(":")[-1])["QueueUrl"]
    period = aws["sqs"].get_queue_attributes(
        QueueUrl=url, AttributeNames=["MessageRetentionPeriod"]
    )
    assert period["Attributes"]["MessageRetentionPeriod"] == "1209600"


def test_dry_run_of_a_new_environment_shows_the_first_stack_and_what_waits(
    aws: dict[str, Any], workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(workspace.cli("--dry-run"), capsys)

    assert code == 0, err
    assert f"{PREFIX}-alerting: create, " in out
    assert f"{PREFIX}-consumer: change set not made: it needs the outputs of alerting" in out
    # the review stack a CREATE change set makes is removed again
    assert stack_status(aws["cloudformation"], f"{PREFIX}-alerting") is None


def test_without_a_terminal_or_yes_it_refuses_before_touching_aws(
    aws: dict[str, Any],
    workspace: Workspace,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))  # piped: not a terminal

    code, _, err = run(workspace.cli(), capsys)

    assert code == 2
    assert err.strip().splitlines() == [
        "opsbundle: configuration error: --yes: stdin is not a terminal, so nobody can answer "
        "the prompt: pass --yes to execute without asking, or --dry-run to look"
    ]
    assert aws["cloudformation"].list_stacks()["StackSummaries"] == []
    assert "Contents" not in aws["s3"].list_objects_v2(Bucket="ob-it-artifacts")


def test_declining_at_the_prompt_stops_and_removes_the_unexecuted_change_set(
    aws: dict[str, Any], workspace: Workspace
) -> None:
    args = cli.build_parser().parse_args(workspace.cli())
    out = io.StringIO()

    with pytest.raises(DeployError) as raised:
        deploy_command(args, stdin=Terminal("n\n"), out=out)

    assert str(raised.value) == (
        f"you declined {PREFIX}-alerting; deployed: none; not deployed: alerting, consumer"
    )
    assert f"Execute this change set on {PREFIX}-alerting? [y/N] " in out.getvalue()
    assert stack_status(aws["cloudformation"], f"{PREFIX}-alerting") is None


def test_yes_at_the_prompt_executes(aws: dict[str, Any], workspace: Workspace) -> None:
    args = cli.build_parser().parse_args(workspace.cli())
    out = io.StringIO()

    assert deploy_command(args, stdin=Terminal("y\nyes\n"), out=out) == 0

    assert stack_status(aws["cloudformation"], f"{PREFIX}-consumer") == "CREATE_COMPLETE"


def test_a_stack_that_fails_says_where_the_deploy_stopped(
    aws: dict[str, Any], workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    # A function that ran before its stack existed leaves its log group behind: the
    # stack's own log group then cannot be created.
    aws["logs"].create_log_group(logGroupName=f"/aws/lambda/{PREFIX}-consumer-fn")

    code, out, err = run(workspace.cli("--yes"), capsys)

    assert code == 1
    assert f"{PREFIX}-alerting: done" in out
    [line] = err.strip().splitlines()
    assert line.startswith(f"opsbundle: failed: {PREFIX}-consumer")
    assert line.endswith("deployed: alerting; failed: consumer; not started: none")


def test_template_configurations_for_the_pipeline_resolve_every_reference(
    aws: dict[str, Any], workspace: Workspace, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(workspace.cli("--yes", "--only", "alerting"), capsys)[0] == 0
    target = tmp_path / "deploy"

    code, _, err = run(workspace.cli("--pipeline-config", str(target)), capsys)

    assert code == 0, err
    import json

    consumer = json.loads((target / "consumer.json").read_text())
    alerting = outputs(aws["cloudformation"], f"{PREFIX}-alerting")
    assert consumer["Parameters"]["KmsKeyArn"] == alerting["KmsKeyArn"]
    assert consumer["Parameters"]["ArtifactBucket"] == "ob-it-artifacts"
    assert re.fullmatch(
        r"dev/lambda/report_fn/[0-9a-f]{64}\.zip", consumer["Parameters"]["CodeKey"]
    )
    versions = aws["s3"].list_object_versions(
        Bucket="ob-it-artifacts", Prefix=consumer["Parameters"]["CodeKey"]
    )["Versions"]
    assert consumer["Parameters"]["CodeVersion"] == versions[0]["VersionId"]
    assert consumer["Parameters"]["RetentionDays"] == "30"
    assert consumer["Tags"] == {"project": "opsbundle-test", "opsbundle:environment": "dev"}
    assert json.loads((target / "alerting.json").read_text())["Parameters"] == {
        "AlertEmails": "ops@example.com",
        "StackPrefix": PREFIX,
    }
    assert aws["cloudformation"].describe_stacks(StackName=f"{PREFIX}-alerting")


def test_the_artifacts_bucket_is_created_private_versioned_encrypted_tls_only(
    aws: dict[str, Any],
) -> None:
    s3 = aws["s3"]
    out = io.StringIO()

    made = Artifacts(s3, "ob-it-new-artifacts", REGION, owner="123456789012", environment="dev")
    made.ensure(out)
    made.ensure(out)  # exists: nothing to do

    assert out.getvalue() == "creating artifacts bucket ob-it-new-artifacts\n"
    assert s3.get_bucket_versioning(Bucket="ob-it-new-artifacts")["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket="ob-it-new-artifacts")[
        "PublicAccessBlockConfiguration"
    ]
    assert all(block.values()) and len(block) == 4
    rules = s3.get_bucket_encryption(Bucket="ob-it-new-artifacts")[
        "ServerSideEncryptionConfiguration"
    ]
    assert rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    policy = s3.get_bucket_policy(Bucket="ob-it-new-artifacts")["Policy"]
    assert '"aws:SecureTransport": "false"' in policy
    assert '"s3:TlsVersion": "1.2"' in policy


def _cli_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_CONFIG_FILE": "/nonexistent/config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_REGION": REGION,
        }
    )
    env.update(overrides)
    return env


def _opsbundle(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "opsbundle.cli", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_no_credentials_is_one_line_and_exit_2(
    aws: dict[str, Any], workspace: Workspace, moto_url: str
) -> None:
    result = _opsbundle(workspace.cli("--dry-run"), _cli_env(AWS_ENDPOINT_URL=moto_url))

    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "opsbundle: configuration error: AWS credentials: none found: "
        "use a role, AWS_PROFILE or SSO (never static keys in files)"
    ]


def test_an_unknown_profile_is_one_line_and_exit_2(workspace: Workspace) -> None:
    result = _opsbundle(workspace.cli("--dry-run"), _cli_env(AWS_PROFILE="no-such-profile"))

    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("opsbundle: configuration error: AWS_PROFILE: ")
    assert "no-such-profile" in line


def test_the_committed_dev_plan_makes_change_sets_for_every_real_template(
    aws: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """cloudformation/params/dev.json, placeholders filled, against the real templates.

    moto can execute alerting.yaml but not the others (docs/development.md lists why), so they
    are planned, printed and discarded with --dry-run once alerting is deployed.
    """
    import json
    import shutil

    from tests.integration.deploy.conftest import BUCKET, fake_zip

    templates = tmp_path / "cloudformation"
    shutil.copytree(ROOT / "cloudformation", templates)
    plan_file = templates / "params" / "dev.json"
    text = plan_file.read_text()
    for placeholder, value in [
        ('"AlertEmails": "REPLACE_ME"', '"AlertEmails": "ops@example.com"'),
        ('"SlackChannel": "REPLACE_ME"', '"SlackChannel": "C0123456789"'),
        (
            '"ConnectionArn": "REPLACE_ME"',
            '"ConnectionArn": "arn:aws:codestar-connections:'
            'us-east-1:123456789012:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"',
        ),
        ('"FullRepositoryId": "REPLACE_ME"', '"FullRepositoryId": "example/opsbundle"'),
        ('"OpenSearchUrl": "REPLACE_ME"', '"OpenSearchUrl": "https://search-logs.example.com"'),
        ('"LogGroupNames": "REPLACE_ME"', '"LogGroupNames": "/aws/lambda/opsbundle-dev-report"'),
        ('log-group:REPLACE_ME"', 'log-group:/aws/lambda/opsbundle-dev-report"'),
    ]:
        assert placeholder in text, placeholder
        text = text.replace(placeholder, value)
    plan = json.loads(text)
    plan["artifact_bucket"] = BUCKET
    # Not plannable on moto: monitors needs the trail stack's outputs (moto cannot create a
    # trail), and moto's CloudFormation fails on log-shipper's Fn::ForEach (a 500).
    del plan["stacks"]["monitors"], plan["stacks"]["log-shipper"]
    plan_file.write_text(json.dumps(plan))
    dist = tmp_path / "dist"
    for name in ("report_fn", "log_shipper", "monitors"):
        fake_zip(dist, name)
    base = [
        "deploy",
        "--env",
        "dev",
        "--params-dir",
        str(templates / "params"),
        "--dist",
        str(dist),
    ]

    code, out, err = run([*base, "--yes", "--only", "alerting"], capsys)
    assert code == 0, err

    code, out, err = run([*base, "--dry-run"], capsys)

    assert code == 0, err
    assert "opsbundle-dev-alerting: no changes" in out
    for stack, resource in [
        ("trail", "Trail (AWS::CloudTrail::Trail)"),
        ("report", "ReportFunction (AWS::Lambda::Function)"),
        ("pipeline", "Pipeline (AWS::CodePipeline::Pipeline)"),
    ]:
        assert re.search(rf"opsbundle-dev-{stack}: create, \d+ resource change\(s\)", out), out
        assert f"  + add  {resource}" in out
    assert "would change: trail, report, pipeline; unchanged: alerting" in out
    for stack in ("trail", "report", "pipeline"):
        assert stack_status(aws["cloudformation"], f"opsbundle-dev-{stack}") is None


def test_no_region_is_one_line_and_exit_2(workspace: Workspace) -> None:
    env = _cli_env(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    del env["AWS_REGION"]

    result = _opsbundle(workspace.cli("--dry-run"), env)

    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "opsbundle: configuration error: AWS_REGION: no AWS region: set AWS_REGION, "
        "pass --region or use a profile with one"
    ]


def test_an_endpoint_that_does_not_answer_is_one_line_and_exit_2(workspace: Workspace) -> None:
    from tests.integration.moto_process import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    env = _cli_env(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_ENDPOINT_URL=closed
    )

    result = _opsbundle(workspace.cli("--dry-run"), env)

    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"opsbundle: configuration error: AWS_ENDPOINT_URL: cannot reach {closed}/ ({closed})"
    ]


def test_with_a_reports_file_the_report_stack_plans_a_schedule_per_report(
    aws: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """reports.yml at the project root: the change set adds one schedule per report, and the
    pipeline gets the rendered template; the zip must carry the same file."""
    import json
    import shutil
    import zipfile

    from tests.integration.deploy.conftest import BUCKET, fake_zip

    templates = tmp_path / "cloudformation"
    shutil.copytree(ROOT / "cloudformation", templates)
    shutil.copy(ROOT / "reports.example.yml", tmp_path / "reports.yml")
    plan = json.loads((templates / "params" / "dev.json").read_text())
    plan["artifact_bucket"] = BUCKET
    plan["stacks"] = {name: plan["stacks"][name] for name in ("alerting", "report")}
    plan["stacks"]["alerting"]["parameters"]["AlertEmails"] = "ops@example.com"
    plan["stacks"]["report"]["parameters"]["SlackChannel"] = "C0123456789"
    (templates / "params" / "dev.json").write_text(json.dumps(plan))
    dist = tmp_path / "dist"
    fake_zip(dist, "report_fn")
    base = ["deploy", "--env", "dev", "--params-dir", str(templates / "params"),
            "--dist", str(dist)]  # fmt: skip  # laid out as a table
    assert run([*base, "--yes", "--only", "alerting"], capsys)[0] == 0

    code, out, err = run([*base, "--dry-run", "--only", "report"], capsys)
    assert code == 2
    assert "report_fn.zip: has no reports.yml, but the stack is rendered from" in err
    assert err.strip().endswith("reports.yml: run make package again")

    buffer = io.BytesIO()  # what make package builds with the reports file present
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("report_fn/handler.py", "def handler(event, context):\n    return None\n")
        archive.writestr("reports.yml", (tmp_path / "reports.yml").read_bytes())
    (dist / "report_fn.zip").write_bytes(buffer.getvalue())
    digest = hashlib.sha256(buffer.getvalue()).digest()
    (dist / "report_fn.zip.sha256").write_text(base64.b64encode(digest).decode() + "\n")

    code, out, err = run([*base, "--dry-run", "--only", "report"], capsys)

    assert code == 0, err
    for schedule in ("ReportScheduleLeads", "ReportScheduleTxMassTorts", "ReportScheduleLeadsDrop"):
        assert f"  + add  {schedule} (AWS::Scheduler::Schedule)" in out, out
    assert "  + add  ReportSchedule (AWS::Scheduler::Schedule)" not in out
    assert stack_status(aws["cloudformation"], "opsbundle-dev-report") is None

    code, out, err = run([*base, "--pipeline-config", str(tmp_path / "deploy")], capsys)
    assert code == 0, err
    rendered = json.loads((tmp_path / "deploy" / "report.template.json").read_text())
    assert "ReportScheduleTxMassTorts" in rendered["Resources"]
    parameters = json.loads((tmp_path / "deploy" / "report.json").read_text())["Parameters"]
    assert "ReportScheduleExpression" not in parameters
