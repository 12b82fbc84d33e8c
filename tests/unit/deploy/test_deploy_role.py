"""The pipeline's deploy role: every escalation of the security review is denied, and every
stack can still be deployed.

How it is proven. The templates are instantiated for the committed dev parameter file
(opsbundle.iam_policies: ARNs and names as CloudFormation makes them) and the deploy role's
policy is evaluated by opsbundle.iam_policies.decide, an evaluator of exactly the condition
operators the templates use, itself tested against IAM's documented semantics
(test_iam_evaluator.py). Conditions are what moto ignores; the guards moto does evaluate
(resource ARNs, role paths, explicit Deny) are also exercised against moto in
tests/integration/deploy/test_deploy_role_moto.py.

"Can still be deployed" means: for every resource of every stack the pipeline deploys, the
actions CloudFormation's resource handlers call (a curated set per type, each checked to be
in the handler's documented permissions, from the resource schemas cfn-lint ships) and the
calls it makes on other resources (PassRole with the service, the key through a service,
the code's object version) are allowed on the ARN the resource will have.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

import pytest

from opsbundle.iam_policies import ACCOUNT, KEY_ID, REGION, Resource, Stack, decide, environment

# (environment, overrides): the committed dev file; the other branches of the templates
# (Chatbot, Kinesis, a created OpenSearch secret, S3 log sources, report e-mail); prod, which
# also deploys the audit and access stacks.
Variant = tuple[str, tuple[tuple[str, str, str], ...]]
DEV: Variant = ("dev", ())
VARIANTS: tuple[Variant, ...] = (
    DEV,
    ("dev", (("alerting", "SlackWorkspaceId", "T0123ABCD"),
             ("alerting", "SlackChannelId", "C0123456789"),
             ("log-shipper", "UseKinesis", "true"), ("log-shipper", "OpenSearchAuth", "basic"),
             ("log-shipper", "S3LogBuckets", "acme-alb-logs,acme-trail"),
             ("report", "ReportEmailFrom", "reports@example.com"))),
    ("prod", ()),
)  # fmt: skip  # laid out as a table
VARIANT_IDS = ["dev", "dev-chatbot-kinesis-basic-s3-email", "prod-audit-access"]
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"


def stacks(variant: Variant = DEV) -> dict[str, Stack]:
    return environment(*variant)


def deployed(variant: Variant) -> list[str]:
    """The stacks the environment's pipeline deploys: all but itself."""
    return [name for name in stacks(variant) if name != "pipeline"]


