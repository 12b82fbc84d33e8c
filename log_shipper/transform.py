"""CloudWatch Logs events → OpenSearch documents: pure, deterministic, no I/O.

A document:
    @timestamp              the event's own time (ms precision, UTC)
    event.ingested          when the shipper transformed it
    message                 the line as sent (masked when the route redacts)
    cloud.provider/account.id/region
    aws.cloudwatch.log_group/log_stream/event_id
    lambda.*                START/END/REPORT fields, request id (see lambda_lines)
    log.level               from the runtime's prefix or the JSON's level field
    json.*                  a JSON message, parsed: field names made safe, depth and field
                            counts capped (the full text stays in `message`)
    tags                    json_truncated, json_as_text (after a mapping conflict)
    redaction.count/kinds   how many values were masked, and of which kinds
The `_id` is a digest of (account, log group, log stream, event id), so any retry, replay or
duplicate delivery of the same event writes the same document, once.

Speed matters here (a busy log group sends 10,000 events in one payload): each document is
written straight to its JSON text with the parts that are the same for the whole batch
serialized once, and a JSON message that needs no change is copied in as it came.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

from log_shipper import lambda_lines
from log_shipper.events import LogBatch, LogEvent
from log_shipper.redact import redact
from log_shipper.routing import IndexNamer, Route

MAX_KEY_LENGTH = 256
_LEVEL_KEYS = ("level", "levelname", "severity", "log.level")


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# json.dumps(value, ensure_ascii=False, separators=(",", ":")) without its per-call set-up
# (CPython's C encoder; the pure-Python one where there is none).
if c_make_encoder is not None:
    _ENCODER = c_make_encoder(
        None, _not_json, encode_basestring, None, ":", ",", False, False, True
    )

    def _dumps(value: Any) -> str:
        return "".join(_ENCODER(value, 0))

else:  # pragma: no cover - CPython always has _json
    _PLAIN = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)

    def _dumps(value: Any) -> str:
        return _PLAIN.encode(value)


# Keys that need changing: a dot, blank, very long. A JSON text with none of them (and no
# escaped quote, which these patterns can't see past) is copied in as it is, once json.loads
# has proved it valid.
_DOTTED_KEY = re.compile(r'\.[^"]*"\s*:')
_BLANK_KEY = re.compile(r'"\s*"\s*:')
_LONG_KEY = re.compile(r'"[^"]{%d,}"\s*:' % (MAX_KEY_LENGTH + 1))  # noqa: UP031


@dataclass(slots=True)
class Document:
    id: str
    index: str
    body: str  # the document's JSON text
    event: LogEvent
    batch: LogBatch

    @property
    def source(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


@dataclass
class TransformStats:
    filtered: int = 0
    redacted: Counter[str] = field(default_factory=Counter)
    json_truncated: int = 0


@dataclass(frozen=True)
class Limits:
    max_fields: int = 200  # keys in a message's JSON (object fields, all levels)
    max_depth: int = 6  # nesting of objects and arrays in it


def stream_key(owner: str, log_group: str, log_stream: str) -> str:
    """128 bits of blake2b over (account, log group, log stream): the first half of an _id."""
    key = f"{owner}\x1f{log_group}\x1f{log_stream}".encode()
    return hashlib.blake2b(key, digest_size=16).hexdigest()


def document_id(owner: str, log_group: str, log_stream: str, event_id: str) -> str:
    """`<stream key>-<CloudWatch event id>`: the same event always gets the same _id (the event
    id, 56 digits, is unique within its stream; the stream key tells streams apart)."""
    return f"{stream_key(owner, log_group, log_stream)}-{event_id}"


def iso_millis(timestamp_ms: int) -> str:
    seconds, millis = divmod(timestamp_ms, 1000)
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S}.{millis:03d}Z"


class _Clock:
    """ISO timestamps, the part up to the second cached (events come in time order)."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def iso(self, timestamp_ms: int) -> str:
        second, millis = divmod(timestamp_ms, 1000)
        if second != self._second:
            self._second = second
            self._prefix = f"{datetime.fromtimestamp(second, UTC):%Y-%m-%dT%H:%M:%S}."
        return f"{self._prefix}{millis:03d}Z"


