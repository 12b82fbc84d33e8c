"""Fakes and fixture loaders shared by the log shipper's unit tests: a scripted OpenSearch
client answering `_bulk` in OpenSearch's shapes, documents to send, and the JSON fixtures."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from log_shipper.bulk import ANSWER_FIELDS
from log_shipper.events import LogBatch, LogEvent
from log_shipper.routing import Route
from log_shipper.transform import Pending, transform_batch

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "log_shipper"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


Answer = Callable[[list[dict[str, Any]]], Any]


class FakeTransport:
    """Records each _bulk body; answers with the next scripted answer (an exception to raise,
    or a function of the request's actions giving the response)."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.requests: list[list[dict[str, Any]]] = []
        self.bodies: list[bytes] = []

    def perform_request(
        self, method: str, url: str, *, params: Any, body: bytes, headers: Any, timeout: float
    ) -> Any:
        assert (method, url) == ("POST", "/_bulk") and body.endswith(b"\n")
        assert params == ANSWER_FIELDS  # the answer as the node filters it
        self.bodies.append(body)
        lines = body.decode().splitlines()
        actions = [
            {**json.loads(a)["create"], "source": json.loads(s)}
            for a, s in zip(lines[::2], lines[1::2], strict=True)
        ]
        self.requests.append(actions)
        answer = self.answers.pop(0) if self.answers else ok
        if isinstance(answer, Exception):
            raise answer
        return answer(actions)


class FakeClient:
    def __init__(self, answers: list[Any]) -> None:
        self.transport = FakeTransport(answers)


def item(
    action: dict[str, Any], status: int, error: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"_index": action["_index"], "_id": action["_id"], "status": status}
    if error:
        body["error"] = error
    return {"create": body}


def ok(actions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"took": 1, "errors": False, "items": [item(a, 201) for a in actions]}


def per_item(rule: Callable[[dict[str, Any]], tuple[int, dict[str, Any] | None]]) -> Answer:
    return lambda actions: {
        "took": 1,
        "errors": True,
        "items": [item(a, *rule(a)) for a in actions],
    }


def documents(n: int, message: Callable[[int], str] = lambda i: f"line {i}") -> list[Pending]:
    batch = LogBatch(
        "123456789012",
        "/aws/lambda/api",
        "s",
        [LogEvent(str(1000 + i), 1795705200000 + i, message(i)) for i in range(n)],
    )
    route = Route(retention_days=None)
    return list(transform_batch(batch, route, region="us-east-1", ingested=datetime.now(UTC)))
