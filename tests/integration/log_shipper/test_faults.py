"""10,000 events through a proxy that refuses, drops and rejects: each event ends up indexed
exactly once or in the dead letters with its reason; a replay then indexes the rest once."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from typing import Any

import pytest
from opensearchpy import OpenSearch

from log_shipper.assemble import WarmClients, build_shipper
from log_shipper.cli import replay_prefix
from log_shipper.client import build_client
from log_shipper.config import ShipperSettings
from log_shipper.dead_letter import DeadLetters
from log_shipper.events import Invocation, Unit, batch_from_json
from opsbundle.metrics import RunMetrics
from opsbundle.settings import Env
from tests.integration.log_shipper.fault_proxy import FaultProxy
from tests.integration.log_shipper.helpers import DLQ_BUCKET, payload, search_all
from tests.integration.log_shipper.opensearch_node import Node

EVENTS = 10_000
PER_INVOCATION = 500
FAULTS = {
    "pass": 0.35,
    "429": 0.1,
    "503": 0.1,
    "drop_before": 0.1,
    "drop_after": 0.1,
    "reject_items": 0.25,
}


def messages(start: int, n: int) -> list[str]:
    kinds = [
        lambda i: f"plain line {i}",
        lambda i: json.dumps({"seq": i, "user": {"id": i % 97}, "path": f"/leads/{i}"}),
        lambda i: f'Traceback (most recent call last):\n  File "x.py", line {i}\nValueError: {i}',
        lambda i: (
            f"REPORT RequestId: 00000000-0000-4000-8000-{i:012d}\tDuration: {i % 900}.5 ms"
            f"\tBilled Duration: {i % 900 + 1} ms\tMemory Size: 256 MB\tMax Memory Used: 80 MB\t"
        ),
    ]
    return [kinds[(start + k) % 4](start + k) for k in range(n)]


def settings_for(url: str, **env: str) -> ShipperSettings:
    return ShipperSettings.load(
        Env(
            {
                "OPENSEARCH_URL": url,
                "LOG_SHIPPER_DLQ_BUCKET": DLQ_BUCKET,
                "LOG_SHIPPER_BATCH_BYTES": "262144",
                "LOG_SHIPPER_RETENTION_DAYS": "0",  # payload() dates events 2026-11-26
                **env,
            }
        )
    )


def dead_letter_records(s3: Any) -> list[dict[str, Any]]:
    out = []
    for item in s3.list_objects_v2(Bucket=DLQ_BUCKET).get("Contents", []):
        body = s3.get_object(Bucket=DLQ_BUCKET, Key=item["Key"])["Body"].read()
        out += [json.loads(line) for line in gzip.decompress(body).splitlines()]
    return out


@pytest.mark.timeout(240)
def test_ten_thousand_events_through_faults_each_indexed_once_or_dead_lettered(
    opensearch_node: Node, opensearch: OpenSearch, s3: Any
) -> None:
    all_ids = set()
    with FaultProxy(opensearch_node.url, weights=FAULTS, max_body=150_000, seed=11) as proxy:
        settings = settings_for(proxy.url, LOG_SHIPPER_MAX_ATTEMPTS="4")
        shipper = build_shipper(
            settings,
            metrics=RunMetrics(service="log_shipper"),
            warm=WarmClients(opensearch_client=build_client(settings), s3_client=s3),
            sender_options={"base_delay": 0.005, "max_delay": 0.05},
        )
        totals: Counter[str] = Counter()
        for start in range(0, EVENTS, PER_INVOCATION):
            decoded = payload(
                messages(start, PER_INVOCATION),
                first_id=start,
                log_stream=f"stream-{start // 2000}",
            )
            all_ids |= {e["id"] for e in decoded["logEvents"]}
            batch = batch_from_json(decoded)
            outcome = shipper.ship(
                Invocation("cloudwatch", [Unit(None, batch=batch)]), request_id=f"inv-{start}"
            )
            assert not outcome.not_durable
            totals.update(
                indexed=outcome.indexed,
                duplicates=outcome.duplicates,
                retried=outcome.retried,
                dead=sum(outcome.dead_lettered.values()),
            )
    assert len(all_ids) == EVENTS
    # Every kind of fault happened, more than once.
    for fault in ("429", "503", "413", "drop_before", "drop_after", "reject_items"):
        assert proxy.faults[fault] >= 2, proxy.faults
    assert totals["retried"] > 0 and totals["duplicates"] > 0  # drop_after → 409 on retry

    hits = search_all(opensearch, "opsbundle-logs-*")
    indexed = Counter(h["_source"]["aws"]["cloudwatch"]["event_id"] for h in hits)
    assert max(indexed.values()) == 1, "an event was indexed twice"
    dead = dead_letter_records(s3)
    reasons = Counter(r["reason"] for r in dead)
    assert all(r["reason"] and r["event"]["message"] for r in dead)
    assert set(reasons) <= {"retries_exhausted", "request_too_large"}, reasons
    dead_ids = {r["event"]["id"] for r in dead}
    assert set(indexed) | dead_ids == all_ids, "an event is neither indexed nor dead-lettered"
    # The shipper's own accounting: one outcome per event, and it matches the node.
    assert totals["indexed"] + totals["duplicates"] + totals["dead"] == EVENTS
    assert len(indexed) == totals["indexed"] + totals["duplicates"] + len(set(indexed) & dead_ids)
    print(f"\nfaults {dict(proxy.faults)}; outcomes {dict(totals)}; dead letters {dict(reasons)}")

    # Replay through a healthy path: the dead letters are indexed, nothing twice, bucket empty.
    healthy = settings_for(opensearch_node.url)
    replayer = build_shipper(
        healthy, metrics=RunMetrics(service="log_shipper"), warm=WarmClients(s3_client=s3)
    )
    store = DeadLetters(bucket=DLQ_BUCKET, prefix=healthy.dlq_prefix, boto3_client=s3)
    result = replay_prefix(replayer, store, healthy.dlq_prefix)
    assert result.dead_lettered == 0 and result.objects_kept == 0
    assert result.indexed + result.duplicates == len(dead)
    assert dead_letter_records(s3) == []
    final = Counter(
        h["_source"]["aws"]["cloudwatch"]["event_id"]
        for h in search_all(opensearch, "opsbundle-logs-*")
    )
    assert set(final) == all_ids and max(final.values()) == 1
