"""The quality gates every template in cloudformation/ must pass, whoever wrote it.

Run over whatever templates exist, so a new stack is checked the day it lands: handlers that
exist in their package, IAM without wildcard actions, "*" resources only for read-only or
resource-less calls, Lambda environments encrypted, log retention, a failure destination for
every asynchronously invoked function, and every checkov suppression with its reason.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opsbundle import packaging
from opsbundle.stacks import ENVIRONMENTS, PARAMS_DIR, REFERENCE, TEMPLATES_DIR, load_template

ROOT = TEMPLATES_DIR.parent
TEMPLATES = sorted(TEMPLATES_DIR.glob("*.yaml"))
# Calls that take no resource ARN at all (IAM "Resource types" column empty): "*" is the
# only valid Resource for them, whatever else the statement does.
RESOURCELESS = frozenset({
    "xray:puttracesegments", "xray:puttelemetryrecords", "kms:createkey", "kms:listaliases",
    "cloudwatch:putmetricdata", "cloudwatch:getmetricdata", "cloudwatch:getmetricstatistics",
    "cloudwatch:listmetrics", "cloudwatch:describealarms", "cloudwatch:describealarmhistory",
    # The network interfaces Lambda manages to attach a function to a VPC: AWS's own
    # AWSLambdaVPCAccessExecutionRole grants them on "*".
    "ec2:createnetworkinterface", "ec2:deletenetworkinterface",
    "ec2:assignprivateipaddresses", "ec2:unassignprivateipaddresses",
    # Account-level calls: the credential report, the password policy, CloudTrail event history.
    "iam:generatecredentialreport", "iam:updateaccountpasswordpolicy", "cloudtrail:lookupevents",
    # A subscription's own calls, event source mapping creation (limited by a condition to
    # the environment's functions) and Chatbot's channel calls take no resource either.
    "sns:unsubscribe", "sns:setsubscriptionattributes", "lambda:createeventsourcemapping",
    "chatbot:createslackchannelconfiguration", "chatbot:tagresource", "chatbot:untagresource",
})  # fmt: skip  # names packed, not one a line
READ_ONLY_VERBS = ("describe", "get", "list", "batchget")


def all_resources(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every resource, including the ones a Fn::ForEach (AWS::LanguageExtensions) stamps out."""
    for name, resource in template["Resources"].items():
        if name.startswith("Fn::ForEach::"):
            yield from all_resources({"Resources": resource[2]})
        elif isinstance(resource, dict):
            yield name, resource


