"""Lambda `log_shipper.maintain.handler`: the log store's upkeep, on an hourly EventBridge
rule (`LogStoreMaintenanceSchedule`, a rate expression).

It runs `lifecycle.maintain` (templates, ISM where there is ISM, retention, replicas, shard
sizes) and `doctor.diagnose`, logs both, and counts what an operator is alerted on:
IndicesDeleted, TemplateClash, and one `Doctor_<check>` per check that would break shipping
(the stack's alarms watch them). It raises when OpenSearch could not be maintained, so the
schedule's retries and the Errors alarm see it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from log_shipper import doctor, lifecycle
from log_shipper.assemble import WarmClients
from log_shipper.config import ShipperSettings
from log_shipper.layout import utc_day
from opsbundle.lambda_entry import Invocation, lambda_entry
from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics

SERVICE = "log_shipper_maintain"
# One per warm container: the OpenSearch connection outlives an invocation.
WARM = WarmClients()


@lambda_entry(
    service=SERVICE,
    failure_metric="MaintainFailed",
    failure_message="log store maintenance failed",
)
def handler(invocation: Invocation) -> dict[str, Any]:
    settings = ShipperSettings.load(require_dlq=False)
    client, _ = WARM.clients(settings)
    return upkeep(client, settings, today=utc_day(datetime.now(UTC)), metrics=invocation.metrics)


def upkeep(
    client: Any, settings: ShipperSettings, *, today: date, metrics: RunMetrics
) -> dict[str, Any]:
    """Maintain the store, diagnose it, count and log what an operator is alerted on."""
    report = lifecycle.maintain(client, settings, today=today)
    findings = doctor.diagnose(client, settings, today=today)
    count(metrics, report, findings)
    summary = {**report.to_json(), "findings": [f.to_json() for f in findings]}
    if any(f.level == doctor.FAIL for f in findings):
        get_logger().error("log store needs attention", extra=summary)
    else:
        get_logger().info("log store maintained", extra=summary)
    return summary


def count(metrics: RunMetrics, report: lifecycle.MaintainReport, findings: list[Any]) -> None:
    metrics.count("IndicesDeleted", report.deleted)
    metrics.count("TemplateClash", sum(1 for f in report.families if f.clash))
    for finding in findings:
        if finding.level == doctor.FAIL:
            metrics.count(f"Doctor_{finding.check}")
    metrics.count("DoctorFailures", sum(1 for f in findings if f.level == doctor.FAIL))
