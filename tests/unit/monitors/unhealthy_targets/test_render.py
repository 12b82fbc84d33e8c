"""The unhealthy-target email and Slack message: every not-healthy target with its reason and
what to check; limits kept for hundreds of targets; names from AWS are escaped for Slack."""

from __future__ import annotations

from datetime import UTC, datetime

from monitors.unhealthy_targets import render
from monitors.unhealthy_targets.alarm_event import parse_alarm_events
from monitors.unhealthy_targets.inspection import HealthCheck, Inspection, Target
from monitors.unhealthy_targets.reasons import REASONS
from opsbundle.notify import MAX_SUBJECT, sns_subject
from tests.emulators.slack import validate_blocks
from tests.unit.monitors.fixture_files import load

ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-prod/6d0ecf831eec9f09"


def mixed() -> Inspection:
    inspection = Inspection(
        kind="application",
        region="us-east-1",
        name="web-prod",
        target_group_arn=ARN,
        load_balancers=["app/web-prod-alb/50dc"],
    )
    inspection.health_check = HealthCheck("HTTP", "traffic-port", "/health", "200", 30, 5, 5, 2)
    inspection.targets = [
        Target("i-0aaa", "healthy", port=80, name="web-1"),
        Target(
            "i-0bbb",
            "unhealthy",
            "Target.ResponseCodeMismatch",
            "Health checks failed with these codes: [502]",
            80,
            name="web-2",
            az="us-east-1b",
            instance_state="running",
            asg="web-asg",
            lifecycle="InService",
        ),
        Target(
            "i-0ccc",
            "unhealthy",
            "Target.Timeout",
            "Request timed out",
            80,
            name="web-3",
            az="us-east-1c",
            instance_state="running",
        ),
        Target(
            "i-0ddd",
            "unused",
            "Target.InvalidState",
            "Target is in the stopped state",
            80,
            name="web-4",
            instance_state="stopped",
        ),
        Target(
            "10.0.3.7",
            "draining",
            "Target.DeregistrationInProgress",
            "Target deregistration is in progress",
            8080,
            kind="ip",
        ),
    ]
    inspection.datapoints = [(datetime(2026, 11, 26, 14, 3, tzinfo=UTC), 2.0)]
    inspection.metric_label = "UnHealthyHostCount (Maximum per minute)"
    return inspection


def test_email_names_each_unhealthy_target_its_reason_and_hint() -> None:
    (alarm,) = parse_alarm_events(load("alarm_sns_alb.json"))
    body = render.email_body(mixed(), alarm, max_listed=50)
    assert "4 of 5 targets are not healthy." in body
    for target, code in (
        ("i-0bbb:80 (web-2)", "Target.ResponseCodeMismatch"),
        ("i-0ccc:80 (web-3)", "Target.Timeout"),
        ("i-0ddd:80 (web-4)", "Target.InvalidState"),
        ("10.0.3.7:8080", "Target.DeregistrationInProgress"),
    ):
        assert target in body
        section = body[body.index(code) :]
        assert REASONS[code].check in section.split("\n\n")[0]
    assert "i-0aaa" not in body  # healthy targets are not listed
    assert "[us-east-1b, running, ASG web-asg [InService]]" in body
    assert "Health check: HTTP port traffic-port path /health, matcher 200, every 30 s" in body
    assert "14:03 2" in body
    assert "Re-run: opsbundle targets inspect " + ARN in body
    assert "#alarmsV2:alarm/web-prod-unhealthy-hosts" in body
    subject = render.subject(mixed(), alarm)
    assert subject == "ALARM: 4 of 5 targets not healthy in target group web-prod (us-east-1)"
    assert sns_subject(subject) == subject


def test_hundreds_of_targets_are_counted_but_listed_up_to_the_limit() -> None:
    inspection = Inspection(
        kind="application", region="us-east-1", name="big", target_group_arn=ARN
    )
    inspection.targets = [
        Target(
            f"10.0.{i // 250}.{i % 250}",
            "unhealthy",
            "Target.Timeout",
            "Request timed out",
            443,
            kind="ip",
        )
        for i in range(600)
    ]
    body = render.email_body(inspection, None, max_listed=50)
    assert "600 of 600 targets are not healthy." in body
    assert body.count("Request timed out") == 50
    assert "550 targets not listed (limit 50)" in body
    blocks = render.slack_blocks(inspection, None, max_listed=50)
    assert validate_blocks(blocks) == []


def test_slack_escapes_names_and_keeps_block_kit_limits() -> None:
    inspection = mixed()
    inspection.targets[1].name = "<!channel> & friends"
    blocks = render.slack_blocks(inspection, None, max_listed=50)
    text = str(blocks)
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; &amp; friends" in text
    assert validate_blocks(blocks) == []


def test_a_deleted_target_group_says_so_instead_of_failing() -> None:
    (alarm,) = parse_alarm_events(load("alarm_sns_alb.json"))
    gone = Inspection(
        kind="application",
        region="us-east-1",
        name="web-prod",
        target_group_arn=ARN,
        found=False,
        problems=[f"target group {ARN} no longer exists: delete or update the alarm"],
    )
    assert render.subject(gone, alarm) == (
        "ALARM: target group web-prod no longer exists (us-east-1)"
    )
    assert "no longer exists: delete or update the alarm" in render.email_body(
        gone, alarm, max_listed=50
    )


def test_sns_subjects_are_short_ascii_single_lines() -> None:
    subject = sns_subject("ALARM: ünhealthy — targets\nin " + "x" * 200)
    assert len(subject) <= MAX_SUBJECT
    assert subject.isascii()
    assert "\n" not in subject
    assert subject.startswith("ALARM: ?nhealthy - targets in xxx")
