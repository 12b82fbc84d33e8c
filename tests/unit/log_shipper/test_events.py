"""Decoding the documented event shapes; malformed units are reported, never raised."""

from __future__ import annotations

import base64
import gzip
import json

from log_shipper.events import decode_invocation, decode_payload, decode_unit, encode_payload
from tests.unit.log_shipper.conftest import fixture


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
    assert deep.malformed is not None and deep.malformed.reason == "data is not JSON after gunzip"
