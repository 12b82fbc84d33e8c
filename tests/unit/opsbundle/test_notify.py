"""Delivery: an alert is lost only when every destination failed, and then the run fails; every
SNS subject is cleaned, whoever wrote it."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from opsbundle.exceptions import DeliveryError
from opsbundle.notify import Alert, Notifier

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
