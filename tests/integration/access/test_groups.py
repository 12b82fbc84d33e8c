"""Each group of cloudformation/access.yaml can do its job and nothing it must not.

How each kind of rule is proven:

- Actions and resources: moto's own policy evaluator (`moto.iam.access_control.IAMPolicy`,
  what INITIAL_NO_AUTH_ACTION_COUNT runs on every call) decides each (action, resource ARN)
  of a group's job and of what it must not do, over all the group's policies: an explicit
  Deny wins, then any Allow. It is asked directly with real ARNs because moto's HTTP layer
  passes "*" as the resource for most services; a few real calls through moto with IAM
  enforced show the same answers end to end.
- `aws:MultiFactorAuthPresent`: moto ignores Condition blocks (it would apply the "deny
  without MFA" statement always). `signed_in` resolves that one key the way IAM does
  (Bool, BoolIfExists; absent for long-term keys) into two unconditional policies, with MFA
  and without, and moto evaluates each: with MFA the job is allowed, without it everything
  but setting up MFA is denied. A structural test checks that the MFA Deny is on every
  group and that no Allow escapes it.
- Other conditions (`iam:PassedToService`, `kms:ViaService`, `lambda:Layer`) only narrow an
  Allow or widen a Deny; moto ignores them, so their presence is checked on the template.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.aws_managed_policies import aws_managed_policies_data

from opsbundle.deployment.stacks import TEMPLATES_DIR, load_template
from tests.integration.access.template import ACCOUNT, REGION, groups, parameters
from tests.moto_env import use_moto_credentials
from tests.moto_iam import enforcing_iam

ARCHIVE = "opsbundle-prod-report-reportarchivebucket-1a2b3c"
PARAMS = parameters(ReportArchiveBucket=ARCHIVE)
GROUPS = groups(PARAMS)
STACK_ROLE_PATH = "/opsbundle-stacks/"
SECURITY_AUDIT = json.loads(aws_managed_policies_data)["SecurityAudit"]["Document"]
MFA_CONDITION_KEY = "aws:MultiFactorAuthPresent"
SELF_SERVICE = {
    "iam:ChangePassword",
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetAccountPasswordPolicy",
    "iam:GetLoginProfile",
    "iam:GetMFADevice",
    "iam:GetUser",
    "iam:ListMFADevices",
    "iam:ListVirtualMFADevices",
    "iam:ResyncMFADevice",
    "sts:GetSessionToken",
}


def arn(service: str, rest: str, region: str = REGION) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{rest}"


def role(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def stack_role(name: str) -> str:
    """A role of one of the stacks, under the path every stack gives its roles."""
    return f"arn:aws:iam::{ACCOUNT}:role{STACK_ROLE_PATH}{name}"


def user(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


KEY = PARAMS["KmsKeyArn"]
ALL = "*"
# Every group: a person sets up their own password and MFA device.
SELF_JOB = [
    ("iam:ChangePassword", user("pat")),
    ("iam:CreateVirtualMFADevice", f"arn:aws:iam::{ACCOUNT}:mfa/pat-phone"),
    ("iam:EnableMFADevice", user("pat")),
    ("iam:GetAccountPasswordPolicy", ALL),
]
NOBODY = [
    ("iam:ChangePassword", user("someone-else")),
    ("iam:EnableMFADevice", user("someone-else")),
    ("iam:CreateUser", user("new")),
    ("iam:CreateAccessKey", user("pat")),
    ("iam:CreateLoginProfile", user("someone-else")),
    ("iam:AttachUserPolicy", user("pat")),
    ("iam:PutUserPolicy", user("pat")),
    ("iam:AddUserToGroup", f"arn:aws:iam::{ACCOUNT}:group/admins"),
    ("iam:CreatePolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/opsbundle-prod-access-x"),
    ("iam:AttachGroupPolicy", f"arn:aws:iam::{ACCOUNT}:group/opsbundle-prod-access-x"),
    ("iam:UpdateAssumeRolePolicy", role("opsbundle-prod-pipeline-PipelineDeployRole-1")),
    ("iam:PassRole", role("opsbundle-prod-pipeline-PipelineDeployRole-1")),
    ("iam:PassRole", role("OrganizationAccountAccessRole")),
    ("sts:AssumeRole", role("OrganizationAccountAccessRole")),
    ("secretsmanager:GetSecretValue", arn("secretsmanager", "secret:ReportCrmSecret-AbCdEf")),
    ("lambda:CreateFunction", arn("lambda", "function:opsbundle-dev-anything")),
    ("lambda:UpdateFunctionCode", arn("lambda", "function:opsbundle-dev-report-report")),
    ("cloudformation:CreateChangeSet", arn("cloudformation", "stack/opsbundle-prod-report/1")),
    ("cloudtrail:StopLogging", arn("cloudtrail", "trail/opsbundle-prod-trail")),
    ("ec2:RunInstances", arn("ec2", "instance/*")),
    ("kms:Decrypt", arn("kms", "key/another-key")),
]
JOBS: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
    "AccessDevelopersGroup": (
        [
            ("codepipeline:StartPipelineExecution", arn("codepipeline", "opsbundle-dev-pipeline")),
            (
                "codepipeline:RetryStageExecution",
                arn("codepipeline", "opsbundle-dev-pipeline/Deploy"),
            ),
            ("codepipeline:GetPipelineState", arn("codepipeline", "opsbundle-prod-pipeline")),
            ("logs:FilterLogEvents", arn("logs", "log-group:/aws/lambda/opsbundle-dev-report:*")),
            ("logs:StartQuery", arn("logs", "log-group:/aws/codebuild/opsbundle-dev-pipeline")),
            ("cloudwatch:GetDashboard", f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/opsbundle"),
            ("cloudwatch:GetMetricData", ALL),
            (
                "cloudformation:DescribeStackEvents",
                arn("cloudformation", "stack/opsbundle-dev-report/1"),
            ),
            (
                "lambda:UpdateFunctionConfiguration",
                arn("lambda", "function:opsbundle-dev-report-report"),
            ),
            ("lambda:InvokeFunction", arn("lambda", "function:opsbundle-dev-monitors-targets")),
            ("iam:PassRole", stack_role("opsbundle-dev-report-ReportFunctionRole-1A2B3C")),
            ("iam:PassRole", stack_role("opsbundle-dev-log-shipper-LogShipperFunctionRole-1A2B3C")),
            ("iam:PassRole", stack_role("opsbundle-dev-monitors-TargetsFunctionRole-1A2B3C")),
        ],
        [
            ("codepipeline:StartPipelineExecution", arn("codepipeline", "opsbundle-prod-pipeline")),
            (
                "codepipeline:PutApprovalResult",
                arn("codepipeline", "opsbundle-prod-pipeline/Deploy/approve"),
            ),
            (
                "lambda:UpdateFunctionConfiguration",
                arn("lambda", "function:opsbundle-prod-report-report"),
            ),
            (
                "lambda:UpdateFunctionConfiguration",
                arn("lambda", "function:opsbundle-dev-audit-audit"),
            ),
            ("iam:PassRole", ALL),
            ("iam:PassRole", stack_role("opsbundle-prod-report-ReportFunctionRole-1A2B3C")),
            ("iam:PassRole", role("opsbundle-dev-pipeline-PipelineDeployRole-1A2B3C")),
            ("iam:PassRole", stack_role("opsbundle-dev-audit-AuditFunctionRole-1A2B3C")),
            ("iam:PassRole", stack_role("opsbundle-dev-trail-TrailLogsRole-1A2B3C")),
            ("s3:GetObject", f"arn:aws:s3:::{ARCHIVE}/reports/leads/x.json"),
            ("sqs:ReceiveMessage", arn("sqs", "opsbundle-dev-report-ReportFailureQueue-1")),
        ],
    ),
    "AccessSystemsEngineersGroup": (
        [
            ("codepipeline:StartPipelineExecution", arn("codepipeline", "opsbundle-prod-pipeline")),
            (
                "codepipeline:PutApprovalResult",
                arn("codepipeline", "opsbundle-prod-pipeline/Deploy/approve"),
            ),
            (
                "cloudwatch:DisableAlarmActions",
                arn("cloudwatch", "alarm:opsbundle-prod-report-errors"),
            ),
            ("sqs:ReceiveMessage", arn("sqs", "opsbundle-prod-report-ReportFailureQueue-1")),
            ("sqs:PurgeQueue", arn("sqs", "opsbundle-prod-monitors-MonitorsFailureQueue-1")),
            ("lambda:InvokeFunction", arn("lambda", "function:opsbundle-prod-report-report")),
            ("s3:GetObject", "arn:aws:s3:::opsbundle-prod-log-shipper-deadletterbucket-1/a.json"),
            ("kms:Decrypt", KEY),
            ("logs:FilterLogEvents", arn("logs", "log-group:/aws/lambda/opsbundle-prod-report:*")),
            ("elasticloadbalancing:DescribeTargetHealth", ALL),
        ],
        [
            ("iam:PassRole", stack_role("opsbundle-prod-report-ReportFunctionRole-1A2B3C")),
            (
                "lambda:UpdateFunctionConfiguration",
                arn("lambda", "function:opsbundle-prod-report-report"),
            ),
            (
                "cloudformation:ExecuteChangeSet",
                arn("cloudformation", "stack/opsbundle-prod-report/1"),
            ),
            ("codepipeline:UpdatePipeline", arn("codepipeline", "opsbundle-prod-pipeline")),
            ("sqs:ReceiveMessage", arn("sqs", "payments-queue")),
            ("s3:PutObject", "arn:aws:s3:::opsbundle-prod-log-shipper-deadletterbucket-1/a.json"),
            ("iam:UpdateAccountPasswordPolicy", ALL),
        ],
    ),
    "AccessSecurityEngineersGroup": (
        [
            ("iam:GenerateCredentialReport", ALL),
            ("iam:GetCredentialReport", ALL),
            ("iam:GetAccountAuthorizationDetails", ALL),
            ("iam:GetAccountSummary", ALL),
            ("account:GetAlternateContact", f"arn:aws:account::{ACCOUNT}:account"),
            ("account:PutAlternateContact", f"arn:aws:account::{ACCOUNT}:account"),
            ("iam:UpdateAccountPasswordPolicy", ALL),
            ("cloudtrail:DescribeTrails", ALL),
            ("cloudtrail:GetTrailStatus", arn("cloudtrail", "trail/opsbundle-prod-trail")),
            ("cloudtrail:LookupEvents", ALL),
            ("lambda:InvokeFunction", arn("lambda", "function:opsbundle-prod-audit-audit")),
            ("logs:FilterLogEvents", arn("logs", "log-group:/aws/cloudtrail/opsbundle-prod-trail")),
            (
                "s3:GetObject",
                "arn:aws:s3:::opsbundle-prod-trail-trailbucket-1a2b/AWSLogs/x.json.gz",
            ),
        ],
        [
            ("s3:GetObject", f"arn:aws:s3:::{ARCHIVE}/reports/leads/x.json"),
            ("lambda:InvokeFunction", arn("lambda", "function:opsbundle-prod-report-report")),
            ("logs:FilterLogEvents", arn("logs", "log-group:/aws/lambda/opsbundle-prod-report")),
            ("iam:PassRole", stack_role("opsbundle-prod-audit-AuditFunctionRole-1A2B3C")),
            ("cloudtrail:DeleteTrail", arn("cloudtrail", "trail/opsbundle-prod-trail")),
            ("codepipeline:StartPipelineExecution", arn("codepipeline", "opsbundle-prod-pipeline")),
        ],
    ),
    "AccessStakeholdersGroup": (
        [
            ("cloudwatch:GetDashboard", f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/opsbundle"),
            ("cloudwatch:ListDashboards", ALL),
            ("cloudwatch:GetMetricData", ALL),
            ("s3:ListBucket", f"arn:aws:s3:::{ARCHIVE}"),
            ("s3:GetObject", f"arn:aws:s3:::{ARCHIVE}/reports/leads/year=2026/x.json"),
            ("kms:Decrypt", KEY),
        ],
        [
            ("s3:PutObject", f"arn:aws:s3:::{ARCHIVE}/reports/leads/x.json"),
            ("s3:GetObject", f"arn:aws:s3:::{ARCHIVE}/private/x.json"),
            ("s3:GetObject", "arn:aws:s3:::opsbundle-prod-log-shipper-deadletterbucket-1/a.json"),
            ("logs:FilterLogEvents", arn("logs", "log-group:/aws/lambda/opsbundle-prod-report")),
            ("cloudwatch:DescribeAlarms", arn("cloudwatch", "alarm:opsbundle-prod-report-errors")),
            ("codepipeline:GetPipelineState", arn("codepipeline", "opsbundle-prod-pipeline")),
            ("lambda:InvokeFunction", arn("lambda", "function:opsbundle-prod-report-report")),
        ],
    ),
}


def _resolve_mfa(condition: dict[str, Any], present: bool) -> bool | None:
    """Whether a statement's condition on aws:MultiFactorAuthPresent holds; None: no such key.

    Signed in with MFA the key is "true"; a console session without MFA has it "false"; a
    long-term access key carries no such key at all (Bool then fails, BoolIfExists holds).
    """
    verdict = None
    for operator, values in condition.items():
        if MFA_CONDITION_KEY not in values:
            continue
        wanted = str(values[MFA_CONDITION_KEY]).lower() == "true"
        holds = present == wanted
        if operator == "BoolIfExists" and not present:
            holds = not wanted  # absent (access key) or false (console): "false" holds
        verdict = holds if verdict is None else verdict and holds
    return verdict


def _resolve_layers(condition: dict[str, Any], layers: list[str]) -> bool | None:
    """ForAnyValue:StringLike on lambda:Layer: holds when a layer given matches (none: False)."""
    patterns = condition.get("ForAnyValue:StringLike", {}).get("lambda:Layer")
    if patterns is None:
        return None
    patterns = patterns if isinstance(patterns, list) else [patterns]
    return any(fnmatch.fnmatchcase(layer, p) for layer in layers for p in patterns)


def signed_in(
    document: dict[str, Any], *, mfa: bool, username: str = "pat", layers: list[str] | None = None
) -> dict[str, Any]:
    """The policy as IAM applies it to `username`'s request: MFA (and, for Lambda, the layers
    the request names) resolved, `${aws:username}` replaced."""
    resolved = copy.deepcopy(document)
    kept = []
    for statement in resolved["Statement"]:
        condition = statement.get("Condition", {})
        if _resolve_layers(condition, layers or []) is False:
            continue
        condition.pop("ForAnyValue:StringLike", None)
        holds = _resolve_mfa(condition, mfa)
        if holds is False:
            continue
        if holds is True:
            for operator in list(condition):
                condition[operator].pop(MFA_CONDITION_KEY, None)
                if not condition[operator]:
                    del condition[operator]
            if not condition:
                statement.pop("Condition", None)
        kept.append(statement)
    resolved["Statement"] = kept
    return json.loads(json.dumps(resolved).replace("${aws:username}", username))


def policies_of(group: str, *, mfa: bool, layers: list[str] | None = None) -> list[dict[str, Any]]:
    found = GROUPS[group]
    documents = list(found.documents.values())
    if found.aws_managed:
        assert found.aws_managed == ("arn:aws:iam::aws:policy/SecurityAudit",)
        documents.append(SECURITY_AUDIT)
    return [signed_in(doc, mfa=mfa, layers=layers) for doc in documents]


def decide(documents: list[dict[str, Any]], action: str, resource: str) -> bool:
    """moto's evaluation of one request: any explicit Deny wins, then any Allow."""
    allowed = False
    for document in documents:
        result = IAMPolicy(json.dumps(document)).is_action_permitted(action, resource)
        if result == PermissionResult.DENIED:
            return False
        allowed = allowed or result == PermissionResult.PERMITTED
    return allowed


