"""The monitors' AWS (moto) and Slack (emulator) world, on top of tests/integration/conftest.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from tests.emulators.slack import SlackEmulator
from tests.integration.conftest import Aws

REGION = "us-east-1"


@dataclass
class Inbox:
    """An SQS queue subscribed to a topic: what was published, as SNS delivered it."""

    sqs: Any
    url: str

    def messages(self) -> list[dict[str, Any]]:
        got = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def subscribe(aws: Aws, topic_arn: str, name: str) -> Inbox:
    url = aws.sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    aws.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return Inbox(aws.sqs, url)


@pytest.fixture
def monitors_env(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator
) -> Iterator[dict[str, str]]:
    """The Lambda environment of the monitors, pointing at moto and the Slack emulator."""
    env = {
        "OPS_TOPIC_ARN": aws.topic_arn,
        "SLACK_TOKEN_SECRET_ARN": aws.slack_secret,
        "SLACK_BASE_URL": slack.api_url,
        "SLACK_OPS_CHANNEL": "ops-alerts",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env


@pytest.fixture
def ops_inbox(aws: Aws) -> Inbox:
    return Inbox(aws.sqs, aws.topic_queue_url)


def session() -> boto3.Session:
    return boto3.Session(region_name=REGION)
