"""The weekly audit Lambda against moto (AWS) and the Slack emulator: it posts new and
resolved findings once, stays quiet when nothing changed, and keeps its state in DynamoDB
so that a failed delivery is reported again and two runs at once post once."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from audit.exceptions import StateConflict
from audit.handler import handler
from audit.state import FindingsState
from opsbundle import log
from opsbundle.exceptions import DeliveryError
from tests.emulators.slack import SlackEmulator
from tests.integration.audit.conftest import Account
from tests.integration.audit.fixtures import ENV, console_user_without_mfa, weak_password_policy
from tests.integration.monitors.conftest import Inbox

TOKEN = "xoxb-audit-test"


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
def weekly(
    account: Account, slack: SlackEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Inbox]:
    """The function's environment as audit.yaml sets it, on moto and the emulator."""
    dynamodb = account.client("dynamodb")
    dynamodb.create_table(
        TableName="audit-state",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )
    secret = account.client("secretsmanager").create_secret(
        Name="audit-slack", SecretString=json.dumps({"token": TOKEN})
    )["ARN"]
    topic = account.client("sns").create_topic(Name="ops-alerts")["TopicArn"]
    sqs = account.client("sqs")
    url = sqs.create_queue(QueueName="ops-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    account.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"])
    for name, value in {
        **ENV,
        "AUDIT_STATE_TABLE": "audit-state",
        "OPS_TOPIC_ARN": topic,
        "SLACK_TOKEN_SECRET_ARN": secret,
        "SLACK_BASE_URL": slack.api_url,
        "SLACK_OPS_CHANNEL": "ops-alerts",
    }.items():
        monkeypatch.setenv(name, value)
    account.sync_root()
    yield Inbox(sqs, url)


def texts(slack: SlackEmulator) -> list[str]:
    return [json.dumps(m["blocks"]) for m in slack.messages("ops-alerts")]


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """The function's log lines (JSON, as on Lambda), whatever an earlier test configured."""
    lines = io.StringIO()
    log.configure(stream=lines, level="INFO")
    yield lines
    log.configure()


def test_first_run_posts_every_finding_then_only_what_changed(
    account: Account, weekly: Inbox, slack: SlackEmulator, logged: io.StringIO
) -> None:
    weak_password_policy(account)
    console_user_without_mfa(account)

    first = handler({}, None)
    assert (first["action"], first["new"], first["resolved"]) == ("reported", 2, 0)
    [posted] = texts(slack)
    assert "password-policy-weak" in posted and "user-console-no-mfa" in posted
    [email] = weekly.messages()
    assert email["Subject"] == "Account baseline: 2 new findings in 123456789012"
    assert "Fix: aws iam update-account-password-policy" in email["Message"]

    assert handler({}, None)["action"] == "quiet"  # nothing changed: nothing sent
    assert len(texts(slack)) == 1
    assert weekly.messages() == []

    account.iam.update_account_password_policy(MinimumPasswordLength=14, PasswordReusePrevention=24)
    account.iam.delete_login_profile(UserName="bob")
    account.iam.create_user(UserName="carol")
    account.iam.create_login_profile(UserName="carol", Password="Correct-Horse-Battery-9")
    account.iam.add_user_to_group(GroupName="developers", UserName="carol")
    third = handler({}, None)
    assert (third["action"], third["new"], third["resolved"]) == ("reported", 1, 2)
    latest = slack.messages("ops-alerts")[-1]
    assert latest["text"] == "Account baseline: 1 new finding, 2 resolved in 123456789012"
    body = json.dumps(latest["blocks"])
    assert "carol" in body and "Resolved (2)" in body
    assert "user-console-no-mfa \\u00b7 bob" in body
    [email] = weekly.messages()
    assert "Resolved (2):" in email["Message"]
    # The logs say how many and which checks, never who.
    logs = logged.getvalue()
    assert '"new":1' in logs and "user-console-no-mfa" in logs
    for person in ("bob", "carol", "ops@example.com"):
        assert person not in logs


def test_a_delivery_that_fails_everywhere_is_reported_again_next_run(
    account: Account, weekly: Inbox, slack: SlackEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    console_user_without_mfa(account)
    monkeypatch.setenv("OPS_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:gone")
    monkeypatch.setenv("SLACK_OPS_CHANNEL", "no-such-channel")
    with pytest.raises(DeliveryError):
        handler({}, None)
    stored = FindingsState(table="audit-state", boto3_client=account.client("dynamodb")).load()
    assert stored.findings == {}  # put back: the retry sees the finding as new
    monkeypatch.setenv("SLACK_OPS_CHANNEL", "ops-alerts")
    assert handler({}, None)["new"] == 1
    assert len(texts(slack)) == 1


def test_two_runs_at_once_post_once(account: Account, weekly: Inbox) -> None:
    state = FindingsState(table="audit-state", boto3_client=account.client("dynamodb"))
    seen = state.load()
    state.save(
        {"k": {"check": "root-mfa", "resource": "root", "severity": "high"}},
        expected_version=seen.version,
    )
    with pytest.raises(StateConflict):
        state.save({}, expected_version=seen.version)  # the slower run read the old version


def test_a_missing_setting_fails_the_run_naming_it(
    account: Account, weekly: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opsbundle.exceptions import ConfigError

    monkeypatch.delenv("AUDIT_STATE_TABLE")
    with pytest.raises(ConfigError, match="AUDIT_STATE_TABLE: is not set"):
        handler({}, None)
