"""The handler against a real OpenSearch node: documents, types, template, idempotence,
mapping conflicts, Kinesis batches, dead letters and their replay (moto S3)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from opensearchpy import OpenSearch

from log_shipper import assemble
from log_shipper.dead_letter import DeadLetters
from log_shipper.handler import handler
from tests.integration.log_shipper.helpers import (
    DLQ_BUCKET,
    LambdaContext,
    cloudwatch_event,
    dead_letters,
    fixture,
    group_index,
    payload,
    search_all,
)

INDEX = "opsbundle-logs-default-2026.11.26"
REPLAY = group_index("replay-{log_group}", "/aws/lambda/leads-api")
REROUTED = group_index("rerouted-{log_group}", "/aws/lambda/leads-api")


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, shipping: OpenSearch) -> OpenSearch:
    monkeypatch.setenv("LOG_SHIPPER_SAFETY_MARGIN_MS", "1000")
    monkeypatch.setenv("LOG_SHIPPER_RETENTION_DAYS", "0")  # the fixtures' dates stay in
    return shipping


def test_lambda_logs_become_typed_searchable_documents(configured: OpenSearch, s3: Any) -> None:
    event = cloudwatch_event(fixture("lambda_payload.json"))

    summary = handler(event, LambdaContext())

    assert summary["indexed"] == 7 and summary["dead_lettered"] == {}
    hits = {
        h["_source"]["aws"]["cloudwatch"]["event_id"][-2:]: h for h in search_all(configured, INDEX)
    }
    assert len(hits) == 7
    report = hits["61"]["_source"]
    assert report["@timestamp"] == "2026-11-26T15:00:00.206Z"
    assert report["lambda"] == {
        "type": "REPORT",
        "request_id": "6f3c2a1e-9d0b-4c5f-8e7a-1b2c3d4e5f60",
        "duration_ms": 16.42,
        "billed_duration_ms": 17.0,
        "memory_size_mb": 512,
        "max_memory_used_mb": 71,
        "init_duration_ms": 190.35,
        "cold_start": True,
    }
    assert report["cloud"] == {
        "provider": "aws",
        "account": {"id": "123456789012"},
        "region": "us-east-1",
    }
    powertools = hits["59"]["_source"]
    assert powertools["log"] == {"level": "error"}
    assert powertools["json"]["crm"] == {"status": 504, "attempt": 3}
    assert powertools["message"].startswith('{"level":"ERROR"')

    mapping = configured.indices.get_mapping(index=INDEX)[INDEX]["mappings"]["properties"]
    assert mapping["@timestamp"]["type"] == "date"
    assert mapping["lambda"]["properties"]["duration_ms"]["type"] == "float"
    assert mapping["lambda"]["properties"]["memory_size_mb"]["type"] == "integer"
    assert (
        mapping["aws"]["properties"]["cloudwatch"]["properties"]["log_group"]["type"] == "keyword"
    )
    assert mapping["json"]["properties"]["service"]["type"] == "keyword"  # the dynamic template
    assert configured.indices.get_index_template(name="opsbundle-logs")["index_templates"]

    # What a dashboard asks: the slowest invocations and the cold starts, by typed fields.
    slow = configured.search(
        index=INDEX, body={"query": {"range": {"lambda.duration_ms": {"gte": 1000}}}}
    )["hits"]["hits"]
    assert [h["_source"]["lambda"]["request_id"] for h in slow] == [
        "7a4d3b2f-0e1c-4d6a-9f8b-2c3d4e5f6a71"
    ]
    cold = configured.count(index=INDEX, body={"query": {"term": {"lambda.cold_start": True}}})
    assert cold["count"] == 1
    errors = configured.count(index=INDEX, body={"query": {"term": {"log.level": "error"}}})
    assert errors["count"] == 1


def test_json_arrays_of_arrays_are_kept_and_searchable(configured: OpenSearch) -> None:
    """Copied as it came (short, safe keys) or rebuilt (a dotted key), an array of arrays
    stays an array: OpenSearch flattens it, so each value can be searched."""
    event = cloudwatch_event(
        payload(
            [
                '{"grid": [[1, 2], [3]], "zone": "a"}',
                '{"grid": [[4], [5, 6]], "user.id": 7}',
            ]
        )
    )

    summary = handler(event, LambdaContext())

    assert summary["indexed"] == 2 and summary["as_text"] == 0
    search_all(configured, INDEX)
    for value, expected in ((3, 1), (5, 1), (9, 0)):
        body = {"query": {"term": {"json.grid": value}}}
        assert configured.count(index=INDEX, body=body)["count"] == expected


def test_json_with_escapes_and_accents_is_copied_and_reads_back_the_same(
    configured: OpenSearch,
) -> None:
    """A Powertools error line (a traceback with escaped newlines and quotes) and a line in
    ASCII escapes and one in UTF-8: copied in as they came, each reads back as parsed."""
    values = {
        "level": "ERROR",
        "exception": 'Traceback (most recent call last):\n  File "/var/task/h.py"\nTimeoutError',
        "client": "Zoë Núñez 🚀",
    }
    lines = [json.dumps(values), json.dumps(values, ensure_ascii=False)]
    summary = handler(cloudwatch_event(payload(lines)), LambdaContext())

    assert (summary["indexed"], summary["as_text"]) == (2, 0)
    hits = search_all(configured, INDEX)
    assert [h["_source"]["json"] for h in hits] == [values, values]
    assert [h["_source"]["log"] for h in hits] == [{"level": "error"}] * 2


def test_a_repeated_json_key_is_indexed_once_with_its_json(configured: OpenSearch) -> None:
    """The line Go's zap writes with a field given twice: OpenSearch refuses it as it came
    ("Duplicate field"), and takes it with each key once, the JSON still parsed."""
    event = cloudwatch_event(payload(['{"level":"info","msg":"signed up","user":"a","user":"b"}']))

    summary = handler(event, LambdaContext())

    assert (summary["indexed"], summary["as_text"], summary["dead_lettered"]) == (1, 0, {})
    [hit] = search_all(configured, INDEX)
    assert hit["_source"]["json"] == {"level": "info", "msg": "signed up", "user": "b"}
    assert hit["_source"]["message"].count('"user"') == 2  # the line itself as it was sent


def test_the_same_payload_again_adds_nothing(configured: OpenSearch) -> None:
    event = cloudwatch_event(payload([f"line {i}" for i in range(50)]))

    first = handler(event, LambdaContext())
    second = handler(event, LambdaContext())

    assert (first["indexed"], first["duplicates"]) == (50, 0)
    assert (second["indexed"], second["duplicates"]) == (0, 50)
    assert len(search_all(configured, INDEX)) == 50


def test_a_mapping_conflict_keeps_the_line_as_text(configured: OpenSearch, s3: Any) -> None:
    first = cloudwatch_event(payload(['{"user": "jane", "n": 1}']))
    clash = cloudwatch_event(payload(['{"user": {"id": 7}, "n": 2}'], first_id=1))

    handler(first, LambdaContext())
    summary = handler(clash, LambdaContext())

    assert summary["indexed"] == 1 and summary["as_text"] == 1 and summary["dead_lettered"] == {}
    hits = search_all(configured, INDEX, {"match": {"message": "id"}})
    assert len(hits) == 1
    kept = hits[0]["_source"]
    assert "json" not in kept and kept["tags"] == ["json_as_text"]
    assert kept["message"] == '{"user": {"id": 7}, "n": 2}'
    assert "mapper_parsing_exception" in kept["error"]["message"]
    assert "Preview of field" not in kept["error"]["message"]
    assert dead_letters(s3) == []


def test_kinesis_batch_reports_no_failures_and_dead_letters_the_malformed_record(
    configured: OpenSearch, s3: Any
) -> None:
    summary = handler(fixture("kinesis_event.json"), LambdaContext())

    assert summary["batchItemFailures"] == []  # all three are durable: indexed or dead-lettered
    assert summary["indexed"] == 7 and summary["control_messages"] == 1
    assert summary["dead_lettered"] == {"malformed_payload": 1}
    [record] = dead_letters(s3)
    assert record["kind"] == "payload" and record["detail"] == "data is not gzip"
    assert record["item_id"] == "49590338271490256608559692538361571095921575989136588900"


def test_what_cannot_be_indexed_is_dead_lettered_then_replayed(
    configured: OpenSearch, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An index the template doesn't cover, made strict: every document is refused.
    monkeypatch.setenv("LOG_SHIPPER_INDEX", "replay-{log_group}")
    configured.indices.create(
        index=REPLAY,
        body={"mappings": {"dynamic": "strict", "properties": {}}},
    )
    event = cloudwatch_event(payload(["first", "second", '{"a": 1}']))

    summary = handler(event, LambdaContext())

    assert summary["indexed"] == 0
    assert summary["dead_lettered"] == {"strict_dynamic_mapping_exception": 3}
    records = dead_letters(s3)
    assert [r["event"]["message"] for r in records] == ["first", "second", '{"a": 1}']
    assert all(r["logGroup"] == "/aws/lambda/leads-api" and r["index"] == REPLAY for r in records)

    # Fix the cause, then replay: same ids, the object is removed once all are delivered.
    # The routes changed meanwhile: the events still go back to the index they were first
    # sent to, where a request that timed out may have left them.
    configured.indices.delete(index=REPLAY)
    monkeypatch.setenv("LOG_SHIPPER_INDEX", "rerouted-{log_group}")
    from log_shipper.cli import replay_prefix
    from log_shipper.config import ShipperSettings
    from opsbundle.metrics import RunMetrics

    settings = ShipperSettings.load()
    shipper = assemble.build_shipper(
        settings, metrics=RunMetrics(service="log_shipper"), warm=assemble.WarmClients()
    )
    store = DeadLetters(bucket=DLQ_BUCKET, prefix=settings.dlq_prefix, boto3_client=s3)
    totals = replay_prefix(shipper, store, settings.dlq_prefix)
    assert totals.indexed == 3 and totals.objects_done == 1
    assert dead_letters(s3) == []
    ids = {h["_id"] for h in search_all(configured, REPLAY)}
    assert ids == {r["document_id"] for r in records}
    assert not configured.indices.exists(index=REROUTED)


def test_a_rerouted_replay_follows_todays_routes(
    configured: OpenSearch, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from log_shipper.cli import replay_prefix
    from log_shipper.config import ShipperSettings
    from opsbundle.metrics import RunMetrics

    monkeypatch.setenv("LOG_SHIPPER_INDEX", "replay-{log_group}")
    configured.indices.create(index=REPLAY, body={"settings": {}})
    configured.indices.close(index=REPLAY)  # refuses every write
    handler(cloudwatch_event(payload(["one", "two"])), LambdaContext())
    assert len(dead_letters(s3)) == 2

    monkeypatch.setenv("LOG_SHIPPER_INDEX", "rerouted-{log_group}")
    settings = ShipperSettings.load()
    shipper = assemble.build_shipper(
        settings, metrics=RunMetrics(service="log_shipper"), warm=assemble.WarmClients()
    )
    store = DeadLetters(bucket=DLQ_BUCKET, prefix=settings.dlq_prefix, boto3_client=s3)
    totals = replay_prefix(shipper, store, settings.dlq_prefix, reroute=True)

    assert totals.indexed == 2 and totals.objects_done == 1
    assert len(search_all(configured, REROUTED)) == 2


def test_a_data_stream_takes_the_same_documents_once(
    configured: OpenSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_SHIPPER_INDEX", "test-stream-{log_group}-{yyyy.MM.dd}")
    monkeypatch.setenv("LOG_SHIPPER_DATA_STREAM", "true")
    event = cloudwatch_event(payload([f"line {i}" for i in range(20)]))

    first = handler(event, LambdaContext())
    again = handler(event, LambdaContext())

    assert (first["indexed"], again["duplicates"]) == (20, 20)
    name = group_index("test-stream-{log_group}-2026.11.26", "/aws/lambda/leads-api")
    streams = configured.indices.get_data_stream(name=name)["data_streams"]
    assert [s["template"] for s in streams] == ["opsbundle-logs"]
    assert len(search_all(configured, name)) == 20
    # A data stream a day is deleted whole by retention, as an index a day is.
    from datetime import date

    from log_shipper import lifecycle
    from log_shipper.config import ShipperSettings

    monkeypatch.setenv("LOG_SHIPPER_RETENTION_DAYS", "30")
    report = lifecycle.maintain(configured, ShipperSettings.load(), today=date(2026, 12, 27))
    assert report.families[0].deleted == [name]
    assert configured.indices.get_data_stream(name="test-stream-*")["data_streams"] == []
