"""`opsbundle logs`: argument handling, subscription filters, backfill pages, exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from log_shipper import cli
from opsbundle.cli import main
from opsbundle.exceptions import ConfigError

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def test_since_accepts_minutes_hours_days() -> None:
    assert cli.parse_since("30m", NOW) == datetime(2026, 11, 26, 14, 30, tzinfo=UTC)
    assert cli.parse_since("2d", NOW) == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    with pytest.raises(ConfigError, match="--since"):
        cli.parse_since("yesterday", NOW)


def test_replay_urls() -> None:
    assert cli._s3_url("s3://my-dlq/log-shipper/dead-letters/2026/") == (
        "my-dlq",
        "log-shipper/dead-letters/2026/",
    )
    assert cli._s3_url("s3://my-dlq") == ("my-dlq", "")
    with pytest.raises(ConfigError):
        cli._s3_url("https://my-dlq")


class FakeLogs:
    """describe_log_groups (paged), describe/put_subscription_filter, filter_log_events."""

    def __init__(
        self, groups: dict[str, list[str]], events: list[list[dict[str, Any]]] | None = None
    ) -> None:
        self.groups = groups
        self.events = events or []
        self.put: list[dict[str, Any]] = []
        self.asked: dict[str, Any] = {}

    def get_paginator(self, name: str) -> Any:
        logs = self

        class Pages:
            def paginate(self, **kwargs: Any) -> Any:
                logs.asked[name] = kwargs
                if name == "describe_log_groups":
                    names = [g for g in logs.groups if g.startswith(kwargs["logGroupNamePrefix"])]
                    return [
                        {"logGroups": [{"logGroupName": n} for n in names[:2]]},
                        {"logGroups": [{"logGroupName": n} for n in names[2:]]},
                    ]
                return [{"events": page} for page in logs.events]

        return Pages()

    def describe_subscription_filters(self, logGroupName: str) -> dict[str, Any]:
        return {"subscriptionFilters": [{"filterName": f} for f in self.groups[logGroupName]]}

    def put_subscription_filter(self, **kwargs: Any) -> None:
        self.put.append(kwargs)


def test_subscribe_skips_full_groups_its_own_and_excluded_ones() -> None:
    logs = FakeLogs(
        {
            "/aws/lambda/api": [],
            "/aws/lambda/billing": ["opsbundle-log-shipper"],
            "/aws/lambda/busy": ["datadog", "splunk"],
            "/aws/lambda/ops-log-shipper": [],
            "/aws/lambda/test-x": [],
            "/ecs/web": [],
        }
    )
    result = cli.subscribe_groups(
        logs,
        prefix="/aws/lambda/",
        filter_name="opsbundle-log-shipper",
        destination_arn="arn:aws:lambda:us-east-1:123456789012:function:ops-log-shipper",
        exclude=["/aws/lambda/test-*"],
    )
    assert result == {
        "subscribed": ["/aws/lambda/api"],
        "already": ["/aws/lambda/billing"],
        "at_limit": ["/aws/lambda/busy"],
        "excluded": ["/aws/lambda/ops-log-shipper", "/aws/lambda/test-x"],
    }
    assert logs.put == [
        {
            "logGroupName": "/aws/lambda/api",
            "filterName": "opsbundle-log-shipper",
            "filterPattern": "",
            "destinationArn": "arn:aws:lambda:us-east-1:123456789012:function:ops-log-shipper",
        }
    ]
    dry = FakeLogs({"/aws/lambda/api": []})
    cli.subscribe_groups(
        dry,
        prefix="/aws/",
        filter_name="f",
        dry_run=True,
        destination_arn="arn:aws:kinesis:us-east-1:123456789012:stream/s",
    )
    assert dry.put == []


def test_backfill_groups_filter_log_events_pages_by_stream() -> None:
    logs = FakeLogs(
        {},
        events=[
            [
                {"logStreamName": "a", "timestamp": 1, "message": "m1", "eventId": "1"},
                {"logStreamName": "b", "timestamp": 2, "message": "m2", "eventId": "2"},
                {"logStreamName": "a", "timestamp": 3, "message": "m3", "eventId": "3"},
            ],
            [{"logStreamName": "b", "timestamp": 4, "message": "m4", "eventId": "4"}],
        ],
    )
    pages = list(
        cli.backfill_pages(
            logs,
            "/aws/lambda/api",
            start_ms=0,
            end_ms=10,
            owner="123456789012",
            filter_pattern="ERROR",
        )
    )
    assert [[(b.log_stream, [e.id for e in b.events]) for b in page] for page in pages] == [
        [("a", ["1", "3"]), ("b", ["2"])],
        [("b", ["4"])],
    ]
    assert logs.asked["filter_log_events"] == {
        "logGroupName": "/aws/lambda/api",
        "startTime": 0,
        "endTime": 10,
        "filterPattern": "ERROR",
    }


def test_bad_configuration_exits_2_naming_the_setting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"awslogs": {"data": ""}}))
    assert main(["logs", "ship", str(event)]) == 2
    assert "OPENSEARCH_URL" in capsys.readouterr().err
    assert main(["logs", "ship", str(tmp_path / "missing.json")]) == 2


def test_setup_print_shows_the_template(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENSEARCH_URL", "http://127.0.0.1:9")
    assert main(["logs", "setup", "--print"]) == 0
    printed = json.loads(capsys.readouterr().out)
    body = printed["index_templates"]["opsbundle-logs"]
    assert body["index_patterns"] == ["opsbundle-logs-default-*"]
    assert body["template"]["mappings"]["properties"]["lambda"]["properties"]["cold_start"] == {
        "type": "boolean"
    }
    policy = printed["ism_policies"]["opsbundle-logs"]["policy"]
    assert policy["ism_template"] == [
        {"index_patterns": ["opsbundle-logs-default-*"], "priority": 237}
    ]


def test_the_dashboards_assets_are_saved_objects_on_our_fields() -> None:
    lines = [json.loads(line) for line in cli.ASSETS.read_text().splitlines() if line.strip()]
    kinds = {o["type"] for o in lines}
    assert {"index-pattern", "search", "visualization"} <= kinds
    pattern = next(o for o in lines if o["type"] == "index-pattern")
    assert pattern["attributes"]["timeFieldName"] == "@timestamp"
    ids = {o["id"] for o in lines}
    for saved in lines:
        for reference in saved.get("references", []):
            assert reference["id"] in ids, f"{saved['id']} refers to a missing {reference['id']}"


def test_subscribe_s3_keeps_the_buckets_other_notifications_and_names_an_overlap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3
    from moto import mock_aws

    from log_shipper.cli import subscribe_bucket
    from opsbundle.exceptions import ConfigError
    from tests.moto_env import use_moto_credentials

    use_moto_credentials(monkeypatch)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        s3.create_bucket(Bucket="acme-logs")
        queue = sqs.get_queue_attributes(
            QueueUrl=sqs.create_queue(QueueName="log-files")["QueueUrl"],
            AttributeNames=["QueueArn"],
        )["Attributes"]["QueueArn"]
        other = sqs.get_queue_attributes(
            QueueUrl=sqs.create_queue(QueueName="other")["QueueUrl"], AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        s3.put_bucket_notification_configuration(
            Bucket="acme-logs",
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "Id": "uploads",
                        "QueueArn": other,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {
                            "Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}
                        },
                    }
                ]
            },
        )

        dry = subscribe_bucket(
            s3, bucket="acme-logs", queue_arn=queue, prefix="AWSLogs/", dry_run=True
        )
        assert dry["status"] == "subscribed"
        assert (
            len(s3.get_bucket_notification_configuration(Bucket="acme-logs")["QueueConfigurations"])
            == 1
        )
        done = subscribe_bucket(s3, bucket="acme-logs", queue_arn=queue, prefix="AWSLogs/")
        assert done["status"] == "subscribed"
        held = s3.get_bucket_notification_configuration(Bucket="acme-logs")["QueueConfigurations"]
        assert sorted(q["Id"] for q in held) == ["opsbundle-log-shipper", "uploads"]
        again = subscribe_bucket(s3, bucket="acme-logs", queue_arn=queue, prefix="AWSLogs/")
        assert again["status"] == "already"
        with pytest.raises(ConfigError, match="already sends new objects under prefix 'uploads/'"):
            subscribe_bucket(s3, bucket="acme-logs", queue_arn=queue, prefix="", config_id="x")


def test_subscribe_s3_refuses_a_queue_arn_that_is_not_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["logs", "subscribe-s3", "--bucket", "b", "--queue-arn", "not-an-arn"]) == 2
    assert "--queue-arn" in capsys.readouterr().err
