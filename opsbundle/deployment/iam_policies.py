"""The IAM policies of the templates as AWS would see them, and what they allow.

Two parts, both build-time only (never in a Lambda zip):

- `Stack` instantiates a template for sample parameter values: conditions evaluated,
  intrinsic functions (Ref, Fn::Sub, Fn::GetAtt, Fn::Join, Fn::Split, Fn::Select, Fn::If)
  resolved, every resource given the physical name and ARN CloudFormation would give it
  (its Name property, else `<stack>-<LogicalId>-<suffix>`), Fn::ForEach expanded. Its
  policies are then plain JSON: what `make lint` hands to parliament, and what the tests
  evaluate.
- `decide` evaluates a request (action, resource, request context) against policy
  statements as IAM does for one principal: an explicit Deny wins, then an Allow, else the
  implicit deny. It knows the condition operators the templates use: String(Not)Equals,
  String(Not)Like, ArnLike/ArnEquals (and Not), Bool, Numeric*, Null, with IfExists and
  ForAnyValue/ForAllValues. moto enforces actions and resources but ignores conditions; the
  conditional guards (the permissions boundary, PassedToService, ViaService) are proven
  with this instead, and this is tested against IAM's documented semantics.

    python -m opsbundle.deployment.iam_policies DIR [--env dev]
        one JSON file per policy, for linters
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from opsbundle.deployment.stacks import (
    PARAMS_DIR,
    TEMPLATES_DIR,
    Context,
    dependency_order,
    load_plan,
    load_template,
    resolve,
)

ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
SUFFIX = "A1B2C3D4E5F6"  # what CloudFormation appends to generated names
KEY_ID = "0f8a3b1e-9d0b-4c5f-8e7a-0b1c2d3e4f5a"
NO_VALUE = object()  # AWS::NoValue


# --- evaluation ----------------------------------------------------------------------------


def wildcard(pattern: str, text: str, ignore_case: bool = False) -> bool:
    """IAM's * (any run of characters) and ? (one character)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return (
        re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)
        is not None
    )


def arn_like(pattern: str, arn: str) -> bool:
    """ArnLike: each of the six colon-separated parts matched on its own (the last one, the
    resource, may hold colons of its own)."""
    parts, values = pattern.split(":", 5), arn.split(":", 5)
    if len(parts) != 6 or len(values) != 6:
        return wildcard(pattern, arn)
    return all(wildcard(p, v) for p, v in zip(parts, values, strict=True))


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


Matcher = Callable[[str, str], bool]
_MATCHERS: dict[str, Matcher] = {
    "StringEquals": lambda p, v: p == v,
    "StringEqualsIgnoreCase": lambda p, v: p.lower() == v.lower(),
    "StringLike": wildcard,
    "ArnEquals": lambda p, v: p == v,
    "ArnLike": arn_like,
    "Bool": lambda p, v: str(p).lower() == str(v).lower(),
    "NumericEquals": lambda p, v: float(v) == float(p),
    "NumericLessThan": lambda p, v: float(v) < float(p),
    "NumericLessThanEquals": lambda p, v: float(v) <= float(p),
    "NumericGreaterThan": lambda p, v: float(v) > float(p),
    "NumericGreaterThanEquals": lambda p, v: float(v) >= float(p),
}
# fmt: skip below: names packed, not one a line
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
}


def condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, Any]) -> bool:
    """One operator on one key, as IAM evaluates it (a missing key fails a positive
    operator and passes a negated one; IfExists passes when it is missing)."""
    qualifier, _, operator = operator.rpartition(":")
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    wanted = [str(v) for v in _listed(expected)]
    if operator == "Null":
        return (key not in context) == (wanted[0].lower() == "true")
    if key not in context:
        return if_exists or (operator in _NEGATED and qualifier != "ForAnyValue")
    values = [str(v) for v in _listed(context[key])]
    negated = operator in _NEGATED
    match = _MATCHERS[_NEGATED.get(operator, operator)]

    def one(value: str) -> bool:
        found = any(match(p, value) for p in wanted)
        return not found if negated else found

    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    return any(one(v) for v in values)


