"""The one Lambda entry shape: request id and cold start in every log line, metrics published
once, a malformed event counted as such, any other failure counted once and raised again."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from opsbundle import log
from opsbundle.lambda_entry import Invocation, lambda_entry
from opsbundle.log import get_logger


class Malformed(Exception):
    pass


class Context:
    function_name = "opsbundle-dev-test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:opsbundle-dev-test"
    aws_request_id = "6f3c2a1e-9d0b-4c5f-8e7a-1b2c3d4e5f60"

    def get_remaining_time_in_millis(self) -> int:
        return 42_000


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """The structured log lines of the test (the EMF documents go to stdout)."""
    stream = io.StringIO()
    log.configure(stream=stream)
    yield stream
    log.configure()


def lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def emf(out: str) -> list[dict[str, Any]]:
    return [doc for doc in lines(out) if "_aws" in doc]


def logs(stream: io.StringIO) -> list[dict[str, Any]]:
    return lines(stream.getvalue())


def entry(run: Any) -> Any:
    return lambda_entry(
        service="test", failure_metric="TestFailed", failure_message="test failed",
        malformed=(Malformed,),
    )(run)  # fmt: skip  # the decorator's arguments read as one line each


def test_every_log_line_carries_the_request_and_the_cold_start(
    capsys: pytest.CaptureFixture[str], logged: io.StringIO
) -> None:
    @entry
    def handler(invocation: Invocation) -> dict[str, Any]:
        get_logger().info("working", extra={"left": invocation.remaining_seconds()})
        invocation.metrics.count("Worked")
        return {"request": invocation.request_id}

    assert handler({}, Context()) == {"request": Context.aws_request_id}
    handler({}, Context())
    out = capsys.readouterr().out
    first, second = [doc for doc in logs(logged) if doc["message"] == "working"]
    for line in (first, second):
        assert line["function_request_id"] == Context.aws_request_id
        assert line["function_name"] == "opsbundle-dev-test"
        assert line["left"] == 42.0
    assert second["cold_start"] is False  # the first may be the process's first, or not
    assert len(emf(out)) == 2  # one document a run


def test_a_failure_is_counted_once_logged_and_raised(
    capsys: pytest.CaptureFixture[str], logged: io.StringIO
) -> None:
    @entry
    def handler(invocation: Invocation) -> None:
        invocation.metrics.count("TestFailed")  # counted where it happened: not again
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        handler({"id": "ev-1"}, Context())
    out = capsys.readouterr().out
    (document,) = emf(out)
    assert document["TestFailed"] in (1, [1.0], 1.0)
    (failed,) = [doc for doc in logs(logged) if doc["message"] == "test failed"]
    assert failed["function_request_id"] == Context.aws_request_id
    assert "RuntimeError: boom" in failed["exception"]


def test_a_malformed_event_is_counted_as_such(
    capsys: pytest.CaptureFixture[str], logged: io.StringIO
) -> None:
    @entry
    def handler(invocation: Invocation) -> None:
        raise Malformed("detail-type 'x' is not one this function reads")

    with pytest.raises(Malformed):
        handler({"id": "ev-2"}, None)  # invoked by hand: no context at all
    out = capsys.readouterr().out
    (document,) = emf(out)
    assert "MalformedEvents" in document and "TestFailed" not in document
    (line,) = [doc for doc in logs(logged) if doc["message"] == "event not understood"]
    assert line["id"] == "ev-2" and "detail-type" in line["error"]
    assert line["function_request_id"] == "local"


def test_without_a_context_there_is_no_deadline() -> None:
    invocation = Invocation(event={}, context=None, metrics=None)  # type: ignore[arg-type]
    assert invocation.remaining_seconds() is None
    assert invocation.request_id == "local"
    assert invocation.event_id is None
