"""The deploy and build roles' policies, enforced by moto (INITIAL_NO_AUTH_ACTION_COUNT).

moto evaluates actions, resource ARNs (of roles that exist, of S3 buckets and keys) and
explicit Deny statements, and ignores Condition blocks: the guards checked here are the
ones that need no condition (the role path the deploy role's own role is not on, the
denials, the environment's prefix of the code bucket). The conditional ones (the permissions
boundary, PassedToService, ViaService) are proven in tests/unit/deploy/test_deploy_role.py
with an evaluator that reads conditions.

The policies are the templates' own, resolved for the committed dev parameter file; a user
holds each (moto evaluates a user's policies as IAM does a role session's).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from opsbundle.iam_policies import ACCOUNT, REGION, environment
from tests.moto_env import use_moto_credentials

BUCKET = f"opsbundle-artifacts-{ACCOUNT}-{REGION}"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def document(stack: str, role: str) -> str:
    resource = environment("dev")[stack].resources[role]
    statements = [
        s for p in resource.properties["Policies"] for s in p["PolicyDocument"]["Statement"]
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def name_and_path(arn: str) -> tuple[str, str]:
    path, _, name = arn.split(":role", 1)[1].rpartition("/")
    return name, path + "/"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    use_moto_credentials(monkeypatch)
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        s3 = boto3.client("s3", region_name=REGION)
        stacks = environment("dev")
        boundary = stacks["alerting"].resources["AlertingPermissionsBoundary"]
        made = iam.create_policy(
            PolicyName=boundary.name,
            Path="/opsbundle-boundary/",
            PolicyDocument=json.dumps(boundary.properties["PolicyDocument"]),
        )["Policy"]["Arn"]
        assert made == boundary.arn
        roles = {}
        for key, arn in {
            "deploy": stacks["pipeline"].resources["PipelineDeployRole"].arn,
            "build": stacks["pipeline"].resources["PipelineBuildRole"].arn,
            "stack": stacks["report"].resources["ReportFunctionRole"].arn,
        }.items():
            name, path = name_and_path(arn)
            extra = {"PermissionsBoundary": boundary.arn} if key == "stack" else {}
            roles[key] = iam.create_role(
                RoleName=name, Path=path, AssumeRolePolicyDocument=TRUST, **extra
            )["Role"]
            assert roles[key]["Arn"] == arn
        s3.create_bucket(Bucket=BUCKET)
        for key in ("dev/lambda/report_fn/a.zip", "prod/lambda/report_fn/a.zip"):
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"zip")
        users = {}
        for user, (stack, role) in {
            "deployer": ("pipeline", "PipelineDeployRole"),
            "builder": ("pipeline", "PipelineBuildRole"),
        }.items():
            iam.create_user(UserName=user)
            policy = iam.create_policy(
                PolicyName=f"{user}-policy", PolicyDocument=document(stack, role)
            )
            iam.attach_user_policy(UserName=user, PolicyArn=policy["Policy"]["Arn"])
            key = iam.create_access_key(UserName=user)["AccessKey"]
            users[user] = boto3.Session(
                aws_access_key_id=key["AccessKeyId"],
                aws_secret_access_key=key["SecretAccessKey"],
                region_name=REGION,
            )
        yield {"roles": roles, "users": users, "boundary": boundary.arn}


def denied(call: Any, **kwargs: Any) -> bool:
    try:
        call(**kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException", "403")
    return False


INLINE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "*"}],
    }
)


@set_initial_no_auth_action_count(0)
def test_the_deploy_role_cannot_change_itself_or_the_pipeline_s_roles(aws: dict[str, Any]) -> None:
    iam = aws["users"]["deployer"].client("iam")
    for role in ("deploy", "build"):
        name = aws["roles"][role]["RoleName"]
        assert denied(iam.put_role_policy, RoleName=name, PolicyName="x", PolicyDocument=INLINE)
        assert denied(
            iam.attach_role_policy,
            RoleName=name,
            PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess",
        )
        assert denied(iam.update_assume_role_policy, RoleName=name, PolicyDocument=TRUST)
        assert denied(iam.delete_role, RoleName=name)


@set_initial_no_auth_action_count(0)
def test_the_boundary_of_a_stack_role_cannot_be_removed(aws: dict[str, Any]) -> None:
    iam = aws["users"]["deployer"].client("iam")
    name = aws["roles"]["stack"]["RoleName"]
    assert denied(iam.delete_role_permissions_boundary, RoleName=name)
    # what the deploy role is for: moto allows it (it does not read the boundary condition,
    # which tests/unit/deploy/test_deploy_role.py proves)
    iam.put_role_policy(RoleName=name, PolicyName="report-fn", PolicyDocument=INLINE)


@set_initial_no_auth_action_count(0)
def test_a_build_writes_only_its_own_environment_s_code(aws: dict[str, Any]) -> None:
    s3 = aws["users"]["builder"].client("s3")
    s3.put_object(Bucket=BUCKET, Key="dev/lambda/report_fn/b.zip", Body=b"zip")
    for key in ("prod/lambda/report_fn/a.zip", "staging/lambda/report_fn/b.zip", "lambda/x.zip"):
        assert denied(s3.put_object, Bucket=BUCKET, Key=key, Body=b"evil"), key


@set_initial_no_auth_action_count(0)
def test_the_deploy_role_reads_only_its_own_environment_s_code(aws: dict[str, Any]) -> None:
    s3 = aws["users"]["deployer"].client("s3")
    assert s3.get_object(Bucket=BUCKET, Key="dev/lambda/report_fn/a.zip")["Body"].read() == b"zip"
    assert denied(s3.get_object, Bucket=BUCKET, Key="prod/lambda/report_fn/a.zip")
