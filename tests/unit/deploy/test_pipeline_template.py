"""pipeline.yaml against the parameter files and buildspec.yml: the same stacks, in order."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from opsbundle.deployment.stacks import ENVIRONMENTS, PARAMS_DIR, TEMPLATES_DIR, load_template

PIPELINE = load_template(TEMPLATES_DIR / "pipeline.yaml")
SELF = "pipeline"  # the pipeline stack is deployed by opsbundle deploy, not by itself


def deploy_actions() -> list[dict[str, Any]]:
    stages = PIPELINE["Resources"]["Pipeline"]["Properties"]["Stages"]
    [deploy] = [s for s in stages if s["Name"] == "Deploy"]
    actions = []
    for entry in deploy["Actions"]:
        # a conditional action: the one used when the condition holds
        actions.append(entry["Fn::If"][1] if "Fn::If" in entry else entry)
    return actions


def stack_of(action: dict[str, Any]) -> str:
    name = action["Configuration"]["StackName"]["Fn::Sub"]
    assert name.startswith("${StackPrefix}-"), name
    return str(name.removeprefix("${StackPrefix}-"))


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_pipeline_plans_and_executes_every_stack_of_the_environment(environment: str) -> None:
    plan = json.loads((PARAMS_DIR / f"{environment}.json").read_text())
    wanted = set(plan["stacks"]) - {SELF}
    actions = deploy_actions()
    planned = {
        stack_of(a) for a in actions if a["Configuration"].get("ActionMode") == "CHANGE_SET_REPLACE"
    }
    executed = {
        stack_of(a) for a in actions if a["Configuration"].get("ActionMode") == "CHANGE_SET_EXECUTE"
    }
    missing = sorted(wanted - planned) + sorted(wanted - executed)
    assert not missing, (
        f"{environment}.json deploys {sorted(missing)} but pipeline.yaml has no "
        "plan-<stack> (CHANGE_SET_REPLACE) and execute-<stack> (CHANGE_SET_EXECUTE) action for it"
    )


def test_each_plan_reads_its_template_and_the_build_s_configuration() -> None:
    for action in deploy_actions():
        config = action["Configuration"]
        if config.get("ActionMode") != "CHANGE_SET_REPLACE":
            continue
        stack = stack_of(action)
        template = config["TemplatePath"].removeprefix("BuildOutput::")
        # A committed template, or the one the build renders (the report stack's).
        built = f"deploy/{stack}.template.json"
        assert (TEMPLATES_DIR.parent / template).is_file() or template == built, template
        assert config["TemplateConfiguration"] == f"BuildOutput::deploy/{stack}.json"
        assert config["ChangeSetName"] == "opsbundle-pipeline"
        assert config["RoleArn"] == {"Fn::GetAtt": ["PipelineDeployRole", "Arn"]}


def test_approval_comes_after_the_change_sets_and_before_any_execution() -> None:
    actions = deploy_actions()
    [approval] = [a for a in actions if a["ActionTypeId"]["Category"] == "Approval"]
    plans = [
        a["RunOrder"]
        for a in actions
        if a["Configuration"].get("ActionMode") == "CHANGE_SET_REPLACE"
    ]
    executions = [
        a["RunOrder"]
        for a in actions
        if a["Configuration"].get("ActionMode") == "CHANGE_SET_EXECUTE"
    ]
    assert max(plans) < approval["RunOrder"] < min(executions)
    stages = PIPELINE["Resources"]["Pipeline"]["Properties"]["Stages"]
    [deploy] = [s for s in stages if s["Name"] == "Deploy"]
    [conditional] = [a for a in deploy["Actions"] if "Fn::If" in a and a["Fn::If"][1] is approval]
    assert conditional["Fn::If"][0] == "NeedsApproval"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_executions_follow_the_stacks_dependencies(environment: str) -> None:
    plan = json.loads((PARAMS_DIR / f"{environment}.json").read_text())
    order = {
        stack_of(a): a["RunOrder"]
        for a in deploy_actions()
        if a["Configuration"].get("ActionMode") == "CHANGE_SET_EXECUTE"
    }
    for stack, entry in plan["stacks"].items():
        if stack == SELF:
            continue
        for value in entry.get("parameters", {}).values():
            if isinstance(value, str) and "${output:" in value:
                needed = value.split("${output:")[1].split(".")[0]
                assert order[needed] < order[stack], f"{stack} executes before {needed}"


@pytest.mark.parametrize(
    ("environment", "branch", "approval"),
    [("dev", "development", "false"), ("staging", "staging", "true"), ("prod", "master", "true")],
)
def test_branch_strategy(environment: str, branch: str, approval: str) -> None:
    plan = json.loads((PARAMS_DIR / f"{environment}.json").read_text())
    pipeline = plan["stacks"][SELF]["parameters"]
    assert pipeline["BranchName"] == branch
    assert pipeline["RequireApproval"] == approval


def test_buildspec_tests_lints_packages_and_writes_the_configurations() -> None:
    buildspec = yaml.safe_load((TEMPLATES_DIR.parent / "buildspec.yml").read_text())
    commands = [c for phase in buildspec["phases"].values() for c in phase.get("commands", [])]
    joined = "\n".join(commands)
    for step in (
        "make test",
        "make lint",
        "make package",
        'opsbundle deploy --env "$DEPLOY_ENV" --pipeline-config deploy',
    ):
        assert step in joined, step
    assert (
        joined.index("make test") < joined.index("make package") < joined.index("--pipeline-config")
    )
    assert "deploy/*.json" in buildspec["artifacts"]["files"]
    assert "cloudformation/**/*" in buildspec["artifacts"]["files"]
    variables = PIPELINE["Resources"]["PipelineBuildProject"]["Properties"]["Environment"]
    assert {"Name": "DEPLOY_ENV", "Value": {"Ref": "Environment"}} in variables[
        "EnvironmentVariables"
    ]


# fmt: skip below: names packed, not one a line
OPTIONAL = {
    "trail": "DeployTrail",
    "monitors": "DeployMonitors",
    "log-shipper": "DeployLogShipper",
    "audit": "DeployAudit",
    "access": "DeployAccess",
}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_pipeline_s_deploy_flags_match_the_stacks_of_the_environment(environment: str) -> None:
    """plan-/execute- actions of optional stacks exist only when the stack is in the file."""
    plan = json.loads((PARAMS_DIR / f"{environment}.json").read_text())
    flags = plan["stacks"][SELF]["parameters"]
    for stack, flag in OPTIONAL.items():
        expected = "true" if stack in plan["stacks"] else "false"
        assert flags.get(flag, PIPELINE["Parameters"][flag]["Default"]) == expected, (
            f"{environment}.json: {'has' if stack in plan['stacks'] else 'has no'} {stack} "
            f"stack, so its pipeline entry needs {flag}={expected}"
        )


def test_optional_actions_are_guarded_by_their_flag() -> None:
    stages = PIPELINE["Resources"]["Pipeline"]["Properties"]["Stages"]
    [deploy] = [s for s in stages if s["Name"] == "Deploy"]
    conditions = PIPELINE["Conditions"]
    for entry in deploy["Actions"]:
        if "Fn::If" not in entry:
            continue
        condition, action, _ = entry["Fn::If"]
        if action["ActionTypeId"]["Category"] == "Approval":
            continue
        flag = OPTIONAL[stack_of(action)]
        assert conditions[condition] == {"Fn::Equals": [{"Ref": flag}, "true"]}, action["Name"]