@pytest.mark.parametrize("group", sorted(JOBS))
def test_with_mfa_each_group_can_do_its_job_and_nothing_it_must_not(group: str) -> None:
    documents = policies_of(group, mfa=True)
    job, forbidden = JOBS[group]
    cannot = [(a, r) for a, r in [*SELF_JOB, *job] if not decide(documents, a, r)]
    may = [(a, r) for a, r in [*NOBODY, *forbidden] if decide(documents, a, r)]
    assert cannot == [], f"{group} cannot do its job"
    assert may == [], f"{group} may do what it must not"


@pytest.mark.parametrize("group", sorted(JOBS))
def test_without_mfa_a_group_can_only_set_up_mfa(group: str) -> None:
    documents = policies_of(group, mfa=False)
    job, _ = JOBS[group]
    assert [(a, r) for a, r in job if decide(documents, a, r)] == []
    assert [(a, r) for a, r in SELF_JOB if not decide(documents, a, r)] == []
    assert not decide(documents, "iam:DeactivateMFADevice", user("pat"))


def test_the_mfa_deny_is_on_every_group_and_no_allow_escapes_it() -> None:
    """The structure behind the moto runs: every group holds the one Deny, whose exceptions
    are exactly the self-service calls, and no other Allow grants one of those calls."""
    for group, found in GROUPS.items():
        denies = [
            s
            for doc in found.documents.values()
            for s in doc["Statement"]
            if s["Effect"] == "Deny"
            and s.get("Condition", {}).get("BoolIfExists") == {MFA_CONDITION_KEY: "false"}
        ]
        assert len(denies) == 1, group
        [deny] = denies
        assert deny["Resource"] == "*" and "Action" not in deny
        assert set(deny["NotAction"]) == SELF_SERVICE
        for logical, document in found.documents.items():
            if logical == "AccessMfaPolicy":
                continue
            for statement in document["Statement"]:
                actions = statement.get("Action", [])
                actions = actions if isinstance(actions, list) else [actions]
                assert not set(actions) & SELF_SERVICE, (group, logical, statement.get("Sid"))


