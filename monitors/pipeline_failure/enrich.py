"""What a failed pipeline action needs to be understood, gathered from AWS.

For every failed action: CodePipeline's `ListActionExecutions` error details; for CodeBuild
the failed phase (`BatchGetBuilds` phases and their contexts), a deep link to the logs and
the last log lines (redacted); for CloudFormation the failed stack events and their reasons;
for a manual approval, who rejected it and why. For the execution: the source revisions
(`GetPipelineExecution` artifactRevisions). AWS trouble becomes a `problems` entry, so the
alert still goes out.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from monitors.pipeline_failure.context import (
    BuildFailure,
    FailedAction,
    FailureContext,
    Revision,
    StackEvent,
)
from monitors.pipeline_failure.event import PipelineFailure
from opsbundle import aws, console
from opsbundle.redaction import redact_credential_lines, redact_credentials

FAILED_PHASE_STATUSES = ("FAILED", "FAULT", "TIMED_OUT", "STOPPED")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colour codes that test runners print
MAX_STACK_EVENTS = 8


def revision_from(item: dict[str, Any]) -> Revision:
    """One artifact revision; CodeStar connections put JSON with CommitMessage in the summary."""
    summary = item.get("revisionSummary")
    if isinstance(summary, str) and summary.startswith("{"):
        try:
            parsed = json.loads(summary)
            summary = parsed.get("CommitMessage") or summary
        except (json.JSONDecodeError, AttributeError):
            pass
    return Revision(
        name=str(item.get("name") or "source"),
        revision_id=item.get("revisionId"),
        summary=str(summary).strip() if summary else None,
        url=item.get("revisionUrl"),
    )


class PipelineEnricher:
    def __init__(
        self,
        *,
        region: str,
        log_lines: int = 30,
        codepipeline_client: Any = None,
        codebuild_client: Any = None,
        logs_client: Any = None,
        cloudformation_client: Any = None,
    ) -> None:
        self.region = region
        self.log_lines = log_lines
        self._clients = {
            "codepipeline": codepipeline_client,
            "codebuild": codebuild_client,
            "logs": logs_client,
            "cloudformation": cloudformation_client,
        }

    def _client(self, service: str) -> Any:
        if self._clients.get(service) is None:
            self._clients[service] = aws.client(service, region=self.region)
        return self._clients[service]

    def failed_actions(
        self, failure: PipelineFailure, context: FailureContext
    ) -> list[FailedAction]:
        """Every failed action of the execution (ListActionExecutions, all pages)."""
        found: list[FailedAction] = []
        try:
            pages = (
                self._client("codepipeline")
                .get_paginator("list_action_executions")
                .paginate(
                    pipelineName=failure.pipeline,
                    filter={"pipelineExecutionId": failure.execution_id},
                )
            )
            for page in pages:
                for detail in page.get("actionExecutionDetails", []):
                    if detail.get("status") == "Failed":
                        found.append(_failed_action(detail))
        except (BotoCoreError, ClientError) as error:
            context.problems.append(aws.call_failed(error, "ListActionExecutions"))
        return found

    def enrich(self, failure: PipelineFailure) -> FailureContext:
        context = FailureContext(failure=failure)
        self._revisions(context)
        actions = self.failed_actions(failure, context)
        if failure.level == "action":
            mine = [a for a in actions if (a.stage, a.action) == (failure.stage, failure.action)]
            mine.sort(key=lambda a: a.started or datetime.min, reverse=True)
            action = (
                mine[0]
                if mine
                else FailedAction(
                    stage=failure.stage or "?",
                    action=failure.action or "?",
                    category=failure.category,
                    provider=failure.provider,
                )
            )
            # The event's own result wins where the listing has nothing (or lags behind).
            action.summary = action.summary or failure.summary
            action.external_id = action.external_id or failure.external_id
            action.external_url = action.external_url or failure.external_url
            action.error_code = action.error_code or failure.error_code
            action.category = action.category or failure.category
            action.provider = action.provider or failure.provider
            context.actions = [action]
        else:
            context.actions = actions
        for action in context.actions:
            if action.provider == "CodeBuild" and action.external_id:
                action.build = self._build(action.external_id, context)
            elif action.provider == "CloudFormation":
                self._stack_events(action, context)
        return context

    def _revisions(self, context: FailureContext) -> None:
        failure = context.failure
        try:
            got = self._client("codepipeline").get_pipeline_execution(
                pipelineName=failure.pipeline, pipelineExecutionId=failure.execution_id
            )
        except (BotoCoreError, ClientError) as error:
            context.problems.append(aws.call_failed(error, "GetPipelineExecution"))
            return
        execution = got.get("pipelineExecution", {})
        context.status_summary = execution.get("statusSummary")
        context.revisions = [revision_from(r) for r in execution.get("artifactRevisions", [])]

    def _build(self, build_id: str, context: FailureContext) -> BuildFailure:
        build = BuildFailure(build_id=build_id)
        try:
            builds = self._client("codebuild").batch_get_builds(ids=[build_id]).get("builds", [])
        except (BotoCoreError, ClientError) as error:
            context.problems.append(aws.call_failed(error, "BatchGetBuilds"))
            return build
        if not builds:
            context.problems.append(f"CodeBuild has no build {build_id} (expired or deleted?)")
            return build
        found = builds[0]
        build.status = found.get("buildStatus")
        for phase in found.get("phases", []):
            if phase.get("phaseStatus") in FAILED_PHASE_STATUSES:
                build.phase = phase.get("phaseType")
                build.phase_status = phase.get("phaseStatus")
                messages = [
                    f"{c.get('statusCode', '')}: {c.get('message', '')}".strip(": ")
                    for c in phase.get("contexts", [])
                    if c.get("message") or c.get("statusCode")
                ]
                build.phase_message = redact_credentials("; ".join(messages)) if messages else None
                break
        logs = found.get("logs", {})
        group, stream = logs.get("groupName"), logs.get("streamName")
        build.logs_url = logs.get("deepLink")
        if group and stream:
            build.logs_url = console.log_stream(self.region, group, stream)
            if self.log_lines:
                build.log_lines = self._tail(group, stream, context)
        elif logs.get("cloudWatchLogs", {}).get("status") == "DISABLED":
            context.problems.append(f"build {build_id} does not log to CloudWatch Logs")
        return build

    def _tail(self, group: str, stream: str, context: FailureContext) -> list[str]:
        try:
            got = self._client("logs").get_log_events(
                logGroupName=group,
                logStreamName=stream,
                startFromHead=False,
                limit=self.log_lines,
            )
        except (BotoCoreError, ClientError) as error:
            context.problems.append(aws.call_failed(error, "GetLogEvents"))
            return []
        lines: list[str] = []
        for event in got.get("events", []):
            text = _ANSI.sub("", str(event.get("message", ""))).rstrip("\n")
            lines.extend(text.splitlines() or [""])
        return redact_credential_lines(lines[-self.log_lines :])

    def _stack_events(self, action: FailedAction, context: FailureContext) -> None:
        stack = action.configuration.get("StackName")
        if not stack:
            return
        action.stack = stack
        try:
            pages = (
                self._client("cloudformation")
                .get_paginator("describe_stack_events")
                .paginate(StackName=stack)
            )
            action.stack_events = _failed_stack_events(pages, since=action.started)
        except (BotoCoreError, ClientError) as error:
            context.problems.append(aws.call_failed(error, f"DescribeStackEvents({stack})"))


def _failed_stack_events(pages: Any, *, since: datetime | None) -> list[StackEvent]:
    """The FAILED events since the action started (events come newest first)."""
    events: list[StackEvent] = []
    for page in pages:
        for item in page.get("StackEvents", []):
            stamp = item.get("Timestamp")
            if since and isinstance(stamp, datetime) and stamp < since:
                return events
            if str(item.get("ResourceStatus", "")).endswith("_FAILED"):
                events.append(_stack_event(item))
                if len(events) >= MAX_STACK_EVENTS:
                    return events
    return events


def _stack_event(item: dict[str, Any]) -> StackEvent:
    stamp = item.get("Timestamp")
    return StackEvent(
        logical_id=str(item.get("LogicalResourceId", "?")),
        resource_type=str(item.get("ResourceType", "?")),
        status=str(item.get("ResourceStatus", "?")),
        reason=str(item.get("ResourceStatusReason") or ""),
        time=stamp.isoformat() if isinstance(stamp, datetime) else str(stamp or ""),
    )


def _failed_action(detail: dict[str, Any]) -> FailedAction:
    action_input = detail.get("input", {})
    action_type = action_input.get("actionTypeId", {})
    result = detail.get("output", {}).get("executionResult", {})
    error = result.get("errorDetails") or {}
    configuration = (
        action_input.get("resolvedConfiguration") or action_input.get("configuration") or {}
    )
    started = detail.get("startTime")
    return FailedAction(
        stage=str(detail.get("stageName", "?")),
        action=str(detail.get("actionName", "?")),
        category=action_type.get("category"),
        provider=action_type.get("provider"),
        summary=result.get("externalExecutionSummary"),
        error_code=error.get("code"),
        error_message=error.get("message"),
        external_id=result.get("externalExecutionId"),
        external_url=result.get("externalExecutionUrl"),
        updated_by=detail.get("updatedBy"),
        started=started if isinstance(started, datetime) else None,
        configuration={str(k): str(v) for k, v in configuration.items()},
    )
