"""The root-login rule and function: the EventBridge pattern of cloudformation/monitors.yaml,
evaluated by moto's TestEventPattern against real-shaped CloudTrail events, and the alert
delivered to SNS (moto) and Slack (emulator)."""

from __future__ import annotations

import json

import pytest

from monitors.root_login.handler import handler
from tests.emulators.slack import SlackEmulator
from tests.integration.conftest import Aws
from tests.integration.monitors.conftest import Inbox
from tests.integration.monitors.template import delivered, resources
from tests.unit.monitors.fixture_files import load

CIS_FILTER = (
    '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && '
    '$.eventType !="AwsServiceEvent"}'
)


@pytest.mark.parametrize(
    ("fixture", "matches"),
    [
        ("root_console_signin.json", True),
        ("root_console_signin_failure.json", True),  # "AWS Console Sign-In via CloudTrail"
        ("root_api_call.json", True),
        ("iam_user_console_signin.json", False),
        ("root_invoked_by_service.json", False),
    ],
)
def test_the_rule_matches_root_sign_ins_and_calls_and_not_iam_users(
    aws: Aws, fixture: str, matches: bool
) -> None:
    assert delivered("RootLoginRule", load(fixture)) is matches


@pytest.mark.parametrize(
    ("source", "matches"),
    [("aws.signin", True), ("aws.iam", True), ("my.app", False), ("custom.aws.signin", False)],
)
def test_only_aws_s_own_sources_reach_the_root_login_function(
    aws: Aws, source: str, matches: bool
) -> None:
    """PutEvents with any source but aws.* is open to anyone allowed events:PutEvents; a
    forged root sign-in must not alert (nor drown a real one)."""
    event = load("root_console_signin.json")
    event["source"] = source
    assert delivered("RootLoginRule", event) is matches


def test_the_metric_filter_and_alarm_are_cis_cloudwatch_1_exactly() -> None:
    found = resources()
    assert found["RootLoginMetricFilter"]["Properties"]["FilterPattern"] == CIS_FILTER
    alarm = found["RootLoginAlarm"]["Properties"]
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 300, 1)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": "OpsTopicArn"}]


def test_root_sign_in_alerts_email_and_slack(
    aws: Aws, slack: SlackEmulator, monitors_env: dict[str, str], ops_inbox: Inbox
) -> None:
    result = handler(load("root_console_signin_failure.json"), None)
    assert result["action"] == "reported"
    (email,) = ops_inbox.messages()
    assert email["Subject"] == (
        "ROOT console sign-in FAILED (Failure), WITHOUT MFA, account 123456789012 from "
        "198.51.100.23"
    )
    assert "Failure: Failed authentication" in email["Message"]
    (posted,) = slack.messages("ops-alerts")
    assert "198.51.100.23" in json.dumps(posted["blocks"])
    assert posted["metadata"]["event_payload"]["event_id"] == "a1b2c3d4-0000-4000-8000-000000000001"


def test_an_iam_user_event_that_slips_through_is_ignored(
    aws: Aws, slack: SlackEmulator, monitors_env: dict[str, str], ops_inbox: Inbox
) -> None:
    assert handler(load("iam_user_console_signin.json"), None) == {"action": "ignored"}
    assert ops_inbox.messages() == []
    assert slack.messages("ops-alerts") == []


@pytest.mark.parametrize(
    ("rule", "fixture", "change", "matches"),
    [
        # TargetsAlarmRule matches inside configuration.metrics, an array of objects, which
        # EventBridge flattens and moto does not: it cannot be checked here.
        ("PipelineFailureRule", "pipeline_action_failed_codebuild.json", None, True),
        ("PipelineFailureRule", "pipeline_execution_failed.json", None, True),
        ("PipelineFailureRule", "pipeline_action_failed_codebuild.json", "SUCCEEDED", False),
    ],
)
def test_the_other_rules_match_only_what_their_function_handles(
    aws: Aws, rule: str, fixture: str, change: str | None, matches: bool
) -> None:
    event = load(fixture)
    if change:
        event["detail"]["state"] = change
    assert delivered(rule, event) is matches
