"""The parameter files: shape, references, order, and errors that name the setting."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from opsbundle.deployment import packaging
from opsbundle.deployment.stacks import ENVIRONMENTS, Context, load_plan, resolve
from opsbundle.exceptions import ConfigError

TEMPLATE = """
Parameters:
  KeyArn: {Type: String}
  Code: {Type: String}
  Mode: {Type: String, Default: "on", AllowedValues: ["on", "off"]}
  Name:
    Type: String
    Default: abc
    AllowedPattern: "^[a-z]+$"
    ConstraintDescription: lower case letters
  Days: {Type: Number, Default: 30}
Resources:
  Thing: {Type: AWS::SQS::Queue}
Outputs:
  ThingArn: {Value: !GetAtt Thing.Arn}
"""
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1"
BASE = """
Resources:
  Key: {Type: AWS::KMS::Key}
Outputs:
  KeyArn: {Value: !GetAtt Key.Arn}
"""


def write(tmp_path: Path, plan: dict[str, Any]) -> Path:
    templates = tmp_path / "cloudformation"
    (templates / "params").mkdir(parents=True, exist_ok=True)
    (templates / "base.yaml").write_text(BASE)
    (templates / "app.yaml").write_text(TEMPLATE)
    (templates / "params" / "dev.json").write_text(json.dumps(plan))
    return templates / "params"


def good_plan() -> dict[str, Any]:
    return {
        "stack_prefix": "ob-dev",
        "stacks": {
            "app": {"template": "app.yaml", "parameters": {
                "KeyArn": "${output:base.KeyArn}", "Code": "${package:report_fn}", "Days": 90,
            }},
            "base": {"template": "base.yaml"},
        },
    }  # fmt: skip  # laid out as a table


def load(tmp_path: Path, plan: dict[str, Any], **kwargs: Any) -> Any:
    return load_plan("dev", params_dir=write(tmp_path, plan), lambdas=["report_fn"], **kwargs)


def test_stacks_come_in_dependency_order_with_their_needs(tmp_path: Path) -> None:
    plan = load(tmp_path, good_plan())

    assert [s.name for s in plan.stacks] == ["base", "app"]
    assert [s.stack_name for s in plan.stacks] == ["ob-dev-base", "ob-dev-app"]
    assert plan.stacks[1].needs == ("base",)
    assert plan.packages() == ["report_fn"]
    assert plan.stacks[1].parameters["Days"] == "90"  # numbers become CloudFormation strings
    assert plan.stacks[0].capabilities == ("CAPABILITY_IAM",)


def test_references_resolve_to_outputs_keys_and_names(tmp_path: Path) -> None:
    plan = load(tmp_path, good_plan())
    context = Context(
        environment="dev",
        stack_prefix="ob-dev",
        region="eu-west-1",
        account="123456789012",
        artifact_bucket="bucket",
        package_keys={"report_fn": "lambda/report_fn/ff.zip"},
        package_versions={"report_fn": "v1"},
        outputs={"base": {"KeyArn": KEY}},
    )

    assert resolve(plan.stacks[1], context) == {
        "KeyArn": KEY,
        "Code": "lambda/report_fn/ff.zip",
        "Days": "90",
    }


def test_a_reference_to_a_stack_not_deployed_says_to_deploy_it_first(tmp_path: Path) -> None:
    plan = load(tmp_path, good_plan())
    context = Context(
        "dev", "ob-dev", "eu-west-1", "1", "b", {"report_fn": "k"}, {"report_fn": "v"}, outputs={}
    )

    with pytest.raises(
        ConfigError,
        match=re.escape(
            "app.KeyArn: needs stack 'base', which is not deployed in dev: deploy it first "
            "(opsbundle deploy --env dev --only base)"
        ),
    ):
        resolve(plan.stacks[1], context)


def bad(tmp_path: Path, change: Any) -> str:
    plan = good_plan()
    change(plan)
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, plan)
    return str(raised.value)


def test_a_missing_required_parameter_is_named(tmp_path: Path) -> None:
    message = bad(tmp_path, lambda p: p["stacks"]["app"]["parameters"].pop("KeyArn"))
    assert message.endswith(
        "dev.json stacks.app.parameters.KeyArn: is required by app.yaml and has no value"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: p["stacks"]["app"]["parameters"].update(Nope="x"),
         "stacks.app.parameters.Nope: app.yaml has no such parameter"),
        (lambda p: p["stacks"]["app"]["parameters"].update(Mode="maybe"),
         "stacks.app.parameters.Mode: must be one of on, off, got 'maybe'"),
        (lambda p: p["stacks"]["app"]["parameters"].update(Name="ABC"),
         "stacks.app.parameters.Name: 'ABC' does not match: lower case letters"),
        (lambda p: p["stacks"]["app"]["parameters"].update(KeyArn="${output:base.Missing}"),
         "stacks.app.parameters.KeyArn: base.yaml has no output 'Missing'"),
        (lambda p: p["stacks"]["app"]["parameters"].update(KeyArn="${output:ghost.KeyArn}"),
         "stacks.app.parameters.KeyArn: ${output:ghost.KeyArn} names no stack in this file"),
        (lambda p: p["stacks"]["app"]["parameters"].update(Code="${package:nope}"),
         "stacks.app.parameters.Code: no Lambda 'nope' is packaged (known: report_fn)"),
        (lambda p: p["stacks"]["app"]["parameters"].update(Code="${secret:x}"),
         "stacks.app.parameters.Code: unknown reference ${secret:x}"),
        (lambda p: p["stacks"]["app"]["parameters"].update(Code="REPLACE_ME"),
         "stacks.app.parameters.Code: is a placeholder (REPLACE_ME): set it before deploying app"),
        (lambda p: p["stacks"]["app"]["parameters"].update(Days=[1]),
         "stacks.app.parameters.Days: must be a string, got list"),
        (lambda p: p["stacks"]["app"].update(template="../../etc/passwd"),
         "stacks.app.template: must be a file name under cloudformation/"),
        (lambda p: p["stacks"]["app"].update(template="gone.yaml"),
         "gone.yaml does not exist"),
        (lambda p: p["stacks"]["base"].update(capabilities=["CAPABILITY_EVERYTHING"]),
         "stacks.base.capabilities: must be a list from CAPABILITY_AUTO_EXPAND, CAPABILITY_IAM, "
         "CAPABILITY_NAMED_IAM"),
        (lambda p: p.update(stack_prefix="9bad prefix"),
         "stack_prefix: must be a prefix such as opsbundle-dev"),
        (lambda p: p.update(artifact_bucket="Bad_Bucket"),
         "artifact_bucket: 'Bad_Bucket' is not a valid S3 bucket name"),
        (lambda p: p.update(extra=1), "unknown key 'extra'"),
        (lambda p: p["stacks"]["base"].update(parameters={"X": "${output:app.ThingArn}"}),
         "stacks.base.parameters.X: base.yaml has no such parameter"),
    ],
)  # fmt: skip  # one case a line
def test_bad_parameter_files_say_which_setting_is_wrong(
    tmp_path: Path, change: Any, expected: str
) -> None:
    message = bad(tmp_path, change)
    assert expected in message
    assert "\n" not in message


def test_a_cycle_is_named(tmp_path: Path) -> None:
    plan = good_plan()
    (tmp_path / "cloudformation" / "params").mkdir(parents=True)
    (tmp_path / "cloudformation" / "base.yaml").write_text(
        BASE.replace("Resources:", "Parameters:\n  Back: {Type: String, Default: x}\nResources:")
    )
    plan["stacks"]["base"]["parameters"] = {"Back": "${output:app.ThingArn}"}
    (tmp_path / "cloudformation" / "app.yaml").write_text(TEMPLATE)
    (tmp_path / "cloudformation" / "params" / "dev.json").write_text(json.dumps(plan))

    with pytest.raises(ConfigError, match="cycle: app needs base, base needs app"):
        load_plan("dev", params_dir=tmp_path / "cloudformation" / "params", lambdas=["report_fn"])


def test_a_bad_environment_name_is_one_line() -> None:
    with pytest.raises(ConfigError) as raised:
        load_plan("qa")
    assert str(raised.value) == "--env: must be one of dev, staging, prod, got 'qa'"


def test_broken_json_is_named_with_its_line(tmp_path: Path) -> None:
    params = write(tmp_path, good_plan())
    (params / "dev.json").write_text('{"stack_prefix": "x",\n "stacks": }')
    with pytest.raises(
        ConfigError, match=r"dev.json: is not valid JSON \(Expecting value at line 2\)"
    ):
        load_plan("dev", params_dir=params)


def test_only_keeps_the_named_stacks_and_ignores_placeholders_elsewhere(tmp_path: Path) -> None:
    plan = good_plan()
    plan["stacks"]["app"]["parameters"]["Name"] = "REPLACE_ME"

    chosen = load(tmp_path, plan, only=["base"])

    assert [s.name for s in chosen.stacks] == ["base"]
    assert set(chosen.all_stacks) == {"base", "app"}
    with pytest.raises(ConfigError, match=r"--only: no stack 'nope' in dev\.json"):
        load(tmp_path, plan, only=["nope"])


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_committed_parameter_files_load_once_filled_in(environment: str) -> None:
    """Every stack is checked against its template; only REPLACE_ME values stop a deploy."""
    plan = load_plan(environment, lambdas=packaging.LAMBDAS, only=["trail"])
    assert [s.name for s in plan.stacks] == ["trail"]
    names = list(plan.all_stacks)
    assert names[0] == "alerting" and {"trail", "report", "pipeline"} <= set(names)
    with pytest.raises(ConfigError, match=r"placeholders \(REPLACE_ME\) to set first: "):
        load_plan(environment, lambdas=packaging.LAMBDAS)
