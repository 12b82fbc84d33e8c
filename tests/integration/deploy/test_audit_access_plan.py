"""cloudformation/params/prod.json's audit and access stacks make change sets on moto.

As with the committed dev plan (test_deploy_moto.py), alerting is deployed for real and the
stacks that use it are planned with --dry-run: the parameter file, its references and the two
templates are shown to fit together. access.yaml's groups cannot be created by moto's
CloudFormation (README, "Tests against moto"); its policies are tested in tests/integration/access.
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


def test_the_prod_plan_makes_change_sets_for_audit_and_access(
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
    code = cli.main([*base, "--dry-run"])
    out, err = capsys.readouterr()

    assert code == 0, err
    for stack, resource in [
        ("audit", "AuditFunction (AWS::Lambda::Function)"),
        ("audit", "AuditStateTable (AWS::DynamoDB::Table)"),
        ("access", "AccessDevelopersGroup (AWS::IAM::Group)"),
        ("access", "AccessMfaPolicy (AWS::IAM::ManagedPolicy)"),
    ]:
        assert re.search(rf"opsbundle-prod-{stack}: create, \d+ resource change\(s\)", out), out
        assert f"  + add  {resource}" in out
    assert "would change: audit, access; unchanged: alerting" in out
