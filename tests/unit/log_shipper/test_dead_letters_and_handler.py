"""Dead letters in S3 (moto, in process) and the handler's contract with Lambda: what it
returns for Kinesis batches, and when it raises."""

from __future__ import annotations

import base64
import gzip
import json
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from log_shipper import handler
from log_shipper.assemble import WarmClients
from log_shipper.bulk import Failure
from log_shipper.dead_letter import DeadLetters, event_record, payload_record
from log_shipper.events import LogBatch, LogEvent, Malformed
from log_shipper.exceptions import DeadLetterError
from log_shipper.routing import Route
from log_shipper.transform import Document, transform_batch
from tests.unit.log_shipper.fakes import FakeClient, fixture, per_item

AT = datetime(2026, 11, 26, 15, 5, tzinfo=UTC)
KEEP = Route(retention_days=None)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="dlq")
        yield client


def test_dead_letters_round_trip_to_the_same_batches(s3: Any) -> None:
    batch = LogBatch(
        "123456789012",
        "/aws/lambda/api",
        "s1",
        [LogEvent("1", 10, "first"), LogEvent("2", 11, "second")],
        subscription_filters=("f",),
        region="eu-west-1",
    )
    documents = [
        Document.of_pending(p) for p in transform_batch(batch, KEEP, region="x", ingested=AT)
    ]
    records = [
        event_record(Failure(d, "retries_exhausted", 429, "last: http_429"), AT) for d in documents
    ]
    records.append(payload_record(Malformed("data is not gzip", "bm90"), "seq-9", AT))
    store = DeadLetters(bucket="dlq", prefix="dl", boto3_client=s3)

    key = store.put(records, request_id="req-1", at=AT)

    assert re.fullmatch(r"dl/2026/11/26/150500-req-1-1-[0-9a-f]{12}\.jsonl\.gz", key)
    head = s3.head_object(Bucket="dlq", Key=key)
    assert head["ServerSideEncryption"] == "aws:kms" and head["ContentEncoding"] == "gzip"
    raw = gzip.decompress(s3.get_object(Bucket="dlq", Key=key)["Body"].read()).splitlines()
    assert json.loads(raw[0])["reason"] == "retries_exhausted"
    assert json.loads(raw[0])["event"] == {"id": "1", "timestamp": 10, "message": "first"}
    assert list(store.keys()) == [key]
    back = store.read(key)
    # Back with the index each event was first sent to: a replay goes there again.
    assert back.batches() == [replace(batch, index="opsbundle-logs-default-1970.01.01")]
    assert back.payloads()[0]["data"] == "bm90" and back.payloads()[0]["item_id"] == "seq-9"
    store.delete(key)
    assert list(store.keys()) == []


def test_a_bucket_that_refuses_raises_dead_letter_error(s3: Any) -> None:
    store = DeadLetters(bucket="no-such-bucket", boto3_client=s3)
    with pytest.raises(DeadLetterError, match="NoSuchBucket"):
        store.put([{"kind": "event"}], request_id="r", at=AT)


