"""`opsbundle logs setup` and `opsbundle logs ship` against the real node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

from opsbundle.cli import main
from tests.integration.log_shipper.helpers import DLQ_BUCKET, FIXTURES, search_all
from tests.integration.log_shipper.opensearch_node import Node


def outputs(text: str) -> list[dict[str, Any]]:
    """The JSON documents the commands printed, one after another."""
    decoder, found, position = json.JSONDecoder(), [], 0
    while position < len(text.rstrip()):
        value, position = decoder.raw_decode(text, position)
        found.append(value)
        while position < len(text) and text[position].isspace():
            position += 1
    return found


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, opensearch_node: Node, opensearch: OpenSearch, s3: Any
) -> OpenSearch:
    monkeypatch.setenv("OPENSEARCH_URL", opensearch_node.url)
    monkeypatch.setenv("LOG_SHIPPER_DLQ_BUCKET", DLQ_BUCKET)
    monkeypatch.setenv("LOG_SHIPPER_RETENTION_DAYS", "0")  # the fixtures are AWS's 2015 samples
    return opensearch


def test_setup_installs_the_template_for_every_route(
    env: OpenSearch, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(
        "LOG_SHIPPER_ROUTES", json.dumps([{"log_group": "/b*", "index": "test-b-{yyyy}"}])
    )
    assert main(["logs", "setup", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == [
        {
            "template": "opsbundle-logs",
            "index_patterns": ["opsbundle-logs-default-*"],
            "put": True,
            "clash": None,
        },
        {
            "template": "opsbundle-logs-test-b",
            "index_patterns": ["test-b-*"],
            "put": True,
            "clash": None,
        },
    ]
    template = env.indices.get_index_template(name="opsbundle-logs-test-b")["index_templates"][0]
    assert template["index_template"]["index_patterns"] == ["test-b-*"]
    env.indices.create(index="test-b-2026")
    mapping = env.indices.get_mapping(index="test-b-2026")["test-b-2026"]["mappings"]
    assert mapping["properties"]["lambda"]["properties"]["cold_start"] == {"type": "boolean"}


def test_ship_runs_a_saved_event_and_exits_0_then_finds_only_duplicates(
    env: OpenSearch, capsys: pytest.CaptureFixture[str]
) -> None:
    event = FIXTURES / "kinesis_event.json"
    assert (
        main(["logs", "ship", str(event), "--format", "json"]) == 1
    )  # the malformed record is dead-lettered
    first = json.loads(capsys.readouterr().out)
    assert (first["indexed"], first["dead_lettered"]) == (7, {"malformed_payload": 1})

    direct = Path(FIXTURES / "cloudwatch_logs_event.json")
    assert main(["logs", "ship", str(direct), "--format", "json"]) == 0
    assert main(["logs", "ship", str(direct), "--format", "json"]) == 0
    again = outputs(capsys.readouterr().out)[-1]
    assert (again["indexed"], again["duplicates"]) == (0, 2)
    assert len(search_all(env, "opsbundle-logs-default-2015.08.24")) == 2
