"""A pipeline failure as a Slack message (one thread per execution) and as an AWS Chatbot
custom notification for the DevOps topic (pure).

CodePipeline's error messages and summaries, stack event reasons and commit messages can
quote a command, secrets and all: they are redacted like the build's log lines, and escaped
for Slack (Chatbot posts its markdown as it is), so they never become a mention.
"""

from __future__ import annotations

from typing import Any

from monitors.pipeline_failure import chatbot
from monitors.pipeline_failure.context import FailedAction, FailureContext
from monitors.pipeline_failure.event import PipelineFailure
from opsbundle import console
from opsbundle.mrkdwn import clip, code_block, context, escape, header, link, section
from opsbundle.notify import Alert
from opsbundle.redaction import redact_credentials

METADATA_EVENT_TYPE = "opsbundle_pipeline_failure"
CHATBOT_LOG_LINES = 20  # the lines up to where the failed phase ended


def pipeline_url(failure: PipelineFailure) -> str:
    return console.pipeline_execution(failure.region, failure.pipeline, failure.execution_id)


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
    summary = redact_credentials(action.summary) if action.summary else None
    error_message = redact_credentials(action.error_message) if action.error_message else None
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
                f"  {e.logical_id} ({e.resource_type}) {e.status}: {redact_credentials(e.reason)}"
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
        summary = (
            redact_credentials((revision.summary or "").splitlines()[0]) if revision.summary else ""
        )
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
                    redact_credentials(context.status_summary or "")
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
        parts.append(
            redact_credentials(context.status_summary or "")
            or "No action failed; see the execution."
        )
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