def test_an_object_that_inflates_past_the_bound_is_refused_unread(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from log_shipper import dead_letter

    monkeypatch.setattr(dead_letter, "MAX_OBJECT_BYTES", 1_000_000)
    bomb = gzip.compress(b"\n" * 50_000_000)  # about 50 KB that inflates to 50 MB
    s3.put_object(Bucket="dlq", Key="dl/2026/11/26/bomb.jsonl.gz", Body=bomb)
    s3.put_object(Bucket="dlq", Key="dl/2026/11/26/junk.jsonl.gz", Body=b"\x1f\x8bjunk")
    store = DeadLetters(bucket="dlq", prefix="dl", boto3_client=s3)

    with pytest.raises(DeadLetterError, match=r"bomb\.jsonl\.gz inflates past 1,000,000 bytes"):
        store.read("dl/2026/11/26/bomb.jsonl.gz")
    with pytest.raises(DeadLetterError, match="is not gzip'd JSON Lines"):
        store.read("dl/2026/11/26/junk.jsonl.gz")


class Context:
    aws_request_id = "6f3c2a1e-9d0b-4c5f-8e7a-1b2c3d4e5f60"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def use(monkeypatch: pytest.MonkeyPatch, client: FakeClient, s3: Any, bucket: str = "dlq") -> None:
    monkeypatch.setenv("OPENSEARCH_URL", "http://opensearch.invalid:9200")
    monkeypatch.setenv("LOG_SHIPPER_DLQ_BUCKET", bucket)
    monkeypatch.setenv("LOG_SHIPPER_INSTALL_TEMPLATE", "false")
    # The fixtures hold AWS's own sample events (2015): kept for ever, they are shipped.
    monkeypatch.setenv("LOG_SHIPPER_RETENTION_DAYS", "0")
    monkeypatch.setattr(handler, "WARM", WarmClients(opensearch_client=client, s3_client=s3))


REFUSED = {
    "type": "illegal_argument_exception",
    "reason": 'Document contains at least one immense term in field="message"',
}


def test_kinesis_records_that_could_not_be_made_durable_are_reported(
    monkeypatch: pytest.MonkeyPatch, s3: Any
) -> None:
    use(monkeypatch, FakeClient([per_item(lambda a: (400, REFUSED))]), s3, bucket="no-such-bucket")

    answer = handler.handler(fixture("kinesis_event.json"), Context())

    assert answer["batchItemFailures"] == [
        {"itemIdentifier": "49590338271490256608559692538361571095921575989136588898"},
        {"itemIdentifier": "49590338271490256608559692538361571095921575989136588900"},
    ]  # the control message (…899) is done; the other two are retried by Lambda


def test_kinesis_records_dead_lettered_are_not_failures(
    monkeypatch: pytest.MonkeyPatch, s3: Any
) -> None:
    use(monkeypatch, FakeClient([per_item(lambda a: (400, REFUSED))]), s3)

    answer = handler.handler(fixture("kinesis_event.json"), Context())

    assert answer["batchItemFailures"] == []
    assert answer["dead_lettered"] == {"illegal_argument_exception": 7, "malformed_payload": 1}


def test_a_direct_invocation_raises_only_when_not_durable(
    monkeypatch: pytest.MonkeyPatch, s3: Any
) -> None:
    event = fixture("cloudwatch_logs_event.json")
    use(monkeypatch, FakeClient([per_item(lambda a: (400, REFUSED))]), s3)
    summary = handler.handler(event, Context())
    assert summary["dead_lettered"] == {"illegal_argument_exception": 2}
    assert len(summary["dead_letter_keys"]) == 1

    use(monkeypatch, FakeClient([per_item(lambda a: (400, REFUSED))]), s3, bucket="no-such-bucket")
    with pytest.raises(DeadLetterError, match="Lambda will retry"):
        handler.handler(event, Context())


def test_missing_settings_fail_the_invocation_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from opsbundle.exceptions import ConfigError

    with pytest.raises(ConfigError, match="OPENSEARCH_URL"):
        handler.handler(fixture("cloudwatch_logs_event.json"), Context())
    assert '"ShipFailed"' in capsys.readouterr().out


def test_no_personal_data_in_the_logs(
    monkeypatch: pytest.MonkeyPatch, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    secret_line = '{"email": "jane@example.com", "note": "call 212-555-0187"}'
    decoded = fixture("lambda_payload.json")
    decoded["logEvents"] = [{"id": "1", "timestamp": 1795705200000, "message": secret_line}]
    from log_shipper.events import encode_payload

    mapping = fixture("bulk_response_errors.json")["items"][2]["create"]["error"]
    mapping["reason"] = mapping["reason"].replace("{email=jane@example.com}", "jane@example.com")
    use(monkeypatch, FakeClient([per_item(lambda a: (400, mapping))] * 2), s3)

    handler.handler({"awslogs": {"data": encode_payload(decoded)}}, Context())

    out = capsys.readouterr()
    assert "jane@example.com" not in out.out + out.err
    assert "212-555-0187" not in out.out + out.err


def test_s3_errors_name_the_code(s3: Any) -> None:
    class Refusing:
        def put_object(self, **kwargs: Any) -> None:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutObject")

    with pytest.raises(DeadLetterError, match="AccessDenied"):
        DeadLetters(bucket="dlq", boto3_client=Refusing()).put([{}], request_id="r", at=AT)


def test_a_warm_lambda_reuses_its_clients(s3: Any) -> None:
    from log_shipper.config import ShipperSettings
    from opsbundle.settings import Env

    settings = ShipperSettings.load(
        Env({"OPENSEARCH_URL": "http://a", "LOG_SHIPPER_DLQ_BUCKET": "b"})
    )
    warm = WarmClients()
    first = warm.clients(settings)
    assert warm.clients(settings) == first  # same connections on the next invocation
    assert warm.clients(settings)[0] is first[0]
    other = ShipperSettings.load(Env({"OPENSEARCH_URL": "http://b", "LOG_SHIPPER_DLQ_BUCKET": "b"}))
    assert warm.clients(other)[0] is not first[0]


def test_each_run_reports_how_far_behind_the_logs_it_is(
    monkeypatch: pytest.MonkeyPatch, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """IngestLagSeconds: now minus the newest event's own time (the dashboard's lag panel)."""
    event = fixture("cloudwatch_logs_event.json")
    use(monkeypatch, FakeClient([per_item(lambda a: (201, None))]), s3)
    handler.handler(event, Context())
    emf = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith('{"_aws"')
    ]
    (lag,) = [doc["IngestLagSeconds"] for doc in emf if "IngestLagSeconds" in doc]
    lag = lag[0] if isinstance(lag, list) else lag
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    newest = max(e["timestamp"] for e in payload["logEvents"]) / 1000
    assert abs(lag - (time.time() - newest)) < 60
    # And what a dashboard divides: the bulk requests' latency added up, and how many.
    (run,) = [doc for doc in emf if "BulkRequests" in doc]
    assert run["BulkRequests"] in (1, [1]) and "BulkLatency" in run
    assert run["EventsIndexed"] in (len(payload["logEvents"]), [len(payload["logEvents"])])


def test_a_lone_surrogate_does_not_stop_the_dead_letter_write(s3: Any) -> None:
    batch = LogBatch(
        "123456789012",
        "/aws/lambda/api",
        "s",
        [LogEvent("1", 1795705200000, "half an emoji: \ud83d")],
    )
    (pending,) = transform_batch(batch, KEEP, region="us-east-1", ingested=AT)
    document = Document.of_pending(pending)
    letters = DeadLetters(bucket="dlq", prefix="dl/", boto3_client=s3)
    key = letters.put(
        [event_record(Failure(document, "http_400", 400, "refused"), AT)], request_id="r", at=AT
    )
    body = gzip.decompress(s3.get_object(Bucket="dlq", Key=key)["Body"].read())
    assert json.loads(body)["event"]["message"] == "half an emoji: \ud83d"


def test_opensearch_down_on_a_cold_start_still_dead_letters_the_events(
    monkeypatch: pytest.MonkeyPatch, s3: Any
) -> None:
    """The template cannot be installed while OpenSearch is down; the events must still
    reach the dead letters (raising would only repeat the outage on every retry)."""
    from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError

    class Indices:
        def get_index_template(self, **kwargs: Any) -> Any:
            raise OpenSearchConnectionError("N/A", "connection refused", None)

    client = FakeClient([OpenSearchConnectionError("N/A", "connection refused", None)] * 20)
    client.indices = Indices()  # type: ignore[attr-defined]
    use(monkeypatch, client, s3)
    monkeypatch.setenv("LOG_SHIPPER_INSTALL_TEMPLATE", "true")
    monkeypatch.setenv("LOG_SHIPPER_MAX_ATTEMPTS", "1")

    summary = handler.handler(fixture("cloudwatch_logs_event.json"), Context())

    assert sum(summary["dead_lettered"].values()) == 2
    assert len(summary["dead_letter_keys"]) == 1
    assert handler.WARM.templates == {}  # tried again on the next invocation


def test_a_damaged_dead_letter_record_is_reported_not_fatal() -> None:
    from log_shipper.dead_letter import DeadLetterObject

    good = {
        "kind": "event", "owner": "123456789012", "logGroup": "/aws/lambda/api",
        "logStream": "s", "event": {"id": "1", "timestamp": 1795705200000, "message": "m"},
    }  # fmt: skip  # laid out as a table
    damaged = {"kind": "event", "owner": "123456789012", "event": {"id": "2"}}
    letter = DeadLetterObject(key="k", records=[good, damaged])
    (batch,) = letter.batches()
    assert [e.id for e in batch.events] == ["1"]
    assert letter.unreadable() == 1


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("logs-aws-lambda-api-2026.11.26", "logs-aws-lambda-api-2026.11.26"),
        ('logs"},"x":{"', None),  # would break out of the _bulk action line
        ("Logs-Upper", None),
        ("-starts-with-a-dash", None),
        ("k" * 256, None),
        ("logs-\ud800", None),  # a lone surrogate: not a name, and no crash
        ("logs-\u00c9", None),  # OpenSearch would refuse it again on every replay
        (None, None),
        (7, None),
    ],
)
def test_a_replay_reuses_only_a_valid_stored_index(stored: object, expected: str | None) -> None:
    from log_shipper.dead_letter import stored_index

    assert stored_index({"index": stored}) == expected