def deploy_role(variant: Variant = DEV) -> list[dict[str, Any]]:
    role = stacks(variant)["pipeline"].resources["PipelineDeployRole"].properties
    return [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def boundary_arn(variant: Variant = DEV) -> str:
    return stacks(variant)["alerting"].resources["AlertingPermissionsBoundary"].arn


def own_role() -> str:
    return stacks()["pipeline"].resources["PipelineDeployRole"].arn


def allowed(action: str, resource: str, **context: Any) -> bool:
    return decide(deploy_role(), action, resource, context) == "allow"


# --- the escalations of the security review -------------------------------------------------


def test_its_name_matches_nothing_it_may_change() -> None:
    """It was opsbundle-dev-pipeline-PipelineDeployRole-…, inside its grant on
    role/opsbundle-dev-*: it could put any inline policy on itself."""
    me = own_role()
    assert me.startswith(f"arn:aws:iam::{ACCOUNT}:role/opsbundle-dev-pipeline-PipelineDeployRole")
    boundary = {"iam:PermissionsBoundary": boundary_arn()}
    for action in (
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:DeleteRolePermissionsBoundary",
        "iam:PutRolePermissionsBoundary",
        "iam:DeleteRole",
        "iam:PassRole",
    ):
        assert decide(deploy_role(), action, me, boundary) == "deny", action
    for name in ("PipelineBuildRole", "PipelineRole"):
        arn = stacks()["pipeline"].resources[name].arn
        assert decide(deploy_role(), "iam:PutRolePolicy", arn, boundary) == "deny", name


ROLE = f"arn:aws:iam::{ACCOUNT}:role/opsbundle-stacks/opsbundle-dev-report-Evil-X"


def test_a_role_it_creates_carries_the_boundary() -> None:
    assert allowed("iam:CreateRole", ROLE, **{"iam:PermissionsBoundary": boundary_arn()})
    assert not allowed("iam:CreateRole", ROLE)  # no boundary
    other = f"arn:aws:iam::{ACCOUNT}:policy/opsbundle-stacks/opsbundle-dev-report-Open-X"
    assert decide(deploy_role(), "iam:CreateRole", ROLE, {"iam:PermissionsBoundary": other}) == (
        "deny"
    )
    # ... anywhere but the stacks' path, not at all
    elsewhere = f"arn:aws:iam::{ACCOUNT}:role/opsbundle-dev-report-Evil-X"
    assert not allowed("iam:CreateRole", elsewhere, **{"iam:PermissionsBoundary": boundary_arn()})


def test_a_policy_goes_only_on_a_role_with_the_boundary_which_stays() -> None:
    with_boundary = {"iam:PermissionsBoundary": boundary_arn()}
    assert allowed("iam:PutRolePolicy", ROLE, **with_boundary)
    assert not allowed("iam:PutRolePolicy", ROLE)  # a role without it (made by hand)
    assert decide(deploy_role(), "iam:DeleteRolePermissionsBoundary", ROLE, with_boundary) == "deny"
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    assert not allowed("iam:AttachRolePolicy", ROLE, **{**with_boundary, "iam:PolicyARN": admin})


def test_the_boundary_policy_cannot_be_rewritten() -> None:
    for action in (
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:DeletePolicy",
        "iam:DeletePolicyVersion",
    ):
        assert decide(deploy_role(), action, boundary_arn()) == "deny", action
    # its own managed policies are the stacks' (the boundary caps whatever they say)
    mine = f"arn:aws:iam::{ACCOUNT}:policy/opsbundle-stacks/opsbundle-dev-alerting-P-X"
    assert allowed("iam:CreatePolicyVersion", mine)


@pytest.mark.parametrize(
    ("service", "allowed_to"),
    [("lambda.amazonaws.com", True), ("scheduler.amazonaws.com", True),
     ("cloudtrail.amazonaws.com", True), ("logs.amazonaws.com", True),
     ("ec2.amazonaws.com", False), ("cloudformation.amazonaws.com", False),
     ("codebuild.amazonaws.com", False), ("glue.amazonaws.com", False), (None, False)],
)  # fmt: skip  # one case a line
def test_pass_role_only_to_the_services_that_run_the_stacks_roles(
    service: str | None, allowed_to: bool
) -> None:
    context = {"iam:PassedToService": service} if service else {}
    assert allowed("iam:PassRole", ROLE, **context) is allowed_to


OTHER_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"


def test_kms_only_the_environment_s_key_never_deleted_used_only_through_services() -> None:
    for action in ("kms:PutKeyPolicy", "kms:Decrypt", "kms:CreateGrant", "kms:TagResource"):
        assert not allowed(
            action, OTHER_KEY, **{"kms:ViaService": f"lambda.{REGION}.amazonaws.com"}
        )
    for action in ("kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:CreateKey"):
        assert decide(deploy_role(), action, KEY) == "deny", action
    assert not allowed("kms:Decrypt", KEY)  # directly: no
    assert allowed(
        "kms:Decrypt", KEY, **{"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}
    )
    assert allowed("kms:PutKeyPolicy", KEY)
    lockout = {"kms:BypassPolicyLockoutSafetyCheck": "true"}
    assert decide(deploy_role(), "kms:PutKeyPolicy", KEY, lockout) == "deny"


def test_secrets_only_the_environment_s_never_read() -> None:
    prod = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:opsbundle-prod-report-slack-AbCdEf"
    any_secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds-master-AbCdEf"
    mine = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:opsbundle-dev-report-slack-AbCdEf"
    for secret in (prod, any_secret):
        for action in (
            "secretsmanager:UpdateSecret",
            "secretsmanager:PutSecretValue",
            "secretsmanager:DeleteSecret",
            "secretsmanager:GetSecretValue",
        ):
            assert not allowed(action, secret), (action, secret)
    assert allowed("secretsmanager:UpdateSecret", mine)
    assert not allowed("secretsmanager:GetSecretValue", mine)
    assert not allowed("secretsmanager:PutSecretValue", mine)


def test_subscription_filters_only_on_the_log_groups_the_pipeline_names() -> None:
    def group(name: str) -> str:
        return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"

    assert allowed("logs:PutSubscriptionFilter", group("/aws/lambda/billing-api"))
    for name in (
        "/aws/cloudtrail/opsbundle-dev-trail",
        "/aws/lambda/opsbundle-prod-report",
        "/aws/rds/instance/db/postgresql",
        "/aws/lambda/payments",
    ):
        assert not allowed("logs:PutSubscriptionFilter", group(name)), name


def test_the_code_of_another_environment_is_out_of_reach() -> None:
    bucket = f"opsbundle-artifacts-{ACCOUNT}-{REGION}"
    assert allowed("s3:GetObjectVersion", f"arn:aws:s3:::{bucket}/dev/lambda/report_fn/x.zip")
    assert not allowed("s3:GetObject", f"arn:aws:s3:::{bucket}/prod/lambda/report_fn/x.zip")
    build = stacks()["pipeline"].role_statements("PipelineBuildRole")
    assert decide(build, "s3:PutObject", f"arn:aws:s3:::{bucket}/dev/lambda/report_fn/x.zip") == (
        "allow"
    )
    for key in (
        "prod/lambda/report_fn/x.zip",
        "staging/templates/t.yaml",
        "lambda/report_fn/x.zip",
    ):
        assert decide(build, "s3:PutObject", f"arn:aws:s3:::{bucket}/{key}") == "implicit", key


# --- every stack can still be deployed --------------------------------------------------------

# What CloudFormation's handlers call for each type the stacks use, on the resource itself.
# Each action must be in the type's documented handler permissions (checked below), so this
# list can only narrow what AWS says, never invent.
CORE: dict[str, tuple[str, ...]] = {
    "AWS::SNS::Topic": (
        "sns:CreateTopic",
        "sns:DeleteTopic",
        "sns:GetTopicAttributes",
        "sns:SetTopicAttributes",
        "sns:TagResource",
        "sns:UntagResource",
        "sns:ListTagsForResource",
    ),
    "AWS::SNS::Subscription": (
        "sns:Subscribe",
        "sns:Unsubscribe",
        "sns:GetSubscriptionAttributes",
        "sns:SetSubscriptionAttributes",
    ),
    "AWS::SNS::TopicPolicy": ("sns:SetTopicAttributes",),
    "AWS::SQS::Queue": (
        "sqs:CreateQueue",
        "sqs:DeleteQueue",
        "sqs:GetQueueAttributes",
        "sqs:SetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:TagQueue",
        "sqs:UntagQueue",
        "sqs:ListQueueTags",
    ),
    "AWS::SQS::QueuePolicy": ("sqs:SetQueueAttributes",),
    "AWS::S3::Bucket": (
        "s3:CreateBucket",
        "s3:DeleteBucket",
        "s3:ListBucket",
        "s3:PutEncryptionConfiguration",
        "s3:PutBucketVersioning",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketOwnershipControls",
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketTagging",
        "s3:GetBucketAcl",
    ),
    "AWS::S3::BucketPolicy": ("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"),
    "AWS::Logs::LogGroup": (
        "logs:CreateLogGroup",
        "logs:DeleteLogGroup",
        "logs:DescribeLogGroups",
        "logs:PutRetentionPolicy",
        "logs:DeleteRetentionPolicy",
        "logs:AssociateKmsKey",
        "logs:DisassociateKmsKey",
        "logs:TagResource",
        "logs:UntagResource",
        "logs:ListTagsForResource",
    ),
    "AWS::Logs::MetricFilter": (
        "logs:PutMetricFilter",
        "logs:DeleteMetricFilter",
        "logs:DescribeMetricFilters",
    ),
    "AWS::Logs::SubscriptionFilter": (
        "logs:PutSubscriptionFilter",
        "logs:DeleteSubscriptionFilter",
        "logs:DescribeSubscriptionFilters",
    ),
    "AWS::Lambda::Function": (
        "lambda:CreateFunction",
        "lambda:DeleteFunction",
        "lambda:GetFunction",
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
        "lambda:PutFunctionConcurrency",
        "lambda:DeleteFunctionConcurrency",
        "lambda:TagResource",
        "lambda:UntagResource",
    ),
    "AWS::Lambda::EventInvokeConfig": (
        "lambda:PutFunctionEventInvokeConfig",
        "lambda:UpdateFunctionEventInvokeConfig",
        "lambda:DeleteFunctionEventInvokeConfig",
    ),
    "AWS::Lambda::Permission": ("lambda:AddPermission", "lambda:RemovePermission"),
    "AWS::Lambda::EventSourceMapping": (
        "lambda:CreateEventSourceMapping",
        "lambda:UpdateEventSourceMapping",
        "lambda:DeleteEventSourceMapping",
        "lambda:GetEventSourceMapping",
    ),
    "AWS::DynamoDB::Table": (
        "dynamodb:CreateTable",
        "dynamodb:DeleteTable",
        "dynamodb:DescribeTable",
        "dynamodb:UpdateTable",
        "dynamodb:DescribeTimeToLive",
        "dynamodb:UpdateTimeToLive",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:UpdateContinuousBackups",
        "dynamodb:TagResource",
        "dynamodb:UntagResource",
        "dynamodb:ListTagsOfResource",
    ),
    "AWS::Kinesis::Stream": (
        "kinesis:CreateStream",
        "kinesis:DeleteStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:StartStreamEncryption",
        "kinesis:IncreaseStreamRetentionPeriod",
        "kinesis:AddTagsToStream",
        "kinesis:RemoveTagsFromStream",
        "kinesis:ListTagsForStream",
    ),
    "AWS::Events::Rule": (
        "events:PutRule",
        "events:DeleteRule",
        "events:DescribeRule",
        "events:PutTargets",
        "events:RemoveTargets",
        "events:TagResource",
        "events:UntagResource",
    ),
    "AWS::CloudWatch::Alarm": (
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DeleteAlarms",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:TagResource",
        "cloudwatch:UntagResource",
    ),
    "AWS::Scheduler::Schedule": (
        "scheduler:CreateSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:DeleteSchedule",
        "scheduler:GetSchedule",
    ),
    "AWS::Scheduler::ScheduleGroup": (
        "scheduler:CreateScheduleGroup",
        "scheduler:DeleteScheduleGroup",
        "scheduler:GetScheduleGroup",
        "scheduler:TagResource",
        "scheduler:UntagResource",
        "scheduler:ListTagsForResource",
    ),
    "AWS::SecretsManager::Secret": (
        "secretsmanager:CreateSecret",
        "secretsmanager:DeleteSecret",
        "secretsmanager:DescribeSecret",
        "secretsmanager:UpdateSecret",
        "secretsmanager:TagResource",
        "secretsmanager:UntagResource",
    ),
    "AWS::CloudTrail::Trail": (
        "cloudtrail:CreateTrail",
        "cloudtrail:DeleteTrail",
        "cloudtrail:UpdateTrail",
        "cloudtrail:StartLogging",
        "cloudtrail:StopLogging",
        "cloudtrail:PutEventSelectors",
        "cloudtrail:AddTags",
        "cloudtrail:RemoveTags",
        "cloudtrail:GetTrail",
    ),
    "AWS::Chatbot::SlackChannelConfiguration": (
        "chatbot:CreateSlackChannelConfiguration",
        "chatbot:UpdateSlackChannelConfiguration",
        "chatbot:DeleteSlackChannelConfiguration",
        "chatbot:TagResource",
        "chatbot:UntagResource",
    ),
    "AWS::IAM::Role": (
        "iam:GetRole",
        "iam:DeleteRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:GetRolePolicy",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:TagRole",
        "iam:UntagRole",
    ),
    # Put and delete are calls on the role, with its boundary (below).
    "AWS::IAM::RolePolicy": ("iam:GetRolePolicy",),
    # Attaching a policy is a call on the group, with the policy's ARN (below).
    "AWS::IAM::Group": (
        "iam:CreateGroup",
        "iam:DeleteGroup",
        "iam:GetGroup",
        "iam:ListGroupPolicies",
        "iam:ListAttachedGroupPolicies",
    ),
    "AWS::IAM::ManagedPolicy": (
        "iam:CreatePolicy",
        "iam:DeletePolicy",
        "iam:GetPolicy",
        "iam:CreatePolicyVersion",
        "iam:DeletePolicyVersion",
        "iam:ListPolicyVersions",
    ),
    # the alerting key exists before the pipeline does (a person bootstraps it): updates only
    "AWS::KMS::Key": (
        "kms:DescribeKey",
        "kms:PutKeyPolicy",
        "kms:EnableKeyRotation",
        "kms:UpdateKeyDescription",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:ListResourceTags",
    ),
    "AWS::KMS::Alias": ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"),
}
# The role actions that change what a role may do: always with the boundary.
BOUNDED = ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
           "iam:PutRolePermissionsBoundary")  # fmt: skip  # names packed, not one a line
# Which service calls the key, with this role's credentials, for which resource type (the
# services' documented key permissions for a customer managed key; the handlers' permission
# lists leave these out, as the service makes the call).
VIA = {
    "AWS::Lambda::Function": ("lambda", ("kms:Encrypt", "kms:Decrypt", "kms:CreateGrant")),
    "AWS::SecretsManager::Secret": ("secretsmanager", ("kms:GenerateDataKey", "kms:Decrypt")),
    "AWS::DynamoDB::Table": ("dynamodb", ("kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt")),
    "AWS::Scheduler::Schedule": ("scheduler", ("kms:Encrypt", "kms:Decrypt")),
    "AWS::Kinesis::Stream": ("kinesis", ("kms:GenerateDataKey",)),
}


@cache
def handler_permissions() -> dict[str, set[str]]:
    """The create/read/update/delete permissions of each resource type's CloudFormation
    handlers, from the resource provider schemas cfn-lint ships."""
    found: dict[str, set[str]] = {}
    for entry in resources.files("cfnlint.data.schemas.resources").iterdir():
        if not entry.name.endswith(".json"):
            continue
        schema = json.loads(entry.read_text(encoding="utf-8"))
        if schema.get("typeName") in CORE:
            found[schema["typeName"]] = {
                p.lower()
                for h in ("create", "read", "update", "delete")
                for p in schema.get("handlers", {}).get(h, {}).get("permissions", [])
            }
    return found


def test_the_curated_actions_are_what_aws_documents() -> None:
    documented = handler_permissions()
    for kind, actions in CORE.items():
        invented = [a for a in actions if a.lower() not in documented[kind]]
        assert not invented, f"{kind}: not in its handlers' permissions: {invented}"


def _target(stack: Stack, resource: Resource) -> list[str]:  # noqa: PLR0911 - one per type
    """The ARNs a resource's calls are made on (a policy's bucket, topics, queues, ...)."""
    props = resource.properties
    by_ref = {r.ref: r for r in stack.resources.values()}
    if resource.type == "AWS::S3::BucketPolicy":
        return [by_ref[props["Bucket"]].arn]
    if resource.type == "AWS::IAM::RolePolicy":
        return [by_ref[props["RoleName"]].arn]
    if resource.type == "AWS::SNS::TopicPolicy":
        return list(props["Topics"])
    if resource.type == "AWS::SNS::Subscription":
        return [props["TopicArn"]]
    if resource.type == "AWS::SQS::QueuePolicy":
        return [by_ref[url].arn for url in props["Queues"]]
    if resource.type in ("AWS::Logs::MetricFilter", "AWS::Logs::SubscriptionFilter"):
        return [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{props['LogGroupName']}"]
    if resource.type in ("AWS::Lambda::EventInvokeConfig", "AWS::Lambda::Permission"):
        name = props["FunctionName"]
        return [
            name
            if name.startswith("arn:")
            else f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        ]
    if resource.type == "AWS::KMS::Key":
        return [KEY]
    if resource.type == "AWS::KMS::Alias":
        return [
            resource.arn,
            props["TargetKeyId"] if props["TargetKeyId"].startswith("arn:") else KEY,
        ]
    return [resource.arn]


def _iam_calls(stack: Stack, resource: Resource) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """What changes what a role or group may do: a role's always with its boundary in the
    request, a group's with the policy's ARN."""
    props = resource.properties
    if resource.type == "AWS::IAM::Role":
        boundary = {"iam:PermissionsBoundary": props.get("PermissionsBoundary", "")}
        for action in BOUNDED:
            yield action, resource.arn, boundary
        for policy in props.get("ManagedPolicyArns", []):
            yield "iam:AttachRolePolicy", resource.arn, {**boundary, "iam:PolicyARN": policy}
    by_ref = {r.ref: r for r in stack.resources.values()}
    attached = {
        "AWS::IAM::Group": [(resource.arn, p) for p in props.get("ManagedPolicyArns", [])],
        "AWS::IAM::ManagedPolicy": [(by_ref[g].arn, resource.arn) for g in props.get("Groups", [])],
    }
    for group, policy in attached.get(resource.type, []):
        for action in ("iam:AttachGroupPolicy", "iam:DetachGroupPolicy"):
            yield action, group, {"iam:PolicyARN": policy}
    if resource.type == "AWS::IAM::RolePolicy":
        role = by_ref[props["RoleName"]]
        its_boundary = {"iam:PermissionsBoundary": role.properties.get("PermissionsBoundary", "")}
        for action in ("iam:PutRolePolicy", "iam:DeleteRolePolicy"):
            yield action, role.arn, its_boundary


def _calls(stack: Stack, resource: Resource) -> Iterator[tuple[str, str, dict[str, Any]]]:
    props = resource.properties
    for arn in _target(stack, resource):
        context: dict[str, Any] = {}
        if resource.type == "AWS::Lambda::EventSourceMapping":
            function = props["FunctionName"]
            context["lambda:FunctionArn"] = (
                function
                if function.startswith("arn:")
                else f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"
            )
        for action in CORE[resource.type]:
            yield action, arn, context
    yield from _iam_calls(stack, resource)
    passes = {
        "AWS::Lambda::Function": (props.get("Role"), "lambda"),
        "AWS::Scheduler::Schedule": (props.get("Target", {}).get("RoleArn"), "scheduler"),
        "AWS::CloudTrail::Trail": (props.get("CloudWatchLogsRoleArn"), "cloudtrail"),
        "AWS::Logs::SubscriptionFilter": (props.get("RoleArn"), "logs"),
        "AWS::Chatbot::SlackChannelConfiguration": (props.get("IamRoleArn"), "chatbot"),
    }
    role, service = passes.get(resource.type, (None, ""))
    if role:
        yield "iam:PassRole", role, {"iam:PassedToService": f"{service}.amazonaws.com"}
    if resource.type == "AWS::Lambda::Function":
        code = props["Code"]
        for action in ("s3:GetObject", "s3:GetObjectVersion"):
            yield action, f"arn:aws:s3:::{code['S3Bucket']}/{code['S3Key']}", {}
    if resource.type in VIA and json.dumps(props).count(KEY):
        service, actions = VIA[resource.type]
        for action in actions:
            yield action, KEY, {"kms:ViaService": f"{service}.{REGION}.amazonaws.com"}


# The permissions boundary is changed by a person only (opsbundle deploy --only alerting).
BY_A_PERSON = {("alerting", "AlertingPermissionsBoundary")}


@pytest.mark.parametrize(
    ("variant", "stack_name"),
    [(v, name) for v in VARIANTS for name in deployed(v)],
    ids=[f"{i}-{name}" for v, i in zip(VARIANTS, VARIANT_IDS, strict=True) for name in deployed(v)],
)
def test_every_stack_can_still_be_deployed(variant: Variant, stack_name: str) -> None:
    stack = stacks(variant)[stack_name]
    denied = []
    for logical_id, resource in stack.resources.items():
        if (stack_name, logical_id) in BY_A_PERSON:
            continue
        assert resource.type in CORE, f"{resource.type}: add it to CORE (and the deploy role)"
        for action, arn, context in _calls(stack, resource):
            if decide(deploy_role(variant), action, arn, context) != "allow":
                denied.append(f"{logical_id}: {action} on {arn} {context or ''}")
    assert denied == [], "\n".join(denied)


def test_a_change_to_the_boundary_policy_needs_a_person() -> None:
    boundary = stacks()["alerting"].resources["AlertingPermissionsBoundary"]
    assert decide(deploy_role(), "iam:CreatePolicyVersion", boundary.arn) == "deny"


# --- the roles the stacks create --------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_every_stack_role_is_on_the_path_with_the_boundary(variant: Variant) -> None:
    for stack_name in deployed(variant):
        stack = stacks(variant)[stack_name]
        for logical_id, resource in stack.resources.items():
            if resource.type in ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy") and (
                (stack_name, logical_id) not in BY_A_PERSON
            ):
                assert resource.properties.get("Path") == "/opsbundle-stacks/", logical_id
            if resource.type == "AWS::IAM::Role":
                boundary = resource.properties.get("PermissionsBoundary")
                assert boundary == boundary_arn(variant), logical_id


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_the_boundary_allows_what_every_stack_role_does(variant: Variant) -> None:
    """A role's own policy is capped by the boundary: what the stacks' roles need must be in
    it, or they would fail at run time."""
    boundary = stacks(variant)["alerting"].resources["AlertingPermissionsBoundary"]
    ceiling = boundary.properties["PolicyDocument"]["Statement"]
    outside = []
    for stack_name in deployed(variant):
        stack = stacks(variant)[stack_name]
        for logical_id, resource in stack.resources.items():
            if resource.type != "AWS::IAM::Role":
                continue
            for statement in stack.role_statements(logical_id):
                for action in (
                    statement["Action"]
                    if isinstance(statement["Action"], list)
                    else [statement["Action"]]
                ):
                    for arn in (
                        statement["Resource"]
                        if isinstance(statement["Resource"], list)
                        else [statement["Resource"]]
                    ):
                        if decide(ceiling, action, arn) != "allow":
                            outside.append(f"{stack_name} {logical_id}: {action} on {arn}")
    assert outside == [], "\n".join(outside)


def test_the_boundary_reaches_no_other_environment() -> None:
    ceiling = (
        stacks()["alerting"]
        .resources["AlertingPermissionsBoundary"]
        .properties["PolicyDocument"]["Statement"]
    )
    here = f"{REGION}:{ACCOUNT}"
    prod = {
        "secretsmanager:GetSecretValue": f"arn:aws:secretsmanager:{here}:secret:opsbundle-prod-c-X",
        "kms:Decrypt": OTHER_KEY,
        "sqs:SendMessage": f"arn:aws:sqs:{here}:opsbundle-prod-report-ReportFailureQueue-X",
        "dynamodb:PutItem": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/opsbundle-prod-report-T-X",
        "s3:PutObject": "arn:aws:s3:::opsbundle-prod-report-reportarchivebucket-x/reports/r.json",
        "iam:PassRole": ROLE,
        "iam:CreateRole": ROLE,
        "sts:AssumeRole": f"arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole",
    }  # fmt: skip  # laid out as a table
    for action, arn in prod.items():
        assert decide(ceiling, action, arn) == "implicit", action
