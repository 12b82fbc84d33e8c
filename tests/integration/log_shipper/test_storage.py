"""The log store over time, on the real node: the layout, retention, re-delivery, and the
failures a full or limited cluster gives, each with its own reason.

The node is the stock single node of the fixture (cluster.max_shards_per_node 1,000, one
data node), so what passes here is what a small domain would do with the defaults."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from opensearchpy import OpenSearch

from log_shipper import assemble, lifecycle
from log_shipper import handler as shipper_entry
from log_shipper.config import ShipperSettings
from log_shipper.events import encode_payload
from log_shipper.handler import handler
from tests.integration.log_shipper.helpers import (
    DLQ_BUCKET,
    REGION,
    LambdaContext,
    cloudwatch_event,
    cold_start,
    dead_letters,
)

DAY_MS = 86_400_000
OURS = "opsbundle-logs-default-*"


def today() -> date:
    return datetime.now(UTC).date()


def midnight_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def group_payload(
    group: int, days: list[date], per_day: int, owner: str = "123456789012"
) -> dict[str, Any]:
    """One log stream of /aws/lambda/fn-<group>, `per_day` events on each day, at fixed hours."""
    events = []
    for day in days:
        base = midnight_ms(day)
        for n in range(per_day):
            at = base + 3_600_000 * (1 + 7 * n) + group
            # CloudWatch's event ids: 56 digits, unique within the stream
            events.append(
                {
                    "id": f"{at:020d}{group:06d}{n:030d}"[:56],
                    "timestamp": at,
                    "message": f'{{"level":"INFO","group":{group},"n":{n}}}',
                }
            )
    return {
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": f"/aws/lambda/fn-{group:04d}",
        "logStream": "2026/12/01/[$LATEST]0123456789abcdef",
        "subscriptionFilters": ["opsbundle"],
        "logEvents": events,
    }


def kinesis(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "kinesis": {"data": encode_payload(p), "sequenceNumber": f"{n:056d}",
                            "partitionKey": p["logGroup"], "kinesisSchemaVersion": "1.0"},
                "eventSource": "aws:kinesis",
                "awsRegion": REGION,
            }
            for n, p in enumerate(payloads)
        ]
    }  # fmt: skip  # laid out as a table


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, shipping: OpenSearch) -> Iterator[OpenSearch]:
    monkeypatch.setenv("LOG_SHIPPER_SAFETY_MARGIN_MS", "1000")
    opensearch = shipping
    yield opensearch
    opensearch.cluster.put_settings(
        body={"persistent": {"cluster.blocks.read_only": None, "cluster.max_shards_per_node": None}}
    )


def green(client: OpenSearch, index: str | None = None) -> str:
    """Waits (up to 30 s) for green: `timeout` as a keyword is the client's own."""
    path = f"/_cluster/health/{index}" if index else "/_cluster/health"
    answer = client.transport.perform_request("GET", f"{path}?wait_for_status=green&timeout=30s")
    return str(answer["status"])


def our_shards(client: OpenSearch) -> tuple[int, int]:
    """(indices of ours, shards they hold, replicas included)."""
    rows = client.cat.indices(index=OURS, format="json", h="index,pri,rep")
    return len(rows), sum(int(r["pri"]) * (1 + int(r["rep"])) for r in rows)


def count(client: OpenSearch, query: dict[str, Any] | None = None) -> int:
    client.indices.refresh(index=OURS)
    body = {"query": query} if query else None
    return int(client.count(index=OURS, body=body)["count"])


