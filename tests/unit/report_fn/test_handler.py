"""The scheduled time, from the event shapes EventBridge Scheduler and rules send."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from report_fn.exceptions import EventError
from report_fn.handler import scheduled_time


def test_scheduler_input_with_context_attributes() -> None:
    # Input template: {"scheduled_time": "<aws.scheduler.scheduled-time>", ...}
    event = {
        "scheduled_time": "2026-11-26T19:00:00Z",
        "execution_id": "c5f3d8e1-aaaa-bbbb-cccc-1234567890ab",
        "attempt": "1",
        "schedule_arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/leads",
    }
    assert scheduled_time(event) == datetime(2026, 11, 26, 19, 0, tzinfo=UTC)


def test_eventbridge_rule_scheduled_event() -> None:
    event = {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-26T13:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/leads"],
        "detail": {},
    }
    assert scheduled_time(event) == datetime(2026, 11, 26, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({}, 'no "scheduled_time"'),
        ([], "not a JSON object"),
        ({"scheduled_time": "at two"}, "not ISO 8601"),
        ({"scheduled_time": "2026-11-26T19:00:00"}, "no time zone"),
    ],
)
def test_malformed_events_say_what_is_wrong(event: object, message: str) -> None:
    with pytest.raises(EventError, match=message):
        scheduled_time(event)
