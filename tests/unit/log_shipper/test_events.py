"""Decoding the documented event shapes; malformed units are reported, never raised."""

from __future__ import annotations

import base64
import gzip
import json

from log_shipper.events import decode_invocation, decode_payload, decode_unit, encode_payload
from tests.unit.log_shipper.fakes import fixture


def test_the_documented_cloudwatch_logs_sample_decodes() -> None:
    invocation = decode_invocation(fixture("cloudwatch_logs_event.json"))

    assert invocation.source == "cloudwatch"
    [unit] = invocation.units
    assert unit.batch is not None and unit.item_id is None
    batch = unit.batch
    assert (batch.owner, batch.log_group, batch.log_stream) == (
        "123456789123",
        "testLogGroup",
        "testLogStream",
    )
    assert batch.subscription_filters == ("testFilter",)
    assert [(e.id, e.timestamp, e.message) for e in batch.events] == [
        ("eventId1", 1440442987000, "[ERROR] First test message"),
        ("eventId2", 1440442987001, "[ERROR] Second test message"),
    ]


def test_kinesis_records_keep_their_sequence_numbers_and_region() -> None:
    invocation = decode_invocation(fixture("kinesis_event.json"))

    assert invocation.source == "kinesis"
    data, control, broken = invocation.units
    assert data.batch is not None and len(data.batch.events) == 7
    assert data.item_id == "49590338271490256608559692538361571095921575989136588898"
    assert data.batch.region == "us-east-1"
    assert control.control and control.batch is None
    assert broken.malformed is not None and broken.malformed.reason == "data is not gzip"
    assert broken.item_id.endswith("8900")  # type: ignore[union-attr]


def test_a_control_message_is_skipped() -> None:
    unit = decode_unit(encode_payload(fixture("control_message.json")), None)
    assert unit.control and unit.batch is None and unit.malformed is None


def test_each_malformed_step_says_what_was_wrong() -> None:
    def reason(data: object) -> str | None:
        unit = decode_unit(data, "1")
        return unit.malformed.reason if unit.malformed else None

    gz = lambda raw: base64.b64encode(gzip.compress(raw)).decode()  # noqa: E731
    assert reason(None) == "no base64 'data' string"
    assert reason("%%%") == "data is not base64"
    assert reason(base64.b64encode(b"plain").decode()) == "data is not gzip"
    assert reason(gz(b"{not json")) == "data is not JSON after gunzip"
    assert reason(gz(b"[1]")) == "data is not a JSON object after gunzip"
    assert reason(gz(b'{"messageType": "OTHER"}')) == "unknown messageType 'OTHER'"
    decoded = fixture("lambda_payload.json")
    assert reason(gz(json.dumps({**decoded, "logGroup": 5}).encode())) == (
        "'logGroup' is missing or not a string"
    )
    events = [*decoded["logEvents"][:2], {"id": "x", "timestamp": "soon", "message": "m"}]
    assert reason(gz(json.dumps({**decoded, "logEvents": events}).encode())) == (
        "logEvents[2] lacks a string id, a timestamp (ms, 1970-9999) or a message"
    )
    far = [*decoded["logEvents"][:1], {"id": "y", "timestamp": 10**17, "message": "m"}]
    assert reason(gz(json.dumps({**decoded, "logEvents": far}).encode())) == (
        "logEvents[1] lacks a string id, a timestamp (ms, 1970-9999) or a message"
    )  # past year 9999 no date can be made: malformed, not a crash
    assert (
        reason(gz(json.dumps({**decoded, "logEvents": {}}).encode())) == "'logEvents' is not a list"
    )


def test_an_event_of_another_service_is_one_malformed_unit() -> None:
    invocation = decode_invocation({"Records": "nope", "detail-type": "x"})
    [unit] = invocation.units
    assert invocation.source == "unknown" and unit.malformed is not None
    assert "not a CloudWatch Logs or Kinesis event" in unit.malformed.reason
    assert json.loads(unit.malformed.raw) == {"Records": "nope", "detail-type": "x"}

    kinesis = decode_invocation({"Records": [{"eventSource": "aws:sqs"}]})
    assert kinesis.units[0].malformed is not None


