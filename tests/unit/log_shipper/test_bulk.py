"""Bulk delivery item by item, against a scripted client answering in OpenSearch's shapes."""

from __future__ import annotations

import random
from typing import Any

from opensearchpy.exceptions import ConnectionError as TransportConnectionError
from opensearchpy.exceptions import ConnectionTimeout, TransportError

from log_shipper.bulk import BulkSender, safe_detail
from tests.unit.log_shipper.fakes import FakeClient, FakeTransport, documents, fixture, per_item


def sender(client: FakeClient, **kwargs: Any) -> tuple[BulkSender, list[float]]:
    sleeps: list[float] = []
    options: dict[str, Any] = {
        "client": client,
        "sleep": sleeps.append,
        "rng": random.Random(1),
        "base_delay": 0.1,
        "max_delay": 2.0,
        **kwargs,
    }
    return BulkSender(**options), sleeps


def test_all_created_in_one_request() -> None:
    client = FakeClient([])
    result = sender(client)[0].send(documents(20))
    assert (result.indexed, result.duplicates, result.failures, result.requests) == (20, 0, [], 1)


def test_a_409_means_already_there() -> None:
    conflict = {"type": "version_conflict_engine_exception", "reason": "document already exists"}
    client = FakeClient(
        [per_item(lambda a: (409, conflict) if a["_id"].endswith("1000") else (201, None))]
    )
    result = sender(client)[0].send(documents(3))
    assert (result.indexed, result.duplicates, result.failures) == (2, 1, [])


def test_batches_are_bounded_by_count_and_bytes() -> None:
    client = FakeClient([])
    result = sender(client, max_count=7)[0].send(documents(20))
    assert [len(r) for r in client.transport.requests] == [7, 7, 6] and result.indexed == 20
    client = FakeClient([])
    big = documents(10, lambda i: "x" * 1000)
    sender(client, max_bytes=3000)[0].send(big)
    assert all(len(r) <= 2 for r in client.transport.requests)
    assert sum(len(r) for r in client.transport.requests) == 10


def test_rejected_items_alone_are_retried_with_full_jitter() -> None:
    rejected = {"type": "es_rejected_execution_exception", "reason": "rejected execution"}
    client = FakeClient(
        [per_item(lambda a: (429, rejected) if int(a["_id"][-1]) % 2 else (201, None))]
    )
    bulk, sleeps = sender(client)
    result = bulk.send(documents(10))
    first, second = client.transport.requests
    assert len(first) == 10 and len(second) == 5
    assert result.indexed == 10 and result.retried == 5
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 0.2  # uniform(0, base * 2**1)


def test_whole_request_errors_are_retried_then_dead_lettered_with_the_reason() -> None:
    refused = TransportError(503, "unavailable", {"error": {"type": "unavailable"}})
    client = FakeClient(
        [
            refused,
            TransportConnectionError("N/A", "reset", None),
            ConnectionTimeout("TIMEOUT", "t", None),
        ]
    )
    bulk, sleeps = sender(client, max_attempts=3)
    result = bulk.send(documents(4))
    assert result.indexed == 0 and len(result.failures) == 4
    assert {f.reason for f in result.failures} == {"retries_exhausted"}
    assert (
        "ConnectionTimeout" in result.failures[0].detail
        or "ConnectionError" in result.failures[0].detail
    )
    assert len(sleeps) == 2 and all(0 <= s <= 2.0 for s in sleeps)


def test_backoff_never_outlives_the_lambda() -> None:
    left = iter([5.0, 0.0001, 0.0001])
    client = FakeClient([TransportError(429, "too many", {})])
    bulk, _ = sender(client, remaining=lambda: next(left), base_delay=1.0)
    result = bulk.send(documents(2))
    assert {f.reason for f in result.failures} == {"deadline"}
    assert len(client.transport.requests) == 1


def test_no_time_left_sends_nothing_and_dead_letters_everything() -> None:
    client = FakeClient([])
    result = sender(client, remaining=lambda: 0.0)[0].send(documents(3))
    assert (
        client.transport.requests == [] and [f.reason for f in result.failures] == ["deadline"] * 3
    )


def test_a_413_splits_the_batch_until_it_fits() -> None:
    too_large = lambda actions: TransportError(413, "too large", {})  # noqa: E731

    class Splitting(FakeTransport):
        def perform_request(self, method: str, url: str, **kw: Any) -> Any:
            lines = kw["body"].decode().splitlines()
            if len(lines) // 2 > 3:
                self.requests.append([])
                raise too_large([])
            return super().perform_request(method, url, **kw)

    client = FakeClient([])
    client.transport = Splitting([])
    result = sender(client)[0].send(documents(10))
    assert result.indexed == 10 and result.failures == []
    sizes = [len(r) for r in client.transport.requests if r]
    assert sum(sizes) == 10 and max(sizes) <= 3