def test_conditions_moto_ignores_are_in_place() -> None:
    """PassRole goes to Lambda only; keys are used through S3 and SQS only; no layers (also
    evaluated: a configuration change that adds a layer is denied)."""
    developers = GROUPS["AccessDevelopersGroup"].documents["AccessDevelopersPolicy"]
    statements = {s["Sid"]: s for s in developers["Statement"]}
    assert statements["PassOnlyDevFunctionRolesToLambda"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}
    }
    layered = policies_of("AccessDevelopersGroup", mfa=True, layers=[arn("lambda", "layer:x:1")])
    function = arn("lambda", "function:opsbundle-dev-report-report")
    assert not decide(layered, "lambda:UpdateFunctionConfiguration", function)
    layers = statements["DenyLayers"]
    assert layers["Effect"] == "Deny"
    assert layers["Condition"] == {"ForAnyValue:StringLike": {"lambda:Layer": "*"}}
    for found in GROUPS.values():
        for document in found.documents.values():
            for statement in document["Statement"]:
                actions = statement.get("Action", [])
                if "kms:Decrypt" in (actions if isinstance(actions, list) else [actions]):
                    assert "kms:ViaService" in statement["Condition"]["StringEquals"]
                    assert statement["Resource"] == KEY


def test_stakeholders_see_no_archive_when_there_is_none() -> None:
    plain = groups(parameters())["AccessStakeholdersGroup"]
    documents = [signed_in(doc, mfa=True) for doc in plain.documents.values()]
    assert not decide(documents, "s3:GetObject", f"arn:aws:s3:::{ARCHIVE}/reports/x.json")
    assert decide(documents, "cloudwatch:GetMetricData", ALL)


