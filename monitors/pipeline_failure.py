"""Lambda: a failed pipeline action → Slack (one thread per execution) and the DevOps topic
in AWS Chatbot's custom-notification format, with the failing step and its last log lines.

Handler `monitors.pipeline_failure.handler`, behind an EventBridge rule on CodePipeline
action and pipeline execution state changes to FAILED. One alert per failed action; the
pipeline-level FAILED event that follows is dropped when the execution has a failed action
(that action's event carries the alert), and reported only when no action failed (e.g. a
source revision that could not be fetched, or a stage condition).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from monitors import chatbot
from monitors.config import MonitorSettings
from monitors.exceptions import EventError
from monitors.pipeline_context import FailedAction, FailureContext, PipelineEnricher
from monitors.pipeline_event import PipelineFailure, parse_pipeline_event
from monitors.redact import redact
from opsbundle.console import console_url, query_region
from opsbundle.exceptions import DeliveryError
from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics
from opsbundle.mrkdwn import clip, code_block, context, escape, header, link, section
from opsbundle.notify import Alert, Notifier, slack_from_settings

SERVICE = "pipeline_failure"
METADATA_EVENT_TYPE = "opsbundle_pipeline_failure"
CHATBOT_LOG_LINES = 20  # the lines up to where the failed phase ended


def pipeline_url(failure: PipelineFailure) -> str:
    region = failure.region
    return console_url(
        region,
        f"codesuite/codepipeline/pipelines/{quote(failure.pipeline, safe='')}/executions/"
        f"{quote(failure.execution_id, safe='')}/timeline?region={query_region(region)}",
    )


def title(context: FailureContext) -> str:
    failure = context.failure
    if failure.level == "pipeline":
        return f"Pipeline {failure.pipeline} failed"
    action = context.actions[0]
    if action.rejected_approval:
        return f"Pipeline {failure.pipeline}: approval {action.stage}/{action.action} rejected"
    return f"Pipeline {failure.pipeline} failed at {action.stage}/{action.action}"


def _who(arn: str | None) -> str:
    if not arn:
        return "someone"
    return arn.rsplit("/", 1)[-1] if "/" in arn else arn.rsplit(":", 1)[-1]


def _action_facts(action: FailedAction) -> list[str]:
    """Plain sentences about one failed action (no markup). CodePipeline's error message and
    summary often quote the failing command, so they are redacted like the log lines."""
    facts: list[str] = []
    summary = redact(action.summary) if action.summary else None
    error_message = redact(action.error_message) if action.error_message else None
    if action.rejected_approval:
        comment = summary or "no comment"
        facts.append(f"Manual approval rejected by {_who(action.updated_by)}: {comment}")
        return facts
    if action.category == "Approval":
        facts.append(f"Manual approval {action.stage}/{action.action} failed (not a rejection)")
    kind = " ".join(p for p in (action.provider, action.category and action.category.lower()) if p)
    facts.append(f"{action.stage}/{action.action} ({kind or 'action'}) failed")
    if action.error_code or error_message:
        facts.append(f"Error {action.error_code or ''}: {error_message or ''}".strip(": "))
    if summary and summary != error_message:
        facts.append(f"Summary: {summary}")
    build = action.build
    if build and build.phase:
        message = f": {build.phase_message}" if build.phase_message else ""
        facts.append(f"Build {build.build_id} {build.phase_status} in phase {build.phase}{message}")
    if action.stack:
        if action.stack_events:
            facts.append(f"Stack {action.stack}:")
            facts += [  # a reason can quote a parameter value or a command: redacted
                f"  {e.logical_id} ({e.resource_type}) {e.status}: {redact(e.reason)}"
                for e in action.stack_events
            ]
        else:
            facts.append(f"Stack {action.stack}: no failed resource events since the action began")
    return facts


def _revision_lines(context: FailureContext) -> list[str]:
    lines = []
    for revision in context.revisions:
        commit = (revision.revision_id or "?")[:12]
        # a commit message can hold what its author pasted: redacted like the log lines
        summary = redact((revision.summary or "").splitlines()[0]) if revision.summary else ""
        lines.append(f"{revision.name}: {commit} {summary}".rstrip())
    return lines


def slack_alert(context: FailureContext, *, thread_ts: str | None) -> Alert:
    failure = context.failure
    heading = title(context)
    blocks: list[dict[str, Any]] = [] if thread_ts else [header(":x: " + heading)]
    if thread_ts:
        blocks.append(section(f":x: *{escape(heading)}*"))
    if failure.level == "pipeline" and not context.actions:
        blocks.append(
            section(
                escape(
                    redact(context.status_summary or "")
                    or "No action failed; see the execution in the console."
                )
            )
        )
    for action in context.actions[:10]:
        blocks.append(section(escape("\n".join(_action_facts(action)))))
        build = action.build
        if build and build.log_lines:
            blocks.append(section(f"Last {len(build.log_lines)} log lines:"))
            blocks.append(section(code_block(build.log_lines)))
    revisions = _revision_lines(context)
    links = [link(pipeline_url(failure), "execution")]
    for action in context.actions[:3]:
        if action.build and action.build.logs_url:
            links.append(link(action.build.logs_url, f"{action.action} logs"))
        elif action.external_url:
            links.append(link(action.external_url, f"{action.action} details"))
    footer = " · ".join(links)
    if revisions:
        footer = escape("; ".join(revisions)) + "\n" + footer
    if context.problems:
        footer += "\n:warning: " + escape("; ".join(context.problems))
    blocks.append(context_block(footer))
    return Alert(
        sns_message="",  # the topic gets the Chatbot JSON instead (chatbot_message)
        slack_text=escape(heading),
        blocks=blocks[:50],
        metadata={
            "event_type": METADATA_EVENT_TYPE,
            "event_payload": {"execution_id": failure.execution_id, "pipeline": failure.pipeline},
        },
        thread_ts=thread_ts,
    )


def context_block(text: str) -> dict[str, Any]:
    return context(clip(text, 2000))


def chatbot_message(context: FailureContext) -> dict[str, Any]:
    """The Chatbot notification. Chatbot posts its markdown to Slack as it is, so text from
    outside (errors, log lines, commit messages) is escaped as for Slack: never a mention."""
    failure = context.failure
    parts: list[str] = []
    if failure.level == "pipeline" and not context.actions:
        parts.append(redact(context.status_summary or "") or "No action failed; see the execution.")
    for action in context.actions[:5]:
        parts.append("\n".join(_action_facts(action)))
        if action.build and action.build.log_lines:
            tail = [line.replace("```", "'''") for line in action.build.excerpt(CHATBOT_LOG_LINES)]
            parts.append("```\n" + "\n".join(tail) + "\n```")
    revisions = _revision_lines(context)
    if revisions:
        parts.append("Revision: " + "; ".join(revisions))
    steps = [f"Open the execution: {pipeline_url(failure)}"]
    for action in context.actions[:2]:
        if action.build and action.build.logs_url:
            steps.append(f"Read the build logs: {action.build.logs_url}")
    first = context.actions[0] if context.actions else None
    return chatbot.custom_notification(
        title=":x: " + escape(title(context)),
        description=escape("\n\n".join(parts)),
        next_steps=[escape(step) for step in steps],
        keywords=[failure.pipeline, *(x for x in (failure.stage, failure.action) if x)],
        thread_id=failure.execution_id,
        summary=title(context),
        event_type="PipelineActionFailed" if failure.level == "action" else "PipelineFailed",
        related_resources=[failure.arn],
        additional_context={
            "pipeline": failure.pipeline,
            "executionId": failure.execution_id,
            **({"stage": first.stage, "action": first.action} if first else {}),
        },
        notification_id=failure.event_id or None,
    )


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


def handler(event: Any, context: Any) -> dict[str, Any]:
    logger = get_logger()
    metrics = RunMetrics(service=SERVICE)
    try:
        failure = parse_pipeline_event(event)
        if failure is None:
            return {"action": "ignored"}
        return build_monitor(MonitorSettings.load(), metrics=metrics).handle(failure)
    except EventError as error:
        metrics.count("MalformedEvents")
        logger.error("event not understood", extra={"error": str(error)})
        raise
    except Exception:
        metrics.count("MonitorFailed")
        logger.exception("pipeline-failure monitor failed")
        raise
    finally:
        metrics.publish()
