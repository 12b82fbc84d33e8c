"""The Lambda entry point: a malformed event fails saying why."""

from __future__ import annotations

import pytest

from monitors.exceptions import EventError
from monitors.root_login.handler import handler


def test_a_malformed_event_fails_saying_why() -> None:
    with pytest.raises(EventError, match="is not a CloudTrail sign-in"):
        handler({"detail-type": "Scheduled Event"}, None)
