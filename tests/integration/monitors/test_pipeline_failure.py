"""Pipeline failures to Slack (emulator) and the DevOps topic (moto SNS) in Chatbot format.

moto serves CloudWatch Logs (the build's log lines) and SNS. It does not implement
CodePipeline ListActionExecutions, its CodeBuild BatchGetBuilds always reports a build that
SUCCEEDED with no log group, and its stacks never fail: those answers come from botocore
Stubbers loaded with the documented shapes (tests/fixtures/monitors/api_*.json).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from monitors.exceptions import EventError
from monitors.pipeline_failure.enrich import PipelineEnricher
from monitors.pipeline_failure.event import parse_pipeline_event
from monitors.pipeline_failure.handler import handler
from monitors.pipeline_failure.monitor import PipelineMonitor
from opsbundle.metrics import RunMetrics
from opsbundle.notify import Notifier
from opsbundle.slack import SlackClient
from tests.emulators.slack import SlackEmulator
from tests.integration.conftest import SLACK_TOKEN, Aws
from tests.integration.monitors.conftest import REGION, Inbox, subscribe
from tests.unit.monitors.fixture_files import load, with_datetimes

PIPELINE = "web-release"
EXECUTION = "3137f7cb-7cf7-4f2d-8a1b-bd7b84f5a2c6"
BUILD = "web-unit-tests:7f8d9b1e-2c3a-4b5d-8e6f-9a0b1c2d3e4f"
GROUP, STREAM = "/aws/codebuild/web-unit-tests", "7f8d9b1e-2c3a-4b5d-8e6f-9a0b1c2d3e4f"
SECRET = "Sup3rS3cretPassw0rd"


def build_log() -> list[str]:
    """60 lines of a CodeBuild log whose `npm test` failed."""
    head = [
        f"[Container] 2026/11/26 14:08:{i:02d}.100 Running command npm ci --quiet ({i})"
        for i in range(30)
    ]
    tail = [
        "[Container] 2026/11/26 14:09:31.215 Entering phase BUILD",
        "[Container] 2026/11/26 14:09:31.216 Running command npm test",
        "> web@4.2.0 test",
        "> jest --ci",
        f"connecting with DATABASE_URL=postgres://app:{SECRET}@db.internal:5432/app",
        "PASS src/catalog.test.js",
        "FAIL src/cart.test.js",
        "  ● cart › totals an empty basket",
        "    expect(received).toBe(expected) // Object.is equality",
        "    Expected: 0",
        "    Received: NaN",
        "      41 |   it('totals an empty basket', () => {",
        "    > 42 |     expect(total([])).toBe(0);",
        "         |                       ^",
        "      at Object.<anonymous> (src/cart.test.js:42:23)",
        "Test Suites: 1 failed, 11 passed, 12 total",
        "Tests:       1 failed, 143 passed, 144 total",
        "Snapshots:   0 total",
        "Time:        21.407 s",
        "Ran all test suites.",
        "[Container] 2026/11/26 14:10:01.100 Command did not exit successfully npm test "
        "exit status 1",
        "[Container] 2026/11/26 14:10:01.105 Phase complete: BUILD State: FAILED",
        "[Container] 2026/11/26 14:10:01.105 Phase context status code: COMMAND_EXECUTION_ERROR "
        "Message: Error while executing command: npm test. Reason: exit status 1",
        "[Container] 2026/11/26 14:10:01.190 Entering phase POST_BUILD",
        "[Container] 2026/11/26 14:10:01.191 Phase complete: POST_BUILD State: SUCCEEDED",
        "[Container] 2026/11/26 14:10:01.191 Phase context status code:  Message:",
        "[Container] 2026/11/26 14:10:02.010 Expanding base directory path: .",
        "[Container] 2026/11/26 14:10:02.013 Assembling file list",
        "[Container] 2026/11/26 14:10:02.020 Phase complete: UPLOAD_ARTIFACTS State: SUCCEEDED",
        "[Container] 2026/11/26 14:10:02.021 Phase context status code:  Message:",
    ]
    return head + tail


@dataclass
class World:
    monitor: PipelineMonitor
    codepipeline: Stubber
    codebuild: Stubber
    cloudformation: Stubber
    devops: Inbox
    slack: SlackEmulator


@pytest.fixture
def world(aws: Aws, slack: SlackEmulator) -> Iterator[World]:
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName=STREAM)
    start = int(datetime.now(UTC).timestamp() * 1000) - 120_000  # CloudWatch Logs takes no future
    put = logs.put_log_events(
        logGroupName=GROUP,
        logStreamName=STREAM,
        logEvents=[
            {"timestamp": start + i * 100, "message": line + "\n"}
            for i, line in enumerate(build_log())
        ],
    )
    assert "rejectedLogEventsInfo" not in put
    devops_topic = aws.sns.create_topic(Name="devops-chatbot")["TopicArn"]
    slack.add_channel("deploys", "C0DEPLOYS1")
    clients = {
        name: boto3.client(name, region_name=REGION)
        for name in ("codepipeline", "codebuild", "cloudformation")
    }
    with ExitStack() as stack:
        stubs = {name: stack.enter_context(Stubber(client)) for name, client in clients.items()}
        monitor = PipelineMonitor(
            slack=Notifier(
                slack=SlackClient(token=SLACK_TOKEN, base_url=slack.api_url), channel="deploys"
            ),
            devops=Notifier(topic_arn=devops_topic, sns_client=aws.sns),
            metrics=RunMetrics(service="pipeline_failure"),
            enricher_for=lambda region: PipelineEnricher(
                region=region,
                log_lines=30,
                logs_client=logs,
                codepipeline_client=clients["codepipeline"],
                codebuild_client=clients["codebuild"],
                cloudformation_client=clients["cloudformation"],
            ),
        )
        yield World(
            monitor,
            stubs["codepipeline"],
            stubs["codebuild"],
            stubs["cloudformation"],
            subscribe(aws, devops_topic, "devops-inbox"),
            slack,
        )
        for stub in stubs.values():
            stub.assert_no_pending_responses()


def expect_execution(world: World, actions_fixture: str) -> None:
    world.codepipeline.add_response(
        "get_pipeline_execution",
        with_datetimes(load("api_get_pipeline_execution.json")),
        {"pipelineName": PIPELINE, "pipelineExecutionId": EXECUTION},
    )
    expect_actions(world, actions_fixture)


def expect_actions(world: World, actions_fixture: str) -> None:
    world.codepipeline.add_response(
        "list_action_executions",
        with_datetimes(load(actions_fixture)),
        {"pipelineName": PIPELINE, "filter": {"pipelineExecutionId": EXECUTION}},
    )


def failure(name: str) -> Any:
    found = parse_pipeline_event(load(name))
    assert found is not None
    return found


def test_failed_codebuild_action_posts_the_failing_commands_log_lines(world: World) -> None:
    expect_execution(world, "api_list_action_executions_codebuild.json")
    world.codebuild.add_response(
        "batch_get_builds",
        with_datetimes(load("api_batch_get_builds_failed.json")),
        {"ids": [BUILD]},
    )
    result = world.monitor.handle(failure("pipeline_action_failed_codebuild.json"))
    assert result["action"] == "reported"
    (posted,) = world.slack.messages("deploys")
    assert "thread_ts" not in posted
    text = json.dumps(posted["blocks"])
    assert posted["text"] == "Pipeline web-release failed at Build/UnitTests"
    assert (
        "Build web-unit-tests:7f8d9b1e-2c3a-4b5d-8e6f-9a0b1c2d3e4f FAILED in phase BUILD: "
        "COMMAND_EXECUTION_ERROR: Error while executing command: npm test" in text
    )
    for line in (
        "Running command npm test",
        "FAIL src/cart.test.js",
        "Received: NaN",
        "Command did not exit successfully npm test exit status 1",
    ):
        assert line in text
    assert "Running command npm ci --quiet (0)" not in text  # only the last 30 lines
    assert SECRET not in text and "[REDACTED]" in text
    assert "3f2a9c1d4e5b Fix cart totals when the basket is empty" in text
    assert "log-group/$252Faws$252Fcodebuild$252Fweb-unit-tests" in text
    assert posted["metadata"]["event_payload"]["execution_id"] == EXECUTION
    (published,) = world.devops.messages()
    assert "Subject" not in published or not published["Subject"]
    chatbot = json.loads(published["Message"])
    assert (chatbot["version"], chatbot["source"]) == ("1.0", "custom")
    assert chatbot["content"]["title"] == ":x: Pipeline web-release failed at Build/UnitTests"
    assert "Reason: exit status 1" in chatbot["content"]["description"]
    assert SECRET not in published["Message"]
    assert chatbot["metadata"]["threadId"] == EXECUTION


def test_a_second_failure_of_the_execution_goes_in_the_same_thread(world: World) -> None:
    expect_execution(world, "api_list_action_executions_codebuild.json")
    world.codebuild.add_response(
        "batch_get_builds",
        with_datetimes(load("api_batch_get_builds_failed.json")),
        {"ids": [BUILD]},
    )
    world.monitor.handle(failure("pipeline_action_failed_codebuild.json"))
    expect_execution(world, "api_list_action_executions_cloudformation.json")
    world.cloudformation.add_response(
        "describe_stack_events",
        {
            "StackEvents": [
                {
                    "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/web-prod/1a2b",
                    "EventId": "e3",
                    "StackName": "web-prod",
                    "LogicalResourceId": "web-prod",
                    "ResourceType": "AWS::CloudFormation::Stack",
                    "ResourceStatus": "UPDATE_ROLLBACK_COMPLETE",
                    "Timestamp": datetime(2026, 11, 26, 14, 10, 9, tzinfo=UTC),
                },
                {
                    "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/web-prod/1a2b",
                    "EventId": "e2",
                    "StackName": "web-prod",
                    "LogicalResourceId": "ApiFunction",
                    "ResourceType": "AWS::Lambda::Function",
                    "ResourceStatus": "UPDATE_FAILED",
                    "ResourceStatusReason": "Resource handler returned message: "
                    '"Unzipped size must be '
                    'smaller than 262144000 bytes"',
                    "Timestamp": datetime(2026, 11, 26, 14, 9, 40, tzinfo=UTC),
                },
                {
                    "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/web-prod/1a2b",
                    "EventId": "e1",
                    "StackName": "web-prod",
                    "LogicalResourceId": "OldQueue",
                    "ResourceType": "AWS::SQS::Queue",
                    "ResourceStatus": "DELETE_FAILED",
                    "ResourceStatusReason": "an older failure, before this action started",
                    "Timestamp": datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
                },
            ]
        },
        {"StackName": "web-prod"},
    )
    world.monitor.handle(failure("pipeline_action_failed_cloudformation.json"))
    root, reply = world.slack.messages("deploys")
    assert reply["thread_ts"] == root["ts"]
    text = json.dumps(reply["blocks"])
    assert "ApiFunction (AWS::Lambda::Function) UPDATE_FAILED" in text
    assert "Unzipped size must be smaller than 262144000 bytes" in text
    assert "OldQueue" not in text


def test_a_rejected_approval_is_reported_as_such(world: World) -> None:
    expect_execution(world, "api_list_action_executions_approval.json")
    world.monitor.handle(failure("pipeline_action_failed_approval.json"))
    (posted,) = world.slack.messages("deploys")
    assert posted["text"] == "Pipeline web-release: approval Approve/ProdApproval rejected"
    assert "Manual approval rejected by alice@example.com: release notes missing" in json.dumps(
        posted["blocks"]
    )


def test_the_pipeline_level_event_is_dropped_when_an_action_failed(world: World) -> None:
    expect_actions(world, "api_list_action_executions_codebuild.json")
    result = world.monitor.handle(failure("pipeline_execution_failed.json"))
    assert result["action"] == "deduplicated"
    assert world.slack.messages("deploys") == []
    assert world.devops.messages() == []


def test_a_pipeline_failure_without_a_failed_action_is_reported(world: World) -> None:
    no_failed_action = {"actionExecutionDetails": []}
    listing = {"pipelineName": PIPELINE, "filter": {"pipelineExecutionId": EXECUTION}}
    world.codepipeline.add_response("list_action_executions", no_failed_action, listing)
    world.codepipeline.add_response(
        "get_pipeline_execution",
        with_datetimes(load("api_get_pipeline_execution.json")),
        {"pipelineName": PIPELINE, "pipelineExecutionId": EXECUTION},
    )
    world.codepipeline.add_response("list_action_executions", no_failed_action, listing)
    result = world.monitor.handle(failure("pipeline_execution_failed.json"))
    assert result["action"] == "reported"
    (posted,) = world.slack.messages("deploys")
    assert posted["text"] == "Pipeline web-release failed"
    assert "The provided connection is not in AVAILABLE state." in json.dumps(posted["blocks"])


def test_handler_ignores_other_states_and_reports_malformed_events(
    aws: Aws, monitors_env: dict[str, str]
) -> None:
    succeeded = load("pipeline_action_failed_codebuild.json")
    succeeded["detail"]["state"] = "SUCCEEDED"
    assert handler(succeeded, None) == {"action": "ignored"}
    with pytest.raises(EventError, match=r"detail\.execution-id is missing"):
        handler({**succeeded, "detail": {"pipeline": PIPELINE, "state": "FAILED"}}, None)


def test_chatbot_quotes_the_lines_where_the_phase_failed(world: World) -> None:
    expect_execution(world, "api_list_action_executions_codebuild.json")
    world.codebuild.add_response(
        "batch_get_builds",
        with_datetimes(load("api_batch_get_builds_failed.json")),
        {"ids": [BUILD]},
    )
    world.monitor.handle(failure("pipeline_action_failed_codebuild.json"))
    (published,) = world.devops.messages()
    description = json.loads(published["Message"])["content"]["description"]
    assert "FAIL src/cart.test.js" in description
    assert "Phase complete: BUILD State: FAILED" in description
    assert "UPLOAD_ARTIFACTS" not in description  # what came after the failure is left out


def test_stack_events_are_read_from_cloudformation(aws: Aws) -> None:
    """A real (moto) stack that did not fail: the alert says so instead of inventing reasons;
    a stack that does not exist is a problem stated in the alert."""
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(
        StackName="web-prod",
        TemplateBody=json.dumps(
            {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}}}
        ),
    )
    codepipeline = boto3.client("codepipeline", region_name=REGION)
    enricher = PipelineEnricher(
        region=REGION, codepipeline_client=codepipeline, cloudformation_client=cloudformation
    )
    outcomes = []
    for stack in ("web-prod", "no-such-stack"):
        listing = with_datetimes(load("api_list_action_executions_cloudformation.json"))
        detail = listing["actionExecutionDetails"][0]
        detail["startTime"] = datetime(2020, 1, 1, tzinfo=UTC)
        detail["input"]["configuration"]["StackName"] = stack
        detail["input"]["resolvedConfiguration"]["StackName"] = stack
        with Stubber(codepipeline) as stub:
            stub.add_response(
                "get_pipeline_execution",
                with_datetimes(load("api_get_pipeline_execution.json")),
                {"pipelineName": PIPELINE, "pipelineExecutionId": EXECUTION},
            )
            stub.add_response(
                "list_action_executions",
                listing,
                {"pipelineName": PIPELINE, "filter": {"pipelineExecutionId": EXECUTION}},
            )
            outcomes.append(enricher.enrich(failure("pipeline_action_failed_cloudformation.json")))
    found, missing = outcomes
    assert (found.actions[0].stack, found.actions[0].stack_events, found.problems) == (
        "web-prod",
        [],
        [],
    )
    assert missing.problems == ["DescribeStackEvents(no-such-stack) failed: ValidationError"]
