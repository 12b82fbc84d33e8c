"""The three shapes an alarm arrives in read the same; malformed events say what was wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitors.exceptions import EventError
from monitors.unhealthy_targets.alarm_event import parse_alarm_events
from monitors.unhealthy_targets.health_metric import health_metric
from tests.unit.monitors.fixture_files import load

TG = "targetgroup/web-prod/6d0ecf831eec9f09"


def test_sns_alarm_takes_region_from_the_arn_and_reads_lower_case_dimensions() -> None:
    (alarm,) = parse_alarm_events(load("alarm_sns_alb.json"))
    assert alarm.shape == "sns"
    assert alarm.region == "us-east-1"  # not "US East (N. Virginia)"
    assert alarm.account == "123456789012"
    assert (alarm.state, alarm.previous_state) == ("ALARM", "OK")
    metric = health_metric(alarm)
    assert metric.namespace == "AWS/ApplicationELB"
    assert metric.dimensions == {
        "TargetGroup": TG,
        "LoadBalancer": "app/web-prod-alb/50dc6c495c0c9188",
    }


def test_alarm_action_and_eventbridge_shapes() -> None:
    (action,) = parse_alarm_events(load("alarm_action_nlb.json"))
    assert (action.shape, action.region, action.state) == ("alarm-action", "eu-west-1", "ALARM")
    assert health_metric(action).namespace == "AWS/NetworkELB"
    assert health_metric(action).dimensions["TargetGroup"] == "targetgroup/api-tcp/73e2d6bc24d8a067"
    (bridge,) = parse_alarm_events(load("alarm_eventbridge_alb.json"))
    (sns,) = parse_alarm_events(load("alarm_sns_alb.json"))
    assert bridge.shape == "eventbridge"
    assert (bridge.name, bridge.arn, bridge.region, bridge.state) == (
        sns.name,
        sns.arn,
        sns.region,
        sns.state,
    )
    assert health_metric(bridge).dimensions == health_metric(sns).dimensions


def test_classic_and_ok_transitions() -> None:
    (classic,) = parse_alarm_events(load("alarm_sns_classic.json"))
    assert health_metric(classic).dimensions == {"LoadBalancerName": "legacy-web"}
    (ok,) = parse_alarm_events(load("alarm_sns_ok.json"))
    assert (ok.state, ok.previous_state) == ("OK", "ALARM")


def test_an_alarm_on_another_metric_is_refused_naming_it() -> None:
    (alarm,) = parse_alarm_events(load("alarm_sns_cpu.json"))
    with pytest.raises(EventError, match=r"'cpu-high' watches AWS/EC2 CPUUtilization"):
        health_metric(alarm)


def _sns(message: Any) -> dict[str, Any]:
    event = load("alarm_sns_alb.json")
    event["Records"][0]["Sns"]["Message"] = (
        message if isinstance(message, str) else json.dumps(message)
    )
    return event


@pytest.mark.parametrize(
    ("event", "says"),
    [
        ([], "not a JSON object"),
        ({"Records": []}, "non-empty list"),
        ({"hello": 1}, "keys: hello"),
        (_sns("not json"), r"Records\[0\]\.Sns\.Message is not JSON"),
        (_sns({"AlarmName": "x", "NewStateValue": "ALARM"}), "AlarmArn is missing"),
        (
            _sns(
                {
                    "AlarmName": "x",
                    "AlarmArn": "arn:aws:cloudwatch:us-east-1:1:alarm:x",
                    "NewStateValue": "RED",
                }
            ),
            "NewStateValue is 'RED'",
        ),
        (
            {"alarmData": {"alarmName": "x"}, "alarmArn": "arn:aws:cloudwatch:eu-west-1:1:alarm:x"},
            r"alarmData\.state is missing",
        ),
        ({"detail-type": "CloudWatch Alarm State Change", "detail": {}}, r"resources\[0\]"),
    ],
)
def test_malformed_events_say_what_was_wrong(event: Any, says: str) -> None:
    with pytest.raises(EventError, match=says):
        parse_alarm_events(event)
