"""cloudformation/access.yaml as the policies IAM would hold once deployed.

moto's CloudFormation cannot create AWS::IAM::Group (docs/development.md, "Tests against
moto"), so the tests build the groups themselves from the template: every intrinsic the
template uses (Ref, Fn::Sub, Fn::If with its conditions, AWS::NoValue) is resolved here the
way CloudFormation resolves it, for the parameters given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from opsbundle.deployment.stacks import TEMPLATES_DIR, load_template

ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
TEMPLATE = load_template(TEMPLATES_DIR / "access.yaml")
_NO_VALUE = object()


@dataclass(frozen=True)
class GroupPolicies:
    group: str  # the group's logical ID
    documents: dict[str, dict[str, Any]]  # policy logical ID -> resolved document
    aws_managed: tuple[str, ...]  # AWS managed policy ARNs on the group


def parameters(**given: str) -> dict[str, str]:
    values = {name: str(spec.get("Default", "")) for name, spec in TEMPLATE["Parameters"].items()}
    values["KmsKeyArn"] = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d-0000-4000-8000-000000000001"
    values.update(given)
    return values


def resolve(value: Any, params: dict[str, str]) -> Any:  # noqa: PLR0911 - one return per intrinsic
    pseudo = {
        "AWS::Partition": PARTITION,
        "AWS::AccountId": ACCOUNT,
        "AWS::Region": REGION,
        "AWS::StackName": "opsbundle-prod-access",
    }
    if isinstance(value, list):
        items = [resolve(v, params) for v in value]
        return [v for v in items if v is not _NO_VALUE]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        name = value["Ref"]
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in pseudo:
            return pseudo[name]
        if name in params:
            return params[name]
        return name  # a resource: the tests name groups by their logical IDs
    if set(value) == {"Fn::Sub"}:
        text = value["Fn::Sub"]

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            return str(pseudo.get(name) or params[name])

        return re.sub(r"\$\{([^}]+)\}", replace, text)
    if set(value) == {"Fn::If"}:
        condition, then, otherwise = value["Fn::If"]
        return resolve(then if holds(condition, params) else otherwise, params)
    resolved = {k: resolve(v, params) for k, v in value.items()}
    return {k: v for k, v in resolved.items() if v is not _NO_VALUE}


def holds(condition: str, params: dict[str, str]) -> bool:
    return bool(_evaluate(TEMPLATE["Conditions"][condition], params))


def _evaluate(expression: Any, params: dict[str, str]) -> Any:
    if isinstance(expression, dict) and "Fn::Not" in expression:
        return not _evaluate(expression["Fn::Not"][0], params)
    if isinstance(expression, dict) and "Fn::Equals" in expression:
        left, right = (resolve(v, params) for v in expression["Fn::Equals"])
        return left == right
    if isinstance(expression, dict) and "Condition" in expression:
        return holds(expression["Condition"], params)
    return resolve(expression, params)


def groups(params: dict[str, str]) -> dict[str, GroupPolicies]:
    resources = TEMPLATE["Resources"]
    found: dict[str, GroupPolicies] = {}
    for logical, resource in resources.items():
        if resource["Type"] == "AWS::IAM::Group":
            props = resolve(resource.get("Properties", {}), params)
            found[logical] = GroupPolicies(logical, {}, tuple(props.get("ManagedPolicyArns", [])))
    for logical, resource in resources.items():
        if resource["Type"] != "AWS::IAM::ManagedPolicy":
            continue
        props = resolve(resource["Properties"], params)
        for group in props["Groups"]:
            found[group].documents[logical] = props["PolicyDocument"]
    return found


def managed_policies(params: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every AWS::IAM::ManagedPolicy of the template, resolved: logical ID -> document."""
    return {
        logical: resolve(resource["Properties"]["PolicyDocument"], params)
        for logical, resource in TEMPLATE["Resources"].items()
        if resource["Type"] == "AWS::IAM::ManagedPolicy"
    }
