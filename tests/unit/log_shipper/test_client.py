"""The OpenSearch client's connection: request bodies gzip'd fast, and still gzip."""

from __future__ import annotations

import gzip

import pytest

from log_shipper.client import Connection, build_client
from log_shipper.config import ShipperSettings

pytestmark = pytest.mark.unit

XFL = 8  # the gzip header's "extra flags" byte: 4 = fastest compression, 2 = best


def test_bodies_are_gzipped_at_the_fastest_level_and_read_back_whole() -> None:
    body = b'{"create":{"_index":"opsbundle-logs-default-2026.12.04"}}\n{"message":"x"}\n' * 500
    connection = Connection(host="127.0.0.1", port=9200, http_compress=True)
    compressed = connection._gzip_compress(body)
    assert compressed[XFL] == 4
    assert gzip.decompress(compressed) == body
    assert gzip.decompress(connection._gzip_compress(body.decode())) == body


def test_the_shipper_client_uses_that_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENSEARCH_URL", "http://127.0.0.1:9200")
    monkeypatch.setenv("LOG_SHIPPER_DLQ_BUCKET", "dead-letters")
    client = build_client(ShipperSettings.load())
    (connection,) = client.transport.connection_pool.connections
    assert isinstance(connection, Connection) and connection.http_compress
