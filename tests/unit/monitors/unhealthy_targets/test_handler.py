"""The Lambda entry point: a malformed event fails saying why; an alarm with nowhere to go fails
instead of going silent."""

from __future__ import annotations

import pytest

from monitors.exceptions import EventError
from monitors.unhealthy_targets.handler import handler
from opsbundle.exceptions import DeliveryError
from tests.unit.monitors.fixture_files import load


def test_a_malformed_event_fails_saying_why() -> None:
    with pytest.raises(EventError, match="not a CloudWatch alarm event"):
        handler({"detail-type": "Scheduled Event"}, None)


def test_an_alarm_with_no_destination_configured_fails_instead_of_going_silent() -> None:
    with pytest.raises(DeliveryError, match="no destination is configured"):
        handler(load("alarm_sns_ok.json"), None)
