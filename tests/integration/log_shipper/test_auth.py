"""What the client sends on the wire for each OPENSEARCH_AUTH, seen by a local server:
SigV4 signs the gzip'd body it actually sends (es and aoss), basic auth comes from the
secret (moto Secrets Manager), none sends no credentials."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from log_shipper.bulk import BulkSender
from log_shipper.client import build_client
from log_shipper.config import ShipperSettings
from log_shipper.events import LogBatch, LogEvent
from log_shipper.routing import Route
from log_shipper.transform import transform_batch
from opsbundle.settings import Env
from tests.integration.log_shipper.helpers import REGION


class Recorder:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                recorder.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                raw = (
                    gzip.decompress(body)
                    if self.headers.get("content-encoding") == "gzip"
                    else body
                )
                lines = raw.splitlines()
                items = [{"create": {**json.loads(a)["create"], "status": 201}} for a in lines[::2]]
                answer = json.dumps({"took": 1, "errors": False, "items": items}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    threading.Thread(target=server.server.serve_forever, daemon=True).start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def send(settings: ShipperSettings) -> None:
    batch = LogBatch(
        "123456789012", "/aws/lambda/api", "s", [LogEvent("1", 1795705200000, "hello")]
    )
    route = Route(retention_days=None)
    documents = transform_batch(batch, route, region=REGION, ingested=datetime.now(UTC))
    result = BulkSender(client=build_client(settings)).send(documents)
    assert result.indexed == 1


@pytest.mark.parametrize("service", ["es", "aoss"])
def test_sigv4_signs_the_compressed_body(recorder: Recorder, s3: Any, service: str) -> None:
    settings = ShipperSettings.load(
        Env(
            {
                "OPENSEARCH_URL": recorder.url,
                "OPENSEARCH_AUTH": f"sigv4-{service}",
                "AWS_REGION": REGION,
                "LOG_SHIPPER_DLQ_BUCKET": "dlq",
            }
        )
    )
    send(settings)
    [(headers, body)] = recorder.requests
    assert headers["content-encoding"] == "gzip"
    assert f"/{REGION}/{service}/aws4_request" in headers["authorization"]
    assert re.match(
        rf"AWS4-HMAC-SHA256 Credential=\w+/\d{{8}}/{REGION}/{service}/aws4_request, "
        r"SignedHeaders=[a-z0-9;-]*x-amz-content-sha256",
        headers["authorization"],
    )
    assert headers["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
    assert "x-amz-security-token" in headers


def test_basic_auth_reads_the_secret(recorder: Recorder, s3: Any) -> None:
    secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="opensearch", SecretString=json.dumps({"username": "shipper", "password": "s3cret"})
    )
    settings = ShipperSettings.load(
        Env(
            {
                "OPENSEARCH_URL": recorder.url,
                "OPENSEARCH_AUTH": "basic",
                "OPENSEARCH_SECRET_ARN": secret["ARN"],
                "LOG_SHIPPER_DLQ_BUCKET": "dlq",
                "OPENSEARCH_GZIP": "false",
            }
        )
    )
    send(settings)
    [(headers, body)] = recorder.requests
    assert headers["authorization"] == "Basic " + base64.b64encode(b"shipper:s3cret").decode()
    assert "content-encoding" not in headers and body.startswith(b'{"create"')


def test_no_auth_sends_no_credentials(recorder: Recorder) -> None:
    send(ShipperSettings.load(Env({"OPENSEARCH_URL": recorder.url, "LOG_SHIPPER_DLQ_BUCKET": "d"})))
    [(headers, _)] = recorder.requests
    assert "authorization" not in headers
    assert headers["content-type"] == "application/x-ndjson"
