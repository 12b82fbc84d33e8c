"""Local stand-ins for everything the report talks to: moto for AWS, emulators for the rest.

AWS credentials here are moto's fake ones; no request leaves 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.emulators.hubspot import HubSpotEmulator
from tests.emulators.salesforce import SalesforceEmulator
from tests.emulators.slack import SlackEmulator
from tests.integration.cli_run import clean_env
from tests.integration.moto_process import moto_server, reset
from tests.moto_env import use_moto_credentials

REGION = "us-east-1"
SLACK_TOKEN = "xoxb-test-token"
HUBSPOT_TOKEN = "pat-na1-test"
SF_CLIENT_ID = "3MVG9-test-client"
SF_CLIENT_SECRET = "test-client-secret"


@dataclass
class Aws:
    dynamodb: Any
    s3: Any
    secretsmanager: Any
    sns: Any
    sqs: Any
    table: str
    bucket: str
    slack_secret: str
    hubspot_secret: str
    salesforce_secret: str
    topic_arn: str
    topic_queue_url: str
    kms_key_arn: str

    def clients(self) -> dict[str, Any]:
        return {"dynamodb": self.dynamodb, "s3": self.s3, "sns": self.sns,
                "secretsmanager": self.secretsmanager}  # fmt: skip  # laid out as a table

    def notices(self) -> list[dict[str, Any]]:
        """What was published to the ops topic (through its SQS subscription)."""
        got = self.sqs.receive_message(QueueUrl=self.topic_queue_url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in got.get("Messages", [])]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    use_moto_credentials(monkeypatch, REGION)
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        dynamodb = session.client("dynamodb")
        dynamodb.create_table(
            TableName="report-slots",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.update_time_to_live(
            TableName="report-slots",
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )
        s3 = session.client("s3")
        s3.create_bucket(Bucket="report-archive")
        key_arn = session.client("kms").create_key(Description="opsbundle test key")["KeyMetadata"][
            "Arn"
        ]
        secrets = session.client("secretsmanager")
        slack = secrets.create_secret(Name="slack", SecretString=json.dumps({"token": SLACK_TOKEN}))
        hubspot = secrets.create_secret(Name="hubspot", SecretString=HUBSPOT_TOKEN)
        salesforce = secrets.create_secret(
            Name="salesforce",
            SecretString=json.dumps({"client_id": SF_CLIENT_ID, "client_secret": SF_CLIENT_SECRET}),
        )
        sns = session.client("sns")
        sqs = session.client("sqs")
        topic = sns.create_topic(Name="ops-alerts")["TopicArn"]
        queue_url = sqs.create_queue(QueueName="ops-alerts-inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "false"},
        )
        yield Aws(
            dynamodb=dynamodb,
            s3=s3,
            secretsmanager=secrets,
            sns=sns,
            sqs=sqs,
            table="report-slots",
            bucket="report-archive",
            slack_secret=slack["ARN"],
            hubspot_secret=hubspot["ARN"],
            salesforce_secret=salesforce["ARN"],
            topic_arn=topic,
            topic_queue_url=queue_url,
            kms_key_arn=key_arn,
        )


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(token=SLACK_TOKEN) as emulator:
        yield emulator


@pytest.fixture
def hubspot() -> Iterator[HubSpotEmulator]:
    with HubSpotEmulator(token=HUBSPOT_TOKEN) as emulator:
        yield emulator


@pytest.fixture
def salesforce() -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator(client_id=SF_CLIENT_ID, client_secret=SF_CLIENT_SECRET) as emulator:
        yield emulator


# --- moto_server, for the real `opsbundle` command run as a process -------------------------

MOTO_REGION = "eu-west-1"  # nobody's default: only AWS_REGION can name it


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@dataclass
class Moto:
    url: str
    env: dict[str, str]  # moto's credentials and endpoint, and AWS_REGION alone

    def client(self, service: str) -> Any:
        return boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=MOTO_REGION
        ).client(service, endpoint_url=self.url)  # type: ignore[call-overload]


@pytest.fixture
def moto(moto_url: str) -> Moto:
    """An empty moto_server, and the environment a command needs to use it."""
    reset(moto_url)
    return Moto(
        moto_url,
        clean_env(
            AWS_ENDPOINT_URL=moto_url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION=MOTO_REGION,
        ),
    )