def conditions_hold(
    conditions: Mapping[str, Mapping[str, Any]] | None, context: Mapping[str, Any]
) -> bool:
    return all(
        condition_holds(operator, key, expected, context)
        for operator, block in (conditions or {}).items()
        for key, expected in block.items()
    )


def _applies(statement: Mapping[str, Any], action: str, resource: str) -> bool:
    if "Action" in statement:
        if not any(wildcard(a, action, ignore_case=True) for a in _listed(statement["Action"])):
            return False
    elif any(wildcard(a, action, ignore_case=True) for a in _listed(statement["NotAction"])):
        return False
    if "Resource" in statement:
        return any(arn_like(r, resource) or r == "*" for r in _listed(statement["Resource"]))
    if "NotResource" in statement:
        return not any(arn_like(r, resource) for r in _listed(statement["NotResource"]))
    return True


def decide(
    statements: list[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Mapping[str, Any] | None = None,
) -> str:
    """ "deny" (an explicit Deny applies), "allow", or "implicit" (nothing allows it)."""
    allowed = False
    for statement in statements:
        if not _applies(statement, action, resource):
            continue
        if not conditions_hold(statement.get("Condition"), context or {}):
            continue
        if statement["Effect"] == "Deny":
            return "deny"
        allowed = True
    return "allow" if allowed else "implicit"


# --- instantiating a template ----------------------------------------------------------------

# How CloudFormation names and addresses each resource type: (name property, ARN pattern).
# {name} is the physical name; {ref} what Ref returns; generated names are
# <stack>-<LogicalId>-SUFFIX (lower case for buckets).
_TYPES: dict[str, tuple[str | None, str, str]] = {
    # type: (name property, ARN, what Ref returns: "name" or "arn")
    "AWS::IAM::Role": ("RoleName", "arn:{p}:iam::{a}:role{path}{name}", "name"),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", "arn:{p}:iam::{a}:policy{path}{name}", "arn"),
    "AWS::IAM::Group": ("GroupName", "arn:{p}:iam::{a}:group{path}{name}", "name"),
    "AWS::KMS::Key": (None, "arn:{p}:kms:{r}:{a}:key/{name}", "name"),
    "AWS::KMS::Alias": ("AliasName", "arn:{p}:kms:{r}:{a}:{name}", "name"),
    "AWS::SNS::Topic": ("TopicName", "arn:{p}:sns:{r}:{a}:{name}", "arn"),
    "AWS::SQS::Queue": ("QueueName", "arn:{p}:sqs:{r}:{a}:{name}", "url"),
    "AWS::S3::Bucket": ("BucketName", "arn:{p}:s3:::{name}", "name"),
    "AWS::Logs::LogGroup": ("LogGroupName", "arn:{p}:logs:{r}:{a}:log-group:{name}:*", "name"),
    "AWS::Lambda::Function": ("FunctionName", "arn:{p}:lambda:{r}:{a}:function:{name}", "name"),
    "AWS::Lambda::EventSourceMapping": (
        None, "arn:{p}:lambda:{r}:{a}:event-source-mapping:{name}", "name"
    ),
    "AWS::DynamoDB::Table": ("TableName", "arn:{p}:dynamodb:{r}:{a}:table/{name}", "name"),
    "AWS::Kinesis::Stream": ("Name", "arn:{p}:kinesis:{r}:{a}:stream/{name}", "name"),
    "AWS::Events::Rule": ("Name", "arn:{p}:events:{r}:{a}:rule/{name}", "name"),
    "AWS::CloudWatch::Alarm": ("AlarmName", "arn:{p}:cloudwatch:{r}:{a}:alarm:{name}", "name"),
    "AWS::Scheduler::ScheduleGroup": (
        "Name", "arn:{p}:scheduler:{r}:{a}:schedule-group/{name}", "name"
    ),
    "AWS::Scheduler::Schedule": (
        "Name", "arn:{p}:scheduler:{r}:{a}:schedule/{group}/{name}", "name"
    ),
    "AWS::SecretsManager::Secret": (
        "Name", "arn:{p}:secretsmanager:{r}:{a}:secret:{name}-AbCdEf", "arn"
    ),
    "AWS::CloudTrail::Trail": ("TrailName", "arn:{p}:cloudtrail:{r}:{a}:trail/{name}", "name"),
    "AWS::CodeBuild::Project": ("Name", "arn:{p}:codebuild:{r}:{a}:project/{name}", "name"),
    "AWS::CodePipeline::Pipeline": ("Name", "arn:{p}:codepipeline:{r}:{a}:{name}", "name"),
    "AWS::Chatbot::SlackChannelConfiguration": (
        "ConfigurationName", "arn:{p}:chatbot::{a}:chat-configuration/slack-channel/{name}", "arn"
    ),
}  # fmt: skip  # laid out as a table


@dataclass
class Resource:
    logical_id: str
    type: str
    properties: dict[str, Any]  # resolved
    name: str
    arn: str
    ref: str


@dataclass
class Stack:
    """A template instantiated for sample values (see the module's docstring)."""

    name: str  # the stack's name
    template: dict[str, Any]
    parameters: dict[str, Any]  # resolved values (lists for CommaDelimitedList)
    conditions: dict[str, bool] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, name: str, parameters: Mapping[str, str]) -> Stack:
        template = load_template(path)
        declared = template.get("Parameters") or {}
        values: dict[str, Any] = {}
        for key, declaration in declared.items():
            raw = parameters.get(key, declaration.get("Default", ""))
            raw = "" if raw is None else str(raw)
            values[key] = (
                raw.split(",")
                if declaration["Type"].startswith(("CommaDelimitedList", "List<"))
                else raw
            )
        stack = cls(name=name, template=template, parameters=values)
        for condition in template.get("Conditions") or {}:
            stack.condition(condition)
        stack._instantiate()
        return stack

    # -- conditions and intrinsics -------------------------------------------------------------

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self.resolve(self.template["Conditions"][name]))
        return self.conditions[name]

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.resolve(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            [(key, value)] = node.items()
            function = _FUNCTIONS.get(key)
            if function is not None:
                return function(self, value)
        return {
            k: v for k, v in ((k, self.resolve(v)) for k, v in node.items()) if v is not NO_VALUE
        }

    def ref(self, name: str) -> Any:
        pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": PARTITION,
                  "AWS::StackName": self.name, "AWS::NoValue": NO_VALUE,
                  "AWS::URLSuffix": "amazonaws.com"}  # fmt: skip  # laid out as a table
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.resources[name].ref

    def attribute(self, logical_id: str, attribute: str) -> str:
        resource = self.resources[logical_id]
        if attribute == "Arn":
            return resource.arn
        if attribute in ("QueueUrl", "Ref"):
            return resource.ref
        return resource.name  # Name, QueueName, TopicName, KeyId, GroupName, ...

    def substitute(self, value: Any) -> str:
        template, variables = (value, {}) if isinstance(value, str) else value
        variables = {k: self.resolve(v) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            token = match.group(1)
            if token.startswith("!"):
                return "${" + token[1:] + "}"
            if token in variables:
                return str(variables[token])
            if "." in token and not token.startswith("AWS::"):
                logical_id, attribute = token.split(".", 1)
                return self.attribute(logical_id, attribute)
            return str(self.ref(token))

        return re.sub(r"\$\{([^}]+)\}", replace, template)

    # -- resources -----------------------------------------------------------------------------

    def _instantiate(self) -> None:
        """Names and ARNs first (properties refer to them), then properties resolved."""
        raw: dict[str, dict[str, Any]] = {}
        for logical_id, resource in self.template["Resources"].items():
            expanded = (
                self._for_each(resource)
                if logical_id.startswith("Fn::ForEach::")
                else {logical_id: resource}
            )
            for name, body in expanded.items():
                if "Condition" not in body or self.condition(body["Condition"]):
                    raw[name] = body
        pending = dict(raw)
        while pending:  # a name may use another resource's name (a Sub of a Ref)
            progress = False
            for logical_id, resource in list(pending.items()):
                try:
                    self.resources[logical_id] = self._named(logical_id, resource)
                except KeyError:
                    continue
                del pending[logical_id]
                progress = True
            if not progress:
                raise ValueError(f"{self.name}: cannot name {sorted(pending)}")
        for logical_id, resource in raw.items():
            self.resources[logical_id].properties = self.resolve(resource.get("Properties", {}))

    def _for_each(self, body: list[Any]) -> dict[str, dict[str, Any]]:
        variable, collection, templates = body
        out = {}
        for item in self.resolve(collection):
            for key, resource in templates.items():
                text = json.dumps(resource).replace(f'{{"Ref": "{variable}"}}', json.dumps(item))
                text = text.replace(f"${{{variable}}}", json.dumps(item)[1:-1])  # in a Fn::Sub
                logical = key.replace(f"&{{{variable}}}", re.sub(r"[^A-Za-z0-9]", "", item))
                out[logical] = json.loads(text)
        return out

    def _named(self, logical_id: str, resource: dict[str, Any]) -> Resource:
        kind = resource["Type"]
        properties = resource.get("Properties", {})
        name_property, pattern, ref_kind = _TYPES.get(kind, (None, "", "name"))
        if name_property and name_property in properties:
            name = str(self.resolve(properties[name_property]))
        elif kind == "AWS::KMS::Key":
            name = KEY_ID
        elif kind == "AWS::Lambda::EventSourceMapping":
            name = "00000000-0000-4000-8000-000000000000"
        else:
            name = f"{self.name}-{logical_id}-{SUFFIX}"
            if kind == "AWS::S3::Bucket":
                name = name.lower()
        path = str(self.resolve(properties.get("Path", "/")))
        group = str(self.resolve(properties.get("GroupName", "default")))
        arn = pattern.format(p=PARTITION, r=REGION, a=ACCOUNT, name=name, path=path, group=group)
        ref = {
            "arn": arn,
            "name": name,
            "url": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}",
        }[ref_kind]
        return Resource(logical_id, kind, {}, name, arn, ref)

    # -- policies ------------------------------------------------------------------------------

    def policies(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(resource, kind, policy document) of every IAM policy the stack holds: identity
        policies of roles and managed policies, trust policies, key, bucket, topic and queue
        policies."""
        for logical_id, resource in self.resources.items():
            props = resource.properties
            if resource.type == "AWS::IAM::Role":
                yield logical_id, "trust", props["AssumeRolePolicyDocument"]
                for policy in props.get("Policies", []):
                    yield (
                        f"{logical_id}.{policy['PolicyName']}",
                        "identity",
                        policy["PolicyDocument"],
                    )
            elif resource.type in ("AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
                yield logical_id, "identity", props["PolicyDocument"]
            elif resource.type == "AWS::KMS::Key":
                yield logical_id, "resource", props["KeyPolicy"]
            elif resource.type in (
                "AWS::S3::BucketPolicy",
                "AWS::SNS::TopicPolicy",
                "AWS::SQS::QueuePolicy",
            ):
                yield logical_id, "resource", props["PolicyDocument"]

    def role_statements(self, logical_id: str) -> list[dict[str, Any]]:
        """Every statement of a role's inline policies, of the managed policies it has and of
        the role policies (AWS::IAM::RolePolicy) put on it."""
        props = self.resources[logical_id].properties
        statements = [
            s for p in props.get("Policies", []) for s in p["PolicyDocument"]["Statement"]
        ]
        for arn in props.get("ManagedPolicyArns", []):
            for resource in self.resources.values():
                if resource.type == "AWS::IAM::ManagedPolicy" and resource.arn == arn:
                    statements += resource.properties["PolicyDocument"]["Statement"]
        role_name = self.resources[logical_id].ref
        for resource in self.resources.values():
            if (
                resource.type == "AWS::IAM::RolePolicy"
                and resource.properties["RoleName"] == role_name
            ):
                statements += resource.properties["PolicyDocument"]["Statement"]
        return statements


def _sub(stack: Stack, value: Any) -> Any:
    return stack.substitute(value)


def _if(stack: Stack, value: Any) -> Any:
    condition, yes, no = value
    return stack.resolve(yes if stack.condition(condition) else no)


_FUNCTIONS: dict[str, Any] = {
    "Ref": lambda stack, v: stack.ref(v),
    "Fn::Sub": _sub,
    "Fn::GetAtt": lambda stack, v: stack.attribute(*(v if isinstance(v, list) else v.split("."))),
    "Fn::Join": lambda stack, v: v[0].join(str(x) for x in _listed(stack.resolve(v[1]))),
    "Fn::Split": lambda stack, v: str(stack.resolve(v[1])).split(v[0]),
    "Fn::Select": lambda stack, v: _listed(stack.resolve(v[1]))[int(stack.resolve(v[0]))],
    "Fn::If": _if,
    "Fn::Equals": lambda stack, v: stack.resolve(v[0]) == stack.resolve(v[1]),
    "Fn::Not": lambda stack, v: not stack.resolve(v[0]),
    "Fn::And": lambda stack, v: all(stack.resolve(x) for x in v),
    "Fn::Or": lambda stack, v: any(stack.resolve(x) for x in v),
    "Condition": lambda stack, v: stack.condition(v),
    "Fn::Condition": lambda stack, v: stack.condition(v),  # !Condition, as stacks.py reads it
}


# --- an environment's stacks, for sample values -------------------------------------------

# What a placeholder (REPLACE_ME) stands for, per parameter.
SAMPLES = {
    "AlertEmails": "ops@example.com",
    "SlackChannel": "C0123456789",
    "ConnectionArn": f"arn:aws:codestar-connections:{REGION}:{ACCOUNT}:connection/"
                     "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
    "FullRepositoryId": "example/opsbundle",
    "OpenSearchUrl": "https://search-logs.example.com",
    "LogGroupNames": "/aws/lambda/billing-api,/aws/lambda/leads-api",
    "ShippedLogGroups": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/billing-*,"
                        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/leads-api",
    "AuditContactDomains": "example.com",
    "AuditOperationsContact": "Ops Team | Operations | ops@example.com | +1 555 0100",
    "AuditBillingContact": "Finance | Billing | billing@example.com | +1 555 0101",
    "AuditSecurityContact": "Security | Security | security@example.com | +1 555 0102",
}  # fmt: skip  # laid out as a table
LAMBDA_PACKAGES = ("report_fn", "monitors", "log_shipper", "audit")
PACKAGE_SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@cache
def environment(
    name: str = "dev", overrides: tuple[tuple[str, str, str], ...] = ()
) -> dict[str, Stack]:
    """Every stack of an environment's parameter file, instantiated in dependency order with
    the committed values (placeholders replaced by SAMPLES), upstream outputs resolved;
    `overrides` are (stack, parameter, value) to try the templates' other branches."""
    data = json.loads((PARAMS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    for entry in data["stacks"].values():
        parameters = entry.setdefault("parameters", {})
        for key, value in parameters.items():
            if isinstance(value, str) and "REPLACE_ME" in value:
                parameters[key] = SAMPLES[key]
    for stack_name, key, value in overrides:
        data["stacks"][stack_name]["parameters"][key] = value
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
        plan = load_plan(
            name, params_dir=Path(directory), templates_dir=TEMPLATES_DIR, lambdas=LAMBDA_PACKAGES
        )
    outputs: dict[str, dict[str, str]] = {}
    stacks: dict[str, Stack] = {}
    for spec in dependency_order(plan.all_stacks.values()):
        context = Context(
            environment=name,
            stack_prefix=plan.stack_prefix,
            region=REGION,
            account=ACCOUNT,
            artifact_bucket=f"opsbundle-artifacts-{ACCOUNT}-{REGION}",
            package_keys={p: f"{name}/lambda/{p}/{PACKAGE_SHA}.zip" for p in LAMBDA_PACKAGES},
            package_versions={p: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY" for p in LAMBDA_PACKAGES},
            outputs=outputs,
        )
        values = resolve(spec, context)
        stack = Stack.load(TEMPLATES_DIR / spec.template.name, spec.stack_name, values)
        stacks[spec.name] = stack
        outputs[spec.name] = {
            key: str(stack.resolve(output["Value"]))
            for key, output in (stack.template.get("Outputs") or {}).items()
            if "Condition" not in output or stack.condition(output["Condition"])
        }
    return stacks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--env", default="dev")
    args = parser.parse_args(argv)
    args.directory.mkdir(parents=True, exist_ok=True)
    for old in args.directory.glob("*.json"):
        old.unlink()
    count = 0
    for stack_name, stack in environment(args.env).items():
        for resource, kind, document in stack.policies():
            if kind != "identity":
                continue  # parliament reads identity policies; the rest are tested
            path = args.directory / f"{stack_name}.{resource}.json"
            path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            count += 1
    print(f"wrote {count} identity policies to {args.directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
