"""A pipeline failure → the enriched context → Slack (threaded by execution) and the DevOps
topic (Chatbot), each on its own: one that fails does not stop the other.

One alert per failed action; the pipeline-level FAILED event that follows is dropped when the
execution has a failed action (that action's event carries the alert), and reported only when
no action failed (e.g. a source revision that could not be fetched, or a stage condition).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from monitors.config import MonitorSettings
from monitors.pipeline_failure import chatbot
from monitors.pipeline_failure.context import FailureContext
from monitors.pipeline_failure.enrich import PipelineEnricher
from monitors.pipeline_failure.event import PipelineFailure
from monitors.pipeline_failure.render import METADATA_EVENT_TYPE, chatbot_message, slack_alert
from opsbundle.exceptions import DeliveryError
from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics
from opsbundle.notify import Alert, Notifier, slack_from_settings


@dataclass
class PipelineMonitor:
    slack: Notifier  # Slack only
    devops: Notifier  # the DevOps SNS topic only
    metrics: RunMetrics
    enricher_for: Callable[[str], PipelineEnricher]
    lookback_hours: int = 24
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def handle(self, failure: PipelineFailure) -> dict[str, Any]:
        logger = get_logger()
        enricher = self.enricher_for(failure.region)
        if failure.level == "pipeline":
            probe = FailureContext(failure=failure)
            if enricher.failed_actions(failure, probe):
                self.metrics.count("PipelineEventsDeduplicated")
                logger.info(
                    "pipeline FAILED event: its failed actions are reported by their own events",
                    extra={"execution_id": failure.execution_id},
                )
                return {"action": "deduplicated", "execution_id": failure.execution_id}
        context = enricher.enrich(failure)
        sent: list[str] = []
        problems: list[str] = []
        if self.slack.configured:
            oldest = self.clock().timestamp() - self.lookback_hours * 3600
            thread = self.slack.find_thread(
                event_type=METADATA_EVENT_TYPE,
                key="execution_id",
                value=failure.execution_id,
                oldest=oldest,
            )
            try:
                sent += self.slack.send(slack_alert(context, thread_ts=thread)).sent
            except DeliveryError as error:  # the SNS copy may still go out
                problems.append(str(error))
        if self.devops.configured:
            message = chatbot.to_sns_message(chatbot_message(context))
            try:
                sent += self.devops.send(Alert(sns_message=message, slack_text="")).sent
            except DeliveryError as error:  # reported below, with Slack's
                problems.append(str(error))
        if not sent:
            raise DeliveryError(
                "; ".join(problems)
                or "no destination is configured: set "
                "PIPELINE_SLACK_CHANNEL and/or DEVOPS_TOPIC_ARN"
            )
        self.metrics.count("PipelineFailuresReported")
        logger.info(
            "pipeline failure reported",
            extra={
                "pipeline": failure.pipeline,
                "execution_id": failure.execution_id,
                "stage": failure.stage,
                "action": failure.action,
                "sent": sent,
                "problems": context.problems + problems,
            },
        )
        return {"action": "reported", "sent": sent, "execution_id": failure.execution_id}


def build_monitor(settings: MonitorSettings, *, metrics: RunMetrics) -> PipelineMonitor:
    slack = slack_from_settings(
        secret_arn=settings.slack_secret_arn, base_url=settings.slack_base_url
    )
    return PipelineMonitor(
        slack=Notifier(slack=slack, channel=settings.pipeline_slack_channel),
        devops=Notifier(topic_arn=settings.devops_topic_arn),
        metrics=metrics,
        enricher_for=lambda region: PipelineEnricher(
            region=region, log_lines=settings.pipeline_log_lines
        ),
        lookback_hours=settings.pipeline_thread_lookback_hours,
    )