# --- the same answers through moto's API, with IAM enforced ---------------------------------


@pytest.fixture
def people(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, boto3.Session]]:
    """One IAM user per group (and one developer without MFA), each holding exactly its
    group's policies (MFA resolved as above), with an access key to call moto with."""
    use_moto_credentials(monkeypatch, REGION)
    with mock_aws():
        admin = boto3.Session(region_name=REGION)
        iam, s3, sqs = admin.client("iam"), admin.client("s3"), admin.client("sqs")
        s3.create_bucket(Bucket=ARCHIVE)
        s3.put_object(Bucket=ARCHIVE, Key="reports/leads/x.json", Body=b"{}")
        s3.create_bucket(Bucket="payments")
        s3.put_object(Bucket="payments", Key="x.json", Body=b"{}")
        sqs.create_queue(QueueName="opsbundle-prod-report-ReportFailureQueue-1")
        sqs.create_queue(QueueName="payments-queue")
        sessions = {}
        for name, group, mfa in (
            ("developer", "AccessDevelopersGroup", True),
            ("sysadmin", "AccessSystemsEngineersGroup", True),
            ("security", "AccessSecurityEngineersGroup", True),
            ("stakeholder", "AccessStakeholdersGroup", True),
            ("no-mfa", "AccessDevelopersGroup", False),
        ):
            iam.create_group(GroupName=name)
            for number, document in enumerate(policies_of(group, mfa=mfa)):
                text = (
                    json.dumps(document).replace('"pat"', f'"{name}"').replace("/pat", f"/{name}")
                )
                arn_ = iam.create_policy(PolicyName=f"{name}-{number}", PolicyDocument=text)
                iam.attach_group_policy(GroupName=name, PolicyArn=arn_["Policy"]["Arn"])
            iam.create_user(UserName=name)
            iam.add_user_to_group(GroupName=name, UserName=name)
            key = iam.create_access_key(UserName=name)["AccessKey"]
            sessions[name] = boto3.Session(
                aws_access_key_id=key["AccessKeyId"],
                aws_secret_access_key=key["SecretAccessKey"],
                region_name=REGION,
            )
        with enforcing_iam():
            yield sessions


