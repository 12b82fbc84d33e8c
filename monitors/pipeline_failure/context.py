"""What a failed pipeline action needs to be understood: plain data the enricher fills in
and the renderer reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from monitors.pipeline_failure.event import PipelineFailure


@dataclass(frozen=True)
class Revision:
    name: str
    revision_id: str | None
    summary: str | None
    url: str | None


@dataclass
class BuildFailure:
    build_id: str
    status: str | None = None
    phase: str | None = None
    phase_status: str | None = None
    phase_message: str | None = None
    logs_url: str | None = None
    log_lines: list[str] = field(default_factory=list)

    def excerpt(self, size: int) -> list[str]:
        """`size` log lines ending where the failed phase ended (CodeBuild's "Phase complete:
        <PHASE> State: FAILED" line and its context line), else the last `size` lines."""
        end = len(self.log_lines)
        marker = f"Phase complete: {self.phase} State: {self.phase_status}"
        for index in range(len(self.log_lines) - 1, -1, -1):
            if self.phase and marker in self.log_lines[index]:
                end = min(index + 2, len(self.log_lines))
                break
        return self.log_lines[max(0, end - size) : end]


@dataclass(frozen=True)
class StackEvent:
    logical_id: str
    resource_type: str
    status: str
    reason: str
    time: str


@dataclass
class FailedAction:
    stage: str
    action: str
    category: str | None
    provider: str | None
    summary: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    external_id: str | None = None
    external_url: str | None = None
    updated_by: str | None = None
    started: datetime | None = None
    configuration: dict[str, str] = field(default_factory=dict)
    build: BuildFailure | None = None
    stack: str | None = None
    stack_events: list[StackEvent] = field(default_factory=list)

    @property
    def rejected_approval(self) -> bool:
        """A person said no (CodePipeline's error code for it); a timed-out approval is not."""
        if self.category != "Approval":
            return False
        text = f"{self.error_code or ''} {self.error_message or ''}".lower()
        return "timed out" not in text and "timeout" not in text


@dataclass
class FailureContext:
    failure: PipelineFailure
    actions: list[FailedAction] = field(default_factory=list)
    revisions: list[Revision] = field(default_factory=list)
    status_summary: str | None = None
    problems: list[str] = field(default_factory=list)
