"""Multi-line events: stack traces the ECS awslogs driver split into one event per line, merged
back by a route's start pattern, with bounds, deterministic ids and honest flags."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from log_shipper.events import LogBatch, LogEvent, batch_from_json
from log_shipper.multiline import Multiline, merge
from log_shipper.routing import Route, Router
from log_shipper.transform import Document, TransformStats, document_id, transform_batch
from opsbundle.exceptions import ConfigError
from tests.unit.log_shipper.fakes import fixture

INGESTED = datetime(2026, 11, 26, 15, 5, tzinfo=UTC)
DATED = r"^\d{4}-\d\d-\d\d"  # the app's lines start with a date; a trace's lines do not


def route(start: str = DATED, **bounds: int) -> Route:
    multiline = {"start": start, **bounds}
    routes = [{"log_group": "/ecs/*", "retention_days": None, "multiline": multiline}]
    return Router.load(routes=json.dumps(routes), retention_days=None).route("/ecs/orders")


def docs(batch: LogBatch, rule: Route, stats: TransformStats | None = None) -> list[Document]:
    pending = transform_batch(batch, rule, region="eu-west-1", ingested=INGESTED, stats=stats)
    return [Document.of_pending(p) for p in pending]


def split_traces() -> LogBatch:
    return batch_from_json(fixture("ecs_awslogs_split_traces.json"))


def stream(messages: list[str], first: int = 0) -> LogBatch:
    events = [
        LogEvent(f"{first + n:056d}", 1795705200000 + first + n, m) for n, m in enumerate(messages)
    ]
    return LogBatch("123456789012", "/ecs/orders", "orders/app/1", events)


def test_a_java_and_a_python_trace_become_one_document_each() -> None:
    batch = split_traces()
    stats = TransformStats()

    documents = docs(batch, route(), stats)

    events = batch.events
    assert [d.event.id for d in documents] == [events[i].id for i in (0, 1, 8, 9, 16)]
    assert stats.merged == 12  # 17 events, 5 documents
    java, python = documents[1].source, documents[3].source
    assert java["message"] == "\n".join(e.message for e in events[1:8])
    assert java["message"].splitlines()[-2:] == [
        "Caused by: java.lang.IllegalStateException: export failed",
        "\t... 48 common frames omitted",
    ]
    assert python["message"].endswith("\nTimeoutError: upstream timed out")
    # the first event's time, id and event id: the _id its first line alone would have had
    assert java["@timestamp"] == "2026-11-26T15:00:00.138Z"
    assert java["aws"]["cloudwatch"]["event_id"] == events[1].id
    assert documents[1].id == document_id(
        batch.owner, batch.log_group, batch.log_stream, events[1].id
    )
    assert java["log"] == {"flags": ["multiline"]} and python["log"] == {"flags": ["multiline"]}
    single = documents[0].source  # a line of its own is as it was, without flags
    assert single["message"] == events[0].message and "log" not in single


def test_merging_is_off_unless_a_route_asks_for_it() -> None:
    batch = split_traces()
    plain = docs(batch, Route(retention_days=None))
    assert [d.event for d in plain] == batch.events
    assert all("log" not in d.source for d in plain)


def test_a_redelivered_payload_meets_the_same_ids_and_documents() -> None:
    first = docs(split_traces(), route())
    again = docs(split_traces(), route())
    assert [(d.id, d.index, d.body) for d in first] == [(d.id, d.index, d.body) for d in again]


def test_a_trace_split_across_two_payloads_is_two_documents_the_second_flagged() -> None:
    """What can't be joined (the trace's start is in another payload) is kept, deterministic,
    and says it continues something: the stream's previous document has the start."""
    lines = split_traces().events
    messages = [e.message for e in lines]
    head, tail = stream(messages[:4]), stream(messages[4:9], first=4)

    a, b = docs(head, route()), docs(tail, route())

    assert [d.source["message"].count("\n") + 1 for d in a] == [1, 3]
    assert [d.source["message"].count("\n") + 1 for d in b] == [4, 1]
    continued = b[0].source
    assert continued["message"].startswith("\tat java.base/java.io.FileInputStream.open(")
    assert continued["log"]["flags"] == ["multiline", "multiline_continued"]
    assert b[0].event.id == tail.events[0].id
    joined = "\n".join(d.source["message"] for d in a + b)
    assert joined == "\n".join(messages[:9])  # every line once, in order
    assert [d.body for d in docs(tail, route())] == [d.body for d in b]  # delivered again


