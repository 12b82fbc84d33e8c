"""Lambda `monitors.unhealthy_targets.handler.handler`: a load balancer health alarm → which
targets are not healthy, why, and what to check.

Subscribed to the alarm's SNS topic, set as the alarm's Lambda action, or targeted by an
EventBridge rule on "CloudWatch Alarm State Change"; all three shapes are read (alarm_event).
"""

from __future__ import annotations

from typing import Any

from monitors.config import MonitorSettings
from monitors.entry import monitor_entry
from monitors.unhealthy_targets.alarm_event import parse_alarm_events
from monitors.unhealthy_targets.monitor import build_monitor
from opsbundle.lambda_entry import Invocation

SERVICE = "unhealthy_targets"


@monitor_entry(service=SERVICE, monitor="unhealthy-target")
def handler(invocation: Invocation) -> dict[str, Any]:
    alarms = parse_alarm_events(invocation.event)
    monitor = build_monitor(MonitorSettings.load(), metrics=invocation.metrics)
    return {"outcomes": [monitor.handle(alarm).to_json() for alarm in alarms]}
