"""Root activity read from CloudTrail events; everything else is ignored or refused saying why."""

from __future__ import annotations

from typing import Any

import pytest

from monitors.exceptions import EventError
from monitors.root_login.event import parse_root_event
from tests.unit.monitors.fixture_files import load


@pytest.mark.parametrize("name", ["iam_user_console_signin.json", "root_invoked_by_service.json"])
def test_not_root_or_invoked_by_a_service_is_ignored(name: str) -> None:
    assert parse_root_event(load(name)) is None


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
        parse_root_event(event)
