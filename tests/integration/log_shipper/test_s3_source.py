"""AWS log files in S3, named by notifications through SQS, shipped into the real node: moto
S3 and SQS, the handler as the SQS event source mapping invokes it."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from opensearchpy import OpenSearch

from log_shipper import assemble, s3_source
from log_shipper.handler import handler
from tests.integration.log_shipper.helpers import (
    DLQ_BUCKET,
    REGION,
    LambdaContext,
    dead_letters,
    search_all,
)

S3 = Path(__file__).resolve().parents[2] / "fixtures" / "log_shipper" / "s3"
BUCKET = "acme-aws-logs"
ACCOUNT = "123456789012"
AWS = f"AWSLogs/{ACCOUNT}"
LAYOUT = {  # where each service writes its files (formats/detect.py)
    "alb.log": f"alb/{AWS}/elasticloadbalancing/{REGION}/2024/03/12/"
    f"{ACCOUNT}_elasticloadbalancing_{REGION}_app.my-lb.50dc6c49_20240312T1535Z_10.0.0.1_a1b2c3.log.gz",
    "vpcflow.log": f"flows/{AWS}/vpcflowlogs/{REGION}/2014/12/14/"
    f"{ACCOUNT}_vpcflowlogs_{REGION}_fl-1234abcd_20141214T0405Z_hash.log.gz",
    "cloudfront.log": "cdn/E2ABCDEFGHIJKL.2019-12-04-21.d111abcd.gz",
    "cloudtrail.json": f"trail/{AWS}/CloudTrail/{REGION}/2023/07/19/"
    f"{ACCOUNT}_CloudTrail_{REGION}_20230719T2125Z_x.json.gz",
    "waf.log": f"waf/{AWS}/WAFLogs/{REGION}/dev-web-acl/2023/05/06/06/45/"
    f"{ACCOUNT}_waflogs_{REGION}_dev-web-acl_20230506T0645Z_x.log.gz",
}
EXPECTED = {"aws.elb": 6, "aws.vpcflow": 5, "aws.cloudfront": 2, "aws.cloudtrail": 3, "aws.waf": 2}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, shipping: OpenSearch, s3: Any) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("LOG_SHIPPER_RETENTION_DAYS", "0")  # the fixtures are AWS's examples
    s3.create_bucket(Bucket=BUCKET)
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="log-files")["QueueUrl"]
    etags = {}
    for name, key in LAYOUT.items():
        body = gzip.compress((S3 / name).read_bytes(), mtime=0)
        etags[key] = s3.put_object(Bucket=BUCKET, Key=key, Body=body)["ETag"].strip('"')
    yield {"s3": s3, "sqs": sqs, "queue": queue, "etags": etags}


def notification(key: str, etag: str) -> dict[str, Any]:
    """An S3 event notification, as S3 sends it (the key URL-encoded)."""
    from urllib.parse import quote_plus

    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
        "eventTime": "2024-03-12T15:36:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "opsbundle",
               "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
               "object": {"key": quote_plus(key, safe="/"), "size": 1024, "eTag": etag,
                          "sequencer": "0055AED6DCD90281E5"}},
    }]}  # fmt: skip  # laid out as a table


def sqs_event(bodies: list[Any]) -> dict[str, Any]:
    """What the SQS event source mapping hands the function."""
    return {"Records": [{
        "messageId": f"m-{n}", "receiptHandle": f"r-{n}", "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
        "md5OfBody": "x", "eventSource": "aws:sqs", "awsRegion": REGION,
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:log-files",
    } for n, body in enumerate(bodies)]}  # fmt: skip  # laid out as a table


def by_dataset(client: OpenSearch) -> dict[str, int]:
    hits = search_all(client, "opsbundle-logs-*")
    found: dict[str, int] = {}
    for hit in hits:
        dataset = hit["_source"]["event"]["dataset"]
        found[dataset] = found.get(dataset, 0) + 1
    return found


def test_every_format_arrives_parsed_and_a_second_delivery_adds_nothing(
    aws: dict[str, Any], opensearch: OpenSearch
) -> None:
    alb, flows, cdn, trail, waf = LAYOUT.values()
    bodies = [
        notification(alb, aws["etags"][alb]),
        # SNS-wrapped (raw message delivery off), as a topic fanning out to a queue sends it.
        {"Type": "Notification", "MessageId": "1", "TopicArn": "arn:aws:sns:us-east-1:1:t",
         "Message": json.dumps(notification(flows, aws["etags"][flows]))},
        # EventBridge "Object Created", as a rule targeting the queue sends it.
        {"version": "0", "id": "e1", "detail-type": "Object Created", "source": "aws.s3",
         "account": ACCOUNT, "time": "2024-03-12T15:36:00Z", "region": REGION,
         "resources": [f"arn:aws:s3:::{BUCKET}"],
         "detail": {"version": "0", "bucket": {"name": BUCKET},
                    "object": {"key": cdn, "size": 900, "etag": aws["etags"][cdn]},
                    "request-id": "r", "requester": ACCOUNT, "reason": "PutObject"}},
        notification(trail, aws["etags"][trail]),
        notification(waf, aws["etags"][waf]),
        {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET},
    ]  # fmt: skip  # laid out as a table

    first = handler(sqs_event(bodies), LambdaContext())

    assert first["batchItemFailures"] == [] and first["dead_lettered"] == {}
    assert first["objects"] == 5 and first["indexed"] == sum(EXPECTED.values())
    assert by_dataset(opensearch) == EXPECTED
    hits = {h["_source"]["event"]["dataset"]: h for h in search_all(opensearch, "opsbundle-logs-*")}
    alb_doc = hits["aws.elb"]["_source"]
    assert alb_doc["aws"]["s3"]["bucket"]["name"] == BUCKET
    assert alb_doc["log"]["file"]["path"] == f"s3://{BUCKET}/{alb}"
    trail_ids = {
        h["_id"]
        for h in search_all(opensearch, "opsbundle-logs-*")
        if h["_source"]["event"]["dataset"] == "aws.cloudtrail"
    }
    assert "cloudtrail-d38ce1b3-4575-4cb8-a632-611b8243bfc3" in trail_ids

    again = handler(sqs_event(bodies), LambdaContext())
    assert (again["indexed"], again["duplicates"]) == (0, sum(EXPECTED.values()))
    assert by_dataset(opensearch) == EXPECTED

    # Typed as the dashboards need them: an IP range query and a numeric status range work.
    opensearch.indices.refresh(index="opsbundle-logs-*")
    errors = opensearch.count(
        index="opsbundle-logs-*",
        body={
            "query": {
                "bool": {
                    "filter": [
                        {"range": {"http.response.status_code": {"gte": 500}}},
                        {"term": {"event.dataset": "aws.elb"}},
                    ]
                }
            }
        },
    )
    assert errors["count"] == 2  # the 502 of the Lambda target and the 503 not dispatched
    private = opensearch.count(
        index="opsbundle-logs-*", body={"query": {"term": {"source.ip": "172.31.0.0/16"}}}
    )
    assert private["count"] == 2


def test_a_corrupt_object_is_dead_lettered_and_the_rest_indexed(
    aws: dict[str, Any], opensearch: OpenSearch, s3: Any
) -> None:
    broken = LAYOUT["alb.log"].replace("a1b2c3", "broken")
    good = gzip.compress((S3 / "alb.log").read_bytes(), mtime=0)
    s3.put_object(Bucket=BUCKET, Key=broken, Body=good[: len(good) // 2])  # cut gzip stream
    missing = LAYOUT["alb.log"].replace("a1b2c3", "gone")
    waf = LAYOUT["waf.log"]
    # fmt: skip below: laid out as a table
    bodies = [
        notification(broken, ""),
        notification(missing, ""),
        notification(waf, aws["etags"][waf]),
        "not json at all",
    ]
    event = sqs_event(bodies)
    event["Records"][3]["body"] = "not json at all"

    answer = handler(event, LambdaContext())

    assert answer["batchItemFailures"] == []  # all durable: indexed or dead-lettered
    assert by_dataset(opensearch) == {"aws.waf": 2}
    records = dead_letters(s3)
    reasons = sorted((r["kind"], r["reason"]) for r in records)
    assert reasons == [
        ("object", "s3_object_missing"),
        ("object", "unreadable_object"),
        ("payload", "malformed_message"),
    ]
    assert next(r for r in records if r["reason"] == "unreadable_object")["key"] == broken

    # Put right, the replay reads the missing file again; the damaged one stays damaged.
    s3.put_object(Bucket=BUCKET, Key=missing, Body=good)
    from log_shipper.cli import replay_prefix
    from log_shipper.config import ShipperSettings
    from log_shipper.dead_letter import DeadLetters
    from opsbundle.metrics import RunMetrics

    settings = ShipperSettings.load()
    shipper = assemble.build_shipper(
        settings, metrics=RunMetrics(service="log_shipper"), warm=assemble.WarmClients()
    )
    files = s3_source.S3Source(
        shipper=shipper,
        s3=s3,
        sqs=None,
        dead_letters=shipper.dead_letters,
        router=settings.router,
    )
    totals = replay_prefix(
        shipper, DeadLetters(bucket=DLQ_BUCKET, boto3_client=s3), settings.dlq_prefix, files=files
    )
    assert totals.indexed == 6
    assert by_dataset(opensearch) == {"aws.waf": 2, "aws.elb": 6}


def test_a_file_too_long_for_the_time_left_is_carried_on_without_duplicates(
    aws: dict[str, Any], opensearch: OpenSearch, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = (S3 / "alb.log").read_text().splitlines()
    many = "\n".join(lines[i % len(lines)] for i in range(25_000)) + "\n"
    key = LAYOUT["alb.log"].replace("a1b2c3", "long")
    etag = s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(many.encode()))["ETag"]
    chunks = [0]
    read = s3_source.S3Source._chunks

    def counted(self: Any, *args: Any) -> Iterator[Any]:
        for chunk in read(self, *args):
            chunks[0] += 1
            yield chunk

    monkeypatch.setattr(s3_source.S3Source, "_chunks", counted)

    class Context(LambdaContext):
        def get_remaining_time_in_millis(self) -> int:
            left = 10.0 if chunks[0] > 3 else 100.0  # the fourth chunk finds too little time
            return int(left * 1000) + 1000  # + the safety margin the test sets

    monkeypatch.setenv("LOG_SHIPPER_SAFETY_MARGIN_MS", "1000")
    first = handler(sqs_event([notification(key, etag.strip('"'))]), Context())
    assert first["resumed"] == 1 and first["batchItemFailures"] == []
    assert first["indexed"] == 15_000  # three chunks of 5,000
    (message,) = aws["sqs"].receive_message(QueueUrl=aws["queue"])["Messages"]
    body = json.loads(message["Body"])
    assert body["opsbundle_resume"]["line"] == 15_000

    chunks[0] = 0
    rest = handler(sqs_event([body]), LambdaContext())
    assert (rest["indexed"], rest["duplicates"]) == (10_000, 0)
    ids = {h["_id"] for h in search_all(opensearch, "opsbundle-logs-*")}
    assert len(ids) == 25_000


def test_a_line_over_a_mebibyte_is_cut_and_flagged(
    aws: dict[str, Any], opensearch: OpenSearch, s3: Any
) -> None:
    first, *_ = (S3 / "alb.log").read_text().splitlines()
    long_url = first.replace(
        "http://www.example.com:80/", "http://www.example.com:80/" + "a" * 1_200_000
    )
    key = LAYOUT["alb.log"].replace("a1b2c3", "long")
    body = gzip.compress(f"{long_url}\n{first}\n".encode(), mtime=0)
    etag = s3.put_object(Bucket=BUCKET, Key=key, Body=body)["ETag"].strip('"')

    answer = handler(sqs_event([notification(key, etag)]), LambdaContext())

    assert answer["batchItemFailures"] == []
    hits = search_all(opensearch, "opsbundle-logs-*", {"term": {"aws.s3.object.key": key}})
    flags = {hit["_source"]["log"]["offset"]: hit["_source"]["log"].get("flags") for hit in hits}
    assert flags == {1: ["truncated"], 2: None}


def test_what_cannot_be_made_durable_goes_back_to_sqs_and_nothing_else_does(
    aws: dict[str, Any], opensearch: OpenSearch, s3: Any
) -> None:
    s3.delete_bucket(Bucket=DLQ_BUCKET)  # the dead-letter bucket is gone (or refuses writes)
    waf = LAYOUT["waf.log"]
    missing = LAYOUT["alb.log"].replace("a1b2c3", "gone")

    answer = handler(
        sqs_event([notification(waf, aws["etags"][waf]), notification(missing, "")]),
        LambdaContext(),
    )

    # The missing file could be neither read nor dead-lettered: SQS delivers that message
    # again (and, after five tries, to the failed-files queue); the WAF file is in.
    assert answer["batchItemFailures"] == [{"itemIdentifier": "m-1"}]
    assert by_dataset(opensearch) == {"aws.waf": 2}


def test_a_long_file_that_cannot_be_carried_on_goes_back_to_sqs(
    aws: dict[str, Any], opensearch: OpenSearch, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws["sqs"].delete_queue(QueueUrl=aws["queue"])  # the resume message has nowhere to go
    key = LAYOUT["alb.log"]

    class Context(LambdaContext):
        def get_remaining_time_in_millis(self) -> int:
            return 10_000 + 1000  # under the 30 s a chunk needs, + the test's safety margin

    monkeypatch.setenv("LOG_SHIPPER_SAFETY_MARGIN_MS", "1000")
    answer = handler(sqs_event([notification(key, aws["etags"][key])]), Context())

    assert answer["batchItemFailures"] == [{"itemIdentifier": "m-0"}]
    assert answer["resumed"] == 0 and by_dataset(opensearch) == {}