@pytest.mark.timeout(600)
def test_ninety_days_of_a_hundred_log_groups_then_a_thousand(
    store: OpenSearch, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_SHIPPER_RETENTION_DAYS", "90")
    days = [today() - timedelta(days=n) for n in range(89, -1, -1)]  # 90 days, today last
    invocations = [
        kinesis([group_payload(g, days[start : start + 10], per_day=2) for g in range(100)])
        for start in range(0, 90, 10)
    ]
    started = time.monotonic()
    outcomes = [handler(event, LambdaContext()) for event in invocations]
    took = time.monotonic() - started
    assert sum(o["indexed"] for o in outcomes) == 100 * 90 * 2
    assert all(o["dead_lettered"] == {} and o["batchItemFailures"] == [] for o in outcomes)
    assert dead_letters(s3) == []
    assert green(store) == "green"  # one data node: no replica left unassigned
    health = store.cluster.health()
    indices, shards = our_shards(store)
    assert (indices, shards) == (90, 90)  # one index a day, one shard each
    print(
        f"\n100 log groups × 90 days: 18,000 events in {took:.1f} s; {indices} indices, "
        f"{shards} shards; cluster {health['active_shards']} shards, {health['status']}"
    )

    # 900 more log groups, the same days: not one more shard.
    more = [
        kinesis([group_payload(g, days[::10], per_day=1) for g in range(g0, g0 + 100)])
        for g0 in range(100, 1000, 100)
    ]
    assert sum(handler(event, LambdaContext())["indexed"] for event in more) == 900 * 9
    assert our_shards(store) == (90, 90)
    assert store.cluster.health()["status"] == "green"

    # Every copy of an event meets its _id again: a re-delivered invocation adds nothing.
    again = handler(invocations[4], LambdaContext())
    assert (again["indexed"], again["duplicates"]) == (0, 2000)

    # Retention down to 30 days, as `logs maintain` applies it: whole indices go.
    kept_from = today() - timedelta(days=30)
    newer = {"range": {"@timestamp": {"gte": kept_from.isoformat()}}}
    before = count(store, newer)
    monkeypatch.setenv("LOG_SHIPPER_RETENTION_DAYS", "30")
    settings = ShipperSettings.load()
    report = lifecycle.maintain(store, settings, today=today())
    assert len(report.families[0].deleted) == 59
    assert count(store, newer) == before  # nothing newer is gone
    assert count(store) == before  # and nothing older is left
    assert our_shards(store) == (31, 31)

    # Every payload delivered again after retention ran: no deleted day comes back.
    cold_start(monkeypatch)
    redelivered = [handler(event, LambdaContext()) for event in invocations]
    assert sum(o["indexed"] for o in redelivered) == 0
    assert sum(o["expired"] for o in redelivered) == 100 * 59 * 2
    assert sum(o["duplicates"] for o in redelivered) == 100 * 31 * 2
    assert our_shards(store) == (31, 31)


def emf(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    for line in capsys.readouterr().out.splitlines():
        if line.startswith('{"_aws"'):
            metrics.update(json.loads(line))
    return metrics


def ship_today(store: OpenSearch, first: int = 0) -> tuple[dict[str, Any], float]:
    event = cloudwatch_event(group_payload(first, [today()], per_day=3))
    started = time.monotonic()
    summary = handler(event, LambdaContext())
    return summary, time.monotonic() - started


BLOCKS = {
    "disk_full": ("index.blocks.read_only_allow_delete", "flood-stage watermark"),
    "index_blocked": ("index.blocks.write", "index write"),
}


@pytest.mark.parametrize("reason", sorted(BLOCKS))
def test_an_index_block_is_dead_lettered_at_once_with_its_own_reason(
    store: OpenSearch, s3: Any, capsys: pytest.CaptureFixture[str], reason: str
) -> None:
    block, words = BLOCKS[reason]
    ship_today(store)  # today's index exists
    store.indices.put_settings(index=OURS, body={block: True})
    try:
        summary, took = ship_today(store, first=1)
    finally:
        store.indices.put_settings(index=OURS, body={block: None})
    assert summary["dead_lettered"] == {reason: 3}
    assert took < 2, f"{took:.1f} s: retried what waiting cannot fix"
    record = dead_letters(s3)[0]
    assert record["reason"] == reason and words in record["detail"]
    assert emf(capsys)[f"DeadLettered_{reason}"] in (3, [3])  # the alarm's metric


def test_a_cluster_wide_block_is_named_with_the_detail_opensearch_gave(
    store: OpenSearch, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    store.cluster.put_settings(body={"persistent": {"cluster.blocks.read_only": True}})
    try:
        summary, took = ship_today(store)
    finally:
        store.cluster.put_settings(body={"persistent": {"cluster.blocks.read_only": False}})
    assert summary["dead_lettered"] == {"cluster_blocked": 3}
    assert took < 2
    record = dead_letters(s3)[0]
    assert record["status"] == 403
    assert record["detail"] == (
        "cluster_block_exception: blocked by: [FORBIDDEN/6/cluster read-only (api)];"
    )
    assert emf(capsys)["DeadLettered_cluster_blocked"] in (3, [3])


def test_the_shard_limit_is_named_not_a_validation_error(
    store: OpenSearch, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    store.indices.create(index="test-filler", body={"settings": {"number_of_replicas": 0}})
    green(store)
    open_now = store.cluster.health()["active_shards"]
    store.cluster.put_settings(body={"persistent": {"cluster.max_shards_per_node": open_now}})
    summary, took = ship_today(store)
    assert summary["dead_lettered"] == {"shard_limit": 3}
    assert took < 2
    assert "maximum shards open" in dead_letters(s3)[0]["detail"]
    assert emf(capsys)["DeadLettered_shard_limit"] in (3, [3])


def test_a_template_of_another_tool_at_our_priority_holds_events_back_until_fixed(
    store: OpenSearch, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The install fails (OpenSearch refuses two overlapping templates of one priority): the
    shipper must not fail every invocation, nor make today's index with the other mappings."""
    store.indices.put_index_template(
        name="other-tool",
        body={
            "index_patterns": ["opsbundle-*"],
            "priority": 237,
            "template": {"mappings": {"dynamic": "strict"}},
        },
    )
    summary, took = ship_today(store)
    assert summary["dead_lettered"] == {"template_clash": 3}
    assert took < 2
    record = dead_letters(s3)[0]
    assert "[other-tool]" in record["detail"] and "same priority" in record["detail"]
    assert our_shards(store) == (0, 0)  # no index made with the wrong mappings
    metrics = emf(capsys)
    assert metrics["TemplateClash"] in (1, [1])
    assert metrics["DeadLettered_template_clash"] in (3, [3])

    # A higher priority: ours is installed, but new indices would get theirs.
    store.indices.put_index_template(
        name="other-tool",
        body={
            "index_patterns": ["opsbundle-*"],
            "priority": 500,
            "template": {"mappings": {"dynamic": "strict"}},
        },
    )
    shipper_entry.WARM.templates.clear()  # the next cold start
    summary, _ = ship_today(store, first=1)
    assert summary["dead_lettered"] == {"template_clash": 3}
    (second,) = {r["detail"] for r in dead_letters(s3) if r["logGroup"].endswith("-0001")}
    assert "other-tool (priority 500" in second

    # Fixed: the next cold start ships, and a replay brings the held events in.
    store.indices.delete_index_template(name="other-tool")
    shipper_entry.WARM.templates.clear()  # the next cold start
    from log_shipper.cli import replay_prefix
    from log_shipper.dead_letter import DeadLetters
    from opsbundle.metrics import RunMetrics

    settings = ShipperSettings.load()
    shipper = assemble.build_shipper(
        settings, metrics=RunMetrics(service="log_shipper"), warm=assemble.WarmClients()
    )
    totals = replay_prefix(
        shipper, DeadLetters(bucket=DLQ_BUCKET, boto3_client=s3), settings.dlq_prefix
    )
    assert (totals.indexed, totals.duplicates, totals.dead_lettered) == (6, 0, 0), totals
    mapping = store.indices.get_mapping(index=OURS)
    assert all(
        m["mappings"]["_meta"]["managed_by"] == "opsbundle log_shipper" for m in mapping.values()
    )


def test_our_template_leaves_other_tools_indices_alone_and_wins_over_catch_alls(
    store: OpenSearch,
) -> None:
    store.indices.put_index_template(
        name="other-tool-catch-all",
        body={"index_patterns": ["*"], "priority": 1, "template": {"settings": {}}},
    )  # (without a "template" section, 2.19 fails to make any index it matches: HTTP 500)
    ship_today(store)
    store.indices.create(index="logs-other-tool-2026.12.01")
    theirs = store.indices.get_mapping(index="logs-other-tool-2026.12.01")
    assert "_meta" not in theirs["logs-other-tool-2026.12.01"]["mappings"]
    ours = next(iter(store.indices.get_mapping(index=OURS).values()))["mappings"]
    assert ours["_meta"]["family"] == "opsbundle-logs-default-{yyyy.MM.dd}"
    store.indices.delete_index_template(name="other-tool-catch-all")


def test_json_fields_keep_their_numbers_their_strings_and_long_values(store: OpenSearch) -> None:
    lines = [
        '{"latency": 1, "when": "2026-01-01", "order": "A-1"}',
        '{"latency": 1.7, "when": "yesterday"}',
        '{"latency": 2.9, "exception": "' + "Traceback (most recent call last) " * 50
        + 'TimeoutError: CRM took too long"}',
    ]  # fmt: skip  # laid out as a table
    payload = group_payload(0, [today()], per_day=0)
    at = midnight_ms(today()) + 1000
    payload["logEvents"] = [
        {"id": f"{at + n:056d}", "timestamp": at + n, "message": m} for n, m in enumerate(lines)
    ]
    summary = handler(cloudwatch_event(payload), LambdaContext())
    assert (summary["indexed"], summary["as_text"]) == (3, 0)
    store.indices.refresh(index=OURS)
    total = store.search(
        index=OURS, body={"size": 0, "aggs": {"s": {"sum": {"field": "json.latency"}}}}
    )
    assert total["aggregations"]["s"]["value"] == pytest.approx(5.6)  # not 1 + 1 + 2 = 4
    assert len(lines[2]) > 1695
    found = store.search(
        index=OURS, body={"query": {"match": {"json.exception.text": "TimeoutError"}}}
    )
    assert found["hits"]["total"]["value"] == 1
    exact = store.search(index=OURS, body={"query": {"term": {"json.order": "A-1"}}})
    assert exact["hits"]["total"]["value"] == 1


def test_maintain_makes_an_old_yellow_index_green_and_ages_out_the_old_layout(
    store: OpenSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_SHIPPER_RETENTION_DAYS", "30")
    old_mapping = {"properties": {"aws": {"properties": {"cloudwatch": {"properties": {
        "event_id": {"type": "keyword"}}}}}}}  # fmt: skip  # laid out as a table
    stale = f"logs-aws-lambda-orders-{(today() - timedelta(days=40)):%Y.%m.%d}"
    recent = f"logs-aws-lambda-orders-{(today() - timedelta(days=3)):%Y.%m.%d}"
    someone_elses = f"logs-nginx-{(today() - timedelta(days=40)):%Y.%m.%d}"
    for name in (stale, recent):
        store.indices.create(index=name, body={"mappings": old_mapping})
    store.indices.create(index=someone_elses)
    yellow = f"opsbundle-logs-default-{(today() - timedelta(days=1)):%Y.%m.%d}"
    one_replica = {"number_of_replicas": 1, "auto_expand_replicas": False}
    store.indices.create(index=yellow, body={"settings": one_replica})

    report = lifecycle.maintain(store, ShipperSettings.load(), today=today())

    assert report.legacy_deleted == [stale] and report.legacy_indices == 2
    assert report.families[0].replicas_set == [yellow]
    assert store.indices.exists(index=recent) and store.indices.exists(index=someone_elses)
    assert not store.indices.exists(index=stale)
    assert green(store, yellow) == "green"
    later = today() + timedelta(days=40)
    dry = lifecycle.maintain(store, ShipperSettings.load(), today=later, dry_run=True)
    assert dry.legacy_deleted == [recent] and store.indices.exists(index=recent)


def test_doctor_says_what_will_break(
    store: OpenSearch, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from opsbundle.cli import main

    ship_today(store)
    assert main(["logs", "doctor"]) == 0
    healthy = capsys.readouterr().out
    assert "ok    template  opsbundle-logs applies to new opsbundle-logs-default-*" in healthy

    # The old per-log-group layout for a hundred log groups: 3,200 shards for 30 days.
    monkeypatch.setenv("LOG_SHIPPER_INDEX", "logs-{log_group}-{yyyy.MM.dd}")
    assert main(["logs", "doctor", "--format", "json"]) == 1
    findings = {f["check"]: f for f in json.loads(capsys.readouterr().out)}
    assert findings["shards"]["level"] == "fail"
    assert "will pass the limit" in findings["shards"]["message"]
    assert "100 log groups" in findings["shards"]["message"]
    assert findings["template"]["level"] == "fail"  # not installed for that pattern yet

    monkeypatch.delenv("LOG_SHIPPER_INDEX")
    store.indices.put_settings(index=OURS, body={"index.blocks.read_only_allow_delete": True})
    try:
        assert main(["logs", "doctor"]) == 1
    finally:
        store.indices.put_settings(index=OURS, body={"index.blocks.read_only_allow_delete": None})
    assert "FAIL  disk      read-only after the disk filled" in capsys.readouterr().out


def test_the_hourly_upkeep_deletes_what_expired_and_counts_what_will_break(
    store: OpenSearch, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from log_shipper.maintain import handler as maintain

    monkeypatch.setenv("LOG_SHIPPER_RETENTION_DAYS", "30")
    old = f"opsbundle-logs-default-{(today() - timedelta(days=31)):%Y.%m.%d}"
    store.indices.create(index=old)
    ship_today(store)
    monkeypatch.delenv("LOG_SHIPPER_DLQ_BUCKET")  # the upkeep writes no dead letters
    capsys.readouterr()

    summary = maintain({"source": "aws.events", "detail-type": "Scheduled Event"}, LambdaContext())

    assert summary["families"][0]["deleted"] == [old] and summary["deleted"] == 1
    assert not store.indices.exists(index=old)
    assert {f["check"]: f["level"] for f in summary["findings"]}["template"] == "ok"
    metrics = emf(capsys)
    assert metrics["IndicesDeleted"] in (1, [1]) and metrics["DoctorFailures"] in (0, [0])

    store.indices.put_settings(index=OURS, body={"index.blocks.read_only_allow_delete": True})
    try:
        maintain({}, LambdaContext())
    finally:
        store.indices.put_settings(index=OURS, body={"index.blocks.read_only_allow_delete": None})
    metrics = emf(capsys)
    assert metrics["Doctor_disk"] in (1, [1]) and metrics["DoctorFailures"] in (1, [1])
