"""Log shipper end to end on a real OpenSearch node, beside opensearch-py's streaming_bulk.

Run: `make bench` or `.venv/bin/python bench/log_shipper_node_bench.py [--events N] [--rounds R]`.

A real node (the integration tests' own: OpenSearch 2.19.6 from Maven Central, one node,
512 MB heap, on 127.0.0.1) takes the same events two ways, in alternate runs, each run into
fresh indices (deleted before it, the template left in place as a warm Lambda finds it):
  handler        log_shipper.handler.handler on CloudWatch Logs events of 10,000 log events
                 each: decode, transform, _bulk with create and its ids, as Lambda runs it
                 (gzip on, the default; dead letters in moto S3, none expected)
  streaming_bulk opensearch-py's helpers.streaming_bulk with chunk_size 5,000 and
                 max_chunk_bytes 5 MiB, given the finished documents (the same _index, _id,
                 create, and the body as JSON text, which it sends as it is), made before
                 the clock starts
Both wait for the node: the figure is what a function gets out of one node, events per second
from the first request to the last answer. The node runs on this machine too, so the two
cores are shared between client and node. The node's JVM gets faster over its first few
hundred thousand documents, so one whole run of each comes first, untimed, and the rounds
take turns at going first (a fixed order gave whichever ran second a warmer node).

Budget: the handler at least as fast as streaming_bulk (best run of each).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gzip
import io
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PER_PAYLOAD = 10_000
MiB = 1024 * 1024


class Context:
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def events(n: int) -> list[dict[str, Any]]:
    from log_shipper_bench import messages

    start = (int(time.time()) // 86_400 * 86_400 - 7_200) * 1000  # yesterday 22:00 UTC
    return [
        {
            "id": f"{38254965381409318723891094520811617286044718651219296256 + i}",
            "timestamp": start + i * 3,
            "message": m,
        }
        for i, m in enumerate(messages(n))
    ]


def cloudwatch_events(n: int) -> list[dict[str, Any]]:
    all_events = events(n)
    out = []
    for start in range(0, n, PER_PAYLOAD):
        decoded = {
            "messageType": "DATA_MESSAGE", "owner": "123456789012",
            "logGroup": f"/aws/lambda/leads-api-{start // PER_PAYLOAD % 4}",
            "logStream": f"2026/12/04/[$LATEST]{start:08x}", "subscriptionFilters": ["bench"],
            "logEvents": all_events[start : start + PER_PAYLOAD],
        }  # fmt: skip  # laid out as a table
        data = gzip.compress(json.dumps(decoded, separators=(",", ":")).encode(), mtime=0)
        out.append({"awslogs": {"data": base64.b64encode(data).decode("ascii")}})
    return out


def finished_documents(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the shipper would send, as the actions streaming_bulk takes."""
    from log_shipper.events import decode_invocation
    from log_shipper.routing import Route
    from log_shipper.transform import Document, transform_batch

    actions = []
    now = datetime.now(UTC)
    for event in payloads:
        (unit,) = decode_invocation(event).units
        assert unit.batch is not None
        for pending in transform_batch(unit.batch, Route(), region="us-east-1", ingested=now):
            document = Document.of_pending(pending)
            actions.append(
                {
                    "_op_type": "create",
                    "_index": document.index,
                    "_id": document.id,
                    "_source": document.body,
                }
            )
    return actions


def fresh(client: Any) -> None:
    client.indices.delete(index="opsbundle-logs-*", ignore=[404], expand_wildcards="all")


def run_handler(client: Any, payloads: list[dict[str, Any]], n: int) -> float:
    from log_shipper.handler import handler

    fresh(client)
    with contextlib.redirect_stdout(io.StringIO()):  # the EMF lines Lambda would print
        started = time.perf_counter()
        indexed = sum(handler(event, Context())["indexed"] for event in payloads)
        took = time.perf_counter() - started
    assert indexed == n, f"the handler indexed {indexed} of {n}"
    return n / took


def run_streaming_bulk(client: Any, actions: list[dict[str, Any]], n: int) -> float:
    from opensearchpy.helpers import streaming_bulk

    fresh(client)
    started = time.perf_counter()
    ok = sum(
        1
        for success, _ in streaming_bulk(
            client, actions, chunk_size=5000, max_chunk_bytes=5 * MiB, raise_on_error=False
        )
        if success
    )
    took = time.perf_counter() - started
    assert ok == n, f"streaming_bulk indexed {ok} of {n}"
    return n / took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    import boto3
    from moto import mock_aws
    from opensearchpy import OpenSearch

    from tests.integration.log_shipper.opensearch_node import start

    node = start()
    try:
        os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
        os.environ.pop("AWS_PROFILE", None)
        os.environ.update(
            {
                "OPENSEARCH_URL": node.url,
                "LOG_SHIPPER_DLQ_BUCKET": "bench-dlq",
                "AWS_REGION": "us-east-1",
                "LOG_LEVEL": "WARNING",
                "POWERTOOLS_METRICS_NAMESPACE": "bench",
            }
        )
        client = OpenSearch(hosts=[node.url], timeout=120, max_retries=0)
        payloads = cloudwatch_events(args.events)
        actions = finished_documents(payloads)
        with mock_aws():
            boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="bench-dlq")
            runs = {
                "handler": lambda: run_handler(client, payloads, args.events),
                "streaming_bulk": lambda: run_streaming_bulk(client, actions, args.events),
            }
            for run in runs.values():  # warm: the template, the clients, the node's JIT
                run()
            rates: dict[str, list[float]] = {name: [] for name in runs}
            for round_number in range(args.rounds):
                order = list(runs) if round_number % 2 == 0 else list(reversed(runs))
                for name in order:
                    rates[name].append(runs[name]())
        print(
            f"log shipper on a real node: {args.events:,} events, {args.rounds} rounds, "
            f"alternating, fresh indices each run (node up in {node.started_in_s:.0f} s)"
        )
        for name, measured in rates.items():
            print(
                f"  {name:15} {max(measured):9,.0f} events/s best, "
                f"{statistics.median(measured):9,.0f} median"
            )
    finally:
        node.stop()
    ours, theirs = max(rates["handler"]), max(rates["streaming_bulk"])
    print(
        f"budget: handler {ours / theirs:.2f}x streaming_bulk's rate: "
        + ("within budget" if ours >= theirs else "over budget")
    )
    return 0 if ours >= theirs else 1


if __name__ == "__main__":
    sys.exit(main())