def allowed(call: Any) -> bool:
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as error:
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        assert status == 403, error
        return False
    return True


def test_real_calls_through_moto_agree(people: dict[str, boto3.Session]) -> None:
    stakeholder, developer = people["stakeholder"], people["developer"]
    sysadmin, security, no_mfa = people["sysadmin"], people["security"], people["no-mfa"]
    s3 = stakeholder.client("s3")
    assert allowed(lambda: s3.get_object(Bucket=ARCHIVE, Key="reports/leads/x.json"))
    assert not allowed(lambda: s3.get_object(Bucket="payments", Key="x.json"))
    assert not allowed(lambda: s3.put_object(Bucket=ARCHIVE, Key="reports/y.json", Body=b"x"))
    queue = (
        f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/opsbundle-prod-report-ReportFailureQueue-1"
    )
    other = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/payments-queue"
    assert allowed(lambda: sysadmin.client("sqs").receive_message(QueueUrl=queue))
    assert not allowed(lambda: sysadmin.client("sqs").receive_message(QueueUrl=other))
    assert not allowed(lambda: developer.client("sqs").receive_message(QueueUrl=queue))
    assert allowed(lambda: security.client("iam").generate_credential_report())
    assert allowed(lambda: security.client("iam").get_account_authorization_details())
    assert allowed(lambda: developer.client("codepipeline").list_pipelines())
    for person in (developer, sysadmin, security, stakeholder):
        iam = person.client("iam")
        assert not allowed(lambda iam=iam: iam.create_user(UserName="intruder"))
        assert not allowed(lambda iam=iam: iam.create_access_key(UserName="developer"))
        assert not allowed(
            lambda iam=iam: iam.attach_user_policy(
                UserName="developer", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
            )
        )
    # Without MFA: nothing of the job, but the password rules for setting up MFA.
    assert not allowed(lambda: no_mfa.client("codepipeline").list_pipelines())
    assert not allowed(lambda: no_mfa.client("iam").create_user(UserName="intruder"))


def test_the_role_arns_asked_about_are_the_ones_the_stacks_create() -> None:
    """Every role of the stacks a group may pass sits under STACK_ROLE_PATH, so the ARNs above
    are the real ones (a role's path is part of its ARN: role/opsbundle-stacks/NAME)."""
    paths = {
        (stack, logical_id): resource["Properties"].get("Path", "/")
        for stack in ("report", "log-shipper", "monitors", "audit", "trail")
        for logical_id, resource in load_template(TEMPLATES_DIR / f"{stack}.yaml")[
            "Resources"
        ].items()
        if isinstance(resource, dict) and resource["Type"] == "AWS::IAM::Role"
    }
    assert paths and set(paths.values()) == {STACK_ROLE_PATH}, paths