def test_bounds_close_an_event_and_lose_no_line() -> None:
    trace = ["2026-11-26 15:00:01 ERROR boom"] + [f"\tat frame{n}" for n in range(6)]

    by_lines = docs(stream(trace), route(max_lines=3))
    assert [d.source["message"].count("\n") + 1 for d in by_lines] == [3, 3, 1]
    assert [d.source["log"]["flags"] for d in by_lines] == [
        ["multiline"],
        ["multiline", "multiline_continued"],
        ["multiline_continued"],
    ]
    assert "\n".join(d.source["message"] for d in by_lines) == "\n".join(trace)

    by_bytes = docs(stream(trace), route(max_bytes=1024))
    assert len(by_bytes) == 1  # 85 bytes: within the bound
    wide = ["2026-11-26 15:00:01 ERROR " + "x" * 1500, "\tat frame", "\tat frame2"]
    capped = docs(stream(wide), route(max_bytes=1024))
    assert [d.source["message"] for d in capped] == [wide[0], "\tat frame\n\tat frame2"]
    # one event longer than the bound stays whole, on its own: nothing is ever cut


def test_utf8_bytes_count_for_the_bound() -> None:
    rule = Multiline(start=re.compile(DATED), max_lines=10, max_bytes=1030)
    events = stream(["2026-11-26 start", "é" * 500, "x"]).events  # 16 + 1 + 1000 + 1 + 1 bytes
    assert [len(e.message) for e in merge(events, rule).events] == [16 + 1 + 500 + 1 + 1]
    events = stream(["2026-11-26 start", "é" * 507, "x"]).events  # 1031 bytes with the last
    assert len(merge(events, rule).events) == 2


def test_a_merged_event_replayed_through_the_same_route_is_the_same_document() -> None:
    """A dead letter keeps the merged event (first id, joined text); its replay, next to the
    stream's following events, gives the same documents (same _id, text and time), not bigger
    ones: the bounds count the joined text. (The flags are not in the dead letter: a replayed
    merged event is one event of several lines, as a Lambda traceback is.)"""
    trace = ["2026-11-26 15:00:01 ERROR boom"] + [f"\tat frame{n}" for n in range(6)]
    original = docs(stream([*trace, "2026-11-26 15:00:02 INFO next"]), route(max_lines=4))
    dead_lettered = [d.event for d in original]
    replay = LogBatch("123456789012", "/ecs/orders", "orders/app/1", dead_lettered)
    replayed = docs(replay, route(max_lines=4))
    assert len(original) == 3
    for before, after in zip(original, replayed, strict=True):
        assert after.id == before.id
        assert {k: v for k, v in after.source.items() if k != "log"} == {
            k: v for k, v in before.source.items() if k != "log"
        }


def test_trailing_newlines_are_not_doubled_and_json_keeps_its_level() -> None:
    """Lambda ends its lines with a newline; a pretty-printed JSON object split per line is
    one JSON document again, its level and the flags side by side under `log`."""
    lines = ["{\n", '  "level": "ERROR",\n', '  "error.kind": "Timeout"\n', "}\n"]
    [document] = docs(stream(lines), route(start=r"^\{"))
    source = document.source
    assert source["message"] == '{\n  "level": "ERROR",\n  "error.kind": "Timeout"\n}'
    assert source["json"] == {"level": "ERROR", "error_kind": "Timeout"}
    assert source["log"] == {"level": "error", "flags": ["multiline"]}


