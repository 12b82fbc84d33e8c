"""Lambda `report_fn.handler.handler`: EventBridge Scheduler passes the slot's scheduled time.

The schedule's input is {"scheduled_time": "<aws.scheduler.scheduled-time>", ...}; an
EventBridge rule's "Scheduled Event" (its `time`) works too. With a reports file
(REPORTS_FILE), each report's schedule adds {"report": "<name>"}; an event without one runs
the environment's report (or the file's only report).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from opsbundle.lambda_entry import Invocation, lambda_entry
from opsbundle.log import get_logger
from opsbundle.secrets import Secrets
from report_fn.assemble import build_job
from report_fn.config import settings_for
from report_fn.exceptions import EventError
from report_fn.reports_file import NAME_PATTERN

SERVICE = "report_fn"
REPORT_NAME = re.compile(NAME_PATTERN)
# One per warm container, so its cache spares Secrets Manager a call on every invocation.
SECRETS = Secrets()


def scheduled_time(event: Any) -> datetime:
    if not isinstance(event, Mapping):
        raise EventError("the event is not a JSON object")
    value = event.get("scheduled_time") or event.get("time")
    if not isinstance(value, str) or not value:
        raise EventError(
            'the event has no "scheduled_time" (EventBridge Scheduler input) '
            'or "time" (EventBridge rule); see cloudformation/report.yaml'
        )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise EventError(f"the event's scheduled time {value!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise EventError(f"the event's scheduled time {value!r} has no time zone")
    return moment


def report_name(event: Mapping[str, Any]) -> str | None:
    """The report a schedule names, or None for the environment's one report."""
    value = event.get("report")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not REPORT_NAME.match(value):
        raise EventError(f"the event's report {value!r} is not a report name")
    return value


@lambda_entry(service=SERVICE, failure_metric="ReportFailed", failure_message="report failed")
def handler(invocation: Invocation) -> dict[str, Any]:
    event = invocation.event
    at, name = scheduled_time(event), report_name(event)
    get_logger().info(
        "report invoked",
        extra={"scheduled_time": at.isoformat(), "report": name, "attempt": _attempt(event)},
    )
    job = build_job(settings_for(name), metrics=invocation.metrics, secrets=SECRETS)
    outcome = job.run(at, deadline_seconds=invocation.remaining_seconds()).to_json()
    get_logger().info("report done", extra=outcome)
    return outcome


def _attempt(event: Mapping[str, Any]) -> str | None:
    value = event.get("attempt")
    return str(value) if value is not None else None
