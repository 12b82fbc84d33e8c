"""Fixtures for the log shipper against a real OpenSearch node (one per test session) and
moto S3 for the dead-letter bucket. Nothing leaves 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from opensearchpy import OpenSearch

from tests.integration.log_shipper.helpers import DLQ_BUCKET, REGION, cold_start
from tests.integration.log_shipper.opensearch_node import Node, start
from tests.moto_env import use_moto_credentials


@pytest.fixture(scope="session")
def opensearch_node() -> Iterator[Node]:
    node = start()
    print(f"\nOpenSearch node up at {node.url} in {node.started_in_s:.1f} s")
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def opensearch(opensearch_node: Node) -> Iterator[OpenSearch]:
    """A client on the node; every test starts with no indices and no templates of ours."""
    client = OpenSearch(hosts=[opensearch_node.url], max_retries=0, timeout=30)
    _clean(client)
    yield client
    _clean(client)
    client.close()


def _clean(client: OpenSearch) -> None:
    client.indices.delete_data_stream(name="*", ignore=[404])  # before the templates they use
    client.indices.delete(
        index="opsbundle-logs-*,logs-*,test-*,replay-*,rerouted-*",
        ignore=[404],
        expand_wildcards="all",
    )
    for name in ("opsbundle-logs*", "test-template", "other-tool*"):
        client.indices.delete_index_template(name=name, ignore=[404])


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    use_moto_credentials(monkeypatch, REGION)
    cold_start(monkeypatch)
    with mock_aws():
        client = boto3.Session(region_name=REGION).client("s3")
        client.create_bucket(Bucket=DLQ_BUCKET)
        yield client


@pytest.fixture
def shipping(
    monkeypatch: pytest.MonkeyPatch, opensearch_node: Node, opensearch: OpenSearch, s3: Any
) -> OpenSearch:
    """The shipper's settings on the node and the dead-letter bucket; the node's client."""
    monkeypatch.setenv("OPENSEARCH_URL", opensearch_node.url)
    monkeypatch.setenv("LOG_SHIPPER_DLQ_BUCKET", DLQ_BUCKET)
    return opensearch