def test_encode_is_the_inverse_of_decode() -> None:
    decoded = fixture("lambda_payload.json")
    assert decode_payload(encode_payload(decoded)) == decoded


def test_what_orjson_refuses_is_read_by_the_stdlib_or_is_malformed() -> None:
    """The payload is parsed with orjson; a lone surrogate escape (valid JSON, refused by
    orjson) still decodes, and nesting too deep for either parser is a malformed payload, not
    a RecursionError that fails the batch."""
    import base64
    import gzip

    from log_shipper.events import decode_payload, decode_unit

    def packed(text: str) -> str:
        return base64.b64encode(gzip.compress(text.encode())).decode()

    text = (
        '{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/g","logStream":"s",'
        '"logEvents":[{"id":"1","timestamp":1,"message":"half an emoji: \\ud83d"}]}'
    )
    assert decode_payload(packed(text))["logEvents"][0]["message"] == "half an emoji: \ud83d"
    deep = decode_unit(packed("[" * 200_000 + "]" * 200_000), "seq-1")
    assert deep.malformed is not None and deep.malformed.reason == "data is JSON nested too deeply"


def _kinesis(*datas: str) -> dict[str, object]:
    return {"Records": [
        {"kinesis": {"data": data, "sequenceNumber": f"4959{i:052d}"}, "awsRegion": "us-east-1",
         "eventSource": "aws:kinesis"}
        for i, data in enumerate(datas)
    ]}  # fmt: skip  # laid out as a table


def test_a_nested_payload_is_one_malformed_unit_and_the_batch_goes_on() -> None:
    """568 bytes of nested arrays raised RecursionError out of decode_invocation."""
    nested = base64.b64encode(gzip.compress(b"[" * 200_000 + b"]" * 200_000)).decode()
    assert len(nested) < 2_000
    good = encode_payload(fixture("lambda_payload.json"))

    bad, fine = decode_invocation(_kinesis(nested, good)).units

    assert bad.malformed is not None and bad.malformed.reason == "data is JSON nested too deeply"
    assert bad.malformed.raw == nested  # kept for the dead-letter bucket
    assert fine.batch is not None


def test_a_gzip_bomb_is_refused_while_it_inflates() -> None:
    """A 951 KB record inflated to 2.1 GB in 5 s; now past 32 MiB it stops."""
    import time
    import zlib

    from log_shipper.events import MAX_PAYLOAD_BYTES

    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    bomb = b"".join(deflate.compress(block) for _ in range(96)) + deflate.flush()  # 96 MiB
    assert len(bomb) < 200_000
    started = time.process_time()

    [unit] = decode_invocation({"awslogs": {"data": base64.b64encode(bomb).decode()}}).units

    assert unit.malformed is not None
    assert (
        unit.malformed.reason
        == f"data is larger than {MAX_PAYLOAD_BYTES // 2**20} MiB after gunzip"
    )
    assert time.process_time() - started < 1.0


def test_a_deeply_nested_event_of_another_shape_is_kept_as_text() -> None:
    event: object = "deep"
    for _ in range(5_000):
        event = [event]
    [unit] = decode_invocation({"shape": event}).units
    assert unit.malformed is not None and unit.malformed.raw


def test_bounded_gunzip_reads_several_members_and_refuses_what_ends_early() -> None:
    import pytest

    from opsbundle.inflate import TooLarge, gunzip

    two = gzip.compress(b"abc") + gzip.compress(b"def")
    assert gunzip(two, limit=6) == b"abcdef"
    with pytest.raises(TooLarge):
        gunzip(two, limit=5)
    with pytest.raises(ValueError, match="ends early"):
        gunzip(gzip.compress(b"abcdef" * 100)[:20], limit=10_000)
    with pytest.raises(ValueError, match="not gzip"):
        gunzip(b"plain text", limit=100)
