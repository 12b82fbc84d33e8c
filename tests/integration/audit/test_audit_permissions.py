"""The audit Lambda may make every call the audit makes: its role allows each one and so does
the permissions boundary every stack role carries. Otherwise the weekly audit would find its
own AccessDenied in production, where moto (which the other tests run as an admin) never does.

The calls are recorded from a real audit of an account that breaks every rule (so every kind
of call happens, AWS managed policies read included), and each is decided, with its resource
ARN, against the statements of cloudformation/audit.yaml and alerting.yaml as the prod
parameter file instantiates them (conditions evaluated: opsbundle/deployment/iam_policies.py).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from opsbundle.deployment.iam_policies import ACCOUNT, REGION, decide, environment
from tests.integration.audit.conftest import Account
from tests.integration.audit.fixtures import (
    aws_managed_admin_on_a_role,
    aws_managed_iam_full_access_on_a_group,
    pass_any_role,
    user_attached_policy,
)

pytestmark = pytest.mark.integration

NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}
PREFIXES = {"eventbridge": "events"}  # botocore's service id -> IAM's action prefix


def resource(action: str, params: dict[str, Any]) -> str:
    """The ARN IAM authorizes the call on ("*" for calls that take none)."""
    if action == "cloudtrail:GetTrailStatus":
        name = params["Name"]
        return (
            name
            if name.startswith("arn:")
            else f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{name}"
        )
    if action == "account:GetAlternateContact":
        return f"arn:aws:account::{ACCOUNT}:account"
    if action == "events:DescribeRule":
        return f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{params['Name']}"
    if action in ("iam:GetPolicy", "iam:GetPolicyVersion"):
        return str(params["PolicyArn"])
    return "*"


def test_the_audit_role_and_the_boundary_allow_every_call_the_audit_makes(
    account: Account,
) -> None:
    for breaks in (
        aws_managed_admin_on_a_role,
        aws_managed_iam_full_access_on_a_group,
        pass_any_role,
        user_attached_policy,
    ):
        breaks(account)
    calls: set[tuple[str, str]] = set()

    def record(event_name: str, params: dict[str, Any], **_: Any) -> None:
        _, service, operation = event_name.split(".")
        action = f"{PREFIXES.get(service, service)}:{operation}"
        calls.add((action, resource(action, params)))

    session = boto3.Session(region_name="us-east-1")
    session.events.register("provide-client-params.*.*", record)
    account.audit(session=session)

    stacks = environment("prod")
    role = stacks["audit"].role_statements("AuditFunctionRole")
    boundary = stacks["alerting"].resources["AlertingPermissionsBoundary"].properties
    denied = sorted(
        (action, arn, who)
        for action, arn in calls - {(a, "*") for a in NEEDS_NO_PERMISSION}
        for who, statements in (
            ("the role", role),
            ("the boundary", boundary["PolicyDocument"]["Statement"]),
        )
        if decide(statements, action, arn) != "allow"
    )
    assert {action for action, _ in calls} >= {"iam:GetPolicy", "iam:GetPolicyVersion"}
    assert not denied, denied
