"""Root activity → the alert → email (SNS) and Slack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitors.config import MonitorSettings
from monitors.root_login.event import RootActivity
from monitors.root_login.render import alert
from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics
from opsbundle.notify import Notifier, slack_from_settings


@dataclass(frozen=True, kw_only=True)
class RootLoginMonitor:
    notifier: Notifier
    metrics: RunMetrics

    def handle(self, activity: RootActivity) -> dict[str, Any]:
        delivery = self.notifier.send(alert(activity))
        self.metrics.count("RootActivityReported")
        get_logger().warning(
            "root activity reported",
            extra={
                "event": activity.event_name,
                "outcome": activity.outcome,
                "mfa": activity.mfa,
                "event_id": activity.event_id,
                "sent": delivery.sent,
            },
        )
        return {"action": "reported", "sent": delivery.sent}


def build_monitor(settings: MonitorSettings, *, metrics: RunMetrics) -> RootLoginMonitor:
    slack = slack_from_settings(
        secret_arn=settings.slack_secret_arn, base_url=settings.slack_base_url
    )
    notifier = Notifier(
        topic_arn=settings.ops_topic_arn, slack=slack, channel=settings.slack_ops_channel
    )
    return RootLoginMonitor(notifier=notifier, metrics=metrics)
