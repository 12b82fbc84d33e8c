"""An alarm change → inspect the load balancer, render the alert, send it.

ALARM sends the inspection by email (SNS) and to Slack; OK after ALARM sends a short
"resolved"; other changes are logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from monitors.config import MonitorSettings
from monitors.unhealthy_targets import render
from monitors.unhealthy_targets.alarm_event import AlarmChange
from monitors.unhealthy_targets.health_metric import (
    CLASSIC_NAMESPACE,
    health_metric,
    target_group_arn,
    watched,
)
from monitors.unhealthy_targets.inspection import Inspection
from monitors.unhealthy_targets.inspector import TargetInspector
from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics
from opsbundle.notify import Notifier, slack_from_settings

InspectorFor = Callable[[str, str], TargetInspector]  # (region, partition) → an inspector


@dataclass
class AlarmOutcome:
    alarm: str
    action: str  # inspected, resolved, ignored
    sent: list[str] = field(default_factory=list)
    not_healthy: int | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def inspect_alarm(alarm: AlarmChange, inspector_for: InspectorFor) -> Inspection:
    metric = health_metric(alarm)
    inspector = inspector_for(alarm.region, alarm.partition)
    if metric.namespace == CLASSIC_NAMESPACE:
        return inspector.inspect_classic(
            metric.dimensions["LoadBalancerName"], dimensions=metric.dimensions
        )
    arn = target_group_arn(
        partition=alarm.partition,
        region=alarm.region,
        account=alarm.account,
        dimension=metric.dimensions["TargetGroup"],
    )
    return inspector.inspect_target_group(
        arn, namespace=metric.namespace, dimensions=metric.dimensions
    )


def _inspector(region: str, partition: str) -> TargetInspector:
    return TargetInspector(region=region, partition=partition)


@dataclass
class TargetsMonitor:
    notifier: Notifier
    metrics: RunMetrics
    max_listed: int = 50
    inspector_for: InspectorFor = _inspector

    def handle(self, alarm: AlarmChange) -> AlarmOutcome:
        logger = get_logger()
        if alarm.state == "ALARM":
            inspection = inspect_alarm(alarm, self.inspector_for)
            alert = render.alarm_alert(inspection, alarm, max_listed=self.max_listed)
            delivery = self.notifier.send(alert)
            self.metrics.count("TargetAlarmsInspected")
            if inspection.problems:
                self.metrics.count("InspectionProblems", len(inspection.problems))
            logger.info(
                "unhealthy targets reported",
                extra={
                    "alarm": alarm.name,
                    "target": inspection.name,
                    "sent": delivery.sent,
                    "not_healthy": len(inspection.not_healthy),
                    "problems": inspection.problems,
                },
            )
            return AlarmOutcome(alarm.name, "inspected", delivery.sent, len(inspection.not_healthy))
        if alarm.state == "OK" and alarm.previous_state == "ALARM":
            delivery = self.notifier.send(render.resolved_alert(alarm, watched(alarm)))
            self.metrics.count("TargetAlarmsResolved")
            return AlarmOutcome(alarm.name, "resolved", delivery.sent)
        logger.info(
            "alarm change ignored",
            extra={"alarm": alarm.name, "state": alarm.state, "previous": alarm.previous_state},
        )
        return AlarmOutcome(alarm.name, "ignored")


def build_monitor(settings: MonitorSettings, *, metrics: RunMetrics) -> TargetsMonitor:
    slack = slack_from_settings(
        secret_arn=settings.slack_secret_arn, base_url=settings.slack_base_url
    )
    notifier = Notifier(
        topic_arn=settings.ops_topic_arn, slack=slack, channel=settings.slack_ops_channel
    )
    return TargetsMonitor(
        notifier=notifier, metrics=metrics, max_listed=settings.targets_max_listed
    )
