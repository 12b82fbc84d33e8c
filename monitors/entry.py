"""The monitors' Lambda entry: opsbundle's, with what every monitor counts the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from monitors.exceptions import EventError
from opsbundle.lambda_entry import Handler, Invocation, lambda_entry

FAILURE_METRIC = "MonitorFailed"


def monitor_entry(
    *, service: str, monitor: str
) -> Callable[[Callable[[Invocation], dict[str, Any]]], Handler[dict[str, Any]]]:
    """A failure counts as MonitorFailed and is logged as "<monitor> monitor failed"; an event
    the monitor cannot read (EventError) counts as MalformedEvents."""
    return lambda_entry(
        service=service,
        failure_metric=FAILURE_METRIC,
        failure_message=f"{monitor} monitor failed",
        malformed=(EventError,),
    )
