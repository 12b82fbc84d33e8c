"""Issue 12's rows for the log shipper that need a cluster: the real `opsbundle logs` command in
a process of its own, against the OpenSearch node and moto_server (AWS_REGION alone set)."""

from __future__ import annotations

import json
import re
import time

import pytest
from opensearchpy import OpenSearch

from tests.integration.cli_run import no_traceback, on_terminal, run
from tests.integration.conftest import MOTO_REGION, Moto
from tests.integration.log_shipper.helpers import FIXTURES, search_all
from tests.integration.log_shipper.opensearch_node import Node

BUCKET = "cli-dead-letters"


@pytest.fixture
def env(moto: Moto, opensearch_node: Node, opensearch: OpenSearch) -> dict[str, str]:
    moto.client("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": MOTO_REGION}
    )
    return moto.env | {
        "OPENSEARCH_URL": opensearch_node.url,
        "LOG_SHIPPER_DLQ_BUCKET": BUCKET,
        "LOG_SHIPPER_RETENTION_DAYS": "0",
    }


def test_backfill_with_only_aws_region(
    moto: Moto, env: dict[str, str], opensearch: OpenSearch
) -> None:
    logs = moto.client("logs")
    logs.create_log_group(logGroupName="/aws/lambda/history")
    logs.create_log_stream(logGroupName="/aws/lambda/history", logStreamName="s")
    now_ms = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName="/aws/lambda/history",
        logStreamName="s",
        logEvents=[{"timestamp": now_ms - 60_000 + i, "message": f"line {i}"} for i in range(25)],
    )

    result = run(
        "logs", "backfill", "/aws/lambda/history", "--since", "1h", "--format", "json", env=env
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["indexed"] == 25
    assert len(search_all(opensearch, "opsbundle-logs-default-*")) == 25


def test_logs_are_short_lines_on_a_terminal_and_json_in_a_pipe(env: dict[str, str]) -> None:
    event = str(FIXTURES / "kinesis_event.json")  # one of its records is malformed

    screen = on_terminal("logs", "ship", event, env=env)
    piped = run("logs", "ship", event, env=env)
    forced = on_terminal("--log-format", "json", "logs", "ship", event, env=env)

    assert screen.returncode == piped.returncode == forced.returncode == 1
    assert "warning: malformed payload: reason=" in screen.terminal, screen.terminal
    assert '"level"' not in screen.terminal
    logged = [json.loads(line) for line in piped.stderr.splitlines() if line.startswith("{")]
    assert [(r["level"], r["message"]) for r in logged] == [("WARNING", "malformed payload")]
    assert re.search(r'"message":\s*"malformed payload"', forced.terminal), forced.terminal
    no_traceback(screen.terminal, piped.stderr, forced.terminal)


def test_replay_draws_a_bar_that_log_lines_do_not_tear(env: dict[str, str]) -> None:
    event = str(FIXTURES / "kinesis_event.json")
    assert run("logs", "ship", event, env=env).returncode == 1  # a dead letter to replay

    screen = on_terminal("logs", "replay", f"s3://{BUCKET}/log-shipper/dead-letters/", env=env)
    piped = run("logs", "replay", f"s3://{BUCKET}/log-shipper/dead-letters/", env=env)

    assert screen.returncode == 1  # the malformed payload is dead-lettered again
    assert "dead letters:" in screen.terminal and "objects" in screen.terminal
    warnings = [line for line in screen.lines() if "malformed payload" in line]
    assert warnings and all(line.startswith("warning: malformed payload") for line in warnings)
    assert "dead letters:" not in piped.stderr and "\r" not in piped.stderr
    no_traceback(screen.terminal, piped.stderr)
