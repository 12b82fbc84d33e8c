"""`opsbundle logs backfill` from CloudWatch Logs (moto) into the real node, and
`opsbundle logs dashboards-import` against a local server speaking the saved-objects API."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from opensearchpy import OpenSearch

from log_shipper.cli import ASSETS
from opsbundle.cli import main
from tests.integration.log_shipper.helpers import DLQ_BUCKET, REGION, search_all
from tests.integration.log_shipper.opensearch_node import Node


def test_backfill_imports_history_once(
    monkeypatch: pytest.MonkeyPatch, opensearch_node: Node, opensearch: OpenSearch, s3: Any
) -> None:
    monkeypatch.setenv("OPENSEARCH_URL", opensearch_node.url)
    monkeypatch.setenv("LOG_SHIPPER_DLQ_BUCKET", DLQ_BUCKET)
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="/aws/lambda/history")
    now_ms = int(time.time() * 1000)
    for stream in ("2026/11/25/[$LATEST]a", "2026/11/25/[$LATEST]b"):
        logs.create_log_stream(logGroupName="/aws/lambda/history", logStreamName=stream)
        logs.put_log_events(
            logGroupName="/aws/lambda/history",
            logStreamName=stream,
            logEvents=[
                {"timestamp": now_ms - 3_600_000 + i, "message": f"{stream[-1]} line {i}"}
                for i in range(30)
            ],
        )

    assert (
        main(["logs", "backfill", "/aws/lambda/history", "--since", "2h", "--format", "json"]) == 0
    )
    assert (
        main(["logs", "backfill", "/aws/lambda/history", "--since", "2h", "--format", "json"]) == 0
    )

    hits = search_all(opensearch, "opsbundle-logs-default-*")
    assert len(hits) == 60  # the second run found only duplicates
    assert {h["_source"]["aws"]["cloudwatch"]["log_stream"][-1] for h in hits} == {"a", "b"}
    assert {h["_source"]["cloud"]["account"]["id"] for h in hits} == {"123456789012"}


class SavedObjectsApi:
    """POST /api/saved_objects/_import?overwrite=true, multipart `file`, osd-xsrf required,
    answering {"success": true, "successCount": n} like OpenSearch Dashboards."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                ok = (
                    self.path == "/api/saved_objects/_import?overwrite=true"
                    and self.headers.get("osd-xsrf") == "true"
                    and self.headers["content-type"].startswith("multipart/form-data")
                )
                if not ok:
                    answer, status = {"statusCode": 400, "error": "Bad Request"}, 400
                else:
                    part = body.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n--", 1)[0]
                    objects = [json.loads(line) for line in part.splitlines() if line.strip()]
                    api.received.extend(objects)
                    answer, status = {"success": True, "successCount": len(objects)}, 200
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def dashboards() -> Iterator[SavedObjectsApi]:
    api = SavedObjectsApi()
    thread = threading.Thread(target=api.server.serve_forever, daemon=True)
    thread.start()
    yield api
    api.server.shutdown()
    api.server.server_close()


def test_dashboards_import_posts_the_saved_objects(
    dashboards: SavedObjectsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["logs", "dashboards-import", "--url", dashboards.url + "/", "--format", "json"]) == 0
    )
    objects = [line for line in ASSETS.read_text().splitlines() if line.strip()]
    assert json.loads(capsys.readouterr().out) == {"imported": len(objects)}
    shipped = [json.loads(line) for line in ASSETS.read_text().splitlines()]
    assert dashboards.received == shipped


def test_dashboards_import_reports_a_refusal(
    capsys: pytest.CaptureFixture[str], dashboards: SavedObjectsApi
) -> None:
    assert main(["logs", "dashboards-import", "--url", dashboards.url + "/nowhere"]) == 1
    assert "Dashboards refused the import: HTTP 400" in capsys.readouterr().err
