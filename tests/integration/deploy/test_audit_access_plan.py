"""cloudformation/params/prod.json's audit and access stacks on moto.

alerting and audit are deployed for real (moto skips audit's alarms, invoke configuration,
queue policy and secret, as docs/development.md's "Tests against moto" lists), then access is
planned with --dry-run: moto's CloudFormation cannot create its groups; its policies are tested in
tests/integration/access.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from opsbundle import cli
from tests.integration.deploy.conftest import BUCKET, ROOT, fake_zip


def test_the_prod_plan_deploys_audit_and_plans_access(
    aws: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    templates = tmp_path / "cloudformation"
    shutil.copytree(ROOT / "cloudformation", templates)
    plan_file = templates / "params" / "prod.json"
    plan = json.loads(plan_file.read_text())
    plan["artifact_bucket"] = BUCKET
    plan["stacks"] = {name: plan["stacks"][name] for name in ("alerting", "audit", "access")}
    plan["stacks"]["alerting"]["parameters"]["AlertEmails"] = "ops@example.com"
    audit = plan["stacks"]["audit"]["parameters"]
    audit["AuditContactDomains"] = "example.com"
    for kind in ("Operations", "Billing", "Security"):
        audit[f"Audit{kind}Contact"] = f"{kind} team | {kind} | {kind.lower()}@example.com | +1 555"
    # The report stack (its archive bucket) cannot be created on moto; stakeholders then get
    # the dashboards only.
    plan["stacks"]["access"]["parameters"]["ReportArchiveBucket"] = ""
    plan_file.write_text(json.dumps(plan))
    dist = tmp_path / "dist"
    fake_zip(dist, "audit")
    base = [
        "deploy",
        "--env",
        "prod",
        "--params-dir",
        str(templates / "params"),
        "--dist",
        str(dist),
    ]

    assert cli.main([*base, "--yes", "--only", "alerting"]) == 0, capsys.readouterr().err
    assert cli.main([*base, "--yes", "--only", "audit"]) == 0, capsys.readouterr().err
    function = aws["lambda"].get_function(FunctionName="opsbundle-prod-audit-audit")
    variables = function["Configuration"]["Environment"]["Variables"]
    assert variables["AUDIT_MONITORS_STACK"] == "opsbundle-prod-monitors"
    assert variables["AUDIT_CONTACT_DOMAINS"] == "example.com"
    assert function["Configuration"]["Handler"] == "audit.handler.handler"
    code = cli.main([*base, "--dry-run"])
    out, err = capsys.readouterr()

    assert code == 0, err
    assert "opsbundle-prod-audit: no changes" in out
    assert re.search(r"opsbundle-prod-access: create, \d+ resource change\(s\)", out), out
    for resource in (
        "AccessDevelopersGroup (AWS::IAM::Group)",
        "AccessMfaPolicy (AWS::IAM::ManagedPolicy)",
    ):
        assert f"  + add  {resource}" in out
    assert "would change: access; unchanged: alerting, audit" in out
