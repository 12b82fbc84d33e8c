"""Documents from events: the fields dashboards use, safe JSON, stable ids and indices."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from log_shipper.events import LogBatch, LogEvent, batch_from_json
from log_shipper.routing import LEGACY_INDEX, IndexNamer, Route, Router
from log_shipper.transform import (
    Document,
    Limits,
    TransformStats,
    as_text,
    document_id,
    transform_batch,
)
from tests.unit.log_shipper.fakes import fixture

INGESTED = datetime(2026, 11, 26, 15, 5, tzinfo=UTC)
KEEP = Route(retention_days=None)  # the default layout, kept for ever: any event's date goes


def docs(batch: LogBatch, route: Route | None = None, **kwargs: Any) -> list[Document]:
    pending = transform_batch(batch, route or KEEP, region="eu-west-1", ingested=INGESTED, **kwargs)
    return [Document.of_pending(p) for p in pending]


def one(message: str, **kwargs: Any) -> dict[str, Any]:
    batch = LogBatch(
        "123456789012", "/aws/lambda/api", "s", [LogEvent("1", 1795705200000, message)]
    )
    [document] = docs(batch, **kwargs)
    return document.source


def test_lambda_log_group_events_become_documents() -> None:
    batch = batch_from_json(fixture("lambda_payload.json"))
    documents = docs(batch)

    assert len(documents) == 7
    for document in documents:
        source = json.loads(document.body)  # the body is valid JSON, one line
        assert "\n" not in document.body
        assert source["aws"]["cloudwatch"] == {
            "log_group": "/aws/lambda/leads-api",
            "log_stream": "2026/11/26/[$LATEST]0f8a3b1e5d2c4c579e516c1f0e7d2a10",
            "event_id": document.event.id,
        }
        assert source["cloud"] == {
            "provider": "aws",
            "account": {"id": "123456789012"},
            "region": "eu-west-1",
        }
        assert source["event"] == {"ingested": "2026-11-26T15:05:00.000Z"}
        assert source["message"] == document.event.message
        assert document.index == "opsbundle-logs-default-2026.11.26"
    init, start, text, powertools, end, report, platform = (d.source for d in documents)
    assert init["@timestamp"] == "2026-11-26T15:00:00.000Z" and "lambda" not in init
    assert start["lambda"] == {
        "type": "START",
        "request_id": "6f3c2a1e-9d0b-4c5f-8e7a-1b2c3d4e5f60",
        "version": "$LATEST",
    }
    assert text["lambda"] == {"request_id": "6f3c2a1e-9d0b-4c5f-8e7a-1b2c3d4e5f60"}
    assert text["log"] == {"level": "info"}
    assert powertools["log"] == {"level": "error"}
    assert powertools["json"]["exception_name"] == "TimeoutError"
    assert powertools["json"]["crm"] == {"status": 504, "attempt": 3}
    assert end["lambda"]["type"] == "END"
    assert report["lambda"] == {
        "type": "REPORT",
        "request_id": "6f3c2a1e-9d0b-4c5f-8e7a-1b2c3d4e5f60",
        "duration_ms": 16.42,
        "billed_duration_ms": 17.0,
        "memory_size_mb": 512,
        "max_memory_used_mb": 71,
        "init_duration_ms": 190.35,
        "cold_start": True,
    }
    assert platform["lambda"] == {
        "type": "REPORT",
        "request_id": "7a4d3b2f-0e1c-4d6a-9f8b-2c3d4e5f6a71",
        "duration_ms": 1204.5,
        "billed_duration_ms": 1205.0,
        "memory_size_mb": 512,
        "max_memory_used_mb": 88,
        "status": "success",
        "cold_start": False,
    }


def test_a_warm_report_line_is_no_cold_start_and_node_prefixes_give_the_level() -> None:
    warm = one(
        "REPORT RequestId: 6f3c2a1e-9d0b-4c5f-8e7a-1b2c3d4e5f60\tDuration: 2.26 ms\t"
        "Billed Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 71 MB\t"
    )
    assert warm["lambda"]["cold_start"] is False and warm["lambda"]["duration_ms"] == 2.26
    node = one("2026-11-26T15:00:00.195Z\t6f3c2a1e-9d0b-4c5f-8e7a-1b2c3d4e5f60\tERROR\tboom")
    assert node["log"] == {"level": "error"}
    assert node["lambda"]["request_id"] == "6f3c2a1e-9d0b-4c5f-8e7a-1b2c3d4e5f60"


def test_ids_are_stable_and_differ_between_streams_and_accounts() -> None:
    event = LogEvent("38254965381409318723891094520811617286044718651219296256", 1, "m")
    a = docs(LogBatch("111111111111", "/g", "s1", [event]))[0]
    again = docs(LogBatch("111111111111", "/g", "s1", [event]))[0]
    other_stream = docs(LogBatch("111111111111", "/g", "s2", [event]))[0]
    other_account = docs(LogBatch("222222222222", "/g", "s1", [event]))[0]

    assert a.id == again.id == document_id("111111111111", "/g", "s1", event.id)
    assert len({a.id, other_stream.id, other_account.id}) == 3
    odd = docs(LogBatch("1", "/g", "s", [LogEvent('x"y', 1, "m")]))[0]
    assert '"' not in odd.id and len(odd.id) <= 512  # hashed, safe in the action line


def test_json_messages_are_namespaced_with_safe_names() -> None:
    source = one('{"a.b": 1, "": 2, "  ": 3, "ok": {"c.d": [1, {"e.f": 2}]}}\n')
    assert source["json"] == {"a_b": 1, "_blank": 2, "_blank_2": 3, "ok": {"c_d": [1, {"e_f": 2}]}}
    assert "a.b" not in source and "ok" not in source  # nothing merged into the root
    long_key = "k" * 300  # OpenSearch takes long names (index.mapping.field_name_length.limit)
    assert list(one(json.dumps({long_key: 1}))["json"]) == [long_key]


def test_json_depth_and_field_counts_are_capped() -> None:
    deep = {"l1": {"l2": {"l3": {"l4": {"l5": "x"}}}}}
    capped = one(json.dumps(deep), limits=Limits(max_depth=3))["json"]
    assert capped == {"l1": {"l2": {"l3": '{"l4":{"l5":"x"}}'}}}

    stats = TransformStats()
    wide = one(
        json.dumps({f"f{i}": i for i in range(50)}), limits=Limits(max_fields=10), stats=stats
    )
    assert len(wide["json"]) == 10 and wide["tags"] == ["json_truncated"]
    assert stats.json_truncated == 1
    assert json.loads(wide["message"]) == {f"f{i}": i for i in range(50)}  # all still searchable


def test_pretty_printed_and_invalid_json_stay_valid_documents() -> None:
    pretty = one('{\n  "a": 1,\n  "b": [1, 2]\n}')
    assert pretty["json"] == {"a": 1, "b": [1, 2]}
    broken = one('{"a": 1')
    assert "json" not in broken and broken["message"] == '{"a": 1'
    listed = one("[1, 2]")
    assert "json" not in listed


def test_index_names_follow_the_events_own_day() -> None:
    batch = LogBatch(
        "123456789012",
        "/aws/lambda/Leads API",
        "s",
        [
            LogEvent("1", 1795737599999, "last ms of the 26th"),
            LogEvent("2", 1795737600000, "first ms of the 27th"),
        ],
    )
    assert [d.index for d in docs(batch)] == [
        "opsbundle-logs-default-2026.11.26",
        "opsbundle-logs-default-2026.11.27",
    ]
    per_group = Route(index=LEGACY_INDEX, retention_days=None)
    assert [d.index for d in docs(batch, per_group)] == [
        "logs-aws-lambda-leads-api-c0fa5d90-2026.11.26",
        "logs-aws-lambda-leads-api-c0fa5d90-2026.11.27",
    ]
    monthly = Router.load(default_index="app-{account}-{yyyy.MM}").default
    assert {d.index for d in docs(batch, monthly)} == {"app-123456789012-2026.11"}


def test_filters_and_redaction_are_applied_and_counted() -> None:
    router = Router.load(
        routes=json.dumps(
            [
                {
                    "log_group": "/aws/lambda/*",
                    "redact": True,
                    "include": ["lead"],
                    "exclude": ["health"],
                }
            ]
        ),
        retention_days=None,
    )
    route = router.route("/aws/lambda/api")
    batch = LogBatch(
        "1",
        "/aws/lambda/api",
        "s",
        [
            LogEvent("1", 1, "new lead jane@example.com 555-867-5309"),
            LogEvent("2", 2, "healthcheck lead ok"),
            LogEvent("3", 3, "nothing to see"),
        ],
    )
    stats = TransformStats()

    [kept] = docs(batch, route, stats=stats)

    assert stats.filtered == 2
    assert kept.source["message"] == "new lead [REDACTED:email] [REDACTED:phone]"
    assert kept.source["redaction"] == {"count": 2, "kinds": ["email", "phone"]}
    assert stats.redacted == Counter({"email": 1, "phone": 1})
    assert "jane" not in kept.body


def test_as_text_drops_the_parsed_json_and_says_why() -> None:
    batch = LogBatch("1", "/g", "s", [LogEvent("1", 1, '{"user": {"id": 7}}')])
    [document] = docs(batch)
    text = as_text(document, "mapper_parsing_exception: failed to parse field [json.user]")
    assert text.id == document.id and text.index == document.index
    assert "json" not in text.source and text.source["tags"] == ["json_as_text"]
    assert text.source["message"] == '{"user": {"id": 7}}'


@pytest.mark.parametrize("message", ["caf\u00e9 \u2028 \U0001f600", "bad \ud800 surrogate"])
def test_any_text_becomes_a_utf8_action_line(message: str) -> None:
    from log_shipper.bulk import bulk_body

    [document] = docs(LogBatch("1", "/g", "s", [LogEvent("1", 1, message)]))
    action, body, _ = bulk_body([document.pending]).split(b"\n")
    assert json.loads(action)["create"]["_id"] == document.id
    assert json.loads(body.decode("utf-8"))["message"].startswith(message[:3])


def test_hostile_messages_never_crash_the_batch() -> None:
    """Malformed input is data: JSON nested past Python's recursion limit stays text, a
    REPORT line with nonsense numbers keeps its good fields, escaped keys are made safe."""
    from log_shipper.lambda_lines import parse_text

    deep = "{" + '"a":{' * 5000 + "}" * 5001
    document = one(deep)
    assert document["message"] == deep
    assert "json" not in document

    fields, _ = parse_text(
        "REPORT RequestId: 8f5e1d2c-1111-2222-3333-444455556666\tDuration: 1.2.3 ms\t"
        "Billed Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 9e999 MB"
    )
    assert fields is not None
    assert "duration_ms" not in fields
    assert fields["billed_duration_ms"] == 2.0

    escaped = one('{"a\\u002eb": 1, "\\u00a0": 2}')
    assert "a.b" not in escaped["json"]  # the dotted key was made safe, as if typed plainly
    assert "\u00a0" not in escaped["json"]  # the blank key too
    assert "\u00a0" not in one('{"\u00a0": 2}')["json"]  # and written plainly


def _random_key(rng: random.Random) -> str:
    return rng.choice(
        [
            "level",
            "message",
            "a.b",
            "",
            " ",
            "  ",
            "k" * 257,
            "k" * 256,
            "caf\u00e9",
            "\u00a0",
            "x\\y",
            'q"uote',
            "dot.",
            ".",
            "tab\there",
            "user_id",
            "crm",
        ]
    )


def _random_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth < 8 and roll < 0.2:
        return {_random_key(rng): _random_value(rng, depth + 1) for _ in range(rng.randrange(4))}
    if depth < 8 and roll < 0.3:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    return rng.choice([1, 2.5, -3, True, None, "text", "a.b", "", " ", "x" * 300, '"', "\u2028"])


@pytest.mark.parametrize("seed", range(4))
def test_a_json_message_copied_as_it_came_equals_the_careful_copy(seed: int) -> None:
    """The fast path (a JSON text copied in unchanged once its keys are proved safe) must give
    exactly what the careful path (parse, rename, cap, serialize) gives, whatever the keys."""
    from log_shipper.transform import safe_object

    rng = random.Random(seed)
    limits = Limits(max_fields=12, max_depth=4)
    for _ in range(500):
        value = {_random_key(rng): _random_value(rng, 1) for _ in range(rng.randrange(1, 6))}
        text = json.dumps(
            value,
            ensure_ascii=rng.random() < 0.3,
            separators=rng.choice([(",", ":"), (", ", ": ")]),
        )
        source = one(text, limits=limits)
        budget = [limits.max_fields]
        expected = safe_object(json.loads(text), limits.max_depth, budget)
        assert source["json"] == expected, text
        assert ("tags" in source) == (budget[0] < 0), text


@pytest.mark.parametrize(
    "numbers",
    [
        ("2.26", "3", "128", "71", None),
        ("0.85", "1", "10240", "10240", "190.35"),
        ("01.5", "2", "128", "64", None),  # a leading zero: not a JSON number, the general way
        ("1.5", "2", "128.0", "64", None),  # megabytes with a fraction: the general way
        ("123456789012.123456", "1", "128", "64", "0.5"),
    ],
)
def test_report_lines_give_what_the_general_parser_reads(
    numbers: tuple[str, str, str, str, str | None],
) -> None:
    from log_shipper.lambda_lines import parse_text

    duration, billed, memory, used, init = numbers
    line = (
        f"REPORT RequestId: 6f3c2a1e-9d0b-4c5f-8e7a-1b2c3d4e5f60\tDuration: {duration} ms\t"
        f"Billed Duration: {billed} ms\tMemory Size: {memory} MB\tMax Memory Used: {used} MB"
        + (f"\tInit Duration: {init} ms" if init else "")
        + "\t\n"
    )
    fields, _ = parse_text(line)
    assert one(line)["lambda"] == fields
    assert type(one(line)["lambda"]["memory_size_mb"]) is int


def test_keys_are_checked_in_linear_time() -> None:
    """A long run of dots (a progress bar in a JSON log line) once made the dotted-key
    search quadratic: 200,000 of them took seconds per event."""
    message = json.dumps({"progress": "." * 200_000, "a.b": "." * 1000})
    started = time.perf_counter()
    document = one(message)
    assert time.perf_counter() - started < 1.0  # quadratic: ~17 s here; linear: ~2 ms
    assert document["json"]["a_b"] == "." * 1000


def test_an_integer_past_64_bits_stays_exact_when_the_json_is_rebuilt() -> None:
    big = 123456789012345678901234567890
    assert one(f'{{"id.x": {big}, "n": 1}}')["json"] == {"id_x": big, "n": 1}
    assert one(f'{{"id": {big}}}')["json"] == {"id": big}  # copied as it came


def test_crafted_names_never_break_the_bulk_lines() -> None:
    """CloudWatch's names are plain; a crafted event's owner, log group, stream or event id
    (a quote, a control character, a lone surrogate) still gives valid, escaped lines."""
    from log_shipper.bulk import bulk_body

    batch = LogBatch('12"}', '/aws/lambda/x"\x01\u00e9', "s\ud800", [LogEvent("id\ud800", 1, "m")])
    route = Route(index="logs-{account}-{log_group}", retention_days=None)
    [document] = docs(batch, route)
    action, body, _ = bulk_body([document.pending]).split(b"\n")
    assert json.loads(action)["create"]["_index"] == "logs-12-aws-lambda-x-1fe3dc44"
    assert json.loads(body)["aws"]["cloudwatch"]["log_stream"] == "s\ud800"


def test_log_groups_that_differ_only_in_case_or_punctuation_get_their_own_index() -> None:
    names = ["/aws/lambda/Orders", "/aws/lambda/orders", "/ecs/app#1", "/ecs/app-1", "/ecs/app/1"]
    indices = {IndexNamer(LEGACY_INDEX, log_group=n, account="1").name(0) for n in names}
    assert len(indices) == len(names)


def test_a_long_log_group_is_cut_but_keeps_its_date_and_stays_unique() -> None:
    long = "/aws/lambda/" + "x" * 400
    first = IndexNamer(LEGACY_INDEX, log_group=long, account="1").name(1795705200000)
    second = IndexNamer(LEGACY_INDEX, log_group=long + "y", account="1").name(1795705200000)
    assert len(first.encode()) <= 255 and first.endswith("-2026.11.26")
    assert first != second


def test_events_dated_before_retention_are_not_indexed_again() -> None:
    """After retention deleted a day's index, a re-delivered event of that day must not bring
    the index back: it is counted as expired. Today and the 30 days before are kept."""
    day = 86_400_000
    today_ms = int(INGESTED.timestamp() * 1000) // day * day
    events = [
        LogEvent("1", today_ms - 31 * day + 5, "a day too old"),
        LogEvent("2", today_ms - 30 * day, "the oldest day kept"),
        LogEvent("3", today_ms + 3, "today"),
    ]
    stats = TransformStats()
    kept = docs(LogBatch("1", "/g", "s", events), Route(retention_days=30), stats=stats)
    assert [d.event.id for d in kept] == ["2", "3"]
    assert stats.expired == 1
    assert kept[0].index == "opsbundle-logs-default-2026.10.27"