def test_a_single_document_too_large_is_dead_lettered() -> None:
    client = FakeClient([TransportError(413, "too large", {})])
    result = sender(client)[0].send(documents(1))
    assert [f.reason for f in result.failures] == ["request_too_large"]


def test_a_mapping_conflict_is_retried_once_as_text_then_dead_lettered() -> None:
    conflict = fixture("bulk_response_errors.json")["items"][2]["create"]["error"]
    always = per_item(lambda a: (400, conflict))
    client = FakeClient([always, always])
    bulk, sleeps = sender(client)
    result = bulk.send(documents(1, lambda i: '{"user": {"email": "jane@example.com"}}'))
    assert sleeps == []  # a text retry is a different document: no need to wait
    first, second = client.transport.requests
    assert "json" in first[0]["source"] and "json" not in second[0]["source"]
    assert second[0]["source"]["tags"] == ["json_as_text"]
    assert second[0]["_id"] == first[0]["_id"]
    assert result.as_text == 1 and [f.reason for f in result.failures] == [
        "mapper_parsing_exception"
    ]
    assert "jane@example.com" not in result.failures[0].detail  # the preview is cut


def test_a_repeated_json_key_is_sent_again_once_with_the_json_kept() -> None:
    """Go's zap can write a field twice; OpenSearch refuses the document ("Duplicate field"),
    so it goes again with each key once (the last value, as JSON readers keep it)."""
    repeated = {
        "type": "mapper_parsing_exception",
        "reason": "failed to parse",
        "caused_by": {"type": "json_parse_exception", "reason": "Duplicate field 'user'"},
    }
    client = FakeClient([per_item(lambda a: (400, repeated)), per_item(lambda a: (201, None))])
    bulk, sleeps = sender(client)
    result = bulk.send(documents(1, lambda i: '{"msg":"signed up","user":"a","user":"b"}'))
    assert (result.indexed, result.as_text, result.failures, sleeps) == (1, 0, [], [])
    first, second = client.transport.bodies
    assert first.count(b'"user"') == 2 and second.count(b'"user"') == 1
    assert client.transport.requests[1][0]["source"]["json"] == {"msg": "signed up", "user": "b"}


def test_a_document_refused_again_for_a_repeated_key_goes_as_text() -> None:
    repeated = {
        "type": "mapper_parsing_exception",
        "reason": "failed to parse",
        "caused_by": {"type": "json_parse_exception", "reason": "Duplicate field 'user'"},
    }
    client = FakeClient([per_item(lambda a: (400, repeated))] * 3)
    result = sender(client)[0].send(documents(1, lambda i: '{"user":"a","user":"b"}'))
    sources = [r[0]["source"] for r in client.transport.requests]
    assert len(sources) == 3 and sources[2]["tags"] == ["json_as_text"]
    assert result.as_text == 1 and [f.reason for f in result.failures] == [
        "mapper_parsing_exception"
    ]


def test_other_item_errors_and_auth_errors_fail_at_once() -> None:
    immense = {
        "type": "illegal_argument_exception",
        "reason": 'Document contains at least one immense term in field="message"',
    }
    client = FakeClient([per_item(lambda a: (400, immense))])
    result = sender(client)[0].send(documents(2))
    assert [f.reason for f in result.failures] == ["illegal_argument_exception"] * 2
    assert len(client.transport.requests) == 1

    client = FakeClient(
        [
            TransportError(
                403, "forbidden", {"error": "no permissions for [indices:data/write/bulk]"}
            )
        ]
    )
    result = sender(client)[0].send(documents(2))
    assert [f.reason for f in result.failures] == ["http_403"] * 2
    assert len(client.transport.requests) == 1


def test_an_answer_without_items_is_sent_again() -> None:
    client = FakeClient([lambda actions: {"took": 1, "errors": False}])
    result = sender(client)[0].send(documents(2))
    assert result.indexed == 2 and len(client.transport.requests) == 2


def test_safe_detail_drops_the_field_value_preview() -> None:
    error = fixture("bulk_response_errors.json")["items"][2]["create"]["error"]
    detail = safe_detail(error)
    assert detail.startswith("mapper_parsing_exception: failed to parse field [json.user]")
    assert "caused by illegal_state_exception" in detail and "Preview" not in detail


def test_the_total_fields_limit_keeps_the_line_as_text() -> None:
    """A daily index full of varied JSON hits "Limit of total fields": the line is kept
    searchable as text, like a mapping conflict, not dead-lettered."""
    limit = fixture("bulk_response_errors.json")["items"][4]["create"]["error"]
    client = FakeClient([per_item(lambda a: (400, limit)), per_item(lambda a: (201, None))])
    result = sender(client)[0].send(documents(2))
    assert result.failures == []
    assert result.as_text == 2
    assert result.indexed == 2
