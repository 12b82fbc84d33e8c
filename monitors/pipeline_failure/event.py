"""A failed CodePipeline action or execution, read from its EventBridge event (pure).

"CodePipeline Action Execution State Change": `detail` has `pipeline`, `execution-id`,
`stage`, `action`, `state`, `region`, `type` {owner, provider, category, version} and, when
it failed, `execution-result` {external-execution-id, external-execution-summary,
external-execution-url, error-code}. "CodePipeline Pipeline Execution State Change": `detail`
has `pipeline`, `execution-id`, `state` (and `execution-trigger`, `version`). CodePipeline
User Guide, "Monitoring CodePipeline events" (detect-state-changes-cloudwatch-events).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from monitors.eventbridge import envelope
from monitors.exceptions import EventError
from opsbundle.console import partition_of

ACTION_TYPE = "CodePipeline Action Execution State Change"
PIPELINE_TYPE = "CodePipeline Pipeline Execution State Change"


@dataclass(frozen=True)
class PipelineFailure:
    level: str  # action, pipeline
    pipeline: str
    execution_id: str
    region: str
    account: str
    time: str
    event_id: str
    stage: str | None = None
    action: str | None = None
    category: str | None = None  # Source, Build, Test, Deploy, Approval, Invoke
    provider: str | None = None  # CodeBuild, CloudFormation, Manual, ...
    external_id: str | None = None
    summary: str | None = None
    external_url: str | None = None
    error_code: str | None = None

    @property
    def arn(self) -> str:
        partition = partition_of(self.region)
        return f"arn:{partition}:codepipeline:{self.region}:{self.account}:{self.pipeline}"


def parse_pipeline_event(event: Any) -> PipelineFailure | None:
    """The failure in the event; None for a state other than FAILED. Raises EventError."""
    detail_type, detail = envelope(
        event,
        types=(ACTION_TYPE, PIPELINE_TYPE),
        what="a CodePipeline action or pipeline execution state change",
    )
    for key in ("pipeline", "execution-id", "state"):
        if not isinstance(detail.get(key), str) or not detail.get(key):
            raise EventError(f"detail.{key} is missing or empty")
    if detail["state"] != "FAILED":
        return None
    common: dict[str, Any] = {
        "pipeline": detail["pipeline"],
        "execution_id": detail["execution-id"],
        "region": str(event.get("region") or detail.get("region") or ""),
        "account": str(event.get("account") or ""),
        "time": str(event.get("time") or ""),
        "event_id": str(event.get("id") or ""),
    }
    if not common["region"]:
        raise EventError("region is missing from the event")
    if detail_type == PIPELINE_TYPE:
        return PipelineFailure(level="pipeline", **common)
    for key in ("stage", "action"):
        if not isinstance(detail.get(key), str) or not detail.get(key):
            raise EventError(f"detail.{key} is missing from the action event")
    action_type = detail.get("type")
    action_type = action_type if isinstance(action_type, Mapping) else {}
    result = detail.get("execution-result")
    result = result if isinstance(result, Mapping) else {}
    return PipelineFailure(
        level="action",
        stage=detail["stage"],
        action=detail["action"],
        category=_opt(action_type.get("category")),
        provider=_opt(action_type.get("provider")),
        external_id=_opt(result.get("external-execution-id")),
        summary=_opt(result.get("external-execution-summary")),
        external_url=_opt(result.get("external-execution-url")),
        error_code=_opt(result.get("error-code")),
        **common,
    )


def _opt(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
