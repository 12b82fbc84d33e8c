"""Lambda entry point: EventBridge Scheduler passes the slot's scheduled time.

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

from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics
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


def handler(event: Any, context: Any) -> dict[str, Any]:
    logger = get_logger()
    metrics = RunMetrics(service=SERVICE)
    try:
        at = scheduled_time(event)
        logger.info("report invoked", extra={"scheduled_time": at.isoformat(),
                                             "report": report_name(event),
                                             "attempt": _attempt(event)})  # fmt: skip
        job = build_job(settings_for(report_name(event)), metrics=metrics, secrets=SECRETS)
        outcome = job.run(at, deadline_seconds=_remaining_seconds(context))
        logger.info("report done", extra=outcome.to_json())
        return outcome.to_json()
    except Exception:
        logger.exception("report failed")
        if not metrics.counts.get("ReportFailed"):
            metrics.count("ReportFailed")
        raise
    finally:
        metrics.publish()


def _attempt(event: Mapping[str, Any]) -> str | None:
    value = event.get("attempt")
    return str(value) if value is not None else None


def _remaining_seconds(context: Any) -> float | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000 if callable(remaining) else None
