"""Root activity read from CloudTrail events as EventBridge delivers them, and the alert."""

from __future__ import annotations

import re
from typing import Any

import pytest

from monitors import root_login
from monitors.exceptions import EventError
from opsbundle.notify import sns_subject
from tests.emulators.slack import validate_blocks
from tests.unit.monitors.fixture_files import load


def test_root_console_sign_in_with_mfa() -> None:
    activity = root_login.parse_root_event(load("root_console_signin.json"))
    assert activity is not None
    assert (activity.kind, activity.event_name, activity.outcome, activity.mfa) == (
        "sign-in",
        "ConsoleLogin",
        "Success",
        "yes",
    )
    assert activity.source_ip == "203.0.113.77"
    body = root_login.email_body(activity)
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
    assert root_login.subject(activity) == (
        "ROOT console sign-in succeeded, with MFA, account 123456789012 from 203.0.113.77"
    )


def test_failed_sign_in_with_the_hyphenated_detail_type() -> None:
    activity = root_login.parse_root_event(load("root_console_signin_failure.json"))
    assert activity is not None
    assert (activity.outcome, activity.error, activity.mfa) == (
        "Failure",
        "Failed authentication",
        "no",
    )
    subject = root_login.subject(activity)
    assert "FAILED (Failure), WITHOUT MFA" in subject
    assert sns_subject(subject) == subject


def test_root_api_call_reads_mfa_from_the_session() -> None:
    activity = root_login.parse_root_event(load("root_api_call.json"))
    assert activity is not None
    assert (activity.kind, activity.what, activity.mfa) == (
        "api-call",
        "API call iam:CreateAccessKey",
        "no",
    )
    alert = root_login.alert(activity)
    assert validate_blocks(alert.blocks) == []
    assert "AKIAIOSFODNN7EXAMPLE" not in alert.sns_message  # the response is never copied


@pytest.mark.parametrize("name", ["iam_user_console_signin.json", "root_invoked_by_service.json"])
def test_not_root_or_invoked_by_a_service_is_ignored(name: str) -> None:
    assert root_login.parse_root_event(load(name)) is None


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"detail-type": "EC2 Instance State-change Notification"}, "not a CloudTrail sign-in"),
        ({"detail": None}, "detail is missing"),
        ({"detail": {"eventName": "ConsoleLogin"}}, "userIdentity is missing"),
    ],
)
def test_malformed_events_say_what_was_wrong(change: dict[str, Any], says: str) -> None:
    event = {**load("root_console_signin.json"), **change}
    with pytest.raises(EventError, match=says):
        root_login.parse_root_event(event)
