"""Delivery: an alert is lost only when every destination failed, and then the run fails.
Settings: a wrong value stops with the variable's name. Chatbot messages keep the schema."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from monitors import chatbot
from monitors.config import MonitorSettings
from opsbundle.exceptions import ConfigError, DeliveryError
from opsbundle.notify import Alert, Notifier
from opsbundle.settings import Env

TOPIC = "arn:aws:sns:us-east-1:123456789012:ops-alerts"


def test_nothing_configured_is_an_error_not_silence() -> None:
    with pytest.raises(DeliveryError, match="no destination is configured"):
        Notifier().send(Alert(sns_message="x", slack_text="x"))


def test_sns_refusal_with_no_other_destination_fails_the_run() -> None:
    sns = boto3.client(
        "sns", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(sns) as stub:
        stub.add_client_error("publish", "AuthorizationError", "not allowed", 403)
        with pytest.raises(DeliveryError, match="AuthorizationError"):
            Notifier(topic_arn=TOPIC, sns_client=sns).send(
                Alert(sns_message="body", slack_text="x", subject="subject")
            )


def test_sns_gets_an_ascii_subject_under_100_characters() -> None:
    sns = boto3.client(
        "sns", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(sns) as stub:
        stub.add_response(
            "publish",
            {"MessageId": "1"},
            {"TopicArn": TOPIC, "Message": "body", "Subject": "ALARM: ???" + "x" * 89},
        )
        delivery = Notifier(topic_arn=TOPIC, sns_client=sns).send(
            Alert(sns_message="body", slack_text="x", subject="ALARM: ééé" + "x" * 89)
        )
    assert delivery.sent == [f"sns:{TOPIC}"]


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"PIPELINE_LOG_LINES": "lots"}, "PIPELINE_LOG_LINES"),
        ({"PIPELINE_LOG_LINES": "1000"}, "PIPELINE_LOG_LINES"),
        ({"TARGETS_MAX_LISTED": "0"}, "TARGETS_MAX_LISTED"),
        ({"SLACK_OPS_CHANNEL": "ops-alerts"}, "SLACK_TOKEN_SECRET_ARN"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        MonitorSettings.load(Env(env))
    assert caught.value.setting == name


def test_chatbot_custom_notification_schema() -> None:
    message = chatbot.custom_notification(
        title="t" * 300,
        description="what failed",
        next_steps=["open the logs"],
        keywords=["web-release", ""],
        thread_id="exec-1",
        related_resources=["arn:x"],
    )
    assert message["version"] == "1.0" and message["source"] == "custom"
    assert message["content"]["description"] == "what failed"
    assert len(message["content"]["title"]) == chatbot.MAX_TITLE
    assert message["content"]["keywords"] == ["web-release"]
    assert message["metadata"]["threadId"] == "exec-1"
    assert json.loads(chatbot.to_sns_message(message)) == message
    with pytest.raises(ValueError, match="description"):
        chatbot.custom_notification(title="t", description=" ")
