"""Which load balancer an alarm is about: the health metric it watches, and from that the
target group's ARN or the Classic load balancer's name (pure)."""

from __future__ import annotations

from monitors.exceptions import EventError
from monitors.unhealthy_targets.alarm_event import AlarmChange, Metric

ELBV2_NAMESPACES = {
    "AWS/ApplicationELB": "application",
    "AWS/NetworkELB": "network",
    "AWS/GatewayELB": "gateway",
}
CLASSIC_NAMESPACE = "AWS/ELB"
NAMESPACES = (*ELBV2_NAMESPACES, CLASSIC_NAMESPACE)
HEALTH_METRICS = ("UnHealthyHostCount", "HealthyHostCount")


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


def target_group_arn(*, partition: str, region: str, account: str, dimension: str) -> str:
    """The ARN from the alarm's TargetGroup dimension ("targetgroup/<name>/<id>")."""
    return f"arn:{partition}:elasticloadbalancing:{region}:{account}:{dimension}"


def watched(alarm: AlarmChange) -> str:
    """What the alarm watches, in words: the target group, else the load balancer."""
    metric = health_metric(alarm)
    return metric.dimensions.get("TargetGroup") or metric.dimensions.get(
        "LoadBalancerName", "the load balancer"
    )
