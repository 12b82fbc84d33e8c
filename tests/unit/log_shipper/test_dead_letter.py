"""Dead letters in S3 (moto, in process): written, read back as the same batches, refused when
they are not ours or too large, replayed into the index they were meant for."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from log_shipper.bulk import Failure
from log_shipper.dead_letter import DeadLetters, event_record, payload_record
from log_shipper.events import LogBatch, LogEvent, Malformed
from log_shipper.exceptions import DeadLetterError
from log_shipper.routing import Route
from log_shipper.transform import Document, transform_batch

AT = datetime(2026, 11, 26, 15, 5, tzinfo=UTC)
KEEP = Route(retention_days=None)


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


def test_s3_errors_name_the_code(s3: Any) -> None:
    class Refusing:
        def put_object(self, **kwargs: Any) -> None:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutObject")

    with pytest.raises(DeadLetterError, match="AccessDenied"):
        DeadLetters(bucket="dlq", boto3_client=Refusing()).put([{}], request_id="r", at=AT)


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
