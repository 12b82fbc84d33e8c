"""Lambda `monitors.root_login.handler.handler`: root account activity → email and Slack.

Behind the EventBridge rule in cloudformation/monitors.yaml (us-east-1, where root console
sign-ins are recorded); the event shapes are in monitors.root_login.event.
"""

from __future__ import annotations

from typing import Any

from monitors.config import MonitorSettings
from monitors.entry import monitor_entry
from monitors.root_login.event import parse_root_event
from monitors.root_login.monitor import build_monitor
from opsbundle.lambda_entry import Invocation
from opsbundle.log import get_logger

SERVICE = "root_login"


@monitor_entry(service=SERVICE, monitor="root-login")
def handler(invocation: Invocation) -> dict[str, Any]:
    activity = parse_root_event(invocation.event)
    if activity is None:
        get_logger().info("not root activity: ignored", extra={"id": invocation.event_id})
        return {"action": "ignored"}
    monitor = build_monitor(MonitorSettings.load(), metrics=invocation.metrics)
    return monitor.handle(activity)
