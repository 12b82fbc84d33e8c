"""The root-activity alert read from CloudTrail events as EventBridge delivers them."""

from __future__ import annotations

import re

from monitors.root_login import render
from monitors.root_login.event import parse_root_event
from opsbundle.notify import sns_subject
from tests.emulators.slack import validate_blocks
from tests.unit.monitors.fixture_files import load


def test_root_console_sign_in_with_mfa() -> None:
    activity = parse_root_event(load("root_console_signin.json"))
    assert activity is not None
    assert (activity.kind, activity.event_name, activity.outcome, activity.mfa) == (
        "sign-in",
        "ConsoleLogin",
        "Success",
        "yes",
    )
    assert activity.source_ip == "203.0.113.77"
    body = render.email_body(activity)
    for expected in (
        "console sign-in",
        "Success",
        "2026-11-26T13:58:02Z",
        "203.0.113.77",
        "Safari/605.1.15",
        "3fcfb586-2ba6-4a0b-9e9a-3b2a9a5c8a11",
    ):
        assert expected in body
    assert re.search(r"^MFA used +yes$", body, re.M)
    assert render.subject(activity) == (
        "ROOT console sign-in succeeded, with MFA, account 123456789012 from 203.0.113.77"
    )


def test_failed_sign_in_with_the_hyphenated_detail_type() -> None:
    activity = parse_root_event(load("root_console_signin_failure.json"))
    assert activity is not None
    assert (activity.outcome, activity.error, activity.mfa) == (
        "Failure",
        "Failed authentication",
        "no",
    )
    subject = render.subject(activity)
    assert "FAILED (Failure), WITHOUT MFA" in subject
    assert sns_subject(subject) == subject


def test_root_api_call_reads_mfa_from_the_session() -> None:
    activity = parse_root_event(load("root_api_call.json"))
    assert activity is not None
    assert (activity.kind, activity.what, activity.mfa) == (
        "api-call",
        "API call iam:CreateAccessKey",
        "no",
    )
    alert = render.alert(activity)
    assert validate_blocks(alert.blocks) == []
    assert "AKIAIOSFODNN7EXAMPLE" not in alert.sns_message  # the response is never copied