def transform_batch(
    batch: LogBatch,
    route: Route,
    *,
    region: str,
    ingested: datetime,
    limits: Limits | None = None,
    stats: TransformStats | None = None,
) -> Iterator[Document]:
    """Documents for the events of one batch that the route wants, in order."""
    limits = limits or Limits()
    stats = stats if stats is not None else TransformStats()
    namer = IndexNamer(route.index, log_group=batch.log_group, account=batch.owner)
    clock = _Clock()
    enc = encode_basestring
    cloud = {"provider": "aws", "account": {"id": batch.owner}, "region": batch.region or region}
    head = (
        '","event":{"ingested":"' + iso_millis(int(ingested.timestamp() * 1000)) + '"},"message":'
    )
    static = (
        ',"cloud":' + _dumps(cloud)
        + ',"aws":{"cloudwatch":{"log_group":' + enc(batch.log_group)
        + ',"log_stream":' + enc(batch.log_stream) + ',"event_id":'
    )  # fmt: skip
    id_prefix = stream_key(batch.owner, batch.log_group, batch.log_stream) + "-"
    name = namer.name
    filters, redacting = route.filters, route.redact
    for event in batch.events:
        message = event.message
        if filters and not route.wants(message):
            stats.filtered += 1
            continue
        extra = ""
        if redacting:
            counts: Counter[str] = Counter()
            message = redact(message, counts)
            if counts:
                extra = ',"redaction":{"count":%d,"kinds":%s}' % (  # noqa: UP031
                    sum(counts.values()), _dumps(sorted(counts)))  # fmt: skip
                stats.redacted.update(counts)
        body = "".join((
            '{"@timestamp":"', clock.iso(event.timestamp), head, enc(message),
            static, enc(event.id), "}}", _enrich(message, limits, stats), extra, "}",
        ))  # fmt: skip
        event_id = event.id
        if not (event_id.isascii() and event_id.isalnum() and len(event_id) <= 128):
            event_id = hashlib.blake2b(event_id.encode(), digest_size=16).hexdigest()
        yield Document(id_prefix + event_id, name(event.timestamp), body, event, batch)


def _enrich(message: str, limits: Limits, stats: TransformStats) -> str:
    """The document's fields parsed from the message, as JSON text starting with a comma."""
    first = message[:1]
    if first == "{" or (first.isspace() and message.lstrip()[:1] == "{"):
        text = message.strip()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return _json_fields(text, parsed, limits, stats)
    fields, level = lambda_lines.parse_text(message)
    out = ""
    if fields:
        if len(fields) == 1:  # a runtime's prefixed line: only the request id
            out = ',"lambda":{"request_id":' + encode_basestring(fields["request_id"]) + "}"
        else:
            out = ',"lambda":' + _dumps(fields)
    if level:
        out += ',"log":{"level":' + encode_basestring(level) + "}"
    return out


def _json_fields(text: str, parsed: dict[str, Any], limits: Limits, stats: TransformStats) -> str:
    out = ""
    platform = lambda_lines.parse_platform(parsed)
    if platform:
        out = ',"lambda":' + _dumps(platform)
    level = _level(parsed)
    if level:
        out += ',"log":{"level":' + encode_basestring(level) + "}"
    if (
        "\n" not in text
        and text.count(":") <= limits.max_fields
        and text.count("{") + text.count("[") <= limits.max_depth
        and '\\"' not in text
        and not ("." in text and _DOTTED_KEY.search(text))
        and not (('""' in text or '" ' in text or '"\t' in text) and _BLANK_KEY.search(text))
        and not (len(text) > MAX_KEY_LENGTH and _LONG_KEY.search(text))
    ):
        return out + ',"json":' + text  # valid (json.loads said so) and nothing to change
    budget = [limits.max_fields]
    safe = safe_object(parsed, limits.max_depth, budget)
    out += ',"json":' + _dumps(safe)
    if budget[0] < 0:
        out += ',"tags":["json_truncated"]'
        stats.json_truncated += 1
    return out


def _level(parsed: Mapping[str, Any]) -> str | None:
    for key in _LEVEL_KEYS:
        value = parsed.get(key)
        if isinstance(value, str) and 0 < len(value) <= 16:
            return value.lower()
    return None


def safe_key(key: str) -> str:
    """A field name OpenSearch accepts and won't expand: no dots, not blank, not too long."""
    if "." in key:
        key = key.replace(".", "_")
    if not key.strip():
        return "_blank"
    return key[:MAX_KEY_LENGTH]


def safe_object(value: dict[str, Any], depth: int, budget: list[int]) -> dict[str, Any]:
    """A copy with safe names. Objects or arrays nested deeper than `depth` become JSON text;
    at most budget[0] keys in all (budget[0] ends below zero when some were left out)."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        if budget[0] <= 0:
            budget[0] = -1
            break
        budget[0] -= 1
        name = safe_key(key)
        if name in out:  # "a.b" and "a_b" in one object: keep both, apart
            name = f"{name}_{len(out)}"
        if isinstance(item, dict):
            out[name] = safe_object(item, depth - 1, budget) if depth > 1 else _dumps(item)
        elif isinstance(item, list):
            out[name] = _safe_list(item, depth - 1, budget) if depth > 1 else _dumps(item)
        else:
            out[name] = item
    return out


def _safe_list(items: list[Any], depth: int, budget: list[int]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if budget[0] < 0:
            break
        if isinstance(item, dict):
            out.append(safe_object(item, depth, budget) if depth > 1 else _dumps(item))
        elif isinstance(item, list):
            out.append(_dumps(item))  # arrays of arrays have no mapping: keep them as text
        else:
            out.append(item)
    return out


def as_text(document: Document, reason: str) -> Document:
    """The same document without the parsed JSON (after a mapping conflict): `message` stays."""
    source = {k: v for k, v in document.source.items() if k != "json"}
    source["tags"] = [*[t for t in source.get("tags", []) if t != "json_truncated"], "json_as_text"]
    source["error"] = {"message": reason[:1000]}
    return Document(document.id, document.index, _dumps(source), document.event, document.batch)


def serialize(source: Mapping[str, Any]) -> str:
    return _dumps(source)