def resources(template: dict[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, resource in all_resources(template):
        if resource.get("Type") == kind:
            yield name, resource.get("Properties", {})


def identity_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Allow statements of IAM roles, inline and managed policies (not resource policies)."""
    for name, props in resources(template, "AWS::IAM::Role"):
        for policy in props.get("Policies", []):
            for statement in _statements(policy.get("PolicyDocument", {})):
                yield name, statement
    for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        for name, props in resources(template, kind):
            for statement in _statements(props.get("PolicyDocument", {})):
                yield name, statement


def _statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for entry in document.get("Statement", []):
        # a conditional statement: the one used when its condition holds
        statement = entry["Fn::If"][1] if isinstance(entry, dict) and "Fn::If" in entry else entry
        if isinstance(statement, dict) and statement.get("Effect") == "Allow":
            yield statement


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.fixture(params=TEMPLATES, ids=[t.name for t in TEMPLATES])
def template(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    path: Path = request.param
    return path.name, load_template(path)


def test_there_are_templates_to_check() -> None:
    names = {t.name for t in TEMPLATES}
    assert {"alerting.yaml", "trail.yaml", "pipeline.yaml", "report.yaml"} <= names


def test_no_wildcard_actions_and_star_resources_only_where_needed(
    template: tuple[str, dict[str, Any]],
) -> None:
    name, data = template
    problems = []
    for owner, statement in identity_statements(data):
        actions = [a.lower() for a in listed(statement.get("Action", []))]
        for action in actions:
            if action == "*" or action.endswith(":*"):
                problems.append(f"{owner} {statement.get('Sid')}: wildcard action {action}")
        if "*" in listed(statement.get("Resource", [])):
            wide = [
                a
                for a in actions
                if a not in RESOURCELESS and not a.split(":")[1].startswith(READ_ONLY_VERBS)
            ]
            if wide:
                problems.append(f"{owner} {statement.get('Sid')}: Resource '*' for {wide}")
    assert problems == [], f"{name}: " + "; ".join(problems)


def test_every_function_is_encrypted_logged_with_retention_and_has_a_failure_destination(
    template: tuple[str, dict[str, Any]],
) -> None:
    name, data = template
    functions = dict(resources(data, "AWS::Lambda::Function"))
    invoke_configs = [props for _, props in resources(data, "AWS::Lambda::EventInvokeConfig")]
    problems = []
    for logical, props in functions.items():
        if "KmsKeyArn" not in props:
            problems.append(f"{logical}: environment not encrypted with the key (KmsKeyArn)")
        destinations = [
            c
            for c in invoke_configs
            if c.get("FunctionName") == {"Ref": logical}
            and c.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        ]
        if not destinations and "DeadLetterConfig" not in props:
            problems.append(f"{logical}: no on-failure destination or dead-letter queue")
    for logical, props in resources(data, "AWS::Logs::LogGroup"):
        if "RetentionInDays" not in props:
            problems.append(f"{logical}: log group without RetentionInDays")
    assert problems == [], f"{name}: " + "; ".join(problems)


def test_every_checkov_suppression_carries_its_reason(template: tuple[str, dict[str, Any]]) -> None:
    name, data = template
    for logical, resource in all_resources(data):
        skips = (resource.get("Metadata") or {}).get("checkov", {}).get("skip", [])
        for skip in skips:
            assert str(skip.get("id", "")).startswith("CKV"), f"{name} {logical}: {skip}"
            reason = str(skip.get("comment", "")).strip()
            assert len(reason) >= 30, f"{name} {logical} {skip.get('id')}: give the reason"
        assert "cfn-lint" not in (resource.get("Metadata") or {}), (
            f"{name} {logical}: cfn-lint suppressions are not allowed; fix the finding"
        )


def handler_function(handler: str) -> tuple[Path, str]:
    module, _, function = handler.rpartition(".")
    return ROOT / (module.replace(".", "/") + ".py"), function


def test_every_handler_named_in_a_template_exists(template: tuple[str, dict[str, Any]]) -> None:
    name, data = template
    for logical, props in resources(data, "AWS::Lambda::Function"):
        path, function = handler_function(props["Handler"])
        assert path.is_file(), f"{name} {logical}: {props['Handler']}: no {path.relative_to(ROOT)}"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        } | {
            target.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        assert function in defined, f"{name} {logical}: {path.name} defines no {function}"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_handler_is_in_the_package_its_stack_is_given(environment: str) -> None:
    """${package:X} feeds a function's code: its handler's package must be in zip X."""
    plan = json.loads((PARAMS_DIR / f"{environment}.json").read_text())
    checked = 0
    for stack, entry in plan["stacks"].items():
        data = load_template(TEMPLATES_DIR / entry.get("template", f"{stack}.yaml"))
        for key, value in entry.get("parameters", {}).items():
            for kind, lambda_name in REFERENCE.findall(str(value)):
                if kind != "package":
                    continue
                for logical, props in resources(data, "AWS::Lambda::Function"):
                    if props["Code"].get("S3Key") != {"Ref": key}:
                        continue
                    top = props["Handler"].split(".")[0]
                    packages = packaging.LAMBDAS[lambda_name].packages
                    assert top in packages, (
                        f"{environment}.json {stack}.{key} gives {logical} the {lambda_name} zip, "
                        f"which holds {packages}, not {top}"
                    )
                    checked += 1
    assert checked >= 1


def test_key_policy_lets_the_publishing_services_use_the_key() -> None:
    alerting = load_template(TEMPLATES_DIR / "alerting.yaml")
    policy = alerting["Resources"]["AlertingKey"]["Properties"]["KeyPolicy"]
    principals = set()
    for statement in policy["Statement"]:
        service = statement.get("Principal", {}).get("Service")
        if isinstance(service, dict):  # logs.<region>.amazonaws.com through !Sub
            service = service["Fn::Sub"]
        if service:
            principals.add(service)
            if service != "cloudtrail.amazonaws.com":
                assert statement.get("Condition"), f"{service}: unconditional key use"
    assert {
        "cloudwatch.amazonaws.com",
        "events.amazonaws.com",
        "codestar-notifications.amazonaws.com",
        "chatbot.amazonaws.com",
        "logs.${AWS::Region}.amazonaws.com",
        "cloudtrail.amazonaws.com",
    } <= principals
    for topic in ("AlertingOpsTopic", "AlertingDevOpsTopic"):
        assert alerting["Resources"][topic]["Properties"]["KmsMasterKeyId"] == {
            "Ref": "AlertingKey"
        }


def test_chatbot_has_a_guardrail_and_a_read_only_role() -> None:
    alerting = load_template(TEMPLATES_DIR / "alerting.yaml")
    channel = alerting["Resources"]["AlertingChatbotChannel"]["Properties"]
    assert channel["GuardrailPolicies"] == [{"Ref": "AlertingChatbotGuardrail"}]
    guardrail = alerting["Resources"]["AlertingChatbotGuardrail"]["Properties"]
    for statement in guardrail["PolicyDocument"]["Statement"]:
        for action in listed(statement["Action"]):
            assert action.split(":")[1].lower().startswith(READ_ONLY_VERBS), action


def test_trail_is_multi_region_validated_encrypted_and_logged() -> None:
    trail = load_template(TEMPLATES_DIR / "trail.yaml")
    props = trail["Resources"]["Trail"]["Properties"]
    assert props["IsMultiRegionTrail"] is True
    assert props["EnableLogFileValidation"] is True
    assert props["IncludeGlobalServiceEvents"] is True
    assert props["KMSKeyId"] == {"Ref": "KmsKeyArn"}
    assert props["CloudWatchLogsLogGroupArn"] == {"Fn::GetAtt": ["TrailLogGroup", "Arn"]}
    bucket = trail["Resources"]["TrailBucket"]["Properties"]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    policy = trail["Resources"]["TrailBucketPolicy"]["Properties"]["PolicyDocument"]
    assert any(s["Sid"] == "DenyInsecureTransport" for s in policy["Statement"])


def _conditions(statement: dict[str, Any]) -> dict[str, Any]:
    """{condition key: value} over every operator of a statement's Condition."""
    found: dict[str, Any] = {}
    for block in (statement.get("Condition") or {}).values():
        found.update(block)
    return found


THIS_ACCOUNT = {"Ref": "AWS::AccountId"}


def _this_account_only(statement: dict[str, Any]) -> bool:
    conditions = _conditions(statement)
    if conditions.get("aws:SourceAccount") == THIS_ACCOUNT:
        return True
    arn = conditions.get("aws:SourceArn") or conditions.get("kms:EncryptionContext:aws:logs:arn")
    return isinstance(arn, dict) and "${AWS::AccountId}" in json.dumps(arn)


def test_service_principals_of_key_policies_act_only_for_this_account(
    template: tuple[str, dict[str, Any]],
) -> None:
    """A service may use the key only for this account's resources (confused deputy):
    aws:SourceAccount, or for CloudWatch Logs the log group ARN in the encryption context."""
    name, body = template
    for resource, props in resources(body, "AWS::KMS::Key"):
        for statement in props["KeyPolicy"]["Statement"]:
            if "Service" in (statement.get("Principal") or {}):
                assert _this_account_only(statement), f"{name} {resource} {statement.get('Sid')}"


def test_roles_that_services_assume_are_for_this_account_only(
    template: tuple[str, dict[str, Any]],
) -> None:
    """Lambda's execution roles are the exception: Lambda documents no source condition."""
    name, body = template
    for resource, props in resources(body, "AWS::IAM::Role"):
        for statement in props["AssumeRolePolicyDocument"]["Statement"]:
            services = listed((statement.get("Principal") or {}).get("Service", []))
            if services and services != ["lambda.amazonaws.com"]:
                assert _this_account_only(statement), f"{name} {resource} trusts {services}"


def test_every_bucket_takes_tls_1_2_or_later_only(template: tuple[str, dict[str, Any]]) -> None:
    name, body = template
    policies = {
        json.dumps(props["Bucket"]): props["PolicyDocument"]["Statement"]
        for _, props in resources(body, "AWS::S3::BucketPolicy")
    }
    for bucket, _ in resources(body, "AWS::S3::Bucket"):
        statements = policies.get(json.dumps({"Ref": bucket}), [])
        denies = [_conditions(s) for s in statements if s.get("Effect") == "Deny"]
        assert {"aws:SecureTransport": "false"} in denies, f"{name} {bucket}: plain http"
        assert {"s3:TlsVersion": "1.2"} in denies, f"{name} {bucket}: TLS older than 1.2"
