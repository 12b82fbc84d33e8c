"""Lambda `monitors.pipeline_failure.handler.handler`: a failed pipeline → Slack and Chatbot.

Behind an EventBridge rule on CodePipeline action and pipeline execution state changes to
FAILED (cloudformation/monitors.yaml); other states are ignored.
"""

from __future__ import annotations

from typing import Any

from monitors.config import MonitorSettings
from monitors.entry import monitor_entry
from monitors.pipeline_failure.event import parse_pipeline_event
from monitors.pipeline_failure.monitor import build_monitor
from opsbundle.lambda_entry import Invocation

SERVICE = "pipeline_failure"


@monitor_entry(service=SERVICE, monitor="pipeline-failure")
def handler(invocation: Invocation) -> dict[str, Any]:
    failure = parse_pipeline_event(invocation.event)
    if failure is None:
        return {"action": "ignored"}
    monitor = build_monitor(MonitorSettings.load(), metrics=invocation.metrics)
    return monitor.handle(failure)
