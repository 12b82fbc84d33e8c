"""Decoding what invokes the shipper: pure functions of the event, no AWS calls.

Two shapes arrive (both documented in the CloudWatch Logs and Lambda developer guides):
- a subscription filter with a Lambda destination: {"awslogs": {"data": base64(gzip(JSON))}};
- a subscription filter with a Kinesis Data Streams destination, read by an event source
  mapping: {"Records": [{"kinesis": {"data": base64(gzip(JSON)), "sequenceNumber": ...},
  "eventSource": "aws:kinesis", "awsRegion": ..., ...}]}.
The JSON inside is the same: messageType DATA_MESSAGE or CONTROL_MESSAGE, owner, logGroup,
logStream, subscriptionFilters, logEvents [{id, timestamp (ms), message}].
A malformed unit becomes a `Malformed` with the reason and the raw data, never an exception
that sinks the rest of the batch.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from opsbundle.inflate import TooLarge, gunzip

DATA_MESSAGE = "DATA_MESSAGE"
CONTROL_MESSAGE = "CONTROL_MESSAGE"


class LogEvent(NamedTuple):  # a tuple: the hot path makes 10,000 of them per payload
    id: str
    timestamp: int  # milliseconds since the epoch, as CloudWatch Logs sends it
    message: str


@dataclass(frozen=True, slots=True)
class LogBatch:
    """One subscription message: the events of one log stream."""

    owner: str
    log_group: str
    log_stream: str
    events: list[LogEvent]
    subscription_filters: tuple[str, ...] = ()
    region: str | None = None  # from the Kinesis record; None: the function's own region
    # The index every event goes to, whatever the routes say: a replay sends each event to
    # the index it was first sent to, where it may already be. None: the route's pattern.
    index: str | None = None
    # None: CloudWatch Logs events. Else a chunk of a log file in S3 and its format
    # (formats/detect.py): `log_group` is s3://bucket/key, `log_stream` the object's version
    # id or ETag, each event a line (its id the line number); `header` the field names the
    # file declared (CloudFront's #Fields, VPC Flow Logs' first line).
    source: str | None = None
    header: tuple[str, ...] = ()
    cut: frozenset[str] = frozenset()  # ids of the file's lines cut at MAX_LINE_BYTES

    def to_json(self) -> dict[str, Any]:
        return {
            "messageType": DATA_MESSAGE,
            "owner": self.owner,
            "logGroup": self.log_group,
            "logStream": self.log_stream,
            "subscriptionFilters": list(self.subscription_filters),
            "logEvents": [
                {"id": e.id, "timestamp": e.timestamp, "message": e.message} for e in self.events
            ],
        }


@dataclass(frozen=True, slots=True)
class Malformed:
    reason: str  # what was wrong, without the content
    raw: str  # the data as it arrived (base64), kept for the dead-letter bucket


@dataclass(frozen=True, slots=True)
class Unit:
    """What one item of the invocation held. `item_id`: the Kinesis sequence number."""

    item_id: str | None
    batch: LogBatch | None = None
    control: bool = False
    malformed: Malformed | None = None


@dataclass
class Invocation:
    source: str  # "cloudwatch" or "kinesis"
    units: list[Unit] = field(default_factory=list)


def decode_invocation(event: Any) -> Invocation:
    """The units of a Lambda event; unknown shapes are one malformed unit."""
    if isinstance(event, Mapping) and isinstance(event.get("awslogs"), Mapping):
        return Invocation("cloudwatch", [decode_unit(event["awslogs"].get("data"), None)])
    if isinstance(event, Mapping) and isinstance(event.get("Records"), list):
        return Invocation("kinesis", [_kinesis_unit(r) for r in event["Records"]])
    shape = sorted(event)[:5] if isinstance(event, Mapping) else type(event).__name__
    return Invocation(
        "unknown",
        [
            Unit(
                None,
                malformed=Malformed(
                    f"not a CloudWatch Logs or Kinesis event (keys: {shape})",
                    _raw_json(event),
                ),
            )
        ],
    )


def _kinesis_unit(record: Any) -> Unit:
    if not isinstance(record, Mapping) or not isinstance(record.get("kinesis"), Mapping):
        return Unit(
            None, malformed=Malformed("Kinesis record without 'kinesis'", _raw_json(record))
        )
    kinesis = record["kinesis"]
    sequence = kinesis.get("sequenceNumber")
    item_id = sequence if isinstance(sequence, str) else None
    region = record.get("awsRegion") if isinstance(record.get("awsRegion"), str) else None
    return decode_unit(kinesis.get("data"), item_id, region=region)


def decode_unit(data: Any, item_id: str | None, *, region: str | None = None) -> Unit:
    if not isinstance(data, str) or not data:
        return Unit(item_id, malformed=Malformed("no base64 'data' string", _raw_json(data)))
    try:
        payload = decode_payload(data)
    except ValueError as error:
        return Unit(item_id, malformed=Malformed(str(error), data))
    if payload.get("messageType") == CONTROL_MESSAGE:
        return Unit(item_id, control=True)
    try:
        return Unit(item_id, batch=batch_from_json(payload, region=region))
    except ValueError as error:
        return Unit(item_id, malformed=Malformed(str(error), data))


# CloudWatch Logs sends at most about 1 MB of events per payload (6 MB at the most after
# gunzip): past this, a payload is a decompression bomb, and is dead-lettered as one.
MAX_PAYLOAD_BYTES = 32 * 1024 * 1024


def decode_payload(data: str) -> dict[str, Any]:
    """base64 → gunzip (at most MAX_PAYLOAD_BYTES) → JSON object. ValueError says which step
    failed; nothing here raises anything else, however the data was crafted."""
    try:
        compressed = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("data is not base64") from None
    try:
        text = gunzip(compressed, limit=MAX_PAYLOAD_BYTES)
    except TooLarge:
        raise ValueError(
            f"data is larger than {MAX_PAYLOAD_BYTES // 2**20} MiB after gunzip"
        ) from None
    except ValueError:
        raise ValueError("data is not gzip") from None
    try:
        payload = orjson.loads(text)  # a third of the stdlib's time on a busy payload
    except orjson.JSONDecodeError:
        # What orjson refuses and JSON allows (a lone surrogate escape in a message, an
        # integer past 64 bits): the stdlib reads it, or says it is not JSON.
        try:
            payload = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            raise ValueError("data is not JSON after gunzip") from None
        except RecursionError:  # [[[[…]]]]: a few hundred bytes nest past the parser's limit
            raise ValueError("data is JSON nested too deeply") from None
    if not isinstance(payload, dict):
        raise ValueError("data is not a JSON object after gunzip")
    return payload


MAX_TIMESTAMP_MS = 253_402_300_800_000  # 10000-01-01: past it, no date can be made


def batch_from_json(payload: Mapping[str, Any], *, region: str | None = None) -> LogBatch:
    message_type = payload.get("messageType")
    if message_type != DATA_MESSAGE:
        raise ValueError(f"unknown messageType {str(message_type)[:40]!r}")
    strings = {}
    for key in ("owner", "logGroup", "logStream"):
        value = payload.get(key)
        if not isinstance(value, str) or not value:
            raise ValueError(f"'{key}' is missing or not a string")
        strings[key] = value
    raw_events = payload.get("logEvents")
    if not isinstance(raw_events, list):
        raise ValueError("'logEvents' is not a list")
    # One pass: an event of the wrong shape is left out (then found below). Each LogEvent is
    # made as its generated __new__ makes it, without that Python-level call.
    new = tuple.__new__
    try:
        events = [
            new(LogEvent, (event_id, timestamp, message))
            for e in raw_events
            if type(event_id := e["id"]) is str
            and event_id
            and type(timestamp := e["timestamp"]) is int
            and 0 <= timestamp < MAX_TIMESTAMP_MS
            and type(message := e["message"]) is str
        ]
    except (KeyError, TypeError):
        events = []
    if len(events) != len(raw_events):
        position = next(i for i, e in enumerate(raw_events) if not _valid_event(e))
        raise ValueError(
            f"logEvents[{position}] lacks a string id, a timestamp (ms, 1970-9999) or a message"
        )
    filters = payload.get("subscriptionFilters")
    return LogBatch(
        owner=strings["owner"],
        log_group=strings["logGroup"],
        log_stream=strings["logStream"],
        events=events,
        subscription_filters=tuple(f for f in filters if isinstance(f, str))
        if isinstance(filters, list)
        else (),
        region=region,
    )


def _valid_event(item: Any) -> bool:
    return (
        isinstance(item, Mapping)
        and isinstance(item.get("id"), str)
        and bool(item["id"])
        and type(item.get("timestamp")) is int
        and 0 <= item["timestamp"] < MAX_TIMESTAMP_MS
        and isinstance(item.get("message"), str)
    )


def encode_payload(batch: Mapping[str, Any]) -> str:
    """The inverse of decode_payload: what CloudWatch Logs would send (tests, backfill)."""
    raw = json.dumps(batch, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, mtime=0)).decode("ascii")


MAX_RAW_CHARS = 1_000_000


def _shallow_repr(value: Any) -> str:
    """What a value that cannot be JSON is: its type and first characters (repr of a deeply
    nested value would raise RecursionError too)."""
    try:
        return repr(value)[:MAX_RAW_CHARS]
    except RecursionError:
        return f"<{type(value).__name__} nested too deeply to show>"


def _raw_json(value: Any) -> str:
    """What arrived, as text for the dead letter; past MAX_RAW_CHARS cut, and marked so."""
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError, RecursionError):
        text = _shallow_repr(value)
    if len(text) <= MAX_RAW_CHARS:
        return text
    return text[:MAX_RAW_CHARS] + f"…[cut: {len(text):,} characters arrived]"
