"""CodePipeline FAILED events; other states are ignored; malformed ones say what was wrong."""

from __future__ import annotations

from typing import Any

import pytest

from monitors.exceptions import EventError
from monitors.pipeline_failure.event import parse_pipeline_event
from tests.unit.monitors.fixture_files import load


def test_failed_codebuild_action() -> None:
    failure = parse_pipeline_event(load("pipeline_action_failed_codebuild.json"))
    assert failure is not None
    assert (failure.level, failure.pipeline, failure.stage, failure.action) == (
        "action",
        "web-release",
        "Build",
        "UnitTests",
    )
    assert (failure.provider, failure.category, failure.error_code) == (
        "CodeBuild",
        "Build",
        "JobFailed",
    )
    assert failure.external_id == "web-unit-tests:7f8d9b1e-2c3a-4b5d-8e6f-9a0b1c2d3e4f"
    assert failure.arn == "arn:aws:codepipeline:us-east-1:123456789012:web-release"


def test_pipeline_level_failure_and_other_states() -> None:
    failure = parse_pipeline_event(load("pipeline_execution_failed.json"))
    assert failure is not None and failure.level == "pipeline" and failure.stage is None
    succeeded = load("pipeline_action_failed_codebuild.json")
    succeeded["detail"]["state"] = "SUCCEEDED"
    assert parse_pipeline_event(succeeded) is None


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"detail-type": "CodeBuild Build State Change"}, "not a CodePipeline action"),
        ({"detail": {"pipeline": "p", "state": "FAILED"}}, "detail.execution-id is missing"),
        (
            {"detail": {"pipeline": "p", "execution-id": "e", "state": "FAILED"}},
            "detail.stage is missing",
        ),
    ],
)
def test_malformed_events_say_what_was_wrong(change: dict[str, Any], says: str) -> None:
    with pytest.raises(EventError, match=says):
        parse_pipeline_event({**load("pipeline_action_failed_codebuild.json"), **change})
