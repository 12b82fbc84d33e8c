"""Lambda: a load balancer health alarm → which targets are not healthy, why, what to check.

Handler `monitors.unhealthy_targets.handler`, subscribed to the alarm's SNS topic, set as
the alarm's Lambda action, or targeted by an EventBridge rule on "CloudWatch Alarm State
Change"; all three shapes are read (monitors.alarm_event). ALARM sends the inspection by
email (SNS) and to Slack; OK after ALARM sends a short "resolved"; other changes are logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from monitors import target_report
from monitors.alarm_event import AlarmChange, Metric, parse_alarm_events
from monitors.config import MonitorSettings
from monitors.exceptions import EventError
from monitors.target_inspection import (
    CLASSIC_NAMESPACE,
    ELBV2_NAMESPACES,
    HEALTH_METRICS,
    Inspection,
    TargetInspector,
    target_group_arn,
)
from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics
from opsbundle.notify import Notifier, slack_from_settings

SERVICE = "unhealthy_targets"
NAMESPACES = (*ELBV2_NAMESPACES, CLASSIC_NAMESPACE)


@dataclass
class Outcome:
    alarm: str
    action: str  # inspected, resolved, ignored
    sent: list[str] = field(default_factory=list)
    not_healthy: int | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def health_metric(alarm: AlarmChange) -> Metric:
    """The load balancer health metric the alarm watches. Raises EventError if none."""
    metric = alarm.metric(NAMESPACES, HEALTH_METRICS)
    if metric is None:
        watched = ", ".join(f"{m.namespace} {m.name}" for m in alarm.metrics) or "no metric"
        raise EventError(
            f"alarm {alarm.name!r} watches {watched}; this monitor handles UnHealthyHostCount "
            f"or HealthyHostCount in {', '.join(NAMESPACES)}: subscribe it only to those alarms"
        )
    if metric.namespace == CLASSIC_NAMESPACE:
        if "LoadBalancerName" not in metric.dimensions:
            raise EventError(f"alarm {alarm.name!r}: AWS/ELB metric without LoadBalancerName")
    elif "TargetGroup" not in metric.dimensions:
        raise EventError(
            f"alarm {alarm.name!r}: {metric.namespace} {metric.name} has no TargetGroup "
            "dimension, so there is no target group to inspect"
        )
    return metric


def inspect_alarm(
    alarm: AlarmChange, inspector_for: Callable[[str, str], TargetInspector]
) -> Inspection:
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


@dataclass
class TargetsMonitor:
    notifier: Notifier
    metrics: RunMetrics
    max_listed: int = 50
    inspector_for: Callable[[str, str], TargetInspector] = field(
        default=lambda region, partition: TargetInspector(region=region, partition=partition)
    )

    def handle(self, alarm: AlarmChange) -> Outcome:
        logger = get_logger()
        if alarm.state == "ALARM":
            inspection = inspect_alarm(alarm, self.inspector_for)
            alert = target_report.alarm_alert(inspection, alarm, max_listed=self.max_listed)
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
            return Outcome(alarm.name, "inspected", delivery.sent, len(inspection.not_healthy))
        if alarm.state == "OK" and alarm.previous_state == "ALARM":
            metric = health_metric(alarm)
            what = metric.dimensions.get("TargetGroup") or metric.dimensions.get(
                "LoadBalancerName", "the load balancer"
            )
            delivery = self.notifier.send(target_report.resolved_alert(alarm, what))
            self.metrics.count("TargetAlarmsResolved")
            return Outcome(alarm.name, "resolved", delivery.sent)
        logger.info(
            "alarm change ignored",
            extra={"alarm": alarm.name, "state": alarm.state, "previous": alarm.previous_state},
        )
        return Outcome(alarm.name, "ignored")


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


def handler(event: Any, context: Any) -> dict[str, Any]:
    logger = get_logger()
    metrics = RunMetrics(service=SERVICE)
    try:
        alarms = parse_alarm_events(event)
        monitor = build_monitor(MonitorSettings.load(), metrics=metrics)
        outcomes = [monitor.handle(alarm).to_json() for alarm in alarms]
        return {"outcomes": outcomes}
    except EventError as error:
        metrics.count("MalformedEvents")
        logger.error("event not understood", extra={"error": str(error)})
        raise
    except Exception:
        metrics.count("MonitorFailed")
        logger.exception("unhealthy-target monitor failed")
        raise
    finally:
        metrics.publish()