@pytest.mark.parametrize(
    ("feed", "start", "bounds", "expected"),
    [
        # ESF tests/share/test_multiline.py "after negate": pattern '^-', negate, after
        (
            "-line1\n  - line1.1\n  - line1.2\n-line2\n  - line2.1\n  - line2.2",
            "^-",
            {},
            ["-line1\n  - line1.1\n  - line1.2", "-line2\n  - line2.1\n  - line2.2"],
        ),
        # ESF "after truncated" (pattern '^[ ]', after, max_lines 2) keeps the first two lines
        # of each event and drops the third; here the third is a document of its own
        (
            "line1\n line1.1\n line1.2\nline2\n line2.1\n line2.2",
            "^[^ ]",
            {"max_lines": 2},
            ["line1\n line1.1", " line1.2", "line2\n line2.1", " line2.2"],
        ),
        # Elastic's multiline docs: lines not starting with '[' join the one that does
        (
            "[beat-logstash-some-name-832-2015.11.28] IndexNotFoundException[no such index]\n"
            "    at org.elasticsearch.cluster.metadata.IndexNameExpressionResolver.resolve("
            "IndexNameExpressionResolver.java:566)\n"
            "    at org.elasticsearch.cluster.metadata.IndexNameExpressionResolver"
            ".concreteIndices(IndexNameExpressionResolver.java:133)",
            r"^\[",
            {},
            None,  # one event: the feed, whole
        ),
    ],
)
def test_the_elastic_forwarders_own_cases(
    feed: str, start: str, bounds: dict[str, int], expected: list[str] | None
) -> None:
    documents = docs(stream(feed.split("\n")), route(start=start, **bounds))
    assert [d.source["message"] for d in documents] == (expected or [feed])


@pytest.mark.parametrize(
    ("multiline", "setting", "problem"),
    [
        ("^\\S", "LOG_SHIPPER_ROUTES[0].multiline", 'an object with a "start" pattern'),
        ({}, "LOG_SHIPPER_ROUTES[0].multiline.start", "regular expression"),
        ({"start": "("}, "LOG_SHIPPER_ROUTES[0].multiline.start", "bad regular expression"),
        ({"start": "^\\s*"}, "LOG_SHIPPER_ROUTES[0].multiline.start", "matches an empty line"),
        ({"start": "^x", "max_lines": 1}, "LOG_SHIPPER_ROUTES[0].multiline.max_lines", "2 to"),
        ({"start": "^x", "max_lines": "500"}, "LOG_SHIPPER_ROUTES[0].multiline.max_lines", "whole"),
        ({"start": "^x", "max_lines": True}, "LOG_SHIPPER_ROUTES[0].multiline.max_lines", "whole"),
        (
            {"start": "^x", "max_bytes": 2_000_000},
            "LOG_SHIPPER_ROUTES[0].multiline.max_bytes",
            "1024 to 1048576",
        ),
        ({"start": "^x", "negate": True}, "LOG_SHIPPER_ROUTES[0].multiline", "unknown keys"),
    ],
)
def test_bad_settings_name_the_route_and_the_field(
    multiline: Any, setting: str, problem: str
) -> None:
    routes = json.dumps([{"log_group": "/ecs/*", "multiline": multiline}])
    with pytest.raises(ConfigError) as caught:
        Router.load(routes=routes)
    assert caught.value.setting == setting
    assert problem in caught.value.problem
    assert str(caught.value).startswith(setting + ": ")  # one line, naming it


def test_defaults_and_a_null_multiline() -> None:
    rule = route().multiline
    assert rule is not None and (rule.max_lines, rule.max_bytes) == (500, 262_144)
    routes = json.dumps([{"log_group": "/ecs/*", "multiline": None}])
    assert Router.load(routes=routes).route("/ecs/x").multiline is None
