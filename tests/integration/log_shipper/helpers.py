"""Small builders and constants shared by the log shipper's integration tests."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from log_shipper import handler, maintain
from log_shipper.assemble import WarmClients
from log_shipper.events import encode_payload
from log_shipper.routing import IndexNamer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "log_shipper"
REGION = "us-east-1"
DLQ_BUCKET = "log-shipper-dead-letters"


def cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new container for the shipper's Lambdas: no client (so none outlives its moto
    context) and no template check kept from before."""
    monkeypatch.setattr(handler, "WARM", WarmClients())
    monkeypatch.setattr(maintain, "WARM", WarmClients())


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that the handler reads."""

    remaining_ms: int = 300_000
    aws_request_id: str = "6f3c2a1e-9d0b-4c5f-8e7a-1b2c3d4e5f60"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def payload(
    messages: list[str],
    *,
    log_group: str = "/aws/lambda/leads-api",
    log_stream: str = "2026/11/26/[$LATEST]abc",
    start_ms: int = 1795705200000,
    first_id: int = 0,
    owner: str = "123456789012",
) -> dict[str, Any]:
    return {
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": ["opsbundle"],
        "logEvents": [
            {
                "id": str(38254965381409318723891094520811617286044718651219296256 + first_id + i),
                "timestamp": start_ms + i,
                "message": m,
            }
            for i, m in enumerate(messages)
        ],
    }


def group_index(pattern: str, log_group: str, account: str = "123456789012") -> str:
    """The index name a pattern gives a log group (with the digest of its exact name)."""
    return IndexNamer(pattern, log_group=log_group, account=account).name(1795705200000)


def cloudwatch_event(decoded: dict[str, Any]) -> dict[str, Any]:
    return {"awslogs": {"data": encode_payload(decoded)}}


def search_all(
    client: Any, index: str, query: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    client.indices.refresh(index=index, ignore_unavailable=True)
    hits: list[dict[str, Any]] = []
    answer = client.search(
        index=index,
        body={"query": query or {"match_all": {}}, "size": 5000, "sort": ["_doc"]},
        scroll="1m",
        ignore_unavailable=True,
    )
    while answer["hits"]["hits"]:
        hits.extend(answer["hits"]["hits"])
        answer = client.scroll(scroll_id=answer["_scroll_id"], scroll="1m")
    if "_scroll_id" in answer:  # none when no index matched
        client.clear_scroll(scroll_id=answer["_scroll_id"], ignore=[404])
    return hits


def dead_letters(s3: Any, bucket: str = "log-shipper-dead-letters") -> list[dict[str, Any]]:
    """Every record in the dead-letter bucket, in key order."""
    records = []
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        records += [json.loads(line) for line in gzip.decompress(body).splitlines()]
    return records
