"""Lambda entry point of the log store's upkeep: an hourly EventBridge Scheduler schedule.

It runs `lifecycle.maintain` (templates, ISM where there is ISM, retention, replicas, shard
sizes) and `doctor.diagnose`, logs both, and counts what an operator is alerted on:
IndicesDeleted, TemplateClash, and one `Doctor_<check>` per check that would break shipping
(the stack's alarms watch them). It raises when OpenSearch could not be maintained, so the
schedule's retries and the Errors alarm see it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from log_shipper import doctor, lifecycle
from log_shipper.assemble import warm_clients
from log_shipper.config import ShipperSettings
from log_shipper.layout import utc_day
from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics

SERVICE = "log_shipper_maintain"


def handler(event: Any, context: Any) -> dict[str, Any]:
    logger = get_logger()
    metrics = RunMetrics(service=SERVICE)
    try:
        settings = ShipperSettings.load(require_dlq=False)
        client, _ = warm_clients(settings)
        today = utc_day(datetime.now(UTC))
        report = lifecycle.maintain(client, settings, today=today)
        findings = doctor.diagnose(client, settings, today=today)
        summary = {**report.to_json(), "findings": [f.to_json() for f in findings]}
        count(metrics, report, findings)
        failing = [f for f in findings if f.level == doctor.FAIL]
        if failing:
            logger.error("log store needs attention", extra=summary)
        else:
            logger.info("log store maintained", extra=summary)
        return summary
    except Exception:
        logger.exception("log store maintenance failed")
        metrics.count("MaintainFailed")
        raise
    finally:
        metrics.publish()


def count(metrics: RunMetrics, report: lifecycle.MaintainReport, findings: list[Any]) -> None:
    metrics.count("IndicesDeleted", report.deleted)
    metrics.count("TemplateClash", sum(1 for f in report.families if f.clash))
    for finding in findings:
        if finding.level == doctor.FAIL:
            metrics.count(f"Doctor_{finding.check}")
    metrics.count("DoctorFailures", sum(1 for f in findings if f.level == doctor.FAIL))
