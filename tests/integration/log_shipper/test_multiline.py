"""A multiline route on the real node: an ECS task's split Java and Python traces arrive as one
document each, searchable by what is in any of their lines, flagged, counted, and a
re-delivered payload adds nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from opensearchpy import OpenSearch

from log_shipper.handler import handler
from tests.integration.log_shipper.helpers import (
    DLQ_BUCKET,
    LambdaContext,
    cloudwatch_event,
    cold_start,
    fixture,
    search_all,
)
from tests.integration.log_shipper.opensearch_node import Node

INDEX = "opsbundle-logs-default-2026.11.26"


@pytest.fixture
def configured(
    monkeypatch: pytest.MonkeyPatch, opensearch_node: Node, opensearch: OpenSearch, s3: Any
) -> OpenSearch:
    cold_start(monkeypatch)
    monkeypatch.setenv("OPENSEARCH_URL", opensearch_node.url)
    monkeypatch.setenv("LOG_SHIPPER_DLQ_BUCKET", DLQ_BUCKET)
    monkeypatch.setenv("LOG_SHIPPER_RETENTION_DAYS", "0")  # the fixture's date stays in
    routes = [{"log_group": "/ecs/*", "multiline": {"start": r"^\d{4}-\d\d-\d\d"}}]
    monkeypatch.setenv("LOG_SHIPPER_ROUTES", json.dumps(routes))
    return opensearch


def test_split_traces_are_one_document_each_and_redelivery_adds_nothing(
    configured: OpenSearch,
) -> None:
    event = cloudwatch_event(fixture("ecs_awslogs_split_traces.json"))

    summary = handler(event, LambdaContext())

    assert (summary["events_in"], summary["indexed"], summary["merged"]) == (17, 5, 12)
    assert summary["dead_lettered"] == {}
    hits = search_all(configured, INDEX)
    assert len(hits) == 5
    # words of the trace's last line find the whole trace, in one document
    found = search_all(configured, INDEX, {"match_phrase": {"message": "common frames omitted"}})
    [java] = [h["_source"] for h in found]
    assert java["message"].startswith("2026-11-26 15:00:01.526 ERROR 1 ---")
    assert java["message"].count("\n") == 6
    flagged = configured.count(index=INDEX, body={"query": {"term": {"log.flags": "multiline"}}})
    assert flagged["count"] == 2
    mapping = configured.indices.get_mapping(index=INDEX)[INDEX]["mappings"]["properties"]
    assert mapping["log"]["properties"]["flags"]["type"] == "keyword"

    again = handler(event, LambdaContext())

    assert (again["indexed"], again["duplicates"], again["merged"]) == (0, 5, 12)
    assert len(search_all(configured, INDEX)) == 5
